"""Loading models: what a user sees when it cannot work."""

from __future__ import annotations

from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

from inference.backend import DiffusersBackend
from inference.loading import ModelLoadError, load_pipeline
from inference.models import ModelRef


def test_a_missing_path_says_so_and_how_to_fix_it() -> None:
    with pytest.raises(
        ModelLoadError, match=r"/nowhere/model\.safetensors does not exist"
    ) as error:
        DiffusersBackend.load(ModelRef("mine", "/nowhere/model.safetensors"), "cpu")
    assert "ATELIER_MODEL" in str(error.value)


def test_an_unreachable_hub_model_explains_the_offline_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelLoadError) as error:
        DiffusersBackend.load(ModelRef("ghost", "atelier-tests/no-such-model"), "cpu")
    message = str(error.value)
    assert "Hugging Face Hub (atelier-tests/no-such-model)" in message
    assert "no network" in message
    assert "ATELIER_MODEL" in message
    assert "\n" not in message


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelLoadError, match="Could not load model 'junk'"):
        DiffusersBackend.load(ModelRef("junk", str(tmp_path)), "cpu")


def test_other_pipeline_kinds_are_refused_by_name(tmp_path: Path) -> None:
    unet = UNet2DModel(
        sample_size=8,
        in_channels=3,
        out_channels=3,
        block_out_channels=(4, 8),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        layers_per_block=1,
        norm_num_groups=2,
    )
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler()).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match=r"is a DDPMPipeline; Atelier runs Stable Diffusion"):
        load_pipeline(ModelRef("ddpm", str(tmp_path)), dtype=torch.float32)


def test_the_tiny_model_loads_like_a_real_one(tiny_model_dir: Path) -> None:
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    assert backend.native_size == 64
    assert not backend.is_sdxl
    assert str(backend.device) == "cpu"
