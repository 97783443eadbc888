"""The operator's configured models: the names the registry gives them, the default, and
their entry into the registry at start-up with what their model cards say."""

from __future__ import annotations

from pathlib import Path

from db.database import Database
from inference.hub_files import hub_file
from registry.configured import configured_models, enter_configured, name_for_source
from registry.versions import VersionStatus, all_versions, find_version
from tests.helpers.campaigns import T0


def test_the_default_can_be_a_bare_source_named_after_it() -> None:
    configured = configured_models({}, "stable-diffusion-v1-5/stable-diffusion-v1-5")
    assert configured.default == "stable-diffusion-v1-5"
    assert configured.sources == {
        "stable-diffusion-v1-5": "stable-diffusion-v1-5/stable-diffusion-v1-5"
    }


def test_the_default_can_name_a_configured_model_in_any_case() -> None:
    configured = configured_models({"sd15": "org/sd15", "Anime": "./anime.safetensors"}, "ANIME")
    assert configured.default == "anime"
    assert list(configured.sources) == ["anime", "sd15"]  # registry names: lowercase, sorted


def test_names_for_sources() -> None:
    assert name_for_source("/models/dream shaper v8.safetensors") == "dream-shaper-v8"
    assert name_for_source("./tiny-model/") == "tiny-model"
    assert name_for_source("stabilityai/stable-diffusion-xl-base-1.0") == (
        "stable-diffusion-xl-base-1.0"
    )


async def test_configured_models_enter_the_registry_available_with_their_cards(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "dreamy"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlicense: mit\nversion: 2.1\n---\n", encoding="utf-8")
    configured = configured_models({"dreamy": str(folder), "hub": "org/hub-model"}, "dreamy")
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    await enter_configured(db, configured, T0, fetch_hub=hub_file)  # every start-up: nothing new
    versions = await all_versions(db)
    assert [(v.key, v.status, v.license_name) for v in versions] == [
        ("dreamy:2.1", VersionStatus.AVAILABLE, "mit"),
        ("hub:1", VersionStatus.AVAILABLE, ""),
    ]
    assert (await find_version(db, configured.default)).source == str(folder)
