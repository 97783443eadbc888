"""LoRAs in the registry: a kind of their own, a file checked at registration (never at
generation), the base family it was trained for, its hash, trigger words, default weight
and recommended settings; configured LoRAs entered at start; images credited per LoRA."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from db.database import Database
from db.jobs import ImageRecord, JobKind, insert_images, insert_job
from inference.hub_files import hub_file
from registry.access import usable_version
from registry.configured import configured_models, enter_configured
from registry.errors import RegistryError
from registry.recommended import Recommended
from registry.releases import release
from registry.versions import (
    ModelKind,
    NewVersion,
    VersionEdit,
    add_version,
    edit_version,
    find_version,
    images_made,
    lora_images_by_version,
    versions_of,
)
from tests.helpers.campaigns import MODERATOR, T0
from tests.helpers.hub_cache import FakeHubCache


def _lora(source: Path | str, family: str = "sd1", **fields: object) -> NewVersion:
    values: dict[str, object] = {
        "name": "pixelart",
        "version": "1",
        "source": str(source),
        "family": family,
        "kind": ModelKind.LORA,
    }
    values.update(fields)
    return NewVersion(**values)  # type: ignore[arg-type]


def _shaped_lora(
    path: Path, context_width: int, *, prefix: str = "lora_unet_down_blocks_0"
) -> Path:
    """A kohya LoRA whose cross-attention matrices have a real family's text width."""
    stem = f"{prefix}_attentions_0_transformer_blocks_0_attn2_to_k"
    save_file(
        {
            f"{stem}.lora_down.weight": np.zeros((1, context_width), dtype=np.float16),
            f"{stem}.lora_up.weight": np.zeros((320, 1), dtype=np.float16),
            f"{stem}.alpha": np.ones((), dtype=np.float16),
        },
        str(path),
    )
    return path


async def test_a_lora_file_is_registered_with_its_kind_format_checked_and_hash(
    db: Database, tiny_lora_files: dict[str, Path]
) -> None:
    path = tiny_lora_files["kohya"]
    added = await add_version(
        db,
        _lora(
            path,
            "other",
            trigger_words=" pixel art ,  8-bit ,",
            default_weight=0.7,
            recommended=Recommended(steps=20, cfg=5.5, weight_min=0.4, weight_max=0.9),
        ),
        added_by=MODERATOR,
        now=T0,
    )
    assert added.kind is ModelKind.LORA
    assert added.trigger_words == ("pixel art", "8-bit")
    assert added.default_weight == 0.7
    assert added.recommended.lines() == ["steps 20", "CFG 5.5", "weight 0.4–0.9"]
    assert added.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert added.short_hash == added.sha256[:10]
    assert (await find_version(db, "pixelart")).sha256 == added.sha256  # stored


@pytest.mark.parametrize("fmt", ["diffusers", "kohya"])
async def test_both_formats_are_accepted(
    db: Database, tiny_lora_files: dict[str, Path], fmt: str
) -> None:
    added = await add_version(db, _lora(tiny_lora_files[fmt]), added_by=MODERATOR, now=T0)
    assert added.family == "sd1"  # the tiny model's shapes name no family: as declared


async def test_a_file_that_is_not_a_lora_is_refused_without_saying_what_exists(
    db: Database, tiny_model_dir: Path, tmp_path: Path
) -> None:
    checkpoint = next((tiny_model_dir / "unet").glob("*.safetensors"))
    text = tmp_path / "notes.safetensors"
    text.write_text("hello")
    missing = tmp_path / "missing.safetensors"
    messages = []
    for source in (checkpoint, text, missing, tmp_path, "/etc/passwd"):
        with pytest.raises(RegistryError, match="is not a LoRA file the bot can use") as refused:
            await add_version(db, _lora(source), added_by=MODERATOR, now=T0)
        messages.append(refused.value.message.replace(str(source), "SOURCE"))
    assert len(set(messages)) == 1  # the same words whether the path exists or not
    assert await db.fetchall("SELECT * FROM model_versions") == []


