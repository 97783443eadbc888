"""Image prompts and /blend end to end: the real discord.py client against the stand-in,
image URLs fetched from an HTTPS server on 127.0.0.1, attachments read from the stand-in's
CDN, and jobs run on the tiny model with a tiny random IP-Adapter. Every refused image is
answered only to the member, with nothing queued."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.app import AtelierBot
from db.jobs import JobStatus, get_job
from inference.jobs import GenerationJob
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of, member_answer
from tests.helpers.https_server import (
    HOST,
    HttpsServer,
    RecordingBackend,
    Reply,
    StubResolver,
    https_server,
)
from tests.helpers.studio import job_count


def _png(size: tuple[int, int], color: tuple[int, int, int] = (200, 60, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: ``side``² × 3 bytes and more."""
    noise = random.Random(7).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(buffer, format="PNG")
    return buffer.getvalue()


RED, BLUE, GREEN = _png((24, 16)), _png((16, 24), (30, 30, 200)), _png((20, 20), (30, 200, 30))
#: What the test intake takes: 0.1 MB and 0.1 megapixels an image.
MAX_BYTES, MAX_PIXELS = 100_000, 100_000
TOO_BIG = _noise_png(256)  # ≈ 0.2 MB
TOO_MANY_PIXELS = _png((400, 400))  # 0.16 megapixels in a few hundred bytes
#: A name a stub resolver answers with the cloud metadata address.
METADATA_HOST = "metadata.example.org"


@pytest.fixture
def server() -> Iterator[HttpsServer]:
    routes = {"/fox.png": Reply(RED), "/snow.png": Reply(BLUE)}
    with https_server(routes) as running:
        yield running


