"""Text conditioning for a job: weighted multi-prompts and ``--chaos``, done on embeddings.

Multi-prompts (``hot:: dog::2``) are encoded part by part and blended as a weighted sum of
the text-encoder outputs (weights already normalised to sum 1 by the parser, so a negative
part pushes the blend away from that concept). ``--chaos`` adds a seeded, per-image
perturbation to the blended embedding, so the four images of a grid diverge in composition
as chaos grows, while at chaos 0 they differ only by their seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from inference.params import ImagineRequest

#: At --chaos 100 each token embedding is perturbed by noise this large relative to the
#: token's own RMS (0.75 ≈ a different composition; low chaos values stay close).
CHAOS_RELATIVE_NOISE = 0.75

#: Keeps chaos noise independent of the initial latent noise drawn from the same seed.
_CHAOS_SEED_OFFSET = 1 << 32


@dataclass(frozen=True)
class Conditioning:
    """Per-image embeddings, ready to pass to a diffusers pipeline call.

    ``pooled`` and ``negative_pooled`` exist only for SDXL, whose second text encoder also
    yields a pooled vector.
    """

    prompt_embeds: torch.Tensor
    negative_prompt_embeds: torch.Tensor
    pooled: torch.Tensor | None = None
    negative_pooled: torch.Tensor | None = None

    def pipeline_kwargs(self) -> dict[str, torch.Tensor]:
        kwargs = {
            "prompt_embeds": self.prompt_embeds,
            "negative_prompt_embeds": self.negative_prompt_embeds,
        }
        if self.pooled is not None and self.negative_pooled is not None:
            kwargs["pooled_prompt_embeds"] = self.pooled
            kwargs["negative_pooled_prompt_embeds"] = self.negative_pooled
        return kwargs


def encode(
    pipe: Any,
    request: ImagineRequest,
    seeds: list[int],
    device: torch.device,
    *,
    is_sdxl: bool,
) -> Conditioning:
    """Encode ``request`` once and expand it to one conditioning row per seed."""
    texts = [part.text for part in request.parts]
    weights = torch.tensor([part.weight for part in request.parts], dtype=torch.float32)
    negative = request.negative_prompt or None
    encoded = pipe.encode_prompt(**_encode_prompt_args(texts, negative, device, is_sdxl=is_sdxl))
    # Both pipelines return (prompt, negative[, pooled, negative pooled]), one row per text.
    parts_embeds, negative_embeds = encoded[0], encoded[1]
    blended = _weighted_sum(parts_embeds, weights)
    rows = torch.stack([_with_chaos(blended, request.chaos, seed) for seed in seeds])
    conditioning = Conditioning(
        prompt_embeds=rows,
        negative_prompt_embeds=negative_embeds[:1].expand(len(seeds), -1, -1).contiguous(),
    )
    if not is_sdxl:
        return conditioning
    pooled_parts, negative_pooled = encoded[2], encoded[3]
    pooled = _weighted_sum(pooled_parts, weights)
    return Conditioning(
        prompt_embeds=conditioning.prompt_embeds,
        negative_prompt_embeds=conditioning.negative_prompt_embeds,
        pooled=torch.stack([_with_chaos(pooled, request.chaos, seed) for seed in seeds]),
        negative_pooled=negative_pooled[:1].expand(len(seeds), -1).contiguous(),
    )


def concatenate(parts: list[Conditioning]) -> Conditioning:
    """One conditioning for a batch of jobs: their rows one after another, in order."""
    if len(parts) == 1:
        return parts[0]
    return Conditioning(
        prompt_embeds=torch.cat([part.prompt_embeds for part in parts]),
        negative_prompt_embeds=torch.cat([part.negative_prompt_embeds for part in parts]),
        pooled=_cat_all_or_none([part.pooled for part in parts]),
        negative_pooled=_cat_all_or_none([part.negative_pooled for part in parts]),
    )


def _cat_all_or_none(tensors: list[torch.Tensor | None]) -> torch.Tensor | None:
    present = [tensor for tensor in tensors if tensor is not None]
    return torch.cat(present) if present and len(present) == len(tensors) else None


def _encode_prompt_args(
    texts: list[str], negative: str | None, device: torch.device, *, is_sdxl: bool
) -> dict[str, object]:
    args: dict[str, object] = {
        "prompt": texts,
        "device": device,
        "num_images_per_prompt": 1,
        "do_classifier_free_guidance": True,
        # One copy per part; None lets SDXL use zeros for "no negative", as its config asks.
        "negative_prompt": None if negative is None else [negative] * len(texts),
    }
    if is_sdxl:
        args["prompt_2"] = None
    return args


def _weighted_sum(rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    shaped = weights.to(device=rows.device, dtype=rows.dtype).view(-1, *([1] * (rows.dim() - 1)))
    return (rows * shaped).sum(dim=0)


def _with_chaos(embedding: torch.Tensor, chaos: int, seed: int) -> torch.Tensor:
    """``embedding`` plus noise scaled by chaos and by each token's own magnitude.

    Scaling per token keeps the perturbation relative: CLIP's start token is far larger
    than the others, and a global scale would drown the real tokens. The start token itself
    is left alone (attention leans on it as a sink; moving it destabilises every image).
    """
    if chaos == 0:
        return embedding
    generator = torch.Generator(device="cpu").manual_seed(seed + _CHAOS_SEED_OFFSET)
    noise = torch.randn(embedding.shape, generator=generator, dtype=torch.float32)
    noise = noise.to(device=embedding.device, dtype=embedding.dtype)
    rms = embedding.pow(2).mean(dim=-1, keepdim=True).sqrt()
    perturbed = embedding + (chaos / 100) * CHAOS_RELATIVE_NOISE * rms * noise
    if embedding.dim() == 2:  # token sequence: keep the start token
        perturbed[0] = embedding[0]
    return perturbed
