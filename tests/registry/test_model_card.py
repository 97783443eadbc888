"""What /models shows about a model: the license and version from its card's front matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.model_card import ModelCard, read_model_card

CARD = """---
license: openrail++
tags:
  - text-to-image
version: "2.1"
---
# My model

license: not-this-one (outside the front matter)
"""


def _folder(tmp_path: Path, readme: str | None) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    if readme is not None:
        (folder / "README.md").write_text(readme, encoding="utf-8")
    return folder


def test_a_folders_readme_gives_license_and_version(tmp_path: Path) -> None:
    folder = _folder(tmp_path, CARD)
    assert read_model_card(str(folder)) == ModelCard(license="openrail++", version="2.1")


def test_model_version_is_read_when_there_is_no_version(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "---\nmodel_version: 'v6'\nlicense: 'mit'\n---\n")
    assert read_model_card(str(folder)) == ModelCard(license="mit", version="v6")


def test_a_single_file_model_reads_the_card_beside_it(tmp_path: Path) -> None:
    weights = tmp_path / "dreamy.safetensors"
    weights.write_bytes(b"\0")
    (tmp_path / "dreamy.md").write_text("---\nlicense: cc-by-4.0\n---\n", encoding="utf-8")
    assert read_model_card(str(weights)) == ModelCard(license="cc-by-4.0", version=None)


def test_a_folder_without_a_readme_has_an_empty_card(tmp_path: Path) -> None:
    assert read_model_card(str(_folder(tmp_path, None))) == ModelCard()


@pytest.mark.parametrize(
    "readme",
    [
        "# My model\n\nlicense: mit\n",  # no front matter
        "---\nlicense: mit\n",  # never closed
        "---\ntags: [a]\n---\n",  # front matter without either key
        "",
    ],
)
def test_a_readme_without_usable_front_matter_gives_an_empty_card(
    tmp_path: Path, readme: str
) -> None:
    assert read_model_card(str(_folder(tmp_path, readme))) == ModelCard()


def test_a_readme_that_is_not_utf8_is_still_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    (folder / "README.md").write_bytes(b"---\nlicense: mit\nauthor: Jos\xe9\n---\n")
    assert read_model_card(str(folder)).license == "mit"


def test_a_hub_id_has_an_empty_card(clean_env: Path) -> None:
    # clean_env: an empty working directory, so "org/name" cannot be a local path by chance.
    assert read_model_card("stabilityai/stable-diffusion-xl-base-1.0") == ModelCard()


def test_a_missing_path_has_an_empty_card(tmp_path: Path) -> None:
    assert read_model_card(str(tmp_path / "nowhere")) == ModelCard()
    assert read_model_card(str(tmp_path / "gone.safetensors")) == ModelCard()


def test_a_readme_with_windows_line_endings_is_read(tmp_path: Path) -> None:
    folder = _folder(tmp_path, None)
    (folder / "README.md").write_bytes(b"---\r\nlicense: mit\r\nversion: 3\r\n---\r\n# Hi\r\n")
    assert read_model_card(str(folder)) == ModelCard(license="mit", version="3")
