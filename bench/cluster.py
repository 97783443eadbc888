"""Simulate the worker pool on a Ray cluster: scaling, dispatch overhead, fairness, loop lag.

A local Ray declares N logical GPUs (N = 1, 2, 4, 8, 16 by default) on this machine, with
every connection on 127.0.0.1. Its remote workers run a backend that simulates a GPU (a
fixed time per denoising step, small real PNGs), and many simulated users submit
``/imagine`` jobs through the real ``WorkerPool`` on a real SQLite database:

- throughput per N, and scaling efficiency (throughput at N ÷ (N × throughput at 1));
- dispatch overhead per batch: a remote batch's time minus the same batch's time on a
  local simulated worker thread (Ray's round trips, the PNGs each way);
- fairness: the longest wait of a member with one job at a time while another has 40
  queued;
- the event loop's lag (how late a 10 ms sleep wakes) while all this runs;
- one run with two real tiny-model actors on the CPU.

    python -m bench.cluster
    python -m bench.cluster --gpus 1 2 4 --step-ms 20 --jobs-per-gpu 12

Human-readable figures come first; the last line of stdout is one JSON object.
See ``bench/README.md``.
"""

# ruff: noqa: E402 -- Ray's loopback setting and the libraries' logging come first

from __future__ import annotations

from inference.pool import ray_env

# A local Ray keeps every connection on 127.0.0.1 only with this set before Ray loads.
ray_env.prepare(loopback=True)

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.library_logs import quiet_library_logs

quiet_library_logs()

import ray
from PIL import Image

from bench.pool import FIRST_OWNER_ID, LoopLag, percentile
from db.database import Database
from inference.backend import BatchStepCallback, DiffusersBackend, JobCancelled, StepEvent
from inference.jobs import EngineDefaults, GenerationJob, plan_imagine
from inference.models import ModelRef
from inference.params import parse
from inference.pool.config import PoolConfig, RayConfig, UserLimits
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.pool.worker import Backend
from inference.tiny import save_tiny_model

SIZE = 64  # the simulated model's native size: small real PNGs
GENEROUS = UserLimits(max_running=1000, max_queued=100_000)


# --- the simulated GPU -------------------------------------------------------------------


class SimulatedBackend:
    """A GPU that takes ``step_seconds`` per denoising step, whatever the batch, and makes
    flat-coloured images of the job's size. Previews every ``preview_every`` steps, cancel
    between steps, as the real backend."""

    def __init__(self, model: ModelRef, step_seconds: float) -> None:
        self.model = model
        self._step = step_seconds

    @property
    def native_size(self) -> int:
        return SIZE

    def weights_bytes(self) -> int:
        return 0

    def generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        *,
        on_step: BatchStepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> list[list[Image.Image]]:
        steps = jobs[0].steps
        for step in range(1, steps + 1):
            if cancel is not None and cancel.is_set():
                raise JobCancelled
            time.sleep(self._step)
            if on_step is not None:
                preview = preview_every > 0 and step % preview_every == 0
                for index in range(len(jobs)):
                    image = Image.new("RGB", (SIZE, SIZE), (step * 8 % 256, 90, 160))
                    on_step(index, StepEvent(step, steps, image if preview else None))
        return [
            [
                Image.new("RGB", (job.width, job.height), (seed % 256, 120, 200))
                for seed in job.seeds
            ]
            for job in jobs
        ]