@pytest.fixture
def image_bot(bots: Bots, server: HttpsServer, tiny_ip_adapter: Path) -> Any:
    """Starts a bot with the tiny IP-Adapter configured and an intake that trusts
    ``server`` (each start gets a new one: a bot closes its intake when it stops)."""

    async def start(**overrides: Any) -> AtelierBot:
        intake = server.intake(max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        return await bots.start(intake=intake, ip_adapter=str(tiny_ip_adapter), **overrides)

    return start


async def _job(bot: AtelierBot, message: RecordedMessage) -> tuple[GenerationJob, JobStatus]:
    assert bot.db is not None
    record = await get_job(bot.db, job_id_of(message))
    assert record is not None
    return GenerationJob.from_params(record.params), record.status


async def _jobs(bot: AtelierBot) -> int:
    assert bot.db is not None
    return await job_count(bot.db)


def _stored(path: str) -> bytes:
    return Path(path).read_bytes()


# --- image prompts and /blend ----------------------------------------------------------------


async def test_an_image_prompt_by_url_shows_progress_and_keeps_its_image_with_the_job(
    image_bot: Any, bots: Bots, fake: FakeDiscord, alice: FakeUser, server: HttpsServer
) -> None:
    bot = await image_bot()
    bots.script.step_delay = 0.1
    url = server.url("/fox.png")
    rec = await fake.slash("imagine", {"prompt": f"{url} a fox in snow --iw 2"}, user=alice)
    final = await rec.wait_original(is_result, timeout=60)
    seen = [version["content"] for version in final.history]
    assert any("%" in text for text in seen)
    job, status = await _job(bot, final)
    assert status is JobStatus.DONE
    assert (job.request.prompt, job.request.image_urls) == ("a fox in snow", (url,))
    assert job.request.image_weight == 2.0
    (image,) = job.image_prompts
    assert image.source == url
    assert Path(image.path).parent == bots.data_dir / "inputs"
    with Image.open(io.BytesIO(_stored(image.path))) as copy:
        assert (copy.format, copy.size) == ("PNG", (24, 16))
    assert [path for path, _ in server.requests] == ["/fox.png"]
    assert bot.db is not None
    record = await get_job(bot.db, job_id_of(final))
    assert record is not None
    assert record.gpu_seconds > 0  # counted like any job's


async def test_an_attached_image_is_read_from_discord_and_becomes_the_image_prompt(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    options = {"prompt": "a fox --iw 0.5", "image": ("fox.png", RED), "image2": ("sky", BLUE)}
    rec = await fake.slash("imagine", options, user=alice)
    final = await rec.wait_original(is_result, timeout=60)
    job, status = await _job(bot, final)
    assert status is JobStatus.DONE
    assert [image.source for image in job.image_prompts] == [
        "attachment:fox.png",
        "attachment:sky",
    ]
    assert job.request.image_weight == 0.5
    assert len(fake.cdn_reads) == 2


async def test_blend_makes_a_grid_from_the_images_alone_in_the_shape_chosen(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    options = {
        "image1": ("red.png", RED),
        "image2": ("blue.png", BLUE),
        "image3": ("green.png", GREEN),
        "dimensions": "landscape",
    }
    rec = await fake.slash("blend", options, user=alice)
    final = await rec.wait_original(is_result, timeout=60)
    job, status = await _job(bot, final)
    assert status is JobStatus.DONE
    assert job.request.prompt == ""
    assert job.request.aspect == (3, 2)
    assert job.width > job.height
    assert [image.source for image in job.image_prompts] == [
        "attachment:red.png",
        "attachment:blue.png",
        "attachment:green.png",
    ]


async def test_imagine_with_an_attached_image_and_no_words_needs_no_prompt(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    rec = await fake.slash("imagine", {"image": ("fox.png", RED)}, user=alice)
    final = await rec.wait_original(is_result, timeout=60)
    job, status = await _job(bot, final)
    assert status is JobStatus.DONE
    assert job.request.prompt == ""
    assert [image.source for image in job.image_prompts] == ["attachment:fox.png"]


async def test_a_square_blend_is_remixed_with_its_empty_prompt_form_submitted_as_it_came(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    # A square /blend has no words and no flag to prefill: the form must still submit.
    bot = await image_bot()
    options = {"image1": ("red.png", RED), "image2": ("blue.png", BLUE), "dimensions": "square"}
    rec = await fake.slash("blend", options, user=alice)
    blend = await rec.wait_original(is_result, timeout=60)
    await (await fake.slash("prefer remix", {"mode": "on"}, user=alice)).wait_original()
    press = await fake.press(blend.id, button(blend, "reroll"), user=alice)
    await press.wait_acknowledged()
    assert press.modal is not None
    submitted = await fake.submit_modal(press, {}, user=alice)
    rerolled = await submitted.wait_original(is_result, timeout=60)
    job, status = await _job(bot, rerolled)
    assert status is JobStatus.DONE
    assert job.request.prompt == ""
    assert [image.source for image in job.image_prompts] == [
        "attachment:red.png",
        "attachment:blue.png",
    ]


# --- refusals: only to the member, nothing queued --------------------------------------------


async def test_without_an_ip_adapter_images_are_refused_naming_the_setting(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, server: HttpsServer
) -> None:
    bot = await bots.start(intake=server.intake())
    url = server.url("/fox.png")
    tries = [
        ("imagine", {"prompt": f"{url} a fox"}),
        ("imagine", {"prompt": "a fox", "image": ("fox.png", RED)}),
        ("blend", {"image1": ("a.png", RED), "image2": ("b.png", BLUE)}),
    ]
    for command, options in tries:
        answer = await member_answer(fake, await fake.slash(command, options, user=alice))
        assert answer.ephemeral
        assert "ATELIER_IP_ADAPTER" in answer.content
    assert server.requests == []
    assert fake.cdn_reads == []
    assert await _jobs(bot) == 0


async def test_each_refused_image_is_answered_privately_and_nothing_is_queued(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser, server: HttpsServer
) -> None:
    bot = await image_bot()
    url = server.url("/fox.png")
    port = server.port
    tries: list[tuple[str, dict[str, Any], str]] = [
        (
            "imagine",
            {"prompt": f"http://localhost:{port}/fox.png a fox"},
            "is not an https:// link; only https is fetched",
        ),
        (
            "imagine",
            {"prompt": "https://example.com/fox.png a fox"},
            "is not on an allowed host; images are fetched only from localhost",
        ),
        (
            "imagine",
            {"prompt": "a fox", "image": ("big.png", TOO_BIG)},
            f"“big.png” is {len(TOO_BIG) / 1e6:.1f} MB; images may be at most 0.1 MB",
        ),
        (
            "imagine",
            {"prompt": "a fox", "image": ("notes.png", b"just some text")},
            "notes.png",
        ),
        (
            "blend",
            {"image1": ("a.png", RED), "image2": ("huge.png", TOO_MANY_PIXELS)},
            "is 400×400 pixels (0.2 megapixels); images may have at most 0.1 megapixels",
        ),
        (
            "imagine",
            {
                "prompt": f"{url} {url} {url} a fox",
                "image": ("a.png", RED),
                "image2": ("b.png", RED),
                "image3": ("c.png", RED),
            },
            "this prompt comes with 6 images",
        ),
        (
            "imagine",
            {"prompt": f"{url} a fox --iw 3.5"},
            "--iw 3.5: must be a number from 0 to 3",
        ),
        (
            "imagine",
            {"prompt": "a fox --iw 2"},
            "--iw weighs image prompts against the text, but this prompt has no image",
        ),
    ]
    for command, options, expected in tries:
        answer = await member_answer(fake, await fake.slash(command, options, user=alice))
        assert answer.ephemeral, answer.content
        assert answer.content.startswith("⚠️"), answer.content
        assert expected in answer.content, answer.content
    assert server.requests == []  # every refusal came before any download
    big = next(a for a in fake.uploads.values() if a.filename == "big.png")
    assert big.id not in fake.cdn_reads  # refused by its size before it was read
    assert await _jobs(bot) == 0
    assert not [m for m in fake.channel_messages() if not m.deleted]


async def test_imagine_with_neither_words_nor_an_image_is_refused_privately(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    answer = await member_answer(fake, await fake.slash("imagine", {}, user=alice))
    assert answer.ephemeral
    assert "Nothing to imagine" in answer.content
    assert "`prompt`" in answer.content
    assert "`image`" in answer.content
    assert await _jobs(bot) == 0


async def test_an_attachment_discord_does_not_hand_over_is_named_and_nothing_is_queued(
    image_bot: Any, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    fake.cdn_failures = [503]
    options = {"prompt": "a fox", "image": ("fox.png", RED)}
    answer = await member_answer(fake, await fake.slash("imagine", options, user=alice))
    assert answer.ephemeral
    assert "could not read “fox.png” from Discord; try again" in answer.content
    assert "Something went wrong" not in answer.content
    assert fake.cdn_failures == []  # the bot did ask Discord for it
    assert await _jobs(bot) == 0
    assert not [m for m in fake.channel_messages() if not m.deleted]


async def test_urls_refused_for_where_they_lead_are_answered_privately_and_nothing_is_queued(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, tiny_ip_adapter: Path
) -> None:
    """A name that resolves to the cloud metadata address (a stub answers the lookup: no
    connection is made), a server too slow for the time cap, one that answers 404."""
    routes = {"/slow.png": Reply(RED, delay_seconds=5), "/fox.png": Reply(RED)}
    with https_server(routes) as server:
        backend = RecordingBackend()
        resolver = StubResolver({HOST: ["127.0.0.1"], METADATA_HOST: ["169.254.169.254"]})
        intake = server.intake(
            resolver=resolver,
            backend=backend,
            hosts=frozenset({HOST, METADATA_HOST}),
            fetch_seconds=0.5,
        )
        bot = await bots.start(intake=intake, ip_adapter=str(tiny_ip_adapter))
        tries = [
            (
                f"https://{METADATA_HOST}/fox.png a fox",
                f"{METADATA_HOST} resolves to 169.254.169.254, a cloud metadata address",
            ),
            (f"{server.url('/slow.png')} a fox", "took longer than 0.5 seconds to download"),
            (f"{server.url('/gone.png')} a fox", "answered HTTP 404 instead of an image"),
        ]
        for prompt, expected in tries:
            answer = await member_answer(
                fake, await fake.slash("imagine", {"prompt": prompt}, user=alice)
            )
            assert answer.ephemeral, answer.content
            assert expected in answer.content, answer.content
        assert set(backend.connects) == {"127.0.0.1"}  # never the metadata address
        assert await _jobs(bot) == 0
        assert not [m for m in fake.channel_messages() if not m.deleted]


# --- like any job: cancel, restarts, limits --------------------------------------------------


async def test_an_image_job_can_be_cancelled(
    image_bot: Any, bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await image_bot()
    bots.script.step_delay = 0.3
    options = {"prompt": "a fox --steps 20", "image": ("fox.png", RED)}
    rec = await fake.slash("imagine", options, user=alice)
    running = await rec.wait_original(lambda m: "%" in m.content, timeout=60)
    job_id = job_id_of(running)
    press = await fake.press(running.id, button(running, "cancel"), user=alice)
    await press.wait_acknowledged()
    await rec.wait_original(lambda m: m.content.endswith("cancelled"), timeout=30)
    assert bot.db is not None
    record = await get_job(bot.db, job_id)
    assert record is not None
    assert record.status is JobStatus.CANCELLED


async def test_an_image_job_interrupted_by_a_restart_finishes_after_it_from_its_stored_images(
    image_bot: Any, bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await image_bot(shutdown_grace_seconds=0)
    bots.script.step_delay = 0.3
    options = {"image1": ("red.png", RED), "image2": ("blue.png", BLUE)}
    rec = await fake.slash("blend", options, user=alice)
    status = await rec.wait_original(lambda m: "%" in m.content, timeout=60)
    await bots.stop(first)
    bots.script.step_delay = 0.0
    reads = len(fake.cdn_reads)

    second = await image_bot()
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=60
    )
    assert int(result.message_reference["message_id"]) == status.id
    job, done = await _job(second, status)
    assert done is JobStatus.DONE
    assert len(job.image_prompts) == 2
    assert len(fake.cdn_reads) == reads  # from the copies on disk, not read again


async def test_image_jobs_count_toward_the_per_user_limits_and_are_refused_before_fetching(
    image_bot: Any, bots: Bots, fake: FakeDiscord, alice: FakeUser, server: HttpsServer
) -> None:
    bot = await image_bot(max_running_per_user=1, max_queued_per_user=1)
    bots.script.step_delay = 0.3
    running = await fake.slash(
        "imagine", {"prompt": f"{server.url('/fox.png')} a fox --steps 20"}, user=alice
    )
    await running.wait_original(lambda m: "%" in m.content, timeout=60)
    waiting = await fake.slash("blend", {"image1": ("a", RED), "image2": ("b", BLUE)}, user=alice)
    await waiting.wait_original(lambda m: "Waiting to start" in m.content, timeout=30)
    fetched = len(server.requests)
    rec = await fake.slash("imagine", {"prompt": f"{server.url('/snow.png')} snow"}, user=alice)
    refusal = await member_answer(fake, rec)
    assert refusal.ephemeral
    assert "limit" in refusal.content
    assert len(server.requests) == fetched
    assert await _jobs(bot) == 2
    bots.script.step_delay = 0.0
    await waiting.wait_original(is_result, timeout=60)
