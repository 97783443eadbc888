"""Benchmark the worker pool against the bare backend, in one run on one loaded model.

The same jobs run twice on the same warm backend: (a) directly, a plain ``render`` loop per
device with no database and no queue; (b) through the ``WorkerPool``, submitted at once by
several simulated users, while a coroutine measures how late the event loop wakes from
10 ms sleeps. Pool throughput over direct throughput is what the pool costs (CPU, where
cross-job batching is off) or gains (GPU, where it batches); the loop lag is what Discord's
heartbeats and interactions would feel while the pool works.

    python -m bench.pool                    # tiny random model (CPU-friendly defaults)
    python -m bench.pool --arch sd15        # SD 1.5-sized random weights: real compute
    python -m bench.pool --model stable-diffusion-v1-5/stable-diffusion-v1-5 --devices cuda:0
    python -m bench.pool --loras            # pool throughput: jobs alternating two LoRAs
                                            # against the same jobs without LoRAs

Human-readable figures come first; the last line of stdout is one JSON object.
See ``bench/README.md`` for what each figure means and the targets.
"""

# ruff: noqa: E402 -- the libraries' logging is quieted before diffusers is first imported

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inference.library_logs import quiet_library_logs

quiet_library_logs()

import diffusers
import torch
from diffusers import (
    AutoencoderKL,
    StableDiffusionPipeline,
    UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel

from db.database import Database
from inference.backend import DiffusersBackend, tune_for_cuda
from inference.devices import resolve_devices, resolve_dtype
from inference.engine import render
from inference.jobs import EngineDefaults, GenerationJob, LoraUse, plan_imagine
from inference.loading import ModelLoadError
from inference.models import ModelRef
from inference.params import parse
from inference.pool.config import PoolConfig, UserLimits
from inference.pool.events import JobResult
from inference.pool.pool import WorkerPool
from inference.pool.queue import OutputPaths
from inference.pool.worker import Backend, BackendFactory, worker_config
from inference.tiny import (
    END_TOKEN,
    START_TOKEN,
    byte_level_vocab,
    clip_tokenizer,
    save_tiny_model,
    sd_scheduler,
)
from inference.tiny_lora import save_tiny_lora
from registry.configured import name_for_source

LAG_INTERVAL_S = 0.01
#: Simulated Discord user ids; 0 is the command line's own owner id, which the pool treats
#: specially on recovery.
FIRST_OWNER_ID = 10_000
PROMPTS = (
    "a lighthouse at dusk",
    "a fox in fresh snow, watercolor",
    "an isometric city block at night, neon",
    "a bowl of ramen, studio photograph",
    "portrait of an astronaut, oil painting",
    "a misty pine forest at dawn",
)


# --- options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    jobs: int
    steps: int
    size: int | None  # None: the model's native size


def default_workload(arch: str, on_gpu: bool) -> Workload:
    """Defaults that finish in a minute or two: the tiny model is cheap anywhere; a full-size
    UNet on a 2-core CPU manages a few small jobs, on a GPU a realistic load."""
    if arch == "tiny":
        return Workload(jobs=32, steps=8, size=None)
    if on_gpu:
        return Workload(jobs=32, steps=30, size=None)
    return Workload(jobs=4, steps=4, size=256)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pool",
        description="Throughput of the worker pool against the bare backend, and the event "
        "loop's lag while the pool works. The last line of output is JSON.",
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        help="/imagine jobs of 4 images (default: 32; 4 for sd15 or --model on the CPU)",
    )
    parser.add_argument("--users", type=_positive, default=4, help="simulated users (4)")
    parser.add_argument("--devices", default="auto", help="auto, cpu, or cuda:0,cuda:1 (auto)")
    parser.add_argument("--model", help="hub id, diffusers folder or .safetensors file")
    parser.add_argument(
        "--arch",
        choices=("tiny", "sd15"),
        default="tiny",
        help="model to build when no --model: tiny random SD, or SD 1.5-sized random weights",
    )
    parser.add_argument(
        "--steps", type=_positive, help="denoising steps (default: 8 tiny; 4 on CPU, 30 on GPU)"
    )
    parser.add_argument(
        "--size",
        type=_positive,
        help="image side in pixels, a multiple of 8 (default: the model's native size; "
        "256 for sd15 or --model on the CPU)",
    )
    parser.add_argument(
        "--max-batch-images",
        type=_positive,
        help="images per pool batch (default: the pool's own: 16 on GPUs, one job on CPU)",
    )
    parser.add_argument("--dtype", choices=("auto", "fp32", "fp16", "bf16"), default="auto")
    parser.add_argument(
        "--preview-every",
        type=int,
        default=5,
        help="latent preview every N steps, in both phases (5, the bot's default; 0: none)",
    )
    parser.add_argument(
        "--loras",
        action="store_true",
        help="compare, through the pool, jobs alternating between two LoRAs with the same "
        "jobs without LoRAs (instead of the pool against the bare backend)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive,
        default=3,
        help="direct+pool rounds; medians reported (3: one round on a busy machine is noise)",
    )
    return parser


