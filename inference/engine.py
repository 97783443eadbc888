"""Running a job to files: each image as a PNG carrying its generation data, plus the grid."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from inference.backend import DiffusersBackend, StepCallback
from inference.images import make_grid
from inference.jobs import GenerationJob
from inference.pngmeta import GenerationInfo, save_png
from inference.samplers import display_name


@dataclass(frozen=True)
class SavedImage:
    index: int
    seed: int
    path: Path
    width: int
    height: int


def generation_info(job: GenerationJob, seed: int) -> GenerationInfo:
    """The A1111 fields for one image of ``job``."""
    extra = {}
    if job.strength is not None:
        extra["Denoising strength"] = f"{job.strength:g}"
    if job.rework is not None:
        extra["Mask blur"] = str(job.rework.mask_blur)
    if job.request.tile:
        extra["Tiling"] = "True"
    names = lora_names(job)
    hashes = {"model": short} if (short := short_hash(job.model_hash)) else {}
    hashes.update(
        {
            f"lora:{name}": short
            for name, lora in zip(names, job.loras, strict=True)
            if (short := short_hash(lora.sha256))
        }
    )
    lora_list = ", ".join(f"{key[5:]}: {value}" for key, value in hashes.items() if key != "model")
    if lora_list:
        extra["Lora hashes"] = lora_list
    return GenerationInfo(
        prompt=job.request.prompt,
        negative_prompt=job.request.negative_prompt,
        steps=job.steps,
        sampler=display_name(job.sampler),
        cfg_scale=job.guidance_scale,
        seed=seed,
        width=job.width,
        height=job.height,
        model=job.model,
        extra=extra,
        model_hash=short_hash(job.model_hash),
        hashes=hashes,
    )


def lora_names(job: GenerationJob) -> list[str]:
    """Each LoRA named as its tag in the prompt names it, so model sites match the tags
    with ``Lora hashes`` (LoRAs without a file hash, from the hub, get no entry there)."""
    written = [
        tag.name if tag.version is None else f"{tag.name}@{tag.version}"
        for tag in job.request.loras
    ]
    return written if len(written) == len(job.loras) else [lora.name for lora in job.loras]


def short_hash(sha256: str | None) -> str | None:
    """The short form A1111 and model sites use: the first ten hex digits."""
    return None if sha256 is None else sha256[:10]


def save_outputs(
    job: GenerationJob,
    images: Sequence[Image.Image],
    image_paths: Sequence[Path],
    grid_path: Path | None = None,
) -> list[SavedImage]:
    """Write each image (and the grid, when asked) with its generation data embedded.

    Every PNG also carries the job's :func:`public_record` as JSON, so the exact request —
    chaos, prompt weights, ``--stop`` — survives even where the A1111 fields have no place
    for it.
    """
    if len(images) != len(image_paths):
        raise ValueError(f"{len(images)} images but {len(image_paths)} paths")
    public = public_record(job)
    saved = []
    for index, (image, path, seed) in enumerate(zip(images, image_paths, job.seeds, strict=True)):
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"job": public, "index": index}
        save_png(image, path, generation_info(job, seed), atelier=record)
        saved.append(SavedImage(index, seed, path, image.width, image.height))
    if grid_path is not None:
        grid_path.parent.mkdir(parents=True, exist_ok=True)
        save_png(make_grid(images), grid_path, generation_info(job, job.seed), {"job": public})
    return saved


def render(
    backend: DiffusersBackend,
    job: GenerationJob,
    image_paths: Sequence[Path],
    grid_path: Path | None = None,
    *,
    on_step: StepCallback | None = None,
    preview_every: int = 0,
    cancel: threading.Event | None = None,
) -> list[SavedImage]:
    """Generate ``job`` on ``backend`` and save the results. Blocking: run it on a worker
    thread, never on the event loop."""
    images = backend.generate(job, on_step=on_step, preview_every=preview_every, cancel=cancel)
    return save_outputs(job, images, image_paths, grid_path)


def public_record(job: GenerationJob) -> dict[str, object]:
    """``job`` as a PNG may show it to anyone: everything that regenerates it with the same
    models (LoRAs by version key, weight and hash), but no path on the bot's machine — no
    LoRA or inpainting checkpoint source, an init image by its SHA-256 instead of its file,
    a region's mask by the SHA-256 it is stored under (the lineage itself is in the
    database)."""
    params = job.to_params()
    params["loras"] = [
        {key: value for key, value in lora.items() if key not in ("source", "weight_name")}
        for lora in params["loras"]
    ]
    if job.init_image is not None:
        del params["init_image"]
        params["init_image_sha256"] = _file_sha256(Path(job.init_image))
    if "rework" in params:
        rework = dict(params["rework"])
        del rework["mask"]
        if rework["checkpoint"] is not None:
            rework["checkpoint"] = {
                key: value for key, value in rework["checkpoint"].items() if key != "source"
            }
        params["rework"] = rework
    return params


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # gone since the job ran: the hash is a courtesy, the PNG still gets written
        return None
