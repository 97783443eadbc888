"""Recommended settings per version: they fill what the prompt leaves open, below the
member's /prefer suffix and /settings stylize and their own flags, and the settings that
applied are recorded with the request."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from db.database import Database
from db.users import StylizePreset, UserSettings, save_user_settings
from registry.recommended import Recommended
from registry.releases import release
from registry.versions import ModelKind, NewVersion, VersionEdit, add_version, edit_version
from studio.service import Studio
from tests.helpers.campaigns import T0

OWNER = 42


async def _settings(db: Database, **changes: Any) -> None:
    await save_user_settings(db, dataclasses.replace(UserSettings(OWNER), **changes))


async def _recommend(studio: Studio, lora_file: Path) -> None:
    """The default model recommends 12 steps, CFG 5 and a negative prompt; the LoRA
    recommends the euler_a sampler and CFG 4."""
    await edit_version(
        studio.db,
        "tiny:1",
        VersionEdit(recommended=Recommended(steps=12, cfg=5, negative_prompt="blurry")),
    )
    new = NewVersion(
        "ink",
        "1",
        str(lora_file),
        "other",
        kind=ModelKind.LORA,
        recommended=Recommended(sampler="euler_a", cfg=4),
    )
    await add_version(studio.db, new, added_by=1, now=T0)
    await release(studio.db, "ink:1", early_access_days=0, now=T0)


async def test_recommendations_fill_what_the_prompt_leaves_open(
    make_studio: Any, tiny_lora_files: dict[str, Path]
) -> None:
    studio = await make_studio()
    await _recommend(studio, tiny_lora_files["diffusers"])
    (plain,) = await studio.requests_for(OWNER, "a cat")
    assert (plain.steps, plain.guidance_scale, plain.negative_prompt) == (12, 5, "blurry")
    assert dict(plain.recommended) == {"steps": "12", "cfg": "5", "negative_prompt": "blurry"}
    # The LoRA's recommendations come before the checkpoint's.
    (with_lora,) = await studio.requests_for(OWNER, "a cat <lora:ink:0.5>")
    assert (with_lora.sampler, with_lora.guidance_scale, with_lora.steps) == ("euler_a", 4, 12)
    # The member's own flags win.
    (own,) = await studio.requests_for(OWNER, "a cat --steps 3 --no fog --s 0")
    assert (own.steps, own.negative_prompt, own.guidance_scale) == (3, "fog", 9)
    assert dict(own.recommended) == {}


async def test_the_members_preferences_come_between(
    make_studio: Any, tiny_lora_files: dict[str, Path]
) -> None:
    studio = await make_studio()
    await _recommend(studio, tiny_lora_files["diffusers"])
    await _settings(studio.db, suffix="--steps 20", stylize=StylizePreset.HIGH)
    (request,) = await studio.requests_for(OWNER, "a cat")
    assert request.steps == 20  # the suffix beats the recommended 12
    assert request.guidance is None  # the preferred stylize beats the recommended CFG
    assert request.stylize == 250
    assert request.negative_prompt == "blurry"  # left open by both: recommended
    assert dict(request.recommended) == {"negative_prompt": "blurry"}
    (own,) = await studio.requests_for(OWNER, "a cat --steps 7")
    assert own.steps == 7  # and the member's own flag beats the suffix
