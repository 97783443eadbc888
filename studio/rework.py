"""Reworking an upscaled image — Zoom Out, Custom Zoom, Pan, Make Square, Vary (Region),
Upscale (Subtle)/(Creative) — and Remix: a follow-up whose prompt the member edited.

Each function here is a method of :class:`studio.service.Studio` (its first parameter is
the Studio): each plans a job from what the database holds, as every button does, and
queues it with the source image as its parent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.errors import quoted
from db.job_messages import JobPlace
from db.jobs import ImageRecord, JobKind
from inference.jobs import (
    GenerationJob,
    InpaintCheckpoint,
    plan_rework,
    plan_upscale,
)
from inference.params import ParamError, as_typed, typed_fields
from inference.pool.handle import JobHandle
from inference.rework import (
    MAX_ZOOM,
    MIN_ZOOM,
    MaskError,
    PanDirection,
    Placement,
    ReworkError,
    UpscaleMode,
    pan_growth,
    pan_placement,
    read_mask,
    region_placement,
    square_placement,
    zoom_placement,
)
from inference.sizing import image_size, size_multiple
from studio.errors import StudioError
from studio.loras import lora_uses
from studio.stored_inputs import store_png

if TYPE_CHECKING:
    from studio.service import StoredJob, Studio

_ZOOM_FLAG = re.compile(r"(?<!\S)(?:--|[\u2014\u2013])zoom(?=\s|$)(?P<value>\s+(?!--)\S+)?", re.I)
_ZOOM_RULE = f"a number from {MIN_ZOOM:g} to {MAX_ZOOM:g}, e.g. --zoom 1.5"


class BannedWordsError(StudioError):
    """A remixed prompt uses words the server does not allow; ``matched`` names them."""

    def __init__(self, prompt: str, matched: Sequence[str]) -> None:
        words = ", ".join(f"**{word}**" for word in matched)
        super().__init__(
            "🚫 This server does not allow some words of this prompt, so nothing was made. "
            f"Rephrase it without them.\nNot allowed here: {words}"
        )
        self.prompt = prompt
        self.matched = list(matched)


def split_zoom(text: str) -> tuple[str, float | None]:
    """``text`` without its ``--zoom F`` flag, and F (None when there is none).
    Raises ParamError for a missing or out-of-range value, or two of them."""
    found = list(_ZOOM_FLAG.finditer(text))
    if not found:
        return text, None
    if len(found) > 1:
        raise ParamError("--zoom is given twice; keep one", "--zoom")
    match = found[0]
    raw = (match.group("value") or "").strip()
    try:
        factor = float(raw)
    except ValueError:
        factor = float("nan")
    if not MIN_ZOOM <= factor <= MAX_ZOOM:
        shown = f" (not {quoted(raw, 20)})" if raw else ""
        raise ParamError(f"--zoom needs {_ZOOM_RULE}{shown}", "--zoom")
    return f"{text[: match.start()]} {text[match.end() :]}".strip(), factor


def _in_words(error: ReworkError | MaskError) -> StudioError:
    return StudioError(str(error))


# --- what is offered ---------------------------------------------------------------


def can_make_square(studio: Studio, source: StoredJob) -> bool:
    """Make Square is for a non-square upscale (the square is made at the model's own
    pixel count, so it is always within the limits)."""
    return _reworkable(source) and source.job.width != source.job.height


async def can_pan(studio: Studio, source: StoredJob, direction: PanDirection) -> bool:
    """Whether a pan would still add enough: its canvas, made at about the model's native
    pixel count, within 1:4 … 4:1 and the largest side. Asks the pool the model's native
    size (known once the model has run, as it has for the upscale being shown)."""
    if not _reworkable(source):
        return False
    model = await studio._models.find(source.job.model)
    if model is None:  # no longer runnable
        return False
    native = (await studio.pool.model_info(model)).native_size
    growth = pan_growth(_size(source), native, direction, studio.config.max_upscale_side)
    return growth is not None


def remix_text(studio: Studio, source: StoredJob) -> str:
    """The source job's prompt with its parameters, as a member would type it."""
    return as_typed(source.job.request)


# --- outpainting -------------------------------------------------------------------


