"""Image prompts and /blend: the images members start a job from, checked and kept.

Every image — a URL typed at the start of a prompt, or a file attached to the command —
goes through intake (``intake.ImageIntake``: allowed hosts, public addresses, size, pixel
count, decoded content) before anything is queued. What the job keeps is a PNG copy of
the checked pixels in the data folder's inputs, named by its SHA-256 (the same image twice
is one file), so a job recovered after a restart, and every re-roll, variation or remix of
it, finds its images again.

Each function here is a method of :class:`studio.service.Studio` (its first parameter is
the Studio), like those of ``studio.rework``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from core.errors import quoted
from inference.jobs import ImagePrompt
from inference.params import ImagineRequest
from intake.errors import ImageRefused
from registry.versions import ModelVersion
from studio.errors import StudioError
from studio.loras import family_name, fits
from studio.stored_inputs import store_png

if TYPE_CHECKING:
    from studio.service import Studio

#: What a member is told when the operator has not set up an IP-Adapter.
NOT_CONFIGURED = (
    "jobs cannot start from images on this bot yet (image prompts, blends): its operator "
    "has to set ATELIER_IP_ADAPTER (an IP-Adapter for the model) first. Prompts in words "
    "work as usual."
)

#: /blend's ``dimensions``: the shape of the grid it makes.
BLEND_DIMENSIONS: dict[str, tuple[int, int]] = {
    "portrait": (2, 3),
    "square": (1, 1),
    "landscape": (3, 2),
}
#: How many images a /blend takes.
MIN_BLEND_IMAGES, MAX_BLEND_IMAGES = 2, 5


@dataclass(frozen=True)
class Upload:
    """A file a member attached: its name as they gave it, and its bytes."""

    name: str
    data: bytes


def check_image_prompts(studio: Studio, count: int) -> None:
    """Refuse ``count`` images (none: nothing to refuse) when the bot cannot condition on
    images: no IP-Adapter configured."""
    if count and (not studio.config.image_prompts or studio.intake is None):
        raise StudioError(NOT_CONFIGURED)


def check_upload_size(studio: Studio, name: str, size: int) -> None:
    """Refuse an attached file larger than an image may be, from the size Discord gives,
    before any of its bytes are read."""
    check_image_prompts(studio, 1)
    assert studio.intake is not None
    limit = studio.intake.limits.max_bytes
    if size > limit:
        raise ImageRefused(
            f"{quoted(name)} is {size / 1_000_000:.1f} MB; images may be at most "
            f"{limit / 1_000_000:.1f} MB"
        )


async def take_images(
    studio: Studio, urls: Sequence[str], uploads: Sequence[Upload] = ()
) -> tuple[ImagePrompt, ...]:
    """The images of ``urls`` (fetched) and ``uploads`` (read), in that order, checked and
    stored as the job's image prompts. Raises ImageRefused naming the first image refused
    (nothing is queued; copies already stored stay, shared by content, harmless), or
    StudioError when no IP-Adapter is configured."""
    check_image_prompts(studio, len(urls) + len(uploads))
    intake = studio.intake
    if intake is None:
        return ()
    checked: list[tuple[str, Image.Image]] = []
    for url in urls:
        checked.append((url, await intake.fetch(url)))
    for upload in uploads:
        checked.append(
            (f"attachment:{upload.name}", await intake.read(upload.data, quoted(upload.name)))
        )
    stored: list[ImagePrompt] = []
    for source, image in checked:
        path, sha256 = await asyncio.to_thread(store_png, image, studio.inputs_dir, "image")
        stored.append(ImagePrompt(path=path, sha256=sha256, source=source))
    return tuple(stored)


async def blend_requests(
    studio: Studio, user_id: int, dimensions: str, count: int
) -> list[ImagineRequest]:
    """/blend of ``count`` images: a request with no text, in the shape ``dimensions``
    names, with the member's preferred model and stylize (not their suffix: a blend has no
    words)."""
    if not MIN_BLEND_IMAGES <= count <= MAX_BLEND_IMAGES:
        raise StudioError(
            f"a blend takes {MIN_BLEND_IMAGES} to {MAX_BLEND_IMAGES} images; {count} were given"
        )
    if dimensions not in BLEND_DIMENSIONS:
        raise StudioError(
            f"{quoted(dimensions)} is not a blend shape; choose one of "
            + ", ".join(BLEND_DIMENSIONS)
        )
    check_image_prompts(studio, count)
    width, height = BLEND_DIMENSIONS[dimensions]
    return await studio.requests_for(
        user_id, f"--ar {width}:{height}", attached=count, suffix=False
    )


def check_image_model(studio: Studio, model: ModelVersion | None, count: int) -> None:
    """Refuse ``count`` images (none: nothing to refuse) on ``model`` (None: a model in no
    registry) when the IP-Adapter is made for another family of models."""
    adapter = studio.config.image_prompt_family
    if not count or model is None or fits(adapter, model.family):
        return
    raise StudioError(
        f"image prompts cannot run on `{model.key}`: this bot's IP-Adapter is made for "
        f"{family_name(adapter)} models and `{model.key}` is a model of the "
        f"{family_name(model.family)} family. "
        "Choose a model of the adapter's family (with --model, or as your preferred model), "
        "or prompt in words alone"
    )


def check_stored(studio: Studio, prompts: Sequence[ImagePrompt]) -> None:
    """Before an image-prompted job is queued (a follow-up's images come from its parent):
    the bot can still use images, and the images are still on disk."""
    check_image_prompts(studio, len(prompts))
    if any(not Path(prompt.path).is_file() for prompt in prompts):
        raise StudioError("the images this job was started from are no longer stored")
