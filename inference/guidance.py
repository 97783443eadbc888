"""Per-row guidance scales and image prompts, so jobs with different ``--stylize`` or
different images can share a pipeline call.

diffusers guides with ``uncond + self.guidance_scale * (text - uncond)``, one scale per
call. The pipeline views here answer ``guidance_scale`` with a column of per-row scales when
one is set, which broadcasts over the batch. Whether guidance runs at all is still decided
by the number passed to the call (``> 1``), which is why batches share "guided or not".

diffusers also takes ``ip_adapter_image_embeds`` as one image prompt for the whole call and
repeats it for every row; the views take them as given, one row per row of the batch.
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


class _RowImageEmbeds:
    """Mixed in ahead of a diffusers pipeline: ``ip_adapter_image_embeds`` (one tensor per
    adapter) already hold a row for every row of the batch, the negatives' rows first when
    guided, and are used as they are."""

    def prepare_ip_adapter_image_embeds(
        self,
        ip_adapter_image: Any,
        ip_adapter_image_embeds: list[torch.Tensor] | None,
        device: torch.device,
        num_images_per_prompt: int,
        do_classifier_free_guidance: bool,
    ) -> list[torch.Tensor]:
        if ip_adapter_image_embeds is None:
            raise ValueError("image prompts reach the pipeline as per-row image embeddings")
        return [embeds.to(device=device) for embeds in ip_adapter_image_embeds]


class RowGuidedSD(_RowGuidance, _RowImageEmbeds, StableDiffusionPipeline):
    pass


class RowGuidedSDImg2Img(_RowGuidance, _RowImageEmbeds, StableDiffusionImg2ImgPipeline):
    pass


class RowGuidedSDXL(_RowGuidance, _RowImageEmbeds, StableDiffusionXLPipeline):
    pass


class RowGuidedSDXLImg2Img(_RowGuidance, _RowImageEmbeds, StableDiffusionXLImg2ImgPipeline):
    pass


class RowGuidedSDInpaint(_RowGuidance, _RowImageEmbeds, StableDiffusionInpaintPipeline):
    pass


class RowGuidedSDXLInpaint(_RowGuidance, _RowImageEmbeds, StableDiffusionXLInpaintPipeline):
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