async def zoom_out(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    factor: float,
    *,
    prompt: str | None = None,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """Zoom Out 2× / 1.5×: a canvas ``factor`` times wider and taller, the image in its
    middle, the border made new. A remixed ``prompt`` may set ``--ar`` for the canvas."""
    if not MIN_ZOOM <= factor <= MAX_ZOOM:
        raise StudioError(f"a zoom factor is from {MIN_ZOOM:g} to {MAX_ZOOM:g}")
    return await _zoom(studio, user_id, source, factor, prompt, moderator, place)


async def custom_zoom(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    text: str,
    *,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """Custom Zoom: ``text`` is the prompt with its parameters, plus ``--zoom F``
    (1–2) and/or ``--ar W:H`` for the canvas."""
    rest, factor = split_zoom(text)
    if factor is None and "aspect" not in typed_fields(rest):
        raise ParamError(
            f"say how to zoom: --zoom with {_ZOOM_RULE}, and/or --ar W:H for the shape",
            "--zoom",
        )
    return await _zoom(studio, user_id, source, factor or 1.0, rest, moderator, place)


async def _zoom(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    factor: float,
    prompt: str | None,
    moderator: bool,
    place: JobPlace | None,
) -> JobHandle:
    job = await _follow_up_job(studio, user_id, source, prompt, moderator, place)
    aspect = job.request.aspect if prompt and "aspect" in typed_fields(prompt) else None
    size = _size(source)
    return await _submit_rework(
        studio,
        user_id,
        source,
        job,
        JobKind.ZOOM,
        lambda native: zoom_placement(size, native, factor, aspect),
        moderator=moderator,
        place=place,
    )


async def pan(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    direction: PanDirection,
    *,
    prompt: str | None = None,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """⬅️ ➡️ ⬆️ ⬇️: the canvas grows by about half on that side."""
    job = await _follow_up_job(studio, user_id, source, prompt, moderator, place)
    size, max_side = _size(source), studio.config.max_upscale_side
    return await _submit_rework(
        studio,
        user_id,
        source,
        job,
        JobKind.PAN,
        lambda native: pan_placement(size, native, PanDirection(direction), max_side),
        moderator=moderator,
        place=place,
    )


async def make_square(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    *,
    prompt: str | None = None,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """Make Square: the short side grows to the long one."""
    job = await _follow_up_job(studio, user_id, source, prompt, moderator, place)
    size = _size(source)
    return await _submit_rework(
        studio,
        user_id,
        source,
        job,
        JobKind.SQUARE,
        lambda native: square_placement(size, native),
        moderator=moderator,
        place=place,
    )


# --- inpainting --------------------------------------------------------------------


async def vary_region(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    mask_png: bytes,
    *,
    prompt: str | None = None,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """Vary (Region): the pixels ``mask_png`` marks (a PNG the size of the image; see
    ``read_mask``) are made again, the rest kept. The mask is stored with the job."""
    image = _reworked_image(source)
    try:
        mask = await asyncio.to_thread(read_mask, mask_png, (image.width, image.height))
    except MaskError as error:
        raise _in_words(error) from None
    job = await _follow_up_job(studio, user_id, source, prompt, moderator, place)
    stored = await asyncio.to_thread(store_png, mask, studio.inputs_dir, "mask")
    size = _size(source)
    return await _submit_rework(
        studio,
        user_id,
        source,
        job,
        JobKind.REGION,
        lambda native: region_placement(size, native),
        mask=stored,
        moderator=moderator,
        place=place,
    )


# --- upscaling again -------------------------------------------------------------------


async def upscale_refined(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    mode: UpscaleMode,
    *,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> JobHandle:
    """Upscale (Subtle) / (Creative): the upscale at twice its size again, refined at the
    operator's subtle or creative strength."""
    image = _reworked_image(source)
    studio.check_upscale(source)
    defaults = studio.config.defaults
    strength = (
        defaults.upscale_subtle_strength
        if UpscaleMode(mode) is UpscaleMode.SUBTLE
        else defaults.upscale_creative_strength
    )
    job = plan_upscale(
        source.job, index=0, image_path=image.path, defaults=defaults, strength=strength
    )
    job = await studio._with_usable_model(job, user_id, moderator)
    return await studio._submit(job, user_id, parent=(source.id, 0), place=place)


# --- shared ----------------------------------------------------------------------------


async def _submit_rework(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    job: GenerationJob,
    kind: JobKind,
    placement_for: Callable[[int], Placement],
    *,
    mask: tuple[str, str] | None = None,
    moderator: bool,
    place: JobPlace | None,
) -> JobHandle:
    """Plan ``kind`` on the canvas ``placement_for(native size)`` gives and queue it."""
    image = _reworked_image(source)
    model = await studio.model_for(user_id, job.model, moderator=moderator)
    native = (await studio.pool.model_info(model)).native_size
    try:
        placement = placement_for(native)
    except ReworkError as error:
        raise _in_words(error) from None
    planned = plan_rework(
        job,
        kind=kind,
        image_path=image.path,
        placement=placement,
        mask=mask,
        checkpoint=await inpaint_checkpoint(studio, job.model),
        defaults=studio.config.defaults,
    )
    return await studio._submit(planned, user_id, parent=(source.id, 0), place=place)


async def inpaint_checkpoint(studio: Studio, model: str) -> InpaintCheckpoint | None:
    """The dedicated inpainting checkpoint the registry names for version ``model``."""
    return await studio._models.inpaint_checkpoint(model)


async def _follow_up_job(
    studio: Studio,
    user_id: int,
    source: StoredJob,
    prompt: str | None,
    moderator: bool,
    place: JobPlace | None,
) -> GenerationJob:
    """``source``'s job on a model the member may use, with their remixed ``prompt``."""
    _reworked_image(source)
    if prompt is None:
        return await studio._with_usable_model(source.job, user_id, moderator)
    return await remixed(studio, user_id, source.job, prompt, moderator=moderator, place=place)


async def remixed(
    studio: Studio,
    user_id: int,
    job: GenerationJob,
    text: str,
    *,
    moderator: bool = False,
    place: JobPlace | None = None,
) -> GenerationJob:
    """``job`` with the prompt and parameters the member edited to ``text``, parsed and
    checked as ``/imagine`` checks them: the parser's limits, the server's banned
    words, the model and LoRAs the member may use. Without ``--model`` in ``text`` it
    stays on ``job``'s model; its image prompts stay (``--iw`` may change). Size and seed
    stay the caller's to plan."""
    # The job's images stay (its checked copies): those given as URLs are in the text, the
    # attached ones are counted beside it.
    attached = len(job.image_prompts) - len(job.request.image_urls)
    requests = await studio.remix_requests(user_id, text, attached=attached)
    if len(requests) != 1:
        raise ParamError(
            "a remix makes one job: leave out {…} alternatives and --repeat", "--repeat"
        )
    (request,) = requests
    if request.image_urls != job.request.image_urls:
        raise ParamError(
            "a remix changes the words and parameters, not the images: leave the image URLs "
            "at the start of the prompt as they were (for other images, start a new job from them)"
        )
    texts = [text, request.prompt, request.negative_prompt]
    matched = await studio.banned_in(None if place is None else place.guild_id, texts)
    if matched:
        raise BannedWordsError(text, matched)
    if "model" not in typed_fields(text):
        request = dataclasses.replace(request, model=job.request.model)
    version = await studio._checkpoint_version(
        user_id, request.model or job.model, moderator=moderator
    )
    loras = await studio._lora_versions(user_id, request, version, moderator=moderator)
    model = studio.model_for_version(version)
    defaults = studio.config.defaults
    return dataclasses.replace(
        job,
        request=request,
        model=model.name,
        loras=lora_uses(request.loras, loras),
        model_hash=job.model_hash if version is None else version.sha256,
        steps=request.total_steps(defaults.steps),
        sampler=request.sampler or defaults.sampler,
    )


async def resized_for(
    studio: Studio, user_id: int, job: GenerationJob, *, moderator: bool = False
) -> GenerationJob:
    """``job`` at the size its request's ``--ar`` gives on its model (a remixed
    re-roll's new shape)."""
    model = await studio.model_for(user_id, job.model, moderator=moderator)
    native = (await studio.pool.model_info(model)).native_size
    width, height = image_size(native, job.request.aspect, size_multiple(native))
    return dataclasses.replace(job, width=width, height=height)


def _reworkable(source: StoredJob) -> bool:
    return source.job.kind is JobKind.UPSCALE and source.job.num_images == 1


def _reworked_image(source: StoredJob) -> ImageRecord:
    """Image 0 of an upscale, the one every rework starts from."""
    if not _reworkable(source):
        raise StudioError(
            "reworking (zoom, pan, square, region, upscale again) starts from an upscaled "
            "image: press U1–U4 first"
        )
    return source.image(0)


def _size(source: StoredJob) -> tuple[int, int]:
    return source.job.width, source.job.height
