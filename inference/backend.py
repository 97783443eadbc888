"""The diffusers backend: one loaded model on one device, turning jobs into images.

Not thread-safe by design: the worker that owns a backend is its only caller. diffusers
schedulers keep per-run state, so every job runs on a pipeline view made with ``from_pipe``
(sharing the loaded weights) around a fresh scheduler of its own.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import StableDiffusionXLInpaintPipeline, StableDiffusionXLPipeline
from diffusers.models.attention_processor import AttnProcessor2_0
from PIL import Image

from inference import conditioning, guidance
from inference.devices import resolve_dtype
from inference.image_prompting import LoadedImageAdapter
from inference.images import latent_preview
from inference.jobs import GenerationJob, batch_key
from inference.loading import load_pipeline
from inference.loras import LoadedLoras, Room
from inference.models import IpAdapterRef, ModelRef
from inference.rework import ReworkCanvas, prepare_canvas
from inference.samplers import make_scheduler
from inference.tiling import circular_padding

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepEvent:
    """Progress of a running job: denoising step ``step`` of ``total`` is done."""

    step: int
    total: int
    preview: Image.Image | None = None


StepCallback = Callable[[StepEvent], None]
#: Progress of a batch: ``(index of the job in the batch, its event)``.
BatchStepCallback = Callable[[int, StepEvent], None]


class JobCancelled(Exception):
    """Raised between denoising steps when a job's cancel event is set."""