@pytest.mark.parametrize(
    ("width", "prefix", "family"),
    [
        (768, "lora_unet_down_blocks_0", "sd1"),
        (1024, "lora_unet_down_blocks_0", "sd2"),
        (2048, "lora_unet_input_blocks_4", "sdxl"),
    ],
)
async def test_a_lora_for_another_family_is_refused_at_registration(
    db: Database, tmp_path: Path, width: int, prefix: str, family: str
) -> None:
    path = _shaped_lora(tmp_path / "styled.safetensors", width, prefix=prefix)
    wrong = "sdxl" if family != "sdxl" else "sd1"
    with pytest.raises(
        RegistryError, match=f"is a LoRA for .*family `{family}`.*not for `{wrong}`"
    ):
        await add_version(db, _lora(path, wrong), added_by=MODERATOR, now=T0)
    added = await add_version(db, _lora(path, "other"), added_by=MODERATOR, now=T0)
    assert added.family == family  # "other" takes what the file says


async def test_a_hub_lora_needs_its_file_name(db: Database) -> None:
    with pytest.raises(RegistryError, match="not a LoRA file"):
        await add_version(db, _lora("org/pixel-loras"), added_by=MODERATOR, now=T0)
    with pytest.raises(RegistryError, match="not a LoRA file"):  # refused before any download
        await add_version(
            db, _lora("org/pixel-loras", weight_name="model.ckpt"), added_by=MODERATOR, now=T0
        )
    with pytest.raises(RegistryError, match="belongs with a hub repository id"):
        await add_version(
            db, _lora("/loras/x.safetensors", weight_name="x.safetensors"), added_by=1, now=T0
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"source": "org/pixel-loras", "weight_name": "v1/pixelart.safetensors"},
        {"source": "hf://org/pixel-loras/v1/pixelart.safetensors"},
    ],
)
async def test_a_hub_lora_is_read_checked_and_hashed_at_registration(
    db: Database, tiny_lora_files: dict[str, Path], hub_cache: FakeHubCache, fields: dict[str, str]
) -> None:
    file = tiny_lora_files["kohya"]
    hub_cache.put("org/pixel-loras", "v1/pixelart.safetensors", file)
    added = await add_version(
        db,
        _lora(**fields),
        added_by=MODERATOR,
        now=T0,
        fetch_hub=hub_file,
    )
    assert (added.source, added.weight_name) == ("org/pixel-loras", "v1/pixelart.safetensors")
    assert added.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()
    assert (await find_version(db, "pixelart")).sha256 == added.sha256


async def test_a_hub_file_that_is_not_a_lora_or_for_another_family_is_refused(
    db: Database, hub_cache: FakeHubCache, tiny_model_dir: Path, tmp_path: Path
) -> None:
    checkpoint = next((tiny_model_dir / "unet").glob("*.safetensors"))
    hub_cache.put("org/loras", "unet.safetensors", checkpoint)
    sdxl = _shaped_lora(tmp_path / "xl.safetensors", 2048, prefix="lora_unet_input_blocks_4")
    hub_cache.put("org/loras", "xl.safetensors", sdxl)
    with pytest.raises(RegistryError, match=r"`hf://org/loras/unet\.safetensors` is not"):
        await add_version(
            db,
            _lora("org/loras", weight_name="unet.safetensors"),
            added_by=MODERATOR,
            now=T0,
            fetch_hub=hub_file,
        )
    with pytest.raises(RegistryError, match=r"is a LoRA for SDXL .*not for `sd1`"):
        await add_version(
            db, _lora("hf://org/loras/xl.safetensors"), added_by=1, now=T0, fetch_hub=hub_file
        )
    assert await db.fetchall("SELECT * FROM model_versions") == []


async def test_a_hub_file_that_cannot_be_had_is_refused_saying_why(
    db: Database, hub_cache: FakeHubCache
) -> None:
    with pytest.raises(RegistryError) as refused:
        await add_version(
            db, _lora("hf://org/loras/gone.safetensors"), added_by=1, now=T0, fetch_hub=hub_file
        )
    assert refused.value.message == (
        "`hf://org/loras/gone.safetensors` cannot be read: it is not in the Hugging Face "
        "cache and HF_HUB_OFFLINE is set; download it once with a network"
    )
    with pytest.raises(RegistryError, match="files on the Hugging Face hub are not read here"):
        await add_version(db, _lora("hf://org/loras/gone.safetensors"), added_by=1, now=T0)
    assert await db.fetchall("SELECT * FROM model_versions") == []


