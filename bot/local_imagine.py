"""``atelier imagine``: /imagine from the command line, recorded like any job.

It goes through what the bot uses: the studio parses the prompt (without preferences: the
CLI's user has none) and takes its image prompts (the image URLs at its start) through
image intake, the model registry says what a model name means (so ``--model name``
is the same version as in Discord; the operator at the console may use what a home
moderator may), and the worker pool runs the jobs.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.checks import ip_adapter_family, model_checks
from bot.data_folder import output_problem, prepare
from bot.progress import ProgressBar
from bot.settings import DEVICE_PATTERN, Settings
from core.clock import Clock, utc_now
from core.errors import UserFacingError
from db.database import Database
from db.jobs import LOCAL_OWNER_ID
from inference.backend import diffusers_factory
from inference.devices import resolve_devices, resolve_dtype
from inference.hub_files import cached_hub_file, hub_file
from inference.jobs import GenerationJob
from inference.models import ModelRef, source_kind
from inference.params import ImagineRequest
from inference.pool.events import JobResult, Progress
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.pool.queue import OutputPaths
from intake.fetch import ImageIntake
from registry.configured import (
    ConfiguredModels,
    configured_models,
    enter_configured,
    name_for_source,
)
from registry.versions import available_names, versions_of
from studio.input_images import image_weight_text, input_images, is_blend
from studio.models import RegisteredModels
from studio.service import Studio, StudioConfig

#: After Ctrl-C, how long the running job may take to reach its next step and stop.
_CANCEL_GRACE_SECONDS = 10.0


class UsageError(UserFacingError):
    """Bad input on the command line: exit code 2, no job recorded, no image written."""


@dataclass(frozen=True)
class PlannedRun:
    request: ImagineRequest
    model: ModelRef
    grid_path: Path
    image_paths: list[Path]


@dataclass(frozen=True)
class MadeRun:
    """A run as it went: what was planned, the job the studio made of it, its result."""

    run: PlannedRun
    job: GenerationJob
    result: JobResult


def input_lines(job: GenerationJob) -> list[str]:
    """What the job was made from besides its text, to print under its grid: its image
    prompts (or a /blend's images), each with where it came from and its SHA-256."""
    count = len(job.image_prompts)
    if not count:
        return []
    if is_blend(job) and count > 1:  # one image without words is an image prompt alone
        heading = f"/blend of {count} images"
    else:
        heading = f"{count} image prompt{'s' if count != 1 else ''} ({image_weight_text(job)})"
    return [f"{heading}:"] + [
        f"  {image.number}. {image.origin} (sha256 {image.short_hash})"
        for image in input_images(job)
    ]


async def imagine(
    prompt: str,
    *,
    settings: Settings,
    model_override: str | None,
    out: Path,
    device: str | None,
    force: bool = False,
    clock: Clock = utc_now,
    intake: ImageIntake | None = None,
) -> list[MadeRun]:
    """Generate every job the prompt asks for through the worker pool, as the bot does;
    returns each run with the job made of it and its result.

    Raises a UserFacingError (UsageError, ParamError, StudioError: bad input; ModelLoadError),
    JobFailedError, or SetupError (the data folder cannot be written). The command line
    and the data folder are checked before the database is opened; the prompt, the models
    and the output files (never overwritten without ``force``) before anything is queued.
    Interrupted (Ctrl-C), it cancels its jobs, so none is left queued for the bot to pick up.
    ``intake``: how image URLs are fetched (by default, as ``settings.intake_limits()``
    say; closed at the end).
    """
    problem = output_problem(out)
    if problem is not None:
        raise UsageError(problem)
    device = _check_device(device, settings)
    # A configured model that cannot be loaded is a settings mistake: it must not enter the
    # registry (the hub is not asked: a hub id is tried when it is used).
    for check in model_checks(settings, hub=False):
        if check.failed:
            raise UsageError(check.item + ": " + check.detail)
    prepare(settings.data_dir)
    async with await Database.open(settings.database_path) as db:
        configured, models = await _models(db, settings, model_override, clock())
        pool = WorkerPool(
            db,
            models,
            settings.pool_config([device]),
            settings.images_dir,
            backend_factory=diffusers_factory(settings.dtype, settings.ip_adapter_ref()),
            clock=clock,
        )
        config = StudioConfig(
            defaults=settings.engine_defaults(),
            parse_limits=settings.parse_limits(),
            max_upscale_side=settings.max_upscale_side,
            image_prompts=settings.ip_adapter is not None,
            image_prompt_family=await asyncio.to_thread(ip_adapter_family, settings),
        )
        intake = intake or ImageIntake(settings.intake_limits())
        studio = Studio(
            db, pool, models, config, images_dir=settings.images_dir, clock=clock, intake=intake
        )
        try:
            requests = await studio.requests_for(LOCAL_OWNER_ID, prompt, preferences=False)
            studio.check_image_prompts(len(requests[0].image_urls))
            await enter_configured(
                db, configured, clock(), fetch_hub=hub_file, hub_cached=cached_hub_file
            )
            runs = await _plan(studio, requests, out)
            _refuse_overwriting(runs, out, force)
            images = await studio.take_images(requests[0].image_urls)
        finally:
            await intake.aclose()
        await pool.start(recover=False)  # the bot recovers its own jobs, not the CLI
        submitted: list[tuple[PlannedRun, JobHandle]] = []
        loading: set[str] = set()  # models already announced
        try:
            for run in runs:
                if run.model.name not in loading:
                    print(f"Loading {run.model.name} on {device}…", file=sys.stderr)
                    loading.add(run.model.name)
                outputs = OutputPaths(tuple(run.image_paths), run.grid_path)
                handle = await studio.submit_imagine(
                    LOCAL_OWNER_ID, run.request, moderator=True, outputs=outputs, images=images
                )
                submitted.append((run, handle))
            return [
                MadeRun(run, handle.job, await _follow(handle, _label(number, len(runs))))
                for number, (run, handle) in enumerate(submitted, start=1)
            ]
        except BaseException:
            for _, handle in submitted:
                handle.cancel()
            raise
        finally:
            await pool.shutdown(grace_seconds=_CANCEL_GRACE_SECONDS)


async def _models(
    db: Database, settings: Settings, model_override: str | None, now: datetime
) -> tuple[ConfiguredModels, RegisteredModels]:
    """The configured models, to enter into the registry as the bot's start-up does, and
    the models this run uses. ``--model`` names a registered model, which then means what
    it means in Discord, or a folder, file or hub id that takes the place of the default
    for this run alone (entered nowhere: ``RegisteredModels.run_only``)."""
    configured = configured_models(settings.models, settings.model, settings.loras)
    if model_override is None:
        return configured, RegisteredModels(db, configured.default)
    name = model_override.partition(":")[0].strip().lower()
    if name in configured.sources or await versions_of(db, name):
        return configured, RegisteredModels(db, model_override)
    if source_kind(model_override) == "missing path":
        names = ", ".join(sorted({*configured.sources, *await available_names(db, now)}))
        raise UsageError(
            f"--model {model_override}: no model has that name and there is no such file or "
            "folder; give a model folder or .safetensors/.ckpt file, a hub id, or a model "
            f"name ({names})"
        )
    for configured_name, source in configured.sources.items():
        if source == model_override:  # the configured model itself, by its source
            return configured, RegisteredModels(db, configured_name)
    local = ModelRef(name_for_source(model_override).lower(), model_override)
    if local.name in configured.sources or await versions_of(db, local.name):
        raise UsageError(
            f"--model {model_override}: a registered model is already called `{local.name}`, "
            "and a job's model name must say which weights made it; run the registered one "
            f"with --model {local.name}, or give the folder or file another name"
        )
    return configured, RegisteredModels(db, configured.default, run_only=local)


async def _plan(studio: Studio, requests: list[ImagineRequest], out: Path) -> list[PlannedRun]:
    """Each job's model version and files, before anything is queued."""
    models = [
        await studio.model_for(LOCAL_OWNER_ID, request.model, moderator=True)
        for request in requests
    ]
    for model in models:
        if model.source_kind == "missing path":
            raise UsageError(
                f"model {model.name!r}: {model.source} does not exist; point the model at a "
                "model folder or .safetensors/.ckpt file, or a hub id"
            )
    runs = []
    for number, (request, model) in enumerate(zip(requests, models, strict=True), start=1):
        stem = out.stem if len(requests) == 1 else f"{out.stem}_{number}"
        runs.append(
            PlannedRun(
                request=request,
                model=model,
                grid_path=out.with_name(stem + out.suffix),
                image_paths=[out.with_name(f"{stem}-{i}{out.suffix}") for i in range(1, 5)],
            )
        )
    return runs


async def _follow(handle: JobHandle, label: str) -> JobResult:
    """Show the job's progress on the terminal until it ends."""
    bar = ProgressBar(label)
    try:
        async for event in handle.events():
            if isinstance(event, Progress):
                bar.update(event.step, event.total)
    finally:
        bar.finish()
    return await handle.result()


def _label(number: int, total: int) -> str:
    return f"job {number}/{total}" if total > 1 else "imagine"


def _refuse_overwriting(runs: list[PlannedRun], out: Path, force: bool) -> None:
    existing = [path for run in runs for path in (run.grid_path, *run.image_paths) if path.exists()]
    if existing and not force:
        shown = ", ".join(str(path) for path in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        verb = "exists" if len(existing) == 1 else "exist"
        raise UsageError(
            f"--out {out}: {shown}{more} already {verb}; choose another --out, or add "
            "--force to overwrite"
        )


def _check_device(device: str | None, settings: Settings) -> str:
    """The device to run on, checked (with its precision) before anything is written."""
    if device is not None and not DEVICE_PATTERN.match(device.strip().lower()):
        raise UsageError(f"--device {device}: use cpu, mps or cuda:N")
    try:
        if device is None:
            local = resolve_devices(settings.devices)
            if not local:
                raise UsageError(
                    "ATELIER_DEVICES=none: choose a device with --device cpu, cuda:0, …"
                )
            chosen = local[0]
        else:
            chosen = resolve_devices(device, named_by="--device")[0]
        resolve_dtype(chosen, settings.dtype)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return chosen
