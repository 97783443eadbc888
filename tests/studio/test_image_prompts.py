"""Image prompts and /blend in the studio: each image fetched or read through intake,
kept as a checked PNG copy in the inputs folder, named on the job by its SHA-256, and kept
by the job's re-rolls, variations and remixes; refused, with nothing queued, when the bot
has no IP-Adapter or an image is refused."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from inference.jobs import GenerationJob
from inference.models import ip_adapter_ref
from inference.params import ParamError
from intake.errors import ImageRefused
from registry.versions import ConfiguredModel, enter_configured
from studio.errors import StudioError
from studio.image_prompts import NOT_CONFIGURED, Upload
from studio.service import StoredJob, Studio
from tests.helpers.https_server import HttpsServer, Reply, https_server
from tests.helpers.pool import PoolMaker
from tests.helpers.studio import StudioMaker, job_count

OWNER = 42


def _png(color: tuple[int, int, int], size: tuple[int, int] = (24, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


RED, BLUE = _png((200, 30, 30)), _png((30, 30, 200))


@pytest.fixture
def server() -> Iterator[HttpsServer]:
    with https_server({"/red.png": Reply(RED), "/text.png": Reply(b"not an image")}) as running:
        yield running


@pytest.fixture
async def studio(
    make_studio: StudioMaker, make_pool: PoolMaker, server: HttpsServer, tiny_ip_adapter: Path
) -> Studio:
    """A studio that takes images through an intake trusting ``server``, on a pool whose
    workers load the tiny IP-Adapter."""
    make_pool.ip_adapter = ip_adapter_ref(str(tiny_ip_adapter))
    return await make_studio(intake=server.intake())


async def test_a_url_and_an_upload_become_checked_copies_named_by_their_hash(
    studio: Studio, server: HttpsServer
) -> None:
    url = server.url("/red.png")
    images = await studio.take_images([url], [Upload("blue.png", BLUE)])
    assert [image.source for image in images] == [url, "attachment:blue.png"]
    for image, color in zip(images, [(200, 30, 30), (30, 30, 200)], strict=True):
        assert Path(image.path).parent == studio.inputs_dir
        _assert_stored(image.path, image.sha256, color)


def _assert_stored(path: str, sha256: str, color: tuple[int, int, int]) -> None:
    """``path`` is a PNG with ``sha256`` of the test images' size and ``color``."""
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha256
    with Image.open(path) as stored:
        assert (stored.format, stored.size) == ("PNG", (24, 16))
        assert stored.getpixel((0, 0)) == color


async def test_the_same_image_twice_is_one_file(studio: Studio) -> None:
    first, second = await studio.take_images([], [Upload("a.png", RED), Upload("b.png", RED)])
    assert first.path == second.path
    assert len(list(studio.inputs_dir.iterdir())) == 1


async def test_an_image_job_is_queued_with_its_images(studio: Studio, server: HttpsServer) -> None:
    (request,) = await studio.requests_for(OWNER, f"{server.url('/red.png')} a fox --iw 2")
    images = await studio.take_images(request.image_urls)
    handle = await studio.submit_imagine(OWNER, request, images=images)
    stored = await studio.stored_job(handle.job_id)
    assert stored.job.image_prompts == images
    assert stored.job.request.image_weight == 2.0
    handle.cancel()


async def test_without_an_ip_adapter_images_are_refused_and_nothing_is_fetched(
    make_studio: StudioMaker, server: HttpsServer
) -> None:
    studio = await make_studio()
    with pytest.raises(StudioError) as refused:
        await studio.take_images([server.url("/red.png")])
    assert str(refused.value) == NOT_CONFIGURED
    assert "ATELIER_IP_ADAPTER" in NOT_CONFIGURED
    assert server.requests == []
    with pytest.raises(StudioError, match="ATELIER_IP_ADAPTER"):
        await studio.blend_requests(OWNER, "square", 2)
    studio.check_image_prompts(0)  # words alone are fine


async def test_a_refused_image_is_named_and_nothing_is_stored(
    studio: Studio, server: HttpsServer
) -> None:
    with pytest.raises(ImageRefused, match=r"text\.png"):
        await studio.take_images([server.url("/text.png")])
    with pytest.raises(ImageRefused, match=r"notes\.txt"):
        await studio.take_images([], [Upload("notes.txt", b"hello")])
    assert not studio.inputs_dir.exists()


async def test_an_upload_larger_than_an_image_may_be_is_refused_by_its_size(
    studio: Studio,
) -> None:
    assert studio.intake is not None
    limit = studio.intake.limits.max_bytes
    studio.check_upload_size("fox.png", limit)
    with pytest.raises(ImageRefused) as refused:
        studio.check_upload_size("fox.png", 12_500_000)
    assert str(refused.value) == "“fox.png” is 12.5 MB; images may be at most 10.0 MB"