@dataclass(frozen=True)
class Options:
    """The command line, checked and with every default filled in."""

    arch: str  # tiny, sd15 or checkpoint
    model: str | None
    devices: tuple[str, ...]
    dtype: str
    workload: Workload
    users: int
    max_batch_images: int | None
    preview_every: int
    repeats: int
    loras: bool = False


def parse_options(argv: Sequence[str] | None) -> Options:
    """Parse and check the command line here, so a bad device or dtype is a usage error
    before minutes go into building a model."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        devices = resolve_devices(args.devices)
        for device in devices:
            resolve_dtype(device, args.dtype)
    except ValueError as error:
        parser.error(str(error))
    if args.size is not None and args.size % 8:
        parser.error(f"--size {args.size}: must be a multiple of 8 (the VAE's factor)")
    if args.preview_every < 0:
        parser.error("--preview-every must be 0 or more")
    arch = "checkpoint" if args.model else args.arch
    defaults = default_workload(arch, any(d.startswith("cuda") for d in devices))
    jobs = args.jobs or defaults.jobs
    return Options(
        arch=arch,
        model=args.model,
        devices=tuple(devices),
        dtype=args.dtype,
        workload=Workload(
            jobs=jobs,
            steps=args.steps or defaults.steps,
            size=args.size or defaults.size,
        ),
        users=min(args.users, jobs),
        max_batch_images=args.max_batch_images,
        preview_every=args.preview_every,
        repeats=args.repeats,
        loras=args.loras,
    )


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedModel:
    """One model, loaded once per device: both phases run on these very objects, so no
    load time is counted and the pool's workers never load anything."""

    ref: ModelRef
    backends: dict[str, DiffusersBackend]
    seconds: float  # building and loading it

    @property
    def native_size(self) -> int:
        return next(iter(self.backends.values())).native_size


class OnlyModel:
    """The pool's ``ModelSources`` here: the benchmark's one model, by its name (the pool is
    measured, not the model registry)."""

    def __init__(self, ref: ModelRef) -> None:
        self._ref = ref

    async def find(self, name: str) -> ModelRef | None:
        return self._ref if name == self._ref.name else None


def load_model(options: Options, workdir: Path) -> LoadedModel:
    started = time.perf_counter()
    if options.model is not None:
        ref = ModelRef(name_for_source(options.model), options.model)
        backends = {d: DiffusersBackend.load(ref, d, options.dtype) for d in options.devices}
    elif options.arch == "tiny":
        # Saved and loaded again: the tiny model goes through the real loading code.
        folder = save_tiny_model(workdir / "tiny-model", "sd")
        ref = ModelRef("tiny", str(folder))
        backends = {d: DiffusersBackend.load(ref, d, options.dtype) for d in options.devices}
    else:
        ref = ModelRef("sd15-random", "in-memory")
        backends = {d: sd15_backend(ref, d, options.dtype) for d in options.devices}
    return LoadedModel(ref, backends, time.perf_counter() - started)


def sd15_backend(ref: ModelRef, device: str, dtype_preference: str) -> DiffusersBackend:
    """SD 1.5's architecture with random weights, prepared as ``DiffusersBackend.load``
    prepares a real checkpoint."""
    pipe = build_sd15_pipeline()
    pipe.set_progress_bar_config(disable=True)
    if device.startswith("cuda"):
        tune_for_cuda(pipe)
    pipe.to(device=device, dtype=resolve_dtype(device, dtype_preference))
    return DiffusersBackend(pipe, model=ref, device=device)


