"""Generation jobs: exactly what the engine is asked to make, and how each kind is planned.

A :class:`GenerationJob` is fully resolved — seed, size, steps and sampler are fixed — so it
can be stored as JSON, run again after a restart, and reproduce the same pixels.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, replace
from typing import Any

from db.jobs import JobKind
from inference.params import DEFAULT_SAMPLER, IMAGES_PER_JOB, ImagineRequest
from inference.sizing import image_size, size_multiple

SEED_LIMIT = 2**32  # seeds are 0 … 4294967295, as in Midjourney


@dataclass(frozen=True)
class EngineDefaults:
    """Operator settings that fill in what a prompt leaves open."""

    steps: int = 30
    sampler: str = DEFAULT_SAMPLER
    subtle_strength: float = 0.35
    strong_strength: float = 0.7
    upscale_factor: float = 2.0
    upscale_strength: float = 0.3


def random_seed() -> int:
    return secrets.randbelow(SEED_LIMIT)


def image_seed(job_seed: int, index: int) -> int:
    """Image ``index`` of a job uses the job's seed + index (wrapping at 2³²)."""
    return (job_seed + index) % SEED_LIMIT


@dataclass(frozen=True)
class LoraUse:
    """A LoRA version a job runs with, resolved from the registry when the job was made,
    so the job runs the same after a restart."""

    key: str  # the registry version's key, name:version
    source: str  # a local .safetensors file, or a hub id
    weight_name: str | None  # the file inside a hub repository
    weight: float
    sha256: str | None = None

    @property
    def name(self) -> str:
        return self.key.partition(":")[0]

    def to_params(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "source": self.source,
            "weight_name": self.weight_name,
            "weight": self.weight,
            "sha256": self.sha256,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LoraUse:
        return cls(
            key=params["key"],
            source=params["source"],
            weight_name=params["weight_name"],
            weight=float(params["weight"]),
            sha256=params.get("sha256"),
        )


@dataclass(frozen=True)
class GenerationJob:
    kind: JobKind
    request: ImagineRequest
    model: str  # the registry version's key, name:version (a bare name in older jobs)
    seed: int
    width: int
    height: int
    steps: int
    sampler: str
    num_images: int = IMAGES_PER_JOB
    init_image: str | None = None  # path of the image a variation or upscale starts from
    strength: float | None = None  # img2img denoising strength, with init_image
    loras: tuple[LoraUse, ...] = ()
    model_hash: str | None = None  # SHA-256 of the checkpoint file, when it is one file

    @property
    def seeds(self) -> list[int]:
        return [image_seed(self.seed, index) for index in range(self.num_images)]

    @property
    def guidance_scale(self) -> float:
        return self.request.guidance_scale

    def to_params(self) -> dict[str, Any]:
        """JSON-safe form, stored with the job in the database."""
        return {
            "kind": self.kind.value,
            "request": self.request.to_params(),
            "model": self.model,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "steps": self.steps,
            "sampler": self.sampler,
            "num_images": self.num_images,
            "init_image": self.init_image,
            "strength": self.strength,
            "loras": [lora.to_params() for lora in self.loras],
            "model_hash": self.model_hash,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GenerationJob:
        return cls(
            kind=JobKind(params["kind"]),
            request=ImagineRequest.from_params(params["request"]),
            model=params["model"],
            seed=params["seed"],
            width=params["width"],
            height=params["height"],
            steps=params["steps"],
            sampler=params["sampler"],
            num_images=params["num_images"],
            init_image=params["init_image"],
            strength=params["strength"],
            loras=tuple(LoraUse.from_params(lora) for lora in params.get("loras", [])),
            model_hash=params.get("model_hash"),
        )


@dataclass(frozen=True)
class BatchKey:
    """What jobs must share to run in one pipeline call.

    The pipeline takes one size, one step count, one sampler and one img2img strength per
    call, and guides either every row or none; ``--tile`` switches every convolution of the
    model and ``--stop`` ends the whole call, so both are shared too. Prompts, negative
    prompts, seeds, chaos, guidance scales (``--stylize``) and init images may all differ:
    they are per row. LoRAs change the model's weights for the whole call, so a job runs
    only with jobs of exactly its LoRAs and weights (a plain job never with a LoRA job).
    """

    model: str
    img2img: bool
    width: int
    height: int
    steps: int
    sampler: str
    guided: bool  # classifier-free guidance on (scale > 1) or off
    strength: float | None
    tile: bool
    stop: int
    loras: tuple[tuple[str, float], ...] = ()  # (version key, weight), in the prompt's order


def batch_key(job: GenerationJob) -> BatchKey:
    return BatchKey(
        model=job.model,
        img2img=job.init_image is not None,
        width=job.width,
        height=job.height,
        steps=job.steps,
        sampler=job.sampler,
        guided=job.guidance_scale > 1,
        strength=job.strength,
        tile=job.request.tile,
        stop=job.request.stop,
        loras=tuple((lora.key, lora.weight) for lora in job.loras),
    )


def plan_imagine(
    request: ImagineRequest,
    *,
    model: str,
    native_size: int,
    defaults: EngineDefaults,
    loras: tuple[LoraUse, ...] = (),
    model_hash: str | None = None,
) -> GenerationJob:
    """A txt2img job: four images at the model's native pixel count in the requested shape."""
    width, height = image_size(native_size, request.aspect, size_multiple(native_size))
    return GenerationJob(
        kind=JobKind.IMAGINE,
        request=request,
        model=model,
        seed=request.seed if request.seed is not None else random_seed(),
        width=width,
        height=height,
        steps=request.total_steps(defaults.steps),
        sampler=request.sampler or defaults.sampler,
        loras=loras,
        model_hash=model_hash,
    )


def plan_reroll(parent: GenerationJob) -> GenerationJob:
    """🔄: the same request and settings with a fresh seed."""
    return replace(parent, kind=JobKind.REROLL, seed=random_seed())


def plan_variation(parent: GenerationJob, *, image_path: str, strength: float) -> GenerationJob:
    """V*n*: four new images that start from one image of ``parent``."""
    return replace(
        parent,
        kind=JobKind.VARIATION,
        seed=random_seed(),
        num_images=IMAGES_PER_JOB,
        init_image=image_path,
        strength=strength,
        steps=_img2img_steps(parent.steps, strength),
    )


def plan_upscale(
    parent: GenerationJob, *, index: int, image_path: str, defaults: EngineDefaults
) -> GenerationJob:
    """U*n* / Upscale 2×: one image, resized then refined at low strength ("hires fix").

    It keeps the chosen image's own seed, so upscaling the same image twice is identical.
    """
    strength = defaults.upscale_strength
    return replace(
        parent,
        kind=JobKind.UPSCALE,
        seed=parent.seeds[index],
        num_images=1,
        width=_scaled_side(parent.width, defaults.upscale_factor),
        height=_scaled_side(parent.height, defaults.upscale_factor),
        init_image=image_path,
        strength=strength,
        steps=_img2img_steps(parent.steps, strength),
    )


def _scaled_side(side: int, factor: float) -> int:
    """Scaled and rounded to a multiple of 8, as the VAE needs."""
    return max(8, round(side * factor / 8) * 8)


def _img2img_steps(steps: int, strength: float) -> int:
    """img2img runs only ``steps × strength`` steps; make sure that is at least one."""
    return max(steps, math.ceil(1 / strength))