@pytest.mark.parametrize(
    ("dimensions", "aspect"), [("portrait", (2, 3)), ("square", (1, 1)), ("landscape", (3, 2))]
)
async def test_a_blend_has_no_text_and_the_shape_chosen(
    studio: Studio, dimensions: str, aspect: tuple[int, int]
) -> None:
    (request,) = await studio.blend_requests(OWNER, dimensions, 3)
    assert (request.prompt, request.image_urls, request.aspect) == ("", (), aspect)


async def test_a_blend_takes_two_to_five_images(studio: Studio) -> None:
    for count in (1, 6):
        with pytest.raises(StudioError, match="a blend takes 2 to 5 images"):
            await studio.blend_requests(OWNER, "square", count)


async def _image_job(studio: Studio, server: HttpsServer) -> StoredJob:
    """A finished job from an image URL and an attached image, with --iw 0.5."""
    (request,) = await studio.requests_for(
        OWNER, f"{server.url('/red.png')} a fox --iw 0.5 --seed 3", attached=1
    )
    images = await studio.take_images(request.image_urls, [Upload("blue.png", BLUE)])
    handle = await studio.submit_imagine(OWNER, request, images=images)
    await handle
    return await studio.stored_job(handle.job_id)


def _delete(path: str) -> None:
    Path(path).unlink()


def _images_of(job: GenerationJob) -> list[str]:
    return [image.sha256 for image in job.image_prompts]


async def test_rerolls_variations_and_remixes_keep_the_images(
    studio: Studio, server: HttpsServer
) -> None:
    source = await _image_job(studio, server)
    expected = _images_of(source.job)
    assert len(expected) == 2
    rerolled = await studio.reroll(OWNER, source)
    varied = await studio.vary(OWNER, source, 0, None)
    text = studio.remix_text(source)
    assert text == f"{server.url('/red.png')} a fox --iw 0.5"
    remixed = await studio.reroll(OWNER, source, prompt=text.replace("0.5", "2"))
    for handle in (rerolled, varied, remixed):
        assert _images_of(handle.job) == expected
    assert remixed.job.request.image_weight == 2.0
    assert server.requests == [("/red.png", f"localhost:{server.port}")]  # fetched once


async def test_a_remix_cannot_change_the_images(studio: Studio, server: HttpsServer) -> None:
    source = await _image_job(studio, server)
    before = await job_count(studio.db)
    for text in ("a fox", f"{server.url('/other.png')} a fox"):
        with pytest.raises(ParamError, match="a remix changes the words and parameters"):
            await studio.reroll(OWNER, source, prompt=text)
    assert await job_count(studio.db) == before


async def test_a_follow_up_whose_images_are_gone_is_refused(
    studio: Studio, server: HttpsServer
) -> None:
    source = await _image_job(studio, server)
    before = await job_count(studio.db)
    _delete(source.job.image_prompts[0].path)
    with pytest.raises(StudioError, match="no longer stored"):
        await studio.reroll(OWNER, source)
    assert await job_count(studio.db) == before


async def test_images_on_a_model_of_another_family_than_the_adapter_are_refused_before_queueing(
    make_studio: StudioMaker,
    make_pool: PoolMaker,
    server: HttpsServer,
    tiny_ip_adapter: Path,
    tiny_model_dir: Path,
) -> None:
    make_pool.ip_adapter = ip_adapter_ref(str(tiny_ip_adapter))
    studio = await make_studio(intake=server.intake(), image_prompt_family="sd1")
    big = ConfiguredModel("big", str(tiny_model_dir), "1", "", family="sdxl")
    await enter_configured(studio.db, [big], now=make_pool.clock())
    url = server.url("/red.png")
    requests = await studio.requests_for(OWNER, f"{url} a fox --model big")
    expected = (
        "image prompts cannot run on `big:1`: this bot's IP-Adapter is made for SD 1.x models "
        "and `big:1` is a model of the SDXL family"
    )
    with pytest.raises(StudioError, match=expected):
        await studio.check_model_access(OWNER, requests, images=1)
    images = await studio.take_images(requests[0].image_urls)
    with pytest.raises(StudioError, match=expected):
        await studio.submit_imagine(OWNER, requests[0], images=images)
    assert await job_count(studio.db) == 0
    # Words alone still run on it, and images on a model of the adapter's family.
    (words,) = await studio.requests_for(OWNER, "a fox --model big")
    await studio.check_model_access(OWNER, [words])
    same = await studio.requests_for(OWNER, f"{url} a fox")
    await studio.check_model_access(OWNER, same, images=1)
