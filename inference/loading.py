"""Loading a Stable Diffusion pipeline from a hub id, a diffusers folder or a single file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    DiffusionPipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)
from safetensors import safe_open

from core.errors import UserFacingError
from inference.library_logs import quiet_library_logs
from inference.models import ModelRef, source_kind

log = logging.getLogger(__name__)

#: A key only SDXL checkpoints have (the second text encoder of its "conditioner").
SDXL_SINGLE_FILE_KEY = "conditioner.embedders.1.model.ln_final.weight"

#: Input channels of an inpainting UNet: 4 latent, 1 mask, 4 masked-image latent.
_INPAINT_UNET_CHANNELS = 9

_HOW_TO_FIX = (
    "Point ATELIER_MODEL (or --model) at a local diffusers folder or a .safetensors/.ckpt "
    "file, e.g. `atelier make-tiny-model ./tiny-model` then `--model ./tiny-model` to try "
    "Atelier without downloads."
)


class ModelLoadError(UserFacingError):
    """A model could not be loaded; the message says why and what to do (shown to the member
    whose job needed it, and on the command line)."""


def load_pipeline(model: ModelRef, *, dtype: torch.dtype) -> Any:
    """Load ``model`` on the CPU in ``dtype``; the caller moves it to its device.

    Only SD 1.x/2.x and SDXL text-to-image pipelines are accepted: those are the families
    whose prompt encoding, img2img and upscaling the engine implements; for a model marked
    ``inpainting``, only those families' inpainting pipelines with a 9-channel UNet.
    """
    quiet_library_logs()
    kind = source_kind(model.source)
    if kind == "missing path":
        raise ModelLoadError(f"Model {model.name!r}: {model.source} does not exist. {_HOW_TO_FIX}")
    try:
        if kind == "file":
            pipe = _load_single_file(Path(model.source).expanduser(), dtype, model.inpainting)
        else:
            location = str(Path(model.source).expanduser()) if kind == "folder" else model.source
            pipe = DiffusionPipeline.from_pretrained(
                location,
                dtype=dtype,
                safety_checker=None,
                requires_safety_checker=False,
                local_files_only=kind == "folder",
            )
    except ModelLoadError:
        raise
    except Exception as error:  # hub, network, file-format and config errors alike
        log.debug("loading %s failed", model.source, exc_info=True)
        raise ModelLoadError(_explain_failure(model, kind, error)) from error
    if model.inpainting:
        if not (
            isinstance(pipe, StableDiffusionInpaintPipeline | StableDiffusionXLInpaintPipeline)
            and _unet_channels(pipe) == _INPAINT_UNET_CHANNELS
        ):
            raise ModelLoadError(
                f"Model {model.name!r} is a {type(pipe).__name__} with a "
                f"{_unet_channels(pipe)}-channel UNet; an inpainting checkpoint is a "
                "Stable Diffusion 1.x/2.x or SDXL inpainting model (9-channel UNet)."
            )
    elif not isinstance(pipe, StableDiffusionPipeline | StableDiffusionXLPipeline):
        raise ModelLoadError(
            f"Model {model.name!r} is a {type(pipe).__name__}; Atelier runs Stable Diffusion "
            "1.x/2.x and SDXL text-to-image models."
        )
    return pipe


def _unet_channels(pipe: Any) -> int:
    return int(pipe.unet.config.in_channels)


def _explain_failure(model: ModelRef, kind: str, error: Exception) -> str:
    where = model.source
    if kind == "hub id":
        where = (
            f"the Hugging Face Hub ({model.source}): it is not downloaded yet and could not be "
            "fetched (no network, or a gated or misspelt repository?)"
        )
    gist = _first_sentence(error)
    return f"Could not load model {model.name!r} from {where}. {gist} {_HOW_TO_FIX}"


def _first_sentence(error: Exception, limit: int = 160) -> str:
    """The gist of a library error, which can run to many lines of advice."""
    text = " ".join(str(error).split()) or type(error).__name__
    for end in (". ", " ("):
        if end in text:
            text = text[: text.index(end)]
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.rstrip(".") + "."


def _load_single_file(path: Path, dtype: torch.dtype, inpainting: bool) -> Any:
    """A single checkpoint file, as shared on model sites.

    diffusers infers the architecture from the weights but fetches the matching component
    configs from the hub the first time (small JSON files), then caches them.
    """
    if path.suffix.lower() not in (".safetensors", ".ckpt"):
        raise ModelLoadError(f"{path} is not a .safetensors or .ckpt file. {_HOW_TO_FIX}")
    sdxl = _is_sdxl_file(path)
    if inpainting:
        cls = StableDiffusionXLInpaintPipeline if sdxl else StableDiffusionInpaintPipeline
        return cls.from_single_file(str(path), dtype=dtype)
    if sdxl:
        return StableDiffusionXLPipeline.from_single_file(str(path), dtype=dtype)
    return StableDiffusionPipeline.from_single_file(
        str(path), dtype=dtype, safety_checker=None, requires_safety_checker=False
    )


def _is_sdxl_file(path: Path) -> bool:
    """Read only the safetensors header; ``.ckpt`` files (pickles) are assumed SD 1.x/2.x,
    as SDXL is distributed as safetensors."""
    if path.suffix.lower() != ".safetensors":
        return False
    with safe_open(str(path), framework="pt") as checkpoint:
        return SDXL_SINGLE_FILE_KEY in checkpoint.keys()  # noqa: SIM118 (not a dict)
