"""``atelier imagine`` with LoRAs from ``ATELIER_LORAS`` and ``atelier models`` listing them:
the same LoRAs, weights and refusals as in Discord."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from tests.helpers.hub_cache import FakeHubCache


@pytest.fixture
def workdir(
    clean_env: Path,
    tiny_model_dir: Path,
    tiny_lora_files: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(clean_env / "data"))
    monkeypatch.setenv("ATELIER_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "3")
    loras = {"PixelArt": str(tiny_lora_files["kohya"]), "ink": str(tiny_lora_files["diffusers"])}
    monkeypatch.setenv("ATELIER_LORAS", json.dumps(loras))
    return clean_env


def _short(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def test_imagine_runs_a_prompt_with_lora_tags(
    workdir: Path, tiny_lora_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = "a fox <lora:pixelart:0.8> <lora:ink> --seed 3"
    assert main(["imagine", prompt, "--out", "with.png"]) == 0, capsys.readouterr().err
    assert main(["imagine", "a fox --seed 3", "--out", "without.png"]) == 0
    with Image.open(workdir / "with-1.png") as image:
        parameters = str(image.text["parameters"])
        with_pixels = image.tobytes()
    with Image.open(workdir / "without-1.png") as image:
        assert image.tobytes() != with_pixels
    assert parameters.startswith("a fox <lora:pixelart:0.8> <lora:ink>\n")
    pixel, ink = _short(tiny_lora_files["kohya"]), _short(tiny_lora_files["diffusers"])
    assert f'Lora hashes: "pixelart: {pixel}, ink: {ink}"' in parameters


def test_imagine_refuses_an_unknown_lora_as_discord_does(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["imagine", "a fox <lora:pixelrt:0.8>", "--out", "x.png"]) == 2
    err = capsys.readouterr().err
    assert "<lora:pixelrt:0.8>: unknown LoRA `pixelrt` (did you mean `pixelart`?)" in err
    assert not (workdir / "x.png").exists()


def test_models_lists_loras_with_family_and_hash(
    workdir: Path, tiny_lora_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [
        "ink",
        "lora other",
        _short(tiny_lora_files["diffusers"]),
        str(tiny_lora_files["diffusers"]),
    ] in rows
    assert [
        "pixelart",
        "lora other",
        _short(tiny_lora_files["kohya"]),
        str(tiny_lora_files["kohya"]),
    ] in rows


def test_a_hub_lora_of_atelier_loras_is_listed_and_used(
    workdir: Path,
    tiny_lora_files: dict[str, Path],
    hub_cache: FakeHubCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub_cache.put("org/loras", "styles/glow.safetensors", tiny_lora_files["other"])
    hub = "hf://org/loras/styles/glow.safetensors"
    monkeypatch.setenv("ATELIER_LORAS", json.dumps({"glow": hub}))
    assert main(["models"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    short = _short(tiny_lora_files["other"])
    assert ["glow", "lora other", short, hub] in rows

    assert main(["imagine", "a fox <lora:glow:0.8> --seed 3", "--out", "g.png"]) == 0
    with Image.open(workdir / "g-1.png") as image:
        assert f'Lora hashes: "glow: {short}"' in str(image.text["parameters"])


def test_a_hub_lora_that_cannot_be_had_is_one_line(
    workdir: Path,
    hub_cache: FakeHubCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ATELIER_LORAS", json.dumps({"glow": "hf://org/loras/glow.safetensors"}))
    assert main(["models"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "atelier: LoRA glow (ATELIER_LORAS): hf://org/loras/glow.safetensors cannot be read: it "
        "is not in the Hugging Face cache and HF_HUB_OFFLINE is set; download it once with a "
        "network"
    ]
