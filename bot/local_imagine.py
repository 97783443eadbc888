"""``atelier imagine``: the /imagine engine from the command line, recorded like any job."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bot.progress import ProgressBar
from bot.settings import DEVICE_PATTERN, Settings
from core.clock import Clock, utc_now
from core.errors import UserFacingError
from db.database import Database
from db.jobs import LOCAL_OWNER_ID
from inference.backend import diffusers_factory
from inference.devices import resolve_devices, resolve_dtype
from inference.jobs import plan_imagine
from inference.models import ModelCatalog, ModelRef
from inference.params import ImagineRequest, ParamError, parse
from inference.pool.events import JobResult, Progress
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.pool.queue import OutputPaths

#: After Ctrl-C, how long the running job may take to reach its next step and stop.
_CANCEL_GRACE_SECONDS = 10.0


class UsageError(UserFacingError):
    """Bad input on the command line: exit code 2, nothing written."""


@dataclass(frozen=True)
class PlannedRun:
    request: ImagineRequest
    model: ModelRef
    grid_path: Path
    image_paths: list[Path]


def plan_run(
    prompt: str, *, settings: Settings, model_override: str | None, out: Path
) -> list[PlannedRun]:
    """Parse and resolve everything before any file is touched, so a mistake in the prompt
    or the flags writes nothing."""
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out {out}: must be a .png file name, e.g. grid.png")
    try:
        requests = parse(prompt, settings.parse_limits())
        catalog = ModelCatalog(settings.models, model_override or settings.model)
        models = [catalog.resolve(request.model) for request in requests]
    except ParamError as error:
        raise UsageError(str(error)) from None
    for model in models:
        if model.source_kind == "missing path":
            names = ", ".join(ref.name for ref in settings.catalog())
            raise UsageError(
                f"model {model.name!r}: {model.source} does not exist; give --model a model "
                f"folder or .safetensors/.ckpt file, a hub id, or a configured name ({names})"
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


async def imagine(
    prompt: str,
    *,
    settings: Settings,
    model_override: str | None,
    out: Path,
    device: str | None,
    clock: Clock = utc_now,
) -> list[tuple[PlannedRun, JobResult]]:
    """Generate every job the prompt asks for through the worker pool, as the bot does;
    returns each run with its result.

    Raises UsageError, ModelLoadError or JobFailedError. Interrupted (Ctrl-C), it cancels
    its jobs, so none is left queued for the bot to pick up.
    """
    runs = plan_run(prompt, settings=settings, model_override=model_override, out=out)
    device = _check_device(device, settings)
    catalog = ModelCatalog(settings.models, model_override or settings.model)
    async with await Database.open(settings.database_path) as db:
        pool = WorkerPool(
            db,
            catalog,
            settings.pool_config([device]),
            settings.images_dir,
            backend_factory=diffusers_factory(settings.dtype),
            clock=clock,
        )
        await pool.start(recover=False)  # the bot recovers its own jobs, not the CLI
        submitted: list[tuple[PlannedRun, JobHandle]] = []
        loading: set[str] = set()  # models already announced
        try:
            for run in runs:
                if run.model.name not in loading:
                    print(f"Loading {run.model.name} on {device}…", file=sys.stderr)
                    loading.add(run.model.name)
                submitted.append((run, await _submit(pool, run, settings)))
            return [
                (run, await _follow(handle, _label(number, len(runs))))
                for number, (run, handle) in enumerate(submitted, start=1)
            ]
        except BaseException:
            for _, handle in submitted:
                handle.cancel()
            raise
        finally:
            await pool.shutdown(grace_seconds=_CANCEL_GRACE_SECONDS)


async def _submit(pool: WorkerPool, run: PlannedRun, settings: Settings) -> JobHandle:
    info = await pool.model_info(run.model)
    job = plan_imagine(
        run.request,
        model=run.model.name,
        native_size=info.native_size,
        defaults=settings.engine_defaults(),
    )
    outputs = OutputPaths(tuple(run.image_paths), run.grid_path)
    return await pool.submit(job, owner_id=LOCAL_OWNER_ID, enforce_limits=False, outputs=outputs)


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


def _check_device(device: str | None, settings: Settings) -> str:
    """The device to run on, checked (with its precision) before anything is written."""
    if device is not None and not DEVICE_PATTERN.match(device.strip().lower()):
        raise UsageError(f"--device {device}: use cpu, mps or cuda:N")
    try:
        chosen = resolve_devices(device or settings.devices)[0]
        resolve_dtype(chosen, settings.dtype)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return chosen
