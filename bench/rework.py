"""Benchmark a Zoom Out 2× job against an ``/imagine`` job of the same size, on one model.

Both make four images of the same canvas with the same steps and sampler and are saved as
the worker saves them (``inference.engine.render``: PNGs with their data, and the grid).
The zoom job adds what reworks cost: reading the source, laying out the canvas and masks,
the inpainting pipeline (the VAE encodes the canvas; the kept latents are blended back
at every step) and compositing the original back over the seam.

    python -m bench.rework                  # tiny random model (seconds)
    python -m bench.rework --arch sd15      # SD 1.5-sized random weights: real compute
    python -m bench.rework --arch sd15 --device cuda:0 --size 512 --steps 30

Human-readable figures come first; the last line of stdout is one JSON object.
See ``bench/README.md``.
"""

# ruff: noqa: E402 -- the libraries' logging is quieted before diffusers is first imported

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.library_logs import quiet_library_logs

quiet_library_logs()

from PIL import Image

from bench.pool import describe_device, sd15_backend
from db.jobs import JobKind
from inference.backend import DiffusersBackend
from inference.engine import render
from inference.jobs import EngineDefaults, GenerationJob, plan_imagine, plan_rework
from inference.models import ModelRef
from inference.params import parse
from inference.pool.queue import OutputPaths
from inference.rework import zoom_placement
from inference.tiny import save_tiny_model

PROMPT = "a lighthouse on a cliff at dusk, oil painting --seed 1234"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.rework", description=__doc__)
    parser.add_argument("--arch", choices=("tiny", "sd15"), default="tiny")
    parser.add_argument("--device", default="cpu", help="cpu or cuda:N (default: cpu)")
    parser.add_argument("--dtype", default="auto", help="auto, fp32, fp16 or bf16")
    parser.add_argument("--steps", type=int, help="denoising steps (8 tiny, 4 sd15)")
    parser.add_argument("--size", type=int, help="canvas side (native: 64 tiny, 256 sd15)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each job")
    return parser


def load_backend(arch: str, device: str, dtype: str, workdir: Path) -> DiffusersBackend:
    if arch == "tiny":
        folder = save_tiny_model(workdir / "tiny-model", "sd")
        return DiffusersBackend.load(ModelRef("tiny", str(folder)), device, dtype)
    return sd15_backend(ModelRef("sd15-random", "in-memory"), device, dtype)


def plan_pair(
    backend: DiffusersBackend, size: int, steps: int, workdir: Path
) -> tuple[GenerationJob, GenerationJob]:
    """An /imagine job at ``size``, and a Zoom Out 2× of an upscale (2× the side) of its
    first image, planned for the same canvas."""
    defaults = EngineDefaults(steps=steps)
    imagine = plan_imagine(
        parse(PROMPT)[0], model=backend.model.name, native_size=size, defaults=defaults
    )
    first = backend.generate(imagine)[0]
    source = workdir / "upscale.png"
    first.resize((2 * size, 2 * size), Image.Resampling.LANCZOS).save(source)
    placement = zoom_placement((2 * size, 2 * size), size, 2.0)
    zoom = plan_rework(
        imagine,
        kind=JobKind.ZOOM,
        image_path=str(source),
        placement=placement,
        defaults=defaults,
    )
    return imagine, zoom


def time_render(backend: DiffusersBackend, job: GenerationJob, out: Path, number: int) -> float:
    paths = OutputPaths.for_job(out, number, job.num_images)
    started = time.perf_counter()
    render(backend, job, paths.images, paths.grid)
    return time.perf_counter() - started


def benchmark(options: argparse.Namespace) -> dict[str, Any]:
    steps = options.steps or (8 if options.arch == "tiny" else 4)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-rework-") as temp:
        workdir = Path(temp)
        backend = load_backend(options.arch, options.device, options.dtype, workdir)
        size = options.size or (backend.native_size if options.arch == "tiny" else 256)
        imagine, zoom = plan_pair(backend, size, steps, workdir)
        print(
            f"{options.arch} on {describe_device([options.device])}: 4 images of "
            f"{zoom.width}×{zoom.height}, {steps} steps; {options.repeats} runs of each"
        )
        for job in (imagine, zoom):  # warm-up: first-call costs out of the times
            time_render(backend, job, workdir / "warm", 0)
        times: dict[str, list[float]] = {"imagine": [], "zoom": []}
        for run in range(options.repeats):
            # Alternate which goes first, so neither always runs on a warmer machine.
            order = [("imagine", imagine), ("zoom", zoom)]
            for name, job in order if run % 2 == 0 else order[::-1]:
                times[name].append(time_render(backend, job, workdir / name, run + 1))
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["zoom"] / medians["imagine"]
    for name, values in times.items():
        shown = ", ".join(f"{value:.3f}" for value in values)
        print(f"  {name:8} median {medians[name]:.3f} s  ({shown})")
    print(f"  zoom / imagine: {ratio:.2f}")
    return {
        "arch": options.arch,
        "device": options.device,
        "size": [zoom.width, zoom.height],
        "steps": steps,
        "repeats": options.repeats,
        "imagine_median_s": round(medians["imagine"], 4),
        "zoom_median_s": round(medians["zoom"], 4),
        "ratio": round(ratio, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    if options.repeats < 1:
        print("--repeats must be at least 1", file=sys.stderr)
        return 2
    print(json.dumps(benchmark(options)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