def build_sd15_pipeline(seed: int = 0) -> Any:
    """Stable Diffusion 1.5's networks at full size with random weights.

    Same shapes, so the same compute per step as the real model, without a 4 GB download;
    the images are noise. The text encoder uses the byte-level vocabulary of the tiny model,
    which costs the same per token as CLIP's real one.
    """
    torch.manual_seed(seed)
    vocab = byte_level_vocab()
    return StableDiffusionPipeline(
        unet=_sd15_unet(),
        vae=_sd15_vae(),
        text_encoder=CLIPTextModel(_sd15_text_config(vocab)),
        tokenizer=clip_tokenizer(vocab),
        scheduler=sd_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def _sd15_unet() -> UNet2DConditionModel:
    return UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=(
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D",
            "DownBlock2D",
        ),
        up_block_types=(
            "UpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
            "CrossAttnUpBlock2D",
        ),
        cross_attention_dim=768,
        attention_head_dim=8,
        norm_num_groups=32,
    )


def _sd15_vae() -> AutoencoderKL:
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=512,
    )


def _sd15_text_config(vocab: dict[str, int]) -> CLIPTextConfig:
    return CLIPTextConfig(
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        max_position_embeddings=77,
        projection_dim=768,
        hidden_act="quick_gelu",
        vocab_size=len(vocab),
        bos_token_id=vocab[START_TOKEN],
        eos_token_id=vocab[END_TOKEN],
        pad_token_id=vocab[END_TOKEN],
    )


