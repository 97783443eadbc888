"""A model's native size read from its files without loading weights: what the pool tells
planning while no worker exists to load the model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from inference.loading import ModelLoadError
from inference.model_config import native_size_from_config
from inference.models import ModelRef
from inference.tiny import TINY_NATIVE_SIZE

_CROSS_ATTENTION = "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight"
_SDXL = "conditioner.embedders.1.model.ln_final.weight"


def test_a_diffusers_folder_s_size_is_its_unet_sample_size_times_the_vae_scale(
    tiny_model_dir: Path,
) -> None:
    assert native_size_from_config(ModelRef("tiny", str(tiny_model_dir))) == TINY_NATIVE_SIZE


def test_a_hub_model_not_downloaded_here_is_a_clear_error() -> None:
    with pytest.raises(ModelLoadError, match="not in this machine's Hugging Face cache"):
        native_size_from_config(ModelRef("far", "nobody-atelier/not-downloaded"))


@pytest.mark.parametrize(
    ("tensors", "inpainting", "size"),
    [
        ({_SDXL: (8,), _CROSS_ATTENTION: (8, 2048)}, False, 1024),
        ({_CROSS_ATTENTION: (8, 1024)}, False, 768),
        ({_CROSS_ATTENTION: (8, 1024)}, True, 512),
        ({_CROSS_ATTENTION: (8, 768)}, False, 512),
    ],
    ids=["sdxl", "sd2", "sd2-inpainting", "sd1"],
)
def test_a_single_file_s_family_is_told_from_its_tensor_names_and_shapes(
    tmp_path: Path, tensors: dict[str, tuple[int, ...]], inpainting: bool, size: int
) -> None:
    path = tmp_path / "model.safetensors"
    save_file({key: torch.zeros(shape) for key, shape in tensors.items()}, str(path))

    assert native_size_from_config(ModelRef("file", str(path), inpainting=inpainting)) == size
