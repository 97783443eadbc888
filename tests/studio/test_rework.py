"""Reworking an upscale through the Studio on the tiny model: Zoom Out, Custom Zoom, Pan,
Make Square, Vary (Region), Upscale (Subtle)/(Creative), and Remix's edited prompts.
What each plans and records, what it keeps of the original, and what it refuses."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from db.guilds import add_banned_words
from db.job_messages import JobPlace
from db.jobs import JobKind, JobStatus
from db.users import UserSettings, save_user_settings, set_user_option
from inference.params import ParamError
from inference.pool.handle import JobHandle
from inference.pool.queue import QueueLimitError
from inference.rework import MASK_BLUR, PanDirection, UpscaleMode
from registry.versions import VersionEdit, edit_version
from studio.errors import StudioError
from studio.rework import BannedWordsError
from studio.service import StoredJob, Studio
from tests.helpers.pool import PoolMaker
from tests.helpers.studio import StudioMaker

OWNER = 42
GUILD = 7
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)


async def _finished(studio: Studio, handle: JobHandle) -> StoredJob:
    await handle
    stored = await studio.stored_job(handle.job_id)
    assert stored.record.status is JobStatus.DONE, stored.record.error
    return stored


async def _upscale(studio: Studio, prompt: str = "a lighthouse --seed 5") -> StoredJob:
    """An upscale (128 px on a side for a square) of image 1 of a fresh grid."""
    (request,) = await studio.requests_for(OWNER, prompt)
    grid = await _finished(studio, await studio.submit_imagine(OWNER, request))
    return await _finished(studio, await studio.upscale(OWNER, grid, 0))


def _pixels(path: str | Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _scaled(path: str, size: tuple[int, int]) -> np.ndarray:
    with Image.open(path) as image:
        resized = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.int16)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- Zoom Out -------------------------------------------------------------------------------


async def test_zoom_out_keeps_the_image_in_the_middle_and_makes_a_new_border(
    studio: Studio,
) -> None:
    source = await _upscale(studio)
    zoomed = await _finished(studio, await studio.zoom_out(OWNER, source, 2.0))
    assert zoomed.record.kind is JobKind.ZOOM
    assert (zoomed.record.parent_job_id, zoomed.record.parent_index) == (source.id, 0)
    assert len(zoomed.images) == 4
    # The tiny model's native 64×64; the 128-px upscale at half its side in the middle.
    assert (zoomed.job.width, zoomed.job.height) == (64, 64)
    assert zoomed.job.rework is not None
    assert zoomed.job.rework.box == (16, 16, 32, 32)
    original = _scaled(source.images[0].path, (32, 32))
    inner = slice(MASK_BLUR, 32 - MASK_BLUR)
    for image in zoomed.images:
        made = _pixels(image.path)
        kept = made[16:48, 16:48]
        # Kept exactly (well inside the seam), not the VAE's blurred copy of it.
        assert np.abs(kept[inner, inner] - original[inner, inner]).max() <= 1
        border = np.concatenate([made[:8].reshape(-1, 3), made[-8:].reshape(-1, 3)])
        assert border.std() > 0  # made, not the flat fill it started from
    first, second = (_pixels(image.path) for image in zoomed.images[:2])
    assert np.abs(first[:8] - second[:8]).max() > 0  # each image its own seed


async def test_zoom_factors_are_different_jobs_but_the_same_press_twice_is_one(
    studio: Studio, make_pool: PoolMaker
) -> None:
    source = await _upscale(studio)
    make_pool.script.step_delay = 0.2  # the first is still on its way at the third press
    two = await studio.zoom_out(OWNER, source, 2.0)
    one_and_a_half = await studio.zoom_out(OWNER, source, 1.5)
    with pytest.raises(StudioError, match="already on its way"):
        await studio.zoom_out(OWNER, source, 2.0)
    await two
    await one_and_a_half
    small = await studio.stored_job(one_and_a_half.job_id)
    assert small.job.rework is not None
    assert small.job.rework.box == (10, 10, 43, 43)


async def test_custom_zoom_reads_zoom_and_ar_from_the_prompt(studio: Studio) -> None:
    source = await _upscale(studio)
    zoomed = await _finished(
        studio, await studio.custom_zoom(OWNER, source, "a lighthouse at dusk --zoom 1.5 --ar 2:1")
    )
    assert zoomed.record.kind is JobKind.ZOOM
    assert zoomed.job.request.prompt == "a lighthouse at dusk"
    assert (zoomed.job.width, zoomed.job.height) == (88, 48)
    only_ar = await _finished(studio, await studio.custom_zoom(OWNER, source, "a pier --ar 1:2"))
    assert (only_ar.job.width, only_ar.job.height) == (48, 88)


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("a lighthouse --zoom 3", "--zoom"),
        ("a lighthouse --zoom", "--zoom"),
        ("a lighthouse --zoom wide", "--zoom"),
        ("a lighthouse --zoom 1.5 --zoom 2", "--zoom"),
        ("a lighthouse", "--zoom"),
        ("a lighthouse --zoom 1.5 --ar 9:1", "--ar"),
        ("a lighthouse --zoom 1.5 --bogus", "--bogus"),
    ],
)
async def test_custom_zoom_refuses_a_bad_value_naming_the_flag(
    studio: Studio, text: str, flag: str
) -> None:
    source = await _upscale(studio)
    with pytest.raises(ParamError) as refused:
        await studio.custom_zoom(OWNER, source, text)
    assert refused.value.flag == flag
    assert studio.pool.jobs_of(OWNER) == []


async def test_reworks_start_from_an_upscale(studio: Studio) -> None:
    (request,) = await studio.requests_for(OWNER, "a lighthouse")
    grid = await _finished(studio, await studio.submit_imagine(OWNER, request))
    with pytest.raises(StudioError, match="upscaled image"):
        await studio.zoom_out(OWNER, grid, 2.0)
    with pytest.raises(StudioError, match="upscaled image"):
        await studio.pan(OWNER, grid, PanDirection.LEFT)
    assert not studio.can_make_square(grid)
    assert not await studio.can_pan(grid, PanDirection.UP)


# --- Pan and Make Square ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "canvas", "box"),
    [
        (PanDirection.RIGHT, (96, 64), (0, 0, 64, 64)),
        (PanDirection.LEFT, (96, 64), (32, 0, 64, 64)),
        (PanDirection.DOWN, (64, 96), (0, 0, 64, 64)),
        (PanDirection.UP, (64, 96), (0, 32, 64, 64)),
    ],
)
async def test_pan_grows_the_canvas_by_half_on_that_side(
    make_studio: StudioMaker,
    direction: PanDirection,
    canvas: tuple[int, int],
    box: tuple[int, int, int, int],
) -> None:
    studio = await make_studio(max_upscale_side=256)
    source = await _upscale(studio)
    assert await studio.can_pan(source, direction)
    panned = await _finished(studio, await studio.pan(OWNER, source, direction))
    assert panned.record.kind is JobKind.PAN
    assert (panned.job.width, panned.job.height) == canvas
    assert panned.job.rework is not None
    assert panned.job.rework.box == box
    x, y, width, height = box
    original = _scaled(source.images[0].path, (width, height))
    made = _pixels(panned.images[0].path)[y : y + height, x : x + width]
    # Away from the seam (on the side facing the new part) the original is kept.
    keep = (slice(MASK_BLUR, height - MASK_BLUR), slice(MASK_BLUR, width - MASK_BLUR))
    assert np.abs(made[keep] - original[keep]).max() <= 1


async def test_pan_stops_at_four_to_one(make_studio: StudioMaker) -> None:
    studio = await make_studio(max_upscale_side=1024)
    source = await _upscale(studio, "a long pier --ar 4:1")
    assert not await studio.can_pan(source, PanDirection.LEFT)
    assert await studio.can_pan(source, PanDirection.UP)
    with pytest.raises(StudioError, match="4:1"):
        await studio.pan(OWNER, source, PanDirection.RIGHT)


async def test_pan_stops_where_its_canvas_would_pass_the_largest_side(
    make_studio: StudioMaker,
) -> None:
    # The canvas is made at the model's native pixel count (about 64² here), whatever the
    # upscale's size: a 176×96 upscale pans right to 128×48, down to 88×72. The operator
    # lowered the largest side to 96 px since it was made.
    studio = await make_studio(max_upscale_side=256)
    source = await _upscale(studio, "a pier --ar 2:1")
    studio.config = dataclasses.replace(studio.config, max_upscale_side=96)
    assert not await studio.can_pan(source, PanDirection.RIGHT)
    assert await studio.can_pan(source, PanDirection.DOWN)
    with pytest.raises(StudioError, match="largest side"):
        await studio.pan(OWNER, source, PanDirection.RIGHT)


async def test_an_upscale_at_the_largest_side_still_pans(make_studio: StudioMaker) -> None:
    # As SDXL's 2048² upscale with the default largest side, 2048: its pan is 1536×1024.
    studio = await make_studio(max_upscale_side=128)
    source = await _upscale(studio)
    assert (source.job.width, source.job.height) == (128, 128)
    assert await studio.can_pan(source, PanDirection.RIGHT)
    panned = await _finished(studio, await studio.pan(OWNER, source, PanDirection.RIGHT))
    assert (panned.job.width, panned.job.height) == (96, 64)


async def test_make_square_grows_the_short_side(make_studio: StudioMaker) -> None:
    studio = await make_studio(max_upscale_side=256)
    square = await _upscale(studio)
    assert not studio.can_make_square(square)
    with pytest.raises(StudioError, match="square already"):
        await studio.make_square(OWNER, square)
    wide = await _upscale(studio, "a pier --ar 2:1")
    assert studio.can_make_square(wide)
    made = await _finished(studio, await studio.make_square(OWNER, wide))
    assert made.record.kind is JobKind.SQUARE
    assert (made.job.width, made.job.height) == (64, 64)
    assert made.job.rework is not None
    x, y, width, height = made.job.rework.box
    assert (x, width) == (0, 64)
    assert y > 0
    assert height < 64


async def test_a_squared_image_zoomed_with_its_text_unchanged_stays_square(
    make_studio: StudioMaker,
) -> None:
    studio = await make_studio(max_upscale_side=256)
    wide = await _upscale(studio, "a pier --ar 2:1")
    squared = await _finished(studio, await studio.make_square(OWNER, wide))
    upscaled = await _finished(studio, await studio.upscale(OWNER, squared, 0))
    text = studio.remix_text(upscaled)
    assert "--ar" not in text
    zoomed = await _finished(studio, await studio.custom_zoom(OWNER, upscaled, f"{text} --zoom 2"))
    assert zoomed.job.width == zoomed.job.height
    panned = await _finished(studio, await studio.pan(OWNER, upscaled, PanDirection.RIGHT))
    assert (panned.job.width, panned.job.height) == (96, 64)
    assert studio.remix_text(panned).endswith("--ar 3:2")


# --- Vary (Region) ----------------------------------------------------------------------


async def test_vary_region_makes_only_the_marked_area_again(studio: Studio) -> None:
    source = await _upscale(studio)
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).rectangle((64, 0, 127, 127), fill=255)  # the right half
    varied = await _finished(studio, await studio.vary_region(OWNER, source, _png(mask)))
    assert varied.record.kind is JobKind.REGION
    assert (varied.job.width, varied.job.height) == (64, 64)
    rework = varied.job.rework
    assert rework is not None
    assert rework.mask is not None
    stored = Path(rework.mask)
    assert stored.parent == studio.inputs_dir
    assert await asyncio.to_thread(stored.is_file)
    original = _scaled(source.images[0].path, (64, 64))
    # Scaled to 64 px the marks touch column 31; farther than the seam from it, all is kept.
    kept = slice(0, 31 - MASK_BLUR)
    for image in varied.images:
        made = _pixels(image.path)
        assert np.abs(made[:, kept] - original[:, kept]).max() <= 1
        assert np.abs(made[:, 32:] - original[:, 32:]).mean() > 1


async def test_vary_region_refuses_a_mask_it_cannot_use(studio: Studio) -> None:
    source = await _upscale(studio)
    wrong_size = Image.new("L", (64, 64), 255)
    with pytest.raises(StudioError, match="64×64 but the image is 128×128"):
        await studio.vary_region(OWNER, source, _png(wrong_size))
    with pytest.raises(StudioError, match="Nothing is marked"):
        await studio.vary_region(OWNER, source, _png(Image.new("L", (128, 128), 0)))
    with pytest.raises(StudioError, match="must be a PNG"):
        await studio.vary_region(OWNER, source, b"GIF89a....")
    with pytest.raises(StudioError, match="not a readable PNG"):
        await studio.vary_region(OWNER, source, b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    assert studio.pool.jobs_of(OWNER) == []
    assert not studio.inputs_dir.exists()


# --- Upscale (Subtle) / (Creative) ------------------------------------------------------


async def test_upscale_subtle_and_creative_refine_at_their_strengths(
    make_studio: StudioMaker,
) -> None:
    studio = await make_studio(max_upscale_side=256)
    source = await _upscale(studio)
    subtle = await _finished(
        studio, await studio.upscale_refined(OWNER, source, UpscaleMode.SUBTLE)
    )
    creative = await _finished(
        studio, await studio.upscale_refined(OWNER, source, UpscaleMode.CREATIVE)
    )
    defaults = studio.config.defaults
    assert subtle.job.strength == defaults.upscale_subtle_strength
    assert creative.job.strength == defaults.upscale_creative_strength
    for job in (subtle, creative):
        assert job.record.kind is JobKind.UPSCALE
        assert (job.job.width, job.job.height) == (256, 256)
        assert (job.record.parent_job_id, job.record.parent_index) == (source.id, 0)
    with pytest.raises(StudioError, match="largest side"):
        await studio.upscale_refined(OWNER, subtle, UpscaleMode.SUBTLE)


# --- Remix ------------------------------------------------------------------------------


async def test_remix_text_is_the_prompt_with_its_parameters(make_studio: StudioMaker) -> None:
    studio = await make_studio(max_upscale_side=256)
    source = await _upscale(studio, "a lighthouse --ar 3:2 --chaos 20 --no fog, rain --seed 9")
    assert studio.remix_text(source) == "a lighthouse --ar 3:2 --chaos 20 --no fog, rain"


async def test_a_remixed_zoom_and_variation_use_the_edited_prompt(studio: Studio) -> None:
    source = await _upscale(studio)
    zoomed = await _finished(
        studio, await studio.zoom_out(OWNER, source, 2.0, prompt="a lighthouse in a storm --s 50")
    )
    assert zoomed.job.request.prompt == "a lighthouse in a storm"
    assert zoomed.job.request.stylize == 50
    assert zoomed.job.model == source.job.model  # no --model: the image's own
    varied = await _finished(
        studio, await studio.vary(OWNER, source, 0, None, prompt="a lighthouse at night")
    )
    assert varied.record.kind is JobKind.VARIATION
    assert varied.job.request.prompt == "a lighthouse at night"
    assert (varied.job.width, varied.job.height) == (64, 64)


async def test_a_remix_unchanged_keeps_the_suffix_once(studio: Studio) -> None:
    await save_user_settings(studio.db, UserSettings(OWNER, suffix="cinematic lighting --s 50"))
    await set_user_option(studio.db, OWNER, "moody", "--chaos 30")
    source = await _upscale(studio, "a fox")
    assert source.job.request.prompt == "a fox cinematic lighting"
    text = studio.remix_text(source)
    zoomed = await _finished(studio, await studio.zoom_out(OWNER, source, 2.0, prompt=text))
    assert zoomed.job.request.prompt == "a fox cinematic lighting"
    assert zoomed.job.request.stylize == 50
    # The member's options are still theirs to type in a remix.
    varied = await _finished(
        studio, await studio.vary(OWNER, zoomed, 0, None, prompt=f"{text} --moody")
    )
    assert varied.job.request.prompt == "a fox cinematic lighting"
    assert varied.job.request.chaos == 30


async def test_a_remixed_reroll_takes_the_new_shape(studio: Studio) -> None:
    (request,) = await studio.requests_for(OWNER, "a lighthouse")
    grid = await _finished(studio, await studio.submit_imagine(OWNER, request))
    rerolled = await _finished(studio, await studio.reroll(OWNER, grid, prompt="a pier --ar 2:1"))
    assert rerolled.record.kind is JobKind.REROLL
    assert rerolled.job.request.prompt == "a pier"
    assert (rerolled.job.width, rerolled.job.height) == (88, 48)


async def test_a_remix_is_checked_like_imagine(studio: Studio) -> None:
    source = await _upscale(studio)
    await add_banned_words(studio.db, GUILD, ["gore"], added_by=1, at=T0)
    place = JobPlace(GUILD, 1)
    with pytest.raises(BannedWordsError) as refused:
        await studio.pan(OWNER, source, PanDirection.LEFT, prompt="gore at sea", place=place)
    assert refused.value.matched == ["gore"]
    with pytest.raises(ParamError) as bad_flag:
        await studio.make_square(OWNER, source, prompt="a pier --chaos 500")
    assert bad_flag.value.flag == "--chaos"
    with pytest.raises(ParamError, match="one job"):
        await studio.zoom_out(OWNER, source, 2.0, prompt="a {pier, bridge}")
    with pytest.raises(StudioError, match="--model"):
        await studio.vary(OWNER, source, 0, None, prompt="a pier --model nosuchmodel")
    with pytest.raises(StudioError, match="lora"):
        await studio.zoom_out(OWNER, source, 2.0, prompt="a pier <lora:nosuchlora>")
    assert studio.pool.jobs_of(OWNER) == []


# --- a dedicated inpainting checkpoint ----------------------------------------------------


async def test_a_version_with_an_inpainting_checkpoint_reworks_on_it(
    studio: Studio, make_pool: PoolMaker, tiny_inpaint_dir: Path
) -> None:
    source = await _upscale(studio)
    await edit_version(studio.db, "tiny:1", VersionEdit(inpaint_source=str(tiny_inpaint_dir)))
    zoomed = await _finished(studio, await studio.zoom_out(OWNER, source, 2.0))
    assert zoomed.job.model == "tiny:1"
    assert zoomed.job.rework is not None
    checkpoint = zoomed.job.rework.checkpoint
    assert checkpoint is not None
    assert checkpoint.source == str(tiny_inpaint_dir)
    # The worker loaded it as a model of its own, next to the version it belongs to.
    assert make_pool.script.loads == ["tiny:1", "tiny:1 (inpainting)"]
    original = _scaled(source.images[0].path, (32, 32))
    inner = slice(MASK_BLUR, 32 - MASK_BLUR)
    made = _pixels(zoomed.images[0].path)[16:48, 16:48]
    assert np.abs(made[inner, inner] - original[inner, inner]).max() <= 1
    # Forgotten again: the next rework runs on the version itself.
    await edit_version(studio.db, "tiny:1", VersionEdit(inpaint_source=""))
    panned = await _finished(studio, await studio.zoom_out(OWNER, source, 1.5))
    assert panned.job.rework is not None
    assert panned.job.rework.checkpoint is None


# --- restarts, limits, GPU time ---------------------------------------------------------


async def test_reworks_left_queued_by_a_restart_run_from_their_stored_inputs(
    make_studio: StudioMaker, make_pool: PoolMaker, tiny_inpaint_dir: Path
) -> None:
    first = await make_studio()
    source = await _upscale(first)
    await edit_version(first.db, "tiny:1", VersionEdit(inpaint_source=str(tiny_inpaint_dir)))
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).rectangle((0, 0, 127, 40), fill=255)
    make_pool.script.step_delay = 0.5
    region = await first.vary_region(OWNER, source, _png(mask))
    zoom = await first.zoom_out(OWNER, source, 2.0)
    await first.pool.shutdown(grace_seconds=0.1)
    make_pool.script.step_delay = 0.0

    second = await make_studio()  # the bot starts again: the pool takes both over
    for job_id, kind in ((region.job_id, JobKind.REGION), (zoom.job_id, JobKind.ZOOM)):
        handle = second.pool.handle(job_id)
        assert handle is not None
        stored = await _finished(second, handle)
        assert stored.record.kind is kind
        assert len(stored.images) == 4
        assert stored.record.gpu_seconds > 0
    varied = await second.stored_job(region.job_id)
    original = _scaled(source.images[0].path, (64, 64))
    kept = slice(21 + MASK_BLUR, 64)  # the marks reach row 20 once scaled
    assert np.abs(_pixels(varied.images[0].path)[kept] - original[kept]).max() <= 1
    assert "tiny:1 (inpainting)" in make_pool.script.loads
    usage = await second.usage(OWNER)
    assert usage.gpu_seconds > 0


async def test_reworks_count_toward_a_members_limits(studio: Studio, make_pool: PoolMaker) -> None:
    source = await _upscale(studio)
    make_pool.script.step_delay = 0.2
    handles: list[JobHandle] = []
    refused: QueueLimitError | None = None
    for factor in (2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4):  # each a different zoom
        try:
            handles.append(await studio.zoom_out(OWNER, source, factor))
        except QueueLimitError as error:
            refused = error
            break
    assert refused is not None
    assert len(handles) >= studio.pool.limits.max_queued
    for handle in handles:
        await handle