class DiffusersBackend:
    def __init__(
        self,
        pipe: Any,
        *,
        model: ModelRef,
        device: str,
        room: Room | None = None,
        ip_adapter: IpAdapterRef | None = None,
    ) -> None:
        """Wrap an already-loaded pipeline; see :meth:`load` for the usual way in. ``room``
        is the device's VRAM budget, which LoRAs and the IP-Adapter (``ip_adapter``, for
        image prompts; loaded when a job first needs it) loaded later are made room for."""
        self._pipe = pipe
        self.model = model
        self.device = torch.device(device)
        self.is_sdxl = isinstance(
            pipe, StableDiffusionXLPipeline | StableDiffusionXLInpaintPipeline
        )
        #: A dedicated inpainting checkpoint (its UNet also reads the mask and the masked
        #: image: 9 input channels) runs reworks only.
        self.inpaint_only = model.inpainting
        self.loras = LoadedLoras(pipe, room=room)
        self.image_adapter = LoadedImageAdapter(pipe, ip_adapter, model_name=model.name, room=room)

    @classmethod
    def load(
        cls,
        model: ModelRef,
        device: str,
        dtype_preference: str = "auto",
        make_room: Callable[[int], None] | None = None,
        ip_adapter: IpAdapterRef | None = None,
    ) -> DiffusersBackend:
        """Load ``model`` onto ``device``; raises ModelLoadError with a readable message.

        The weights are read into CPU memory first; ``make_room`` is then told their size
        in bytes, so the caller can unload other models before these reach the device. When
        it is a worker's :class:`~inference.loras.Room`, LoRAs and the IP-Adapter
        (``ip_adapter``) are made room for too.
        """
        dtype = resolve_dtype(device, dtype_preference)
        pipe = load_pipeline(model, dtype=dtype)
        if make_room is not None:
            make_room(pipeline_weights_bytes(pipe))
        pipe.set_progress_bar_config(disable=True)
        if device.startswith("cuda"):
            tune_for_cuda(pipe)
        pipe.to(device)
        log.info("loaded %s (%s) on %s as %s", model.name, type(pipe).__name__, device, dtype)
        room = make_room if isinstance(make_room, Room) else None
        return cls(pipe, model=model, device=device, room=room, ip_adapter=ip_adapter)

    @property
    def pipeline(self) -> Any:
        """The loaded text-to-image pipeline; only the owning worker thread may run it."""
        return self._pipe

    @property
    def native_size(self) -> int:
        """The side length, in pixels, of the square images the model was trained on."""
        return int(self._pipe.unet.config.sample_size) * int(self._pipe.vae_scale_factor)

    @property
    def modules(self) -> list[torch.nn.Module]:
        """The networks a job runs through (for tiling, memory accounting, tests)."""
        return [self._pipe.unet, self._pipe.vae]

    def weights_bytes(self) -> int:
        """Memory the model's weights take on its device, its loaded LoRAs and IP-Adapter
        included: what a VRAM budget counts."""
        return pipeline_weights_bytes(self._pipe) + self.image_adapter.weights_bytes()

    def generate(
        self,
        job: GenerationJob,
        *,
        on_step: StepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> list[Image.Image]:
        """Run ``job`` and return its images, image *i* made from seed ``job.seeds[i]``.

        ``on_step`` is called on this thread after every denoising step, with a latent
        preview every ``preview_every`` steps (0: never). Setting ``cancel`` stops the job
        at the next step with :class:`JobCancelled`.
        """

        def for_the_only_job(index: int, event: StepEvent) -> None:
            if on_step is not None:
                on_step(event)

        return self.generate_batch(
            [job],
            on_step=None if on_step is None else for_the_only_job,
            preview_every=preview_every,
            cancel=cancel,
        )[0]

    def generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        *,
        on_step: BatchStepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> list[list[Image.Image]]:
        """Run several jobs in one pipeline call; returns each job's images, in job order.

        The jobs must share a :func:`~inference.jobs.batch_key`. Every image keeps its own
        seeded generator and every job its own text conditioning, so a job's pixels do not
        depend on the company it ran in. ``on_step(job_index, event)`` reports progress
        per job (a job's preview shows only its own images).
        """
        if not jobs:
            return []
        keys = {batch_key(job) for job in jobs}
        if len(keys) > 1:
            raise ValueError(f"jobs of one batch must share a batch key, got {len(keys)}")
        if self.inpaint_only and jobs[0].rework is None:
            raise ValueError(f"{self.model.name} is an inpainting checkpoint; it runs reworks only")
        # The batch key holds the LoRAs and weights, and the image count and --iw: the
        # whole call runs with the lead's.
        guided = (
            max(job.guidance_scale for job in jobs) > 1
            and self._pipe.unet.config.time_cond_proj_dim is None
        )
        with (
            self.loras.active(jobs[0].loras),
            self.image_adapter.active(jobs, guided=guided) as image_conditioning,
        ):
            return self._generate_batch(
                jobs,
                image_conditioning,
                on_step=on_step,
                preview_every=preview_every,
                cancel=cancel,
            )

    def _generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        image_conditioning: dict[str, Any],
        *,
        on_step: BatchStepCallback | None,
        preview_every: int,
        cancel: threading.Event | None,
    ) -> list[list[Image.Image]]:
        lead = jobs[0]
        seeds = [seed for job in jobs for seed in job.seeds]
        # CPU generators make a seed mean the same starting noise on every device.
        generators = [torch.Generator(device="cpu").manual_seed(seed) for seed in seeds]
        with torch.no_grad():
            embeds = conditioning.concatenate(
                [
                    conditioning.encode(
                        self._pipe, job.request, job.seeds, self.device, is_sdxl=self.is_sdxl
                    )
                    for job in jobs
                ]
            )
        pipe = self._job_pipeline(jobs)
        stopper = _EarlyStop(pipe.scheduler, lead.request.stop) if lead.request.stop < 100 else None
        slices = _job_slices(jobs)
        arguments: dict[str, Any] = {
            "num_inference_steps": lead.steps,
            # guided or not is shared; the scale itself may differ per job (row_guidance)
            "guidance_scale": max(job.guidance_scale for job in jobs),
            "generator": generators,
            "callback_on_step_end": _StepHook(
                on_step, slices, preview_every, cancel, stopper, is_sdxl=self.is_sdxl
            ),
            **embeds.pipeline_kwargs(),
            **image_conditioning,
        }
        canvases: list[ReworkCanvas] = []
        if lead.rework is not None:
            canvases = [_rework_canvas(job) for job in jobs]
            rows = [
                canvas
                for job, canvas in zip(jobs, canvases, strict=True)
                for canvas in [canvas] * job.num_images
            ]
            arguments.update(
                image=[canvas.start for canvas in rows],
                mask_image=[canvas.mask for canvas in rows],
                strength=lead.strength,
                width=lead.width,
                height=lead.height,
            )
        elif lead.init_image is None:
            arguments.update(width=lead.width, height=lead.height)
        else:
            starts = [
                start
                for job in jobs
                for start in [_load_init_image(_init_path(job), (job.width, job.height))]
                * job.num_images
            ]
            arguments.update(image=starts, strength=lead.strength)
        with circular_padding(self.modules, enabled=lead.request.tile):
            images: list[Image.Image] = pipe(**arguments).images
        if canvases:
            # Kept pixels come back from the canvas itself, untouched by the VAE.
            return [
                [canvas.finish(image) for image in images[part]]
                for part, canvas in zip(slices, canvases, strict=True)
            ]
        return [images[part] for part in slices]

    def _job_pipeline(self, jobs: Sequence[GenerationJob]) -> Any:
        """A view of the loaded pipeline for this batch, with its own fresh scheduler and,
        when the jobs' guidance scales differ, one scale per image."""
        lead = jobs[0]
        view = guidance.view_class(
            sdxl=self.is_sdxl, img2img=lead.init_image is not None, inpaint=lead.rework is not None
        )
        scheduler = make_scheduler(lead.sampler, self._pipe.scheduler.config)
        pipe = view.from_pipe(self._pipe, scheduler=scheduler)
        pipe.set_progress_bar_config(disable=True)
        pipe.row_guidance = guidance.row_scales(
            [job.guidance_scale for job in jobs for _ in range(job.num_images)],
            device=self.device,
            dtype=self._pipe.unet.dtype,
        )
        return pipe


def tune_for_cuda(pipe: Any) -> None:
    """Settings that make SD fast on NVIDIA GPUs without changing results noticeably:
    PyTorch's fused scaled-dot-product attention, channels-last convolutions, and TF32
    for any float32 matmuls left."""
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    pipe.unet.set_attn_processor(AttnProcessor2_0())
    pipe.unet.to(memory_format=torch.channels_last)
    pipe.vae.to(memory_format=torch.channels_last)