def reuse_backends(backends: dict[str, DiffusersBackend]) -> BackendFactory:
    """A pool factory that hands each worker the backend already loaded for its device."""

    def factory(model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        backend = backends[device]
        if model.name != backend.model.name:
            raise ModelLoadError(f"the benchmark loaded {backend.model.name}, not {model.name}")
        return backend

    return factory


# --- the jobs ----------------------------------------------------------------------------


def plan_jobs(ref: ModelRef, workload: Workload, size: int) -> list[GenerationJob]:
    """/imagine jobs as the bot plans them, with fixed seeds, so both phases do the same
    work and make the same pixels."""
    defaults = EngineDefaults(steps=workload.steps)
    jobs = []
    for number in range(workload.jobs):
        text = f"{PROMPTS[number % len(PROMPTS)]} --seed {1000 + 4 * number}"
        request = parse(text)[0]
        jobs.append(plan_imagine(request, model=ref.name, native_size=size, defaults=defaults))
    return jobs


def lead_batch(jobs: Sequence[GenerationJob], max_images: int) -> list[GenerationJob]:
    """The first jobs that fit one batch of ``max_images`` (all jobs share a batch key)."""
    batch: list[GenerationJob] = []
    for job in jobs:
        if sum(j.num_images for j in batch) + job.num_images > max_images:
            break
        batch.append(job)
    return batch


def render_all(
    backend: DiffusersBackend,
    numbered: Sequence[tuple[int, GenerationJob]],
    out_dir: Path,
    preview_every: int,
) -> None:
    """What a pool worker does per job (generate, then save the PNGs and the grid), in a
    plain loop."""
    for number, job in numbered:
        paths = OutputPaths.for_job(out_dir, number, job.num_images)
        # A progress callback, as a worker has, so previews cost the same in both phases.
        render(
            backend,
            job,
            paths.images,
            paths.grid,
            on_step=lambda event: None,
            preview_every=preview_every,
        )


def warm_up(
    model: LoadedModel, jobs: Sequence[GenerationJob], max_images: int, out_dir: Path, every: int
) -> float:
    """One job per device, and one full batch where the pool will batch, so neither phase
    pays first-call costs (allocator growth, cuDNN autotuning, lazy imports) in its time."""
    started = time.perf_counter()
    for backend in model.backends.values():
        render_all(backend, [(0, jobs[0])], out_dir, every)
        batch = lead_batch(jobs, max_images)
        if len(batch) > 1:
            backend.generate_batch(batch)
    return time.perf_counter() - started


# --- phase (a): direct -------------------------------------------------------------------


def run_direct(
    model: LoadedModel, jobs: Sequence[GenerationJob], out_dir: Path, preview_every: int
) -> float:
    """Every device renders its share of the jobs in a plain loop on its own thread (one
    thread on one device). Returns the wall seconds."""
    devices = list(model.backends)
    numbered = list(enumerate(jobs, start=1))
    started = time.perf_counter()
    with ThreadPoolExecutor(len(devices), thread_name_prefix="bench-direct") as executor:
        futures = [
            executor.submit(
                render_all,
                model.backends[device],
                numbered[index :: len(devices)],
                out_dir,
                preview_every,
            )
            for index, device in enumerate(devices)
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started


# --- phase (b): through the pool ---------------------------------------------------------


class LoopLag:
    """How late the event loop wakes from a short sleep. While it is late, so are
    Discord's heartbeats and every interaction's 3-second acknowledgement."""

    def __init__(self, interval: float = LAG_INTERVAL_S) -> None:
        self.interval = interval
        self.samples_ms: list[float] = []

    async def sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.samples_ms.append(max(0.0, loop.time() - expected) * 1000)


@dataclass(frozen=True)
class PoolRun:
    seconds: float
    images: int
    lag_ms: list[float]
    mean_wait_s: float | None
    generate_s: float  # the workers' time in pipeline calls, summed over jobs


async def simulate_user(
    pool: WorkerPool, owner_id: int, jobs: Sequence[GenerationJob]
) -> list[JobResult]:
    """One user: /imagine each of their jobs as fast as the pool takes them, then wait for
    every result. Users run concurrently, so their submissions interleave."""
    handles = [await pool.submit(job, owner_id=owner_id) for job in jobs]
    return [await handle.result() for handle in handles]


async def run_pool(
    model: LoadedModel,
    config: PoolConfig,
    jobs: Sequence[GenerationJob],
    users: int,
    workdir: Path,
) -> PoolRun:
    """Submit the jobs through a fresh pool on a fresh database; time from the first
    submission to the last result, sampling the loop's lag all along."""
    async with await Database.open(workdir / "pool.db") as db:
        pool = WorkerPool(
            db,
            OnlyModel(model.ref),
            config,
            workdir / "images",
            backend_factory=reuse_backends(model.backends),
        )
        await pool.start(recover=False)
        lag = LoopLag()
        sampler: asyncio.Task[None] | None = None
        try:
            await pool.model_info(model.ref)  # a worker takes the backend before the clock
            sampler = asyncio.create_task(lag.sample())
            started = time.perf_counter()
            shares = await asyncio.gather(
                *(simulate_user(pool, FIRST_OWNER_ID + u, jobs[u::users]) for u in range(users))
            )
            seconds = time.perf_counter() - started
            metrics = pool.metrics()
        finally:
            if sampler is not None:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
            await pool.shutdown()
    results = [result for share in shares for result in share]
    return PoolRun(
        seconds=seconds,
        images=sum(len(result.images) for result in results),
        lag_ms=lag.samples_ms,
        mean_wait_s=metrics.mean_wait_seconds,
        generate_s=sum(result.gpu_seconds for result in results),
    )


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    direct_s: float
    pool: PoolRun


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0…100): always one of the measured values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def describe_device(devices: Sequence[str]) -> str:
    names = []
    for device in devices:
        if device.startswith("cuda"):
            names.append(torch.cuda.get_device_name(torch.device(device)))
        else:
            names.append(f"{device} ({os.cpu_count()} cores, {torch.get_num_threads()} threads)")
    return ", ".join(names)


def with_alternating_loras(
    model: LoadedModel, jobs: Sequence[GenerationJob], workdir: Path
) -> list[GenerationJob]:
    """The same jobs, each with one of two random LoRAs for the model, by turns (so
    consecutive batches switch adapters), at weight 0.8."""
    pipe = next(iter(model.backends.values())).pipeline
    files = [
        save_tiny_lora(pipe, workdir / "loras" / f"lora-{n}.safetensors", seed=n, rank=8)
        for n in (1, 2)
    ]
    uses = [LoraUse(f"bench-lora-{n}:1", str(path), None, 0.8) for n, path in enumerate(files)]
    return [replace(job, loras=(uses[n % 2],)) for n, job in enumerate(jobs)]


async def benchmark_loras(options: Options) -> dict[str, Any]:
    """Pool throughput of the jobs without LoRAs, then alternating between two LoRAs; each
    LoRA is read once in the warm-up, as a worker keeps them loaded."""
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        workdir = Path(tmp)
        model = load_model(options, workdir)
        plain = plan_jobs(model.ref, options.workload, options.workload.size or model.native_size)
        lora_jobs = with_alternating_loras(model, plain, workdir)
        config = PoolConfig(
            devices=options.devices,
            limits=UserLimits(max_running=len(plain), max_queued=len(plain)),
            max_batch_images=options.max_batch_images,
            preview_every=options.preview_every,
        )
        max_batch = worker_config(config, options.devices[0]).max_batch_images
        print_setup(options, model, plain, max_batch)
        for backend in model.backends.values():
            for job in lora_jobs[:2]:
                backend.generate(job)
        times: list[tuple[float, float]] = []
        for number in range(1, options.repeats + 1):
            runs = {}
            order = ("plain", "loras") if number % 2 else ("loras", "plain")
            for name in order:
                jobs = plain if name == "plain" else lora_jobs
                folder = workdir / f"{name}-{number}"
                runs[name] = await run_pool(model, config, jobs, options.users, folder)
            times.append((runs["plain"].seconds, runs["loras"].seconds))
            images = runs["plain"].images
            print(
                f"round {number}/{options.repeats}: without LoRAs "
                f"{images / runs['plain'].seconds:.2f} images/s, alternating two LoRAs "
                f"{runs['loras'].images / runs['loras'].seconds:.2f} images/s",
                flush=True,
            )
    images = sum(job.num_images for job in plain)
    plain_s = statistics.median(t[0] for t in times)
    lora_s = statistics.median(t[1] for t in times)
    first = plain[0]
    return {
        "mode": "loras",
        "jobs": len(plain),
        "images": images,
        "images_per_s_plain": round(images / plain_s, 3),
        "images_per_s_loras": round(images / lora_s, 3),
        "ratio": round(statistics.median(p / q for p, q in times), 3),
        "ratios": [round(p / q, 3) for p, q in times],
        "device_name": describe_device(options.devices),
        "arch": options.arch,
        "dtype": dtype_name(options),
        "steps": first.steps,
        "width": first.width,
        "height": first.height,
        "max_batch_images": max_batch,
        "repeats": len(times),
    }


async def benchmark(options: Options) -> dict[str, Any]:
    if options.loras:
        return await benchmark_loras(options)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        workdir = Path(tmp)
        model = load_model(options, workdir)
        jobs = plan_jobs(model.ref, options.workload, options.workload.size or model.native_size)
        config = PoolConfig(
            devices=options.devices,
            limits=UserLimits(max_running=len(jobs), max_queued=len(jobs)),  # none refused
            max_batch_images=options.max_batch_images,
            preview_every=options.preview_every,
        )
        max_batch = worker_config(config, options.devices[0]).max_batch_images
        print_setup(options, model, jobs, max_batch)
        warmup_s = warm_up(model, jobs, max_batch, workdir / "warm-up", options.preview_every)
        print(f"warm-up: {warmup_s:.1f} s", flush=True)
        rounds = []
        for number in range(1, options.repeats + 1):
            rounds.append(await run_round(number, model, config, jobs, options, workdir))
            print_round(number, options.repeats, jobs, rounds[-1])
    return summarize(options, model, jobs, max_batch, warmup_s, rounds)


async def run_round(
    number: int,
    model: LoadedModel,
    config: PoolConfig,
    jobs: Sequence[GenerationJob],
    options: Options,
    workdir: Path,
) -> Round:
    """Both phases, in fresh output folders. Odd rounds run direct first, even rounds the
    pool first, so with ``--repeats 2`` or more neither phase always gets the warmer caches."""

    def direct() -> float:
        # Blocking on purpose: nothing else runs on the loop during the direct phase.
        return run_direct(model, jobs, workdir / f"direct-{number}", options.preview_every)

    async def pool() -> PoolRun:
        return await run_pool(model, config, jobs, options.users, workdir / f"pool-{number}")

    if number % 2:
        direct_s = direct()
        return Round(direct_s, await pool())
    pooled = await pool()
    return Round(direct(), pooled)


def print_setup(
    options: Options, model: LoadedModel, jobs: Sequence[GenerationJob], max_batch: int
) -> None:
    first = jobs[0]
    print(
        f"model: {model.ref.name} [{options.arch}] from {model.ref.source}, ready in "
        f"{model.seconds:.1f} s, on {describe_device(options.devices)} as {dtype_name(options)}",
        flush=True,
    )
    print(
        f"work: {len(jobs)} jobs x {first.num_images} images at {first.width}x{first.height}, "
        f"{first.steps} steps of {first.sampler}; {options.users} users; pool batches up to "
        f"{max_batch} images; torch {torch.__version__}, diffusers {diffusers.__version__}",
        flush=True,
    )


def print_round(number: int, total: int, jobs: Sequence[GenerationJob], done: Round) -> None:
    images = sum(job.num_images for job in jobs)
    direct, pool = images / done.direct_s, done.pool.images / done.pool.seconds
    lag = done.pool.lag_ms
    wait = done.pool.mean_wait_s
    print(
        f"round {number}/{total}: direct {direct:.2f} images/s ({done.direct_s:.1f} s), "
        f"pool {pool:.2f} images/s ({done.pool.seconds:.1f} s), ratio {pool / direct:.3f}; "
        f"loop lag p50 {percentile(lag, 50):.2f} ms, p99 {percentile(lag, 99):.2f} ms, "
        f"max {max(lag, default=math.nan):.1f} ms ({len(lag)} samples); mean wait "
        + (f"{wait:.2f} s" if wait is not None else "n/a"),
        flush=True,
    )


def dtype_name(options: Options) -> str:
    return str(resolve_dtype(options.devices[0], options.dtype)).removeprefix("torch.")


def summarize(
    options: Options,
    model: LoadedModel,
    jobs: Sequence[GenerationJob],
    max_batch: int,
    warmup_s: float,
    rounds: Sequence[Round],
) -> dict[str, Any]:
    """The JSON summary: medians over rounds for times, every round's lag samples pooled."""
    images = sum(job.num_images for job in jobs)
    direct_s = statistics.median(r.direct_s for r in rounds)
    pool_s = statistics.median(r.pool.seconds for r in rounds)
    lag = [sample for r in rounds for sample in r.pool.lag_ms]
    waits = [r.pool.mean_wait_s for r in rounds if r.pool.mean_wait_s is not None]
    first = jobs[0]
    return {
        "jobs": len(jobs),
        "images": images,
        "images_per_s_direct": round(images / direct_s, 3),
        "images_per_s_pool": round(images / pool_s, 3),
        # Paired: each round's phases ran back to back under the same machine conditions.
        "ratio": round(statistics.median(r.direct_s / r.pool.seconds for r in rounds), 3),
        "loop_lag_p50_ms": round(percentile(lag, 50), 3),
        "loop_lag_p99_ms": round(percentile(lag, 99), 3),
        "loop_lag_max_ms": round(max(lag, default=math.nan), 3),
        "loop_lag_samples": len(lag),
        "mean_wait_s": round(statistics.fmean(waits), 3) if waits else None,
        "device": ",".join(options.devices),
        "device_name": describe_device(options.devices),
        "arch": options.arch,
        "model": model.ref.source if options.arch == "checkpoint" else model.ref.name,
        "dtype": dtype_name(options),
        "steps": first.steps,
        "sampler": first.sampler,
        "width": first.width,
        "height": first.height,
        "images_per_job": first.num_images,
        "users": options.users,
        "max_batch_images": max_batch,
        "preview_every": options.preview_every,
        "repeats": len(rounds),
        "ratios": [round(r.direct_s / r.pool.seconds, 3) for r in rounds],
        "direct_s": round(direct_s, 3),
        "pool_s": round(pool_s, 3),
        "pool_generate_s": round(statistics.median(r.pool.generate_s for r in rounds), 3),
        "load_s": round(model.seconds, 3),
        "warmup_s": round(warmup_s, 3),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        summary = asyncio.run(benchmark(options))
    except ModelLoadError as error:
        print(f"bench.pool: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
