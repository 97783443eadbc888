"""A LoRA, or image prompts, on a configured model of another family are refused before
anything is queued: the configured model's family is read from its files when it enters the
registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from registry.configured import ConfiguredModels, configured_models
from registry.releases import release
from registry.versions import ModelKind, NewVersion, add_version, find_version
from studio.errors import StudioError
from studio.service import Studio
from tests.helpers.campaigns import T0
from tests.helpers.checkpoints import CONTEXT_WIDTHS, unet_config
from tests.helpers.studio import StudioMaker, job_count

OWNER = 42


@pytest.fixture
def configured(tiny_model_dir: Path, tmp_path: Path) -> ConfiguredModels:
    """The operator's default is an SD 1.5 model (a folder with only its UNet's config:
    nothing here runs on it)."""
    sd15 = unet_config(tmp_path / "sd15", CONTEXT_WIDTHS["sd1"])
    return configured_models({"sd15": str(sd15), "tiny": str(tiny_model_dir)}, "sd15")


async def _lora(studio: Studio, name: str, family: str, tmp_path: Path) -> None:
    """A kohya LoRA whose header says ``family``, registered with no family declared."""
    stem = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k"
    path = tmp_path / f"{name}.safetensors"
    save_file(
        {
            f"{stem}.lora_down.weight": np.zeros((1, CONTEXT_WIDTHS[family]), dtype=np.float16),
            f"{stem}.lora_up.weight": np.zeros((320, 1), dtype=np.float16),
        },
        str(path),
    )
    new = NewVersion(name, "1", str(path), "other", kind=ModelKind.LORA)
    await add_version(studio.db, new, added_by=1, now=T0)
    await release(studio.db, f"{name}:1", early_access_days=0, now=T0)


async def test_a_lora_of_another_family_than_the_configured_default_is_refused_naming_the_tag(
    make_studio: StudioMaker, tmp_path: Path
) -> None:
    studio = await make_studio()
    assert (await find_version(studio.db, "sd15")).family == "sd1"
    await _lora(studio, "xlstyle", "sdxl", tmp_path)
    await _lora(studio, "ink", "sd1", tmp_path)
    requests = await studio.requests_for(OWNER, "a fox <lora:xlstyle:0.8>")
    expected = "<lora:xlstyle:0.8>: `xlstyle:1` is a LoRA for SDXL; `sd15:1` is a SD 1.x model"
    with pytest.raises(StudioError, match=expected):
        await studio.check_model_access(OWNER, requests)
    with pytest.raises(StudioError, match=expected):
        await studio.submit_imagine(OWNER, requests[0])
    assert await job_count(studio.db) == 0
    # A LoRA of its family fits it; on the tiny test model (family unknown) any LoRA does.
    await studio.check_model_access(OWNER, await studio.requests_for(OWNER, "a fox <lora:ink>"))
    on_tiny = await studio.requests_for(OWNER, "a fox <lora:xlstyle> --model tiny")
    await studio.check_model_access(OWNER, on_tiny)


async def test_image_prompts_on_the_configured_model_of_another_family_are_refused(
    make_studio: StudioMaker,
) -> None:
    studio = await make_studio(image_prompt_family="sdxl")
    requests = await studio.requests_for(OWNER, "a fox", attached=1)
    with pytest.raises(StudioError, match="IP-Adapter is made for SDXL models and `sd15:1`"):
        await studio.check_model_access(OWNER, requests, images=1)
    on_tiny = await studio.requests_for(OWNER, "a fox --model tiny", attached=1)
    await studio.check_model_access(OWNER, on_tiny, images=1)
