"""Generation jobs: exactly what the engine is asked to make, and how each kind is planned.

A :class:`GenerationJob` is fully resolved — seed, size, steps and sampler are fixed — so it
can be stored as JSON, run again after a restart, and reproduce the same pixels.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from db.jobs import JobKind
from inference.params import DEFAULT_SAMPLER, IMAGES_PER_JOB, ImagineRequest
from inference.rework import MASK_BLUR, Box, Placement
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
    upscale_subtle_strength: float = 0.2  # Upscale (Subtle)
    upscale_creative_strength: float = 0.5  # Upscale (Creative)


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
class InpaintCheckpoint:
    """A model version's dedicated inpainting checkpoint (a 9-channel UNet), resolved from
    the registry when the job was made, like a LoRA."""

    key: str  # the checkpoint version's key; the pool loads it as its own model
    source: str  # hub id, diffusers folder or single file
    sha256: str | None = None

    @property
    def model_name(self) -> str:
        """The name the pool and its workers know the loaded checkpoint by."""
        return f"{self.key} (inpainting)"

    def to_params(self) -> dict[str, Any]:
        return {"key": self.key, "source": self.source, "sha256": self.sha256}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> InpaintCheckpoint:
        return cls(key=params["key"], source=params["source"], sha256=params.get("sha256"))


@dataclass(frozen=True)
class ImagePrompt:
    """An image a job is conditioned on (an image prompt, or one of /blend's images): the
    checked copy the studio made of it (a PNG in the data folder's inputs), that copy's
    SHA-256, and where the member's image came from."""

    path: str
    sha256: str
    source: str  # the URL as typed, or ``attachment:<file name>``

    def to_params(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "source": self.source}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ImagePrompt:
        return cls(path=params["path"], sha256=params["sha256"], source=params["source"])


@dataclass(frozen=True)
class Rework:
    """An outpaint or inpaint job: the init image goes into ``box`` on the canvas (the
    job's width × height); what is made again is the rest of the canvas, or with ``mask``
    (Vary Region) the marked pixels. Kept pixels are the original's, over a seam of
    ``mask_blur`` pixels."""

    box: Box
    mask: str | None = None  # the member's mask PNG, stored with the job (source's size)
    mask_sha256: str | None = None
    mask_blur: int = MASK_BLUR
    checkpoint: InpaintCheckpoint | None = None

    def to_params(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "mask": self.mask,
            "mask_sha256": self.mask_sha256,
            "mask_blur": self.mask_blur,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.to_params(),
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Rework:
        x, y, width, height = (int(v) for v in params["box"])
        checkpoint = params.get("checkpoint")
        return cls(
            box=(x, y, width, height),
            mask=params.get("mask"),
            mask_sha256=params.get("mask_sha256"),
            mask_blur=int(params.get("mask_blur", MASK_BLUR)),
            checkpoint=None if checkpoint is None else InpaintCheckpoint.from_params(checkpoint),
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
    rework: Rework | None = None  # zoom, pan, square, region: what is made again
    #: Images the job is conditioned on through the IP-Adapter, weighted by the request's
    #: ``image_weight`` (``--iw``); a /blend is a job with these and no text.
    image_prompts: tuple[ImagePrompt, ...] = ()

    @property
    def placement(self) -> Placement | None:
        """A rework's canvas and where its init image sits on it."""
        if self.rework is None:
            return None
        return Placement((self.width, self.height), self.rework.box)

    @property
    def input_files(self) -> tuple[str, ...]:
        """Every file the engine reads for this job when it runs, models and LoRAs aside:
        the init image, a region's mask and the image prompts. A remote worker gets them
        as bytes."""
        files = [self.init_image, None if self.rework is None else self.rework.mask]
        files += [image.path for image in self.image_prompts]
        return tuple(path for path in files if path is not None)

    def with_input_files(self, paths: Sequence[str]) -> GenerationJob:
        """This job reading its :attr:`input_files` from ``paths`` instead (in that order):
        where a remote worker wrote them on its own node."""
        moved = dict(zip(self.input_files, paths, strict=True))
        rework = self.rework
        if rework is not None and rework.mask is not None:
            rework = replace(rework, mask=moved[rework.mask])
        init_image = None if self.init_image is None else moved[self.init_image]
        image_prompts = tuple(
            replace(image, path=moved[image.path]) for image in self.image_prompts
        )
        return replace(self, init_image=init_image, rework=rework, image_prompts=image_prompts)

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
            **({} if self.rework is None else {"rework": self.rework.to_params()}),
            **(
                {"image_prompts": [image.to_params() for image in self.image_prompts]}
                if self.image_prompts
                else {}
            ),
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
            rework=None if params.get("rework") is None else Rework.from_params(params["rework"]),
            image_prompts=tuple(
                ImagePrompt.from_params(image) for image in params.get("image_prompts", ())
            ),
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
    #: Reworks run through an inpainting pipeline (init images and masks are per row), on
    #: the loaded model or on its dedicated inpainting checkpoint (named here).
    inpaint: bool = False
    inpaint_checkpoint: str | None = None
    #: The IP-Adapter's scale is one per call: image-prompted jobs run only with jobs of the
    #: same ``--iw`` (None: no image prompts, and no IP-Adapter in the call).
    image_weight: float | None = None
    #: Each row is conditioned on as many images as its job has: one count per call.
    image_count: int = 0


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
        inpaint=job.rework is not None,
        inpaint_checkpoint=(
            None
            if job.rework is None or job.rework.checkpoint is None
            else job.rework.checkpoint.key
        ),
        image_weight=job.request.image_weight if job.image_prompts else None,
        image_count=len(job.image_prompts),
    )


def plan_imagine(
    request: ImagineRequest,
    *,
    model: str,
    native_size: int,
    defaults: EngineDefaults,
    loras: tuple[LoraUse, ...] = (),
    model_hash: str | None = None,
    image_prompts: tuple[ImagePrompt, ...] = (),
) -> GenerationJob:
    """A txt2img job: four images at the model's native pixel count in the requested shape,
    conditioned on ``image_prompts`` too where the member gave images."""
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
        image_prompts=image_prompts,
    )


def plan_reroll(parent: GenerationJob) -> GenerationJob:
    """🔄: the same request and settings with a fresh seed (a rework's: the same rework)."""
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
        rework=None,
    )


def plan_upscale(
    parent: GenerationJob,
    *,
    index: int,
    image_path: str,
    defaults: EngineDefaults,
    strength: float | None = None,
) -> GenerationJob:
    """U*n* / Upscale 2×: one image, resized then refined at low strength ("hires fix");
    ``strength``: another than the operator's (Upscale Subtle and Creative).

    It keeps the chosen image's own seed, so upscaling the same image twice is identical.
    """
    strength = defaults.upscale_strength if strength is None else strength
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
        rework=None,
    )


