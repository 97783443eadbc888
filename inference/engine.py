"""Running a job to files: each image as a PNG carrying its generation data, plus the grid."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.urls import published_url
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
    if job.image_prompts:
        extra["Image prompts"] = str(len(job.image_prompts))
        extra["Image weight"] = f"{job.request.image_weight:g}"
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


@dataclass(frozen=True)
class EncodedImage:
    png: bytes
    seed: int
    width: int
    height: int


@dataclass(frozen=True)
class EncodedJob:
    """A job's finished PNGs with their generation data embedded, ready to be written (what
    a remote worker sends back)."""

    images: tuple[EncodedImage, ...]
    grid: bytes | None


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
    return write_outputs(
        encode_outputs(job, images, grid=grid_path is not None), image_paths, grid_path
    )


def encode_outputs(job: GenerationJob, images: Sequence[Image.Image], *, grid: bool) -> EncodedJob:
    """``job``'s images (and its grid, with ``grid``) as PNGs carrying the generation data."""
    public = public_record(job)
    encoded = []
    for index, (image, seed) in enumerate(zip(images, job.seeds, strict=True)):
        record = {"job": public, "index": index}
        encoded.append(
            EncodedImage(
                _png(image, generation_info(job, seed), record), seed, image.width, image.height
            )
        )
    grid_png = (
        _png(make_grid(images), generation_info(job, job.seed), {"job": public}) if grid else None
    )
    return EncodedJob(tuple(encoded), grid_png)


def public_record(job: GenerationJob) -> dict[str, object]:
    """``job`` as a PNG may show it to anyone: everything that regenerates it with the same
    models (LoRAs by version key, weight and hash), but no path on the bot's machine — no
    LoRA or inpainting checkpoint source, an init image by its SHA-256 instead of its file,
    a region's mask by the SHA-256 it is stored under, image prompts by their SHA-256 and
    source (the URL as typed — a Discord attachment link without its signed query, see
    :func:`core.urls.published_url` — or the attachment's name; ``--iw`` is in the request)
    — the lineage itself is in the database."""
    params = job.to_params()
    params["loras"] = [
        {key: value for key, value in lora.items() if key not in ("source", "weight_name")}
        for lora in params["loras"]
    ]
    if job.init_image is not None:
        del params["init_image"]
        params["init_image_sha256"] = _file_sha256(Path(job.init_image))
    params["request"]["image_urls"] = [published_url(url) for url in job.request.image_urls]
    if "image_prompts" in params:
        # by the SHA-256 of the checked copy and where the member's image came from
        params["image_prompts"] = [
            {"sha256": image.sha256, "source": published_url(image.source)}
            for image in job.image_prompts
        ]
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


def write_outputs(
    encoded: EncodedJob, image_paths: Sequence[Path], grid_path: Path | None = None
) -> list[SavedImage]:
    """Write an encoded job's PNGs where they belong (the grid only when there is a path for
    it and the job has one)."""
    if len(encoded.images) != len(image_paths):
        raise ValueError(f"{len(encoded.images)} images but {len(image_paths)} paths")
    saved = []
    for index, (image, path) in enumerate(zip(encoded.images, image_paths, strict=True)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image.png)
        saved.append(SavedImage(index, image.seed, path, image.width, image.height))
    if grid_path is not None and encoded.grid is not None:
        grid_path.parent.mkdir(parents=True, exist_ok=True)
        grid_path.write_bytes(encoded.grid)
    return saved


def _png(image: Image.Image, info: GenerationInfo, record: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    save_png(image, buffer, info, atelier=record)
    return buffer.getvalue()


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