@dataclass(frozen=True)
class SimulatedGpus:
    """The backend factory sent to every worker: plain data, so Ray can ship it."""

    step_seconds: float

    def __call__(self, model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        return SimulatedBackend(model, self.step_seconds)


class OneModel:
    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref

    async def find(self, name: str) -> ModelRef | None:
        return self.ref if name == self.ref.name else None


def plan(model: str, count: int, steps: int, first_seed: int = 1) -> list[GenerationJob]:
    defaults = EngineDefaults(steps=steps)
    return [
        plan_imagine(
            parse(f"a lighthouse, take {n} --seed {first_seed + n}")[0],
            model=model,
            native_size=SIZE,
            defaults=defaults,
        )
        for n in range(count)
    ]


# --- one pool run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    images: int
    batch_seconds: list[float]  # per batch (one job each here), as the bot's worker timed it
    lag_ms: list[float]

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds


async def open_pool(
    db: Database,
    ref: ModelRef,
    workdir: Path,
    *,
    factory: Callable[[ModelRef, str, Callable[[int], None]], Backend],
    devices: tuple[str, ...] = (),
    ray_config: RayConfig | None = None,
    ready: int,
) -> WorkerPool:
    """A started pool with ``ready`` workers up and the model loaded on each."""
    config = PoolConfig(
        devices=devices,
        limits=GENEROUS,
        max_batch_images=4,  # one job per batch: batches compare one to one
        vram_budget_gb=1000.0,  # simulated GPUs have no memory to ask about
        preview_every=5,
        ray=ray_config,
    )
    pool = WorkerPool(
        db,
        OneModel(ref),
        config,
        workdir / "images",
        backend_factory=factory,
        remote_factory=factory,
    )
    await pool.start(recover=False)
    async with asyncio.timeout(600):
        while pool.ready_workers() < ready:  # noqa: ASYNC110 (threads change it)
            await asyncio.sleep(0.1)
    await pool.warm_up(ref)
    return pool


async def drive(pool: WorkerPool, jobs: Sequence[GenerationJob], users: int) -> Run:
    """``users`` members submit their share of ``jobs`` at once and wait for every result."""
    lag = LoopLag()
    sampler = asyncio.create_task(lag.sample())

    async def member(owner: int, share: Sequence[GenerationJob]) -> list[float]:
        handles = [await pool.submit(job, owner_id=owner) for job in share]
        return [(await handle).gpu_seconds for handle in handles]

    started = time.perf_counter()
    try:
        timed = await asyncio.gather(
            *(member(FIRST_OWNER_ID + u, jobs[u::users]) for u in range(users))
        )
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    seconds = time.perf_counter() - started
    batch_seconds = [s for share in timed for s in share]
    return Run(
        len(pool.metrics().devices),
        seconds,
        sum(job.num_images for job in jobs),
        batch_seconds,
        lag.samples_ms,
    )


async def fairness(pool: WorkerPool, jobs: Sequence[GenerationJob], light: int) -> list[float]:
    """A heavy member queues 40 jobs; a light one submits one job at a time, ``light`` times.
    Returns the light member's waits (queued → started), seconds."""
    heavy = [await pool.submit(job, owner_id=FIRST_OWNER_ID) for job in jobs[:40]]
    waits = []
    for job in jobs[40 : 40 + light]:
        handle: JobHandle = await pool.submit(job, owner_id=FIRST_OWNER_ID + 1)
        result = await handle
        waits.append(result.wait_seconds)
    for handle in heavy:
        handle.cancel()
    with contextlib.suppress(Exception):
        await asyncio.gather(*(h.result() for h in heavy), return_exceptions=True)
    return waits


# --- the benchmark -----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    gpus: list[int]
    step_ms: float
    steps: int
    jobs_per_gpu: int
    users: int
    light_jobs: int
    real_jobs: int


def parse_options(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--step-ms", type=float, default=25.0, help="simulated time per step")
    parser.add_argument("--steps", type=int, default=10, help="denoising steps per job")
    parser.add_argument("--jobs-per-gpu", type=int, default=10)
    parser.add_argument("--users", type=int, default=32, help="simulated members at once")
    parser.add_argument("--light-jobs", type=int, default=5, help="the light member's jobs")
    parser.add_argument("--real-jobs", type=int, default=8, help="tiny-model jobs, 2 actors")
    args = parser.parse_args(argv)
    if min(args.gpus) < 1:
        parser.error("--gpus: at least 1")
    return Options(
        sorted(set(args.gpus)),
        args.step_ms,
        args.steps,
        args.jobs_per_gpu,
        args.users,
        args.light_jobs,
        args.real_jobs,
    )


async def benchmark(options: Options, workdir: Path) -> dict[str, Any]:
    ref = ModelRef("simulated", "simulated")
    factory = SimulatedGpus(options.step_ms / 1000)
    most = max(options.gpus)
    runs: dict[int, Run] = {}
    light_waits: list[float] = []
    lag: list[float] = []
    async with await Database.open(workdir / "bench.db") as db:
        # The same batches on one local simulated worker thread: the baseline for overhead.
        pool = await open_pool(db, ref, workdir, factory=factory, devices=("cpu",), ready=1)
        local = await drive(pool, plan(ref.name, options.jobs_per_gpu, options.steps), 4)
        await pool.shutdown()
        print(f"local, 1 worker: {local.images_per_second:.2f} images/s", flush=True)

        for count in options.gpus:
            ray_config = RayConfig("auto", max_workers=count, check_seconds=0.5)
            pool = await open_pool(
                db, ref, workdir, factory=factory, ray_config=ray_config, ready=count
            )
            jobs = plan(ref.name, options.jobs_per_gpu * count, options.steps)
            try:
                runs[count] = run = await drive(pool, jobs, options.users)
                if count == most:
                    light_waits = await fairness(
                        pool,
                        plan(ref.name, 40 + options.light_jobs, options.steps),
                        options.light_jobs,
                    )
            finally:
                await pool.shutdown()
            lag += run.lag_ms
            print(
                f"{count:>2} simulated GPU(s): {run.images_per_second:7.2f} images/s, "
                f"batch p50 {1000 * statistics.median(run.batch_seconds):.1f} ms, "
                f"loop lag p99 {percentile(run.lag_ms, 99):.1f} ms",
                flush=True,
            )
        real = await real_actors(db, workdir, options.real_jobs)
    one = runs[min(options.gpus)].images_per_second / min(options.gpus)
    efficiency = {n: run.images_per_second / (n * one) for n, run in runs.items()}
    overhead_ms = [
        1000 * (remote - statistics.median(local.batch_seconds))
        for remote in runs[min(options.gpus)].batch_seconds
    ]
    ideal = options.steps * options.step_ms / 1000
    print(
        f"efficiency: {', '.join(f'{n}: {e:.3f}' for n, e in efficiency.items())}; dispatch "
        f"overhead p50 {percentile(overhead_ms, 50):.1f} ms per batch ({ideal * 1000:.0f} ms "
        f"of simulated compute); light member's longest wait {max(light_waits):.2f} s; "
        f"two tiny-model actors: {real.images_per_second:.2f} images/s",
        flush=True,
    )
    return {
        "efficiency_at_max": round(efficiency[most], 3),
        "max_workers": most,
        "dispatch_overhead_ms_p50": round(percentile(overhead_ms, 50), 2),
        "dispatch_overhead_ms_p90": round(percentile(overhead_ms, 90), 2),
        "light_user_max_wait_s": round(max(light_waits), 3),
        "loop_lag_p99_ms": round(percentile(lag, 99), 2),
        "images_per_s": {str(n): round(run.images_per_second, 2) for n, run in runs.items()},
        "efficiency": {str(n): round(e, 3) for n, e in efficiency.items()},
        "local_batch_ms_p50": round(1000 * statistics.median(local.batch_seconds), 2),
        "simulated_batch_ms": round(1000 * ideal, 1),
        "real_tiny_actors": 2,
        "real_tiny_images_per_s": round(real.images_per_second, 3),
        "real_tiny_batch_ms_p50": round(1000 * statistics.median(real.batch_seconds), 1),
        "step_ms": options.step_ms,
        "steps": options.steps,
        "users": options.users,
        "ray": ray.__version__,
        "cpus": os.cpu_count(),
    }


async def real_actors(db: Database, workdir: Path, count: int) -> Run:
    """Two actors on the CPU with the real tiny model and the real backend code."""
    folder = save_tiny_model(workdir / "tiny", "sd")
    ref = ModelRef("tiny", str(folder))

    def load(model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        return DiffusersBackend.load(model, device, "auto", make_room)

    ray_config = RayConfig("auto", max_workers=2, worker_device="cpu", check_seconds=0.5)
    pool = await open_pool(db, ref, workdir, factory=load, ray_config=ray_config, ready=2)
    try:
        jobs = [
            plan_imagine(
                parse(f"a harbour, take {n} --seed {n}")[0],
                model="tiny",
                native_size=64,
                defaults=EngineDefaults(steps=4),
            )
            for n in range(count)
        ]
        return await drive(pool, jobs, 4)
    finally:
        await pool.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Logical GPUs for the simulated workers, two CPUs for the real tiny-model actors.
    ray.init(
        num_cpus=2,
        num_gpus=max(options.gpus),
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="atelier-cluster-bench-") as tmp:
            summary = asyncio.run(benchmark(options, Path(tmp)))
    finally:
        ray.shutdown()
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