async def test_editing_a_lora_to_a_hub_file_reads_and_hashes_it(
    db: Database, tiny_lora_files: dict[str, Path], hub_cache: FakeHubCache
) -> None:
    await add_version(db, _lora(tiny_lora_files["kohya"]), added_by=MODERATOR, now=T0)
    hub_cache.put("org/loras", "ink.safetensors", tiny_lora_files["diffusers"])
    moved = await edit_version(
        db,
        "pixelart:1",
        VersionEdit(source="hf://org/loras/ink.safetensors"),
        fetch_hub=hub_file,
    )
    expected = hashlib.sha256(tiny_lora_files["diffusers"].read_bytes()).hexdigest()
    assert (moved.source, moved.weight_name, moved.sha256) == (
        "org/loras",
        "ink.safetensors",
        expected,
    )
    back = await edit_version(db, "pixelart:1", VersionEdit(source=str(tiny_lora_files["kohya"])))
    assert (back.weight_name, back.sha256) == (
        None,
        hashlib.sha256(tiny_lora_files["kohya"].read_bytes()).hexdigest(),
    )


async def test_a_name_keeps_its_kind(db: Database, tiny_lora_files: dict[str, Path]) -> None:
    await add_version(
        db,
        NewVersion(name="pixelart", version="1", source="org/pixelart", family="sd1"),
        added_by=MODERATOR,
        now=T0,
    )
    with pytest.raises(RegistryError, match="`pixelart` is a checkpoint; a lora needs a name"):
        await add_version(
            db, _lora(tiny_lora_files["kohya"], version="2"), added_by=MODERATOR, now=T0
        )


async def test_lora_fields_are_checked(db: Database, tiny_lora_files: dict[str, Path]) -> None:
    path = tiny_lora_files["kohya"]
    with pytest.raises(RegistryError, match=r"default weight 2\.5 is out of range"):
        await add_version(db, _lora(path, default_weight=2.5), added_by=MODERATOR, now=T0)
    with pytest.raises(RegistryError, match=r"weight range 1–0\.5 is upside down"):
        await add_version(
            db,
            _lora(path, recommended=Recommended(weight_min=1, weight_max=0.5)),
            added_by=MODERATOR,
            now=T0,
        )


async def test_recommended_settings_are_edited_field_by_field(
    db: Database, tiny_lora_files: dict[str, Path]
) -> None:
    await add_version(
        db, _lora(tiny_lora_files["kohya"], recommended=Recommended(steps=20)), added_by=1, now=T0
    )
    edited = await edit_version(
        db,
        "pixelart:1",
        VersionEdit(recommended=Recommended(sampler="euler_a", negative_prompt="blurry")),
    )
    assert edited.recommended == Recommended(steps=20, sampler="euler_a", negative_prompt="blurry")
    cleared = await edit_version(
        db, "pixelart:1", VersionEdit(recommended=Recommended(negative_prompt=""))
    )
    assert cleared.recommended.negative_prompt is None


async def test_loras_and_checkpoints_answer_only_for_their_kind(
    db: Database, tiny_lora_files: dict[str, Path]
) -> None:
    await add_version(db, _lora(tiny_lora_files["kohya"]), added_by=MODERATOR, now=T0)
    await release(db, "pixelart:1", early_access_days=0, now=T0)
    found = await usable_version(
        db, "pixelart", granted=(), moderator=False, now=T0, kind=ModelKind.LORA
    )
    assert found.key == "pixelart:1"
    with pytest.raises(RegistryError, match="`pixelart` is a LoRA: add it to the prompt"):
        await usable_version(db, "pixelart", granted=(), moderator=False, now=T0)
    with pytest.raises(
        RegistryError, match=r"unknown LoRA `pixelrt` \(did you mean `pixelart`\?\)"
    ):
        await usable_version(
            db, "pixelrt", granted=(), moderator=False, now=T0, kind=ModelKind.LORA
        )


async def test_configured_loras_enter_available_with_family_and_hash(
    db: Database, tiny_lora_files: dict[str, Path], tmp_path: Path
) -> None:
    sdxl = _shaped_lora(tmp_path / "xl.safetensors", 2048, prefix="lora_unet_input_blocks_4")
    configured = configured_models(
        {}, "org/base", {"PixelArt": str(tiny_lora_files["kohya"]), "xl": str(sdxl)}
    )
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    await enter_configured(db, configured, T0, fetch_hub=hub_file)  # a restart changes nothing
    pixel = await find_version(db, "pixelart")
    assert (pixel.kind, pixel.key, pixel.status.value) == (
        ModelKind.LORA,
        "pixelart:1",
        "available",
    )
    assert pixel.sha256 == hashlib.sha256(tiny_lora_files["kohya"].read_bytes()).hexdigest()
    assert (await find_version(db, "xl")).family == "sdxl"


