"""Per-row guidance scales, so jobs with different ``--stylize`` can share a pipeline call.

diffusers guides with ``uncond + self.guidance_scale * (text - uncond)``, one scale per
call. The pipeline views here answer ``guidance_scale`` with a column of per-row scales when
one is set, which broadcasts over the batch. Whether guidance runs at all is still decided
by the number passed to the call (``> 1``), which is why batches share "guided or not".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from diffusers import (
    StableDiffusionImg2ImgPipeline,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
)


class _RowGuidance:
    """Mixed in ahead of a diffusers pipeline: ``row_guidance`` (B×1×1×1), when set, is
    the guidance scale of each row of the batch."""

    row_guidance: torch.Tensor | None = None
    _guidance_scale: float

    @property
    def guidance_scale(self) -> Any:
        return self.row_guidance if self.row_guidance is not None else self._guidance_scale


class RowGuidedSD(_RowGuidance, StableDiffusionPipeline):
    pass


class RowGuidedSDImg2Img(_RowGuidance, StableDiffusionImg2ImgPipeline):
    pass


class RowGuidedSDXL(_RowGuidance, StableDiffusionXLPipeline):
    pass


class RowGuidedSDXLImg2Img(_RowGuidance, StableDiffusionXLImg2ImgPipeline):
    pass


class RowGuidedSDInpaint(_RowGuidance, StableDiffusionInpaintPipeline):
    pass


class RowGuidedSDXLInpaint(_RowGuidance, StableDiffusionXLInpaintPipeline):
    pass


def view_class(*, sdxl: bool, img2img: bool, inpaint: bool = False) -> type[Any]:
    """The pipeline class a job runs through."""
    if inpaint:
        return RowGuidedSDXLInpaint if sdxl else RowGuidedSDInpaint
    if sdxl:
        return RowGuidedSDXLImg2Img if img2img else RowGuidedSDXL
    return RowGuidedSDImg2Img if img2img else RowGuidedSD


def row_scales(
    scales: Sequence[float], *, device: torch.device, dtype: torch.dtype
) -> torch.Tensor | None:
    """One scale per row as a B×1×1×1 column, or None when every row has the same scale (the
    pipeline's own scalar path is then used, exactly as for a job alone)."""
    if len(set(scales)) <= 1:
        return None
    return torch.tensor(scales, dtype=dtype, device=device).view(-1, 1, 1, 1)
