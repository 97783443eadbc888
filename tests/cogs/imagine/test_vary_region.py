"""Vary (Region) end to end: the button answers its owner with a signed editor link; the
editor's Submit (over HTTP, as the page sends it) queues a region job, which the bot shows
in the upscale's channel as a reply to the upscaled image, with progress, and delivers as a
grid with its buttons — also when a restart falls in between."""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
from PIL import Image, ImageDraw

from bot.app import AtelierBot
from db.jobs import JobKind, JobStatus, get_job
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of

PUBLIC_URL = "https://atelier.test"


def link_of(message: RecordedMessage) -> str:
    """The URL of the message's one link button."""
    urls = [
        component["url"]
        for row in message.components
        for component in row.get("components", [])
        if "url" in component
    ]
    assert len(urls) == 1, message.components
    return str(urls[0])


def mask(side: int = 128) -> bytes:
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).rectangle((32, 32, 95, 95), fill=255)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def upscaled_image(fake: FakeDiscord, alice: FakeUser) -> RecordedMessage:
    rec = await fake.slash("imagine", {"prompt": "a quiet harbour --seed 5"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    upscale = await fake.press(grid.id, button(grid, "u", 0), user=alice)
    return await upscale.wait_original(lambda m: bool(m.attachments), timeout=30)


async def submit_from_editor(bot: AtelierBot, link: str) -> dict[str, Any]:
    """Open the editor link (at the address the bot listens on) and submit its form with a
    mask, from the public address's origin, as the page's script does."""
    assert bot.web is not None
    address = bot.web.url + link.removeprefix(PUBLIC_URL)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(address) as response:
            assert response.status == 200
            page = await response.text()
        token = re.search(r'name="token" value="([0-9a-f]{64})"', page)
        assert token is not None
        form = aiohttp.FormData()
        form.add_field("mask", mask(), filename="mask.png", content_type="image/png")
        form.add_field("prompt", "a quiet harbour at night --seed 5")
        form.add_field("token", token[1])
        async with session.post(address, data=form, headers={"Origin": PUBLIC_URL}) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == 200, answer
            return answer


def replies_to(message_id: int, job_id: int) -> Any:
    """Whether a message replies to ``message_id`` carrying job ``job_id``'s grid."""

    def check(message: RecordedMessage) -> bool:
        return (
            message.message_reference is not None
            and int(message.message_reference["message_id"]) == message_id
            and is_result(message)
            and job_id_of(message) == job_id
        )

    return check


async def test_vary_region_links_its_owner_to_the_editor_and_the_result_replies_to_the_upscale(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start(public_url=PUBLIC_URL)
    upscaled = await upscaled_image(fake, alice)
    assert "Vary (Region)" in upscaled.button_labels
    source = job_id_of(upscaled)

    stranger = await fake.press(upscaled.id, button(upscaled, "region"), user=bob)
    refusal = await stranger.wait_original()
    assert stranger.ephemeral
    assert "These buttons belong to" in refusal.content

    press = await fake.press(upscaled.id, button(upscaled, "region"), user=alice)
    answer = await press.wait_original()
    assert press.ephemeral
    assert "The link is yours alone" in answer.content
    link = link_of(answer)
    assert link.startswith(f"{PUBLIC_URL}/edit/{source}?member={alice.id}&expires=")

    bots.script.step_delay = 0.05  # long enough to show progress
    queued = await submit_from_editor(bot, link)
    job_id = queued["job_id"]
    channel = fake.channel_messages()[0].channel_id
    assert queued["message_url"] == (
        f"https://discord.com/channels/{fake.guild_id}/{channel}/{upscaled.id}"
    )
    result = await fake.wait_for_message(replies_to(upscaled.id, job_id), timeout=60)
    assert result.interaction_id is None  # posted by the bot itself, not an interaction
    assert [label for label in result.button_labels if label[0] in "UV"] == [
        "U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4",
    ]  # fmt: skip
    status = await fake.wait_for_message(
        lambda m: (
            m.message_reference is not None
            and int(m.message_reference["message_id"]) == upscaled.id
            and m.id != result.id
        )
    )
    assert any("%" in str(shown.get("content")) for shown in status.history)  # progress shown
    job = await get_job(bot.db, job_id)
    assert job is not None
    assert (job.kind, job.status, job.parent_job_id) == (JobKind.REGION, JobStatus.DONE, source)


async def test_a_region_job_interrupted_by_a_restart_still_replies_to_the_upscale(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await bots.start(public_url=PUBLIC_URL, shutdown_grace_seconds=0)
    upscaled = await upscaled_image(fake, alice)
    press = await fake.press(upscaled.id, button(upscaled, "region"), user=alice)
    link = link_of(await press.wait_original())
    bots.script.step_delay = 0.3
    queued = await submit_from_editor(first, link)
    await fake.wait_for_message(
        lambda m: m.message_reference is not None and "%" in m.content, timeout=30
    )
    await bots.stop(first)
    bots.script.step_delay = 0.0

    second = await bots.start(public_url=PUBLIC_URL)
    result = await fake.wait_for_message(replies_to(upscaled.id, queued["job_id"]), timeout=60)
    assert result.attachments
    job = await get_job(second.db, queued["job_id"])
    assert job is not None
    assert job.status is JobStatus.DONE
    # One status message and one result: nothing was posted twice.
    replies = [
        m
        for m in fake.channel_messages()
        if m.message_reference is not None and int(m.message_reference["message_id"]) == upscaled.id
    ]
    assert len(replies) == 2