async def test_configured_hub_loras_are_read_checked_and_hashed(
    db: Database, tiny_lora_files: dict[str, Path], hub_cache: FakeHubCache
) -> None:
    hub_cache.put("org/loras", "styles/ink.safetensors", tiny_lora_files["diffusers"])
    hub_cache.put("org/loras", "glow.safetensors", tiny_lora_files["other"])
    configured = configured_models(
        {},
        "org/base",
        {
            "ink": "hf://org/loras/styles/ink.safetensors",
            "glow": "hf://org/loras/glow.safetensors",
        },
    )
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    await enter_configured(db, configured, T0, fetch_hub=hub_file)  # a restart changes nothing
    ink = await find_version(db, "ink")
    assert (ink.key, ink.source, ink.weight_name) == (
        "ink:1",
        "org/loras",
        "styles/ink.safetensors",
    )
    assert ink.sha256 == hashlib.sha256(tiny_lora_files["diffusers"].read_bytes()).hexdigest()
    assert (await find_version(db, "glow")).weight_name == "glow.safetensors"
    assert len(await db.fetchall("SELECT * FROM model_versions")) == 3  # the base and two


async def test_a_configured_hub_lora_that_cannot_be_had_stops_the_start(
    db: Database, hub_cache: FakeHubCache
) -> None:
    configured = configured_models({}, "org/base", {"x": "hf://org/loras/x.safetensors"})
    with pytest.raises(RegistryError, match=r"`hf://org/loras/x\.safetensors` cannot"):
        await enter_configured(db, configured, T0, fetch_hub=hub_file)
    bad = configured_models({}, "org/base", {"x": "hf://org/x.safetensors"})
    with pytest.raises(RegistryError, match="names no file in a hub repository"):
        await enter_configured(db, bad, T0, fetch_hub=hub_file)


async def test_a_configured_file_that_is_not_a_lora_stops_the_start(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "x.safetensors").write_text("nope")
    configured = configured_models({}, "org/base", {"x": str(tmp_path / "x.safetensors")})
    with pytest.raises(RegistryError, match="is not a LoRA file"):
        await enter_configured(db, configured, T0, fetch_hub=hub_file)


async def test_images_made_with_a_lora_count_for_it(
    db: Database, tiny_lora_files: dict[str, Path]
) -> None:
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=5,
            prompt="a fox <lora:pixelart>",
            params={},
            model="sd15:1",
            created_at=T0,
            loras=[("pixelart:1", 1.0), ("ink:2", 0.5)],
        )
        await insert_images(
            conn, [ImageRecord(job_id, n, f"/img/{n}.png", n, 64, 64) for n in range(4)]
        )
    assert await lora_images_by_version(db) == {"pixelart:1": 4, "ink:2": 4}
    counts = await images_made(db)
    assert counts.by_version == {"sd15:1": 4, "pixelart:1": 4, "ink:2": 4}
    assert counts.by_model["pixelart"] == 4


async def test_a_configured_lora_changed_in_place_becomes_a_new_version(
    db: Database, tiny_lora_files: dict[str, Path], tmp_path: Path
) -> None:
    file = tmp_path / "pixelart.safetensors"
    file.write_bytes(tiny_lora_files["kohya"].read_bytes())
    configured = configured_models({}, "org/base", {"pixelart": str(file)})
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    first = hashlib.sha256(file.read_bytes()).hexdigest()

    file.write_bytes(tiny_lora_files["other"].read_bytes())
    await enter_configured(db, configured, T0, fetch_hub=hub_file)
    await enter_configured(db, configured, T0, fetch_hub=hub_file)  # once only
    old, new = await find_version(db, "pixelart:1"), await find_version(db, "pixelart")
    assert (old.sha256, new.key) == (first, "pixelart:2")
    assert new.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()
    assert len(await versions_of(db, "pixelart")) == 2
