"""Every follow-up of a job started from images, run through the Studio on the tiny model
and the tiny IP-Adapter: upscales, reworks of the upscale, variations of it and remixes of
a /blend, which has no text, each keeping the images and ``--iw`` and finishing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from db.jobs import JobStatus
from inference.models import ip_adapter_ref
from inference.pool.handle import JobHandle
from inference.rework import PanDirection, UpscaleMode
from studio.image_prompts import Upload
from studio.service import StoredJob, Studio
from tests.helpers.https_server import HttpsServer, Reply, https_server
from tests.helpers.pool import PoolMaker
from tests.helpers.studio import StudioMaker

OWNER = 42


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


RED = _png(Image.new("RGB", (24, 16), (200, 30, 30)))
BLUE = _png(Image.new("RGB", (24, 16), (30, 30, 200)))


@pytest.fixture
def server() -> Iterator[HttpsServer]:
    with https_server({"/red.png": Reply(RED)}) as running:
        yield running


@pytest.fixture
async def studio(
    make_studio: StudioMaker, make_pool: PoolMaker, server: HttpsServer, tiny_ip_adapter: Path
) -> Studio:
    make_pool.ip_adapter = ip_adapter_ref(str(tiny_ip_adapter))
    return await make_studio(intake=server.intake(), max_upscale_side=256)


async def _finished(studio: Studio, handle: JobHandle) -> StoredJob:
    await handle
    stored = await studio.stored_job(handle.job_id)
    assert stored.record.status is JobStatus.DONE, stored.record.error
    return stored


def _images_of(stored: StoredJob) -> list[str]:
    return [image.sha256 for image in stored.job.image_prompts]


async def test_reworks_of_an_image_prompted_upscale_keep_its_images_and_weight(
    studio: Studio, server: HttpsServer
) -> None:
    (request,) = await studio.requests_for(OWNER, f"{server.url('/red.png')} a fox --iw 1.5")
    images = await studio.take_images(request.image_urls)
    grid = await _finished(studio, await studio.submit_imagine(OWNER, request, images=images))
    upscaled = await _finished(studio, await studio.upscale(OWNER, grid, 1))
    mask = Image.new("L", (upscaled.job.width, upscaled.job.height), 0)
    ImageDraw.Draw(mask).rectangle((0, 0, 40, 40), fill=255)
    follow_ups = [
        await studio.zoom_out(OWNER, upscaled, 2.0),
        await studio.pan(OWNER, upscaled, PanDirection.RIGHT),
        await studio.vary_region(OWNER, upscaled, _png(mask)),
        await studio.upscale_refined(OWNER, upscaled, UpscaleMode.SUBTLE),
        await studio.vary(OWNER, upscaled, 0, None),
    ]
    for handle in follow_ups:
        done = await _finished(studio, handle)
        assert _images_of(done) == _images_of(grid)
        assert done.job.request.image_weight == 1.5


async def test_a_blend_is_re_rolled_and_remixed_with_its_prompt_form_left_as_it_came(
    studio: Studio,
) -> None:
    requests = await studio.blend_requests(OWNER, "square", 2)
    images = await studio.take_images([], [Upload("red.png", RED), Upload("blue.png", BLUE)])
    blend = await _finished(studio, await studio.submit_imagine(OWNER, requests[0], images=images))
    text = studio.remix_text(blend)
    for handle in (
        await studio.reroll(OWNER, blend, prompt=text),
        await studio.vary(OWNER, blend, 2, None, prompt=text),
    ):
        done = await _finished(studio, handle)
        assert _images_of(done) == _images_of(blend)
        assert done.job.request.prompt == ""
    upscaled = await _finished(studio, await studio.upscale(OWNER, blend, 0))
    zoomed = await _finished(studio, await studio.zoom_out(OWNER, upscaled, 1.5, prompt=text))
    assert _images_of(zoomed) == _images_of(blend)