#: Reworks make their new pixels from noise: with a 4-channel UNet the kept latents are
#: blended back at every step, so only full strength draws a border that matches them.
REWORK_STRENGTH = 1.0


def plan_rework(
    parent: GenerationJob,
    *,
    kind: JobKind,
    image_path: str,
    placement: Placement,
    mask: tuple[str, str] | None = None,
    checkpoint: InpaintCheckpoint | None = None,
    defaults: EngineDefaults,
) -> GenerationJob:
    """Zoom, pan, square or region: four new images of ``placement``'s canvas with the image
    at ``image_path`` in its box (``parent`` carries the prompt, remixed or not);
    ``mask``: (path, SHA-256) of a region's mask. The request's ``--ar`` becomes the
    canvas's own ratio, so what is typed again (Remix, Custom Zoom) keeps its shape."""
    width, height = placement.canvas
    divisor = math.gcd(width, height)
    request = replace(parent.request, aspect=(width // divisor, height // divisor))
    return replace(
        parent,
        kind=kind,
        request=request,
        seed=random_seed(),
        num_images=IMAGES_PER_JOB,
        width=placement.canvas[0],
        height=placement.canvas[1],
        steps=request.total_steps(defaults.steps),
        sampler=request.sampler or defaults.sampler,
        init_image=image_path,
        strength=REWORK_STRENGTH,
        rework=Rework(
            box=placement.box,
            mask=None if mask is None else mask[0],
            mask_sha256=None if mask is None else mask[1],
            checkpoint=checkpoint,
        ),
    )


def _scaled_side(side: int, factor: float) -> int:
    """Scaled and rounded to a multiple of 8, as the VAE needs."""
    return max(8, round(side * factor / 8) * 8)


def _img2img_steps(steps: int, strength: float) -> int:
    """img2img runs only ``steps × strength`` steps; make sure that is at least one."""
    return max(steps, math.ceil(1 / strength))
