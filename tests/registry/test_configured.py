"""The operator's configured models: the names the registry gives them, the default, and
their entry into the registry at start-up with what their model cards say."""

from __future__ import annotations

from pathlib import Path

from db.database import Database
from inference.hub_files import cached_hub_file, hub_file
from registry.configured import configured_models, enter_configured, name_for_source
from registry.versions import VersionEdit, VersionStatus, all_versions, edit_version, find_version
from tests.helpers.campaigns import T0
from tests.helpers.checkpoints import checkpoint_file, unet_config
from tests.helpers.hub_cache import FakeHubCache


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


async def test_a_configured_models_family_is_read_from_its_files(
    db: Database, tmp_path: Path, tiny_model_dir: Path, hub_cache: FakeHubCache
) -> None:
    ckpt = tmp_path / "old.ckpt"
    ckpt.write_bytes(b"not read")
    hub_cache.put("org/xl", "unet/config.json", b'{"cross_attention_dim": 2048}')
    sources = {
        "sd15": str(checkpoint_file(tmp_path / "sd15.safetensors", "sd1")),
        "xlfile": str(checkpoint_file(tmp_path / "xl.safetensors", "sdxl")),
        "sd2": str(unet_config(tmp_path / "sd2", 1024)),
        "xlfolder": str(unet_config(tmp_path / "xl", 2048)),
        "xlhub": "org/xl",
        "uncached": "org/not-downloaded",  # never downloaded at start: unknown
        "tiny": str(tiny_model_dir),  # a test model's width is no family's
        "old": str(ckpt),
    }
    configured = configured_models(sources, "sd15")
    await enter_configured(db, configured, T0, fetch_hub=hub_file, hub_cached=cached_hub_file)
    families = {v.key: v.family for v in await all_versions(db)}
    assert families == {
        "sd15:1": "sd1",
        "xlfile:1": "sdxl",
        "sd2:1": "sd2",
        "xlfolder:1": "sdxl",
        "xlhub:1": "sdxl",
        "uncached:1": "other",
        "tiny:1": "other",
        "old:1": "other",
    }


async def test_a_configured_model_entered_with_an_unknown_family_gets_it_at_the_next_start(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "xl"
    folder.mkdir()
    configured = configured_models({"xl": str(folder)}, "xl")
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    assert (await find_version(db, "xl")).family == "other"
    unet_config(folder, 2048)
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    assert [(v.key, v.family) for v in await all_versions(db)] == [("xl:1", "sdxl")]
    # A family a moderator gave is theirs: the files do not overwrite it.
    await edit_version(db, "xl:1", VersionEdit(family="sd2"))
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    assert (await find_version(db, "xl")).family == "sd2"
