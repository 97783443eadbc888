"""What planning needs to know about a model, read from its configuration without loading
its weights: the worker pool answers from here while no worker exists to load the model
(no local device and the Ray cluster down or without a GPU), so jobs are still recorded and
queued until a worker comes.

A diffusers folder or a hub id in this machine's cache gives its UNet and VAE configs; a
single checkpoint file gives its tensor names and shapes (a safetensors header, a memory
mapped ``.ckpt``), from which the family is told as diffusers' single-file loader tells it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors import safe_open

from inference.loading import SDXL_SINGLE_FILE_KEY as _SDXL_KEY
from inference.loading import ModelLoadError
from inference.models import ModelRef, source_kind

#: The first cross-attention's key projection: its input is the text encoder's width,
#: 768 for SD 1.x, 1024 for SD 2.x.
_CROSS_ATTENTION_KEY = (
    "model.diffusion_model.input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight"
)
_SD2_CONTEXT_WIDTH = 1024

#: Native sizes of the single-file families, as the configs diffusers picks for them say
#: (SD 2.x: stable-diffusion-2-1, 768 pixels; its inpainting checkpoint: 512).
_SDXL_SIZE = 1024
_SD2_SIZE = 768
_SD1_SIZE = 512


def native_size_from_config(model: ModelRef) -> int:
    """The side in pixels of the square images ``model`` was trained on; blocking (files,
    the hub cache). Raises ModelLoadError when the configuration cannot be read here."""
    kind = source_kind(model.source)
    path = Path(model.source).expanduser()
    if kind == "missing path":
        raise ModelLoadError(f"Model {model.name!r}: {model.source} does not exist.")
    if kind == "file":
        return _single_file_size(model, path)
    location = str(path) if kind == "folder" else model.source
    try:
        with warnings.catch_warnings():
            # diffusers passes the hub client an argument it no longer uses; nothing to do.
            warnings.filterwarnings("ignore", message="The `local_dir_use_symlinks` argument")
            unet = UNet2DConditionModel.load_config(
                location, subfolder="unet", local_files_only=True
            )
            vae = AutoencoderKL.load_config(location, subfolder="vae", local_files_only=True)
        scale = int(2 ** (len(vae["block_out_channels"]) - 1))
        return int(unet["sample_size"]) * scale
    except Exception as error:  # a missing file, a hub id not downloaded, a broken config
        where = (
            f"{model.source} is not in this machine's Hugging Face cache"
            if kind == "hub id"
            else f"{model.source} has no readable unet/vae config"
        )
        raise ModelLoadError(
            f"No worker is up to load model {model.name!r}, and its configuration cannot be "
            f"read here: {where}. Jobs with it can be made once a GPU worker is up."
        ) from error


def _single_file_size(model: ModelRef, path: Path) -> int:
    try:
        shapes = _tensor_shapes(path, (_SDXL_KEY, _CROSS_ATTENTION_KEY))
    except Exception as error:  # not a checkpoint, or a damaged one
        raise ModelLoadError(
            f"Model {model.name!r}: {path} cannot be read as a checkpoint ({error})."
        ) from error
    if _SDXL_KEY in shapes:
        return _SDXL_SIZE
    context = shapes.get(_CROSS_ATTENTION_KEY)
    if context is not None and context[-1] == _SD2_CONTEXT_WIDTH:
        return _SD1_SIZE if model.inpainting else _SD2_SIZE
    return _SD1_SIZE


def _tensor_shapes(path: Path, keys: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """The shapes of those of ``keys`` the checkpoint holds, without reading the weights."""
    if path.suffix.lower() == ".safetensors":
        with safe_open(str(path), framework="pt") as checkpoint:
            present = set(checkpoint.keys())
            return {
                key: tuple(checkpoint.get_slice(key).get_shape()) for key in keys if key in present
            }
    loaded: Any = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    tensors = loaded.get("state_dict", loaded)
    return {key: tuple(tensors[key].shape) for key in keys if key in tensors}
