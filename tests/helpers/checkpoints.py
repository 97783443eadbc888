"""Checkpoints that only look like those of a published family, for the registry to read
the family from: a ``.safetensors`` file with a few tiny tensors named and shaped (in
their last dimension) like a real checkpoint's, or a diffusers folder with only its UNet's
config. No weights: nothing here can be loaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

#: The text encoder's output width each family's UNet takes.
CONTEXT_WIDTHS = {"sd1": 768, "sd2": 1024, "sdxl": 2048}
_CROSS_ATTENTION = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
_SDXL_TEXT_ENCODER = "conditioner.embedders.1.model.ln_final.weight"


def checkpoint_file(path: Path, family: str) -> Path:
    """A single-file checkpoint (original layout) whose header says ``family``."""
    tensors = {_CROSS_ATTENTION: np.zeros((1, CONTEXT_WIDTHS[family]), dtype=np.float16)}
    if family == "sdxl":
        tensors[_SDXL_TEXT_ENCODER] = np.zeros((1,), dtype=np.float16)
    save_file(tensors, str(path))
    return path


def unet_config(folder: Path, cross_attention_dim: int) -> Path:
    """``folder`` as a diffusers model whose UNet takes ``cross_attention_dim``-wide text."""
    (folder / "unet").mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    config = {"_class_name": "UNet2DConditionModel", "cross_attention_dim": cross_attention_dim}
    (folder / "unet" / "config.json").write_text(json.dumps(config))
    return folder
