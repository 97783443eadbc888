"""``atelier imagine``: the /imagine engine from the command line, recorded like any job."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.progress import ProgressBar
from bot.settings import DEVICE_PATTERN, Settings
from db.database import Database
from db.jobs import ImageRecord, JobStatus, insert_images, insert_job, mark_finished, mark_running
from inference.backend import DiffusersBackend
from inference.devices import resolve_devices, resolve_dtype
from inference.engine import SavedImage, render
from inference.jobs import GenerationJob, plan_imagine
from inference.models import ModelCatalog, ModelRef
from inference.params import ImagineRequest, ParamError, parse

LOCAL_OWNER_ID = 0  # jobs from the command line have no Discord user
Clock = Callable[[], datetime]


class UsageError(Exception):
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
    clock: Clock = lambda: datetime.now(UTC),
) -> list[tuple[PlannedRun, list[SavedImage]]]:
    """Generate every job the prompt asks for, returning each run with its saved images.

    Raises UsageError or ModelLoadError."""
    runs = plan_run(prompt, settings=settings, model_override=model_override, out=out)
    device = _check_device(device, settings)
    backends: dict[str, DiffusersBackend] = {}
    results = []
    async with await Database.open(settings.database_path) as db:
        for number, run in enumerate(runs, start=1):
            backend = backends.get(run.model.name)
            if backend is None:
                print(f"Loading {run.model.name} on {device}…", file=sys.stderr)
                backend = await asyncio.to_thread(
                    DiffusersBackend.load, run.model, device, settings.dtype
                )
                backends[run.model.name] = backend
            job = plan_imagine(
                run.request,
                model=run.model.name,
                native_size=backend.native_size,
                defaults=settings.engine_defaults(),
            )
            label = f"job {number}/{len(runs)}" if len(runs) > 1 else "imagine"
            results.append((run, await _run_recorded(db, backend, job, run, label, clock)))
    return results


async def _finish(
    conn: aiosqlite.Connection,
    job_id: int,
    started: float,
    clock: Clock,
    error: str | None = None,
) -> None:
    """Record the job as done, or failed with ``error``, with the device time it took."""
    await mark_finished(
        conn,
        job_id,
        status=JobStatus.DONE if error is None else JobStatus.FAILED,
        finished_at=clock(),
        gpu_seconds=time.perf_counter() - started,
        error=error,
    )


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


async def _run_recorded(
    db: Database,
    backend: DiffusersBackend,
    job: GenerationJob,
    run: PlannedRun,
    label: str,
    clock: Clock,
) -> list[SavedImage]:
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=job.kind,
            owner_id=LOCAL_OWNER_ID,
            prompt=job.request.prompt,
            params=job.to_params(),
            model=job.model,
            created_at=clock(),
        )
        await mark_running(conn, job_id, device=str(backend.device), started_at=clock())
    bar = ProgressBar(label)
    started = time.perf_counter()
    try:
        saved = await asyncio.to_thread(
            render, backend, job, run.image_paths, run.grid_path, on_step=bar.update
        )
    except BaseException as error:
        async with db.transaction() as conn:
            await _finish(conn, job_id, started, clock, error=str(error) or type(error).__name__)
        raise
    finally:
        bar.finish()
    async with db.transaction() as conn:
        await insert_images(
            conn,
            [
                # absolute, so the record stays valid whatever directory reads it
                ImageRecord(
                    job_id,
                    image.index,
                    str(image.path.resolve()),
                    image.seed,
                    image.width,
                    image.height,
                )
                for image in saved
            ],
        )
        await _finish(conn, job_id, started, clock)
    return saved