def diffusers_factory(
    dtype_preference: str = "auto", ip_adapter: IpAdapterRef | None = None
) -> Callable[[ModelRef, str, Callable[[int], None]], DiffusersBackend]:
    """Loads models for the worker pool with :meth:`DiffusersBackend.load`, each with
    ``ip_adapter`` for its image prompts (remote workers get it with the factory: a local
    file must then exist on their machines too)."""

    def load(model: ModelRef, device: str, make_room: Callable[[int], None]) -> DiffusersBackend:
        return DiffusersBackend.load(model, device, dtype_preference, make_room, ip_adapter)

    return load


def pipeline_weights_bytes(pipe: Any) -> int:
    """Bytes of every parameter and buffer of the pipeline's networks."""
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            tensors = [*component.parameters(), *component.buffers()]
            total += sum(tensor.numel() * tensor.element_size() for tensor in tensors)
    return total


def _job_slices(jobs: Sequence[GenerationJob]) -> list[slice]:
    """Which rows of the batch belong to each job."""
    slices, start = [], 0
    for job in jobs:
        slices.append(slice(start, start + job.num_images))
        start += job.num_images
    return slices


def _init_path(job: GenerationJob) -> str:
    if job.init_image is None:  # batch_key keeps txt2img and img2img jobs apart
        raise ValueError("an img2img batch mixes in a job without an init image")
    return job.init_image


def _rework_canvas(job: GenerationJob) -> ReworkCanvas:
    placement, rework = job.placement, job.rework
    if placement is None or rework is None:  # batch_key keeps reworks together
        raise ValueError("a rework batch mixes in a job that is not one")
    return prepare_canvas(_init_path(job), placement, rework.mask, rework.mask_blur)


def _load_init_image(path: str, size: tuple[int, int]) -> Image.Image:
    with Image.open(path) as image:
        start = image.convert("RGB")
    if start.size != size:
        start = start.resize(size, Image.Resampling.LANCZOS)
    return start


class _EarlyStop:
    """``--stop``: end denoising after a share of the steps and return what is there.

    "What is there" is the sampler's current estimate of the finished image (its
    prediction of the clean latents), which decodes to the soft, unfinished look
    Midjourney users expect, rather than the still-noisy intermediate latents. The
    estimate is captured by wrapping this job's own scheduler's ``step``; samplers that
    expose no estimate fall back to the intermediate latents.
    """

    def __init__(self, scheduler: Any, stop_percent: int) -> None:
        self.stop_percent = stop_percent
        self.estimate: torch.Tensor | None = None
        step = scheduler.step

        def step_and_capture(*args: Any, **kwargs: Any) -> Any:
            output = step(*args, **kwargs)
            self.estimate = _clean_estimate(output, scheduler)
            return output

        scheduler.step = step_and_capture

    def stop_after(self, total_steps: int) -> int:
        return max(1, math.ceil(total_steps * self.stop_percent / 100))


def _clean_estimate(output: Any, scheduler: Any) -> torch.Tensor | None:
    if isinstance(output, tuple) and len(output) > 1:  # Euler, Euler a, DDIM
        estimate: torch.Tensor | None = output[1]
        return estimate
    predicted = getattr(output, "pred_original_sample", None)
    if predicted is not None:
        return predicted  # type: ignore[no-any-return]
    history = getattr(scheduler, "model_outputs", None)  # DPM-Solver++, UniPC: x0 predictions
    if history and history[-1] is not None:
        return history[-1]  # type: ignore[no-any-return]
    return None


class _StepHook:
    """The ``callback_on_step_end`` of one batch: progress, previews, cancel and ``--stop``."""

    def __init__(
        self,
        on_step: BatchStepCallback | None,
        slices: list[slice],
        preview_every: int,
        cancel: threading.Event | None,
        stopper: _EarlyStop | None,
        *,
        is_sdxl: bool,
    ) -> None:
        self._on_step = on_step
        self._slices = slices
        self._preview_every = preview_every
        self._cancel = cancel
        self._stopper = stopper
        self._is_sdxl = is_sdxl

    def __call__(
        self, pipe: Any, index: int, timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        if self._cancel is not None and self._cancel.is_set():
            raise JobCancelled
        step, total = index + 1, int(pipe.num_timesteps)
        updates: dict[str, Any] = {}
        if self._stopper is not None:
            total = self._stopper.stop_after(total)
            if step >= total:
                if self._stopper.estimate is not None:
                    updates["latents"] = self._stopper.estimate
                pipe._interrupt = True  # the pipeline skips the rest, then decodes
        if self._on_step is not None:
            wants_preview = self._preview_every > 0 and step % self._preview_every == 0
            latents = updates.get("latents", tensors["latents"])
            for job_index, rows in enumerate(self._slices):
                preview = (
                    latent_preview(latents[rows], is_sdxl=self._is_sdxl) if wants_preview else None
                )
                self._on_step(job_index, StepEvent(step=step, total=total, preview=preview))
        return updates
