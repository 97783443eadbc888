"""Links from Discord to the web studio, over the stand-in: with ATELIER_PUBLIC_URL and the
server's gallery on, 🌐 under an upscale opens the job's page; otherwise it stays Web/Info."""

from __future__ import annotations

from typing import Any

import aiohttp

from db.jobs import get_job
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of

PUBLIC_URL = "https://atelier.example.org"


def links(message: RecordedMessage) -> list[dict[str, Any]]:
    """The link buttons under ``message`` (style 5: Discord opens them, the bot is not asked)."""
    return [
        item
        for row in message.components
        for item in row.get("components", [])
        if item.get("style") == 5
    ]


async def upscaled(fake: FakeDiscord, user: FakeUser) -> RecordedMessage:
    rec = await fake.slash("imagine", {"prompt": "a red fox --seed 3"}, user=user)
    grid = await rec.wait_original(is_result, timeout=30)
    press = await fake.press(grid.id, button(grid, "u", 0), user=user)
    return await press.wait_original(lambda m: bool(m.attachments), timeout=30)


async def test_with_a_public_url_and_the_gallery_on_web_links_to_the_jobs_page(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    moderator = fake.add_user("mod", manage_guild=True)
    bot = await bots.start(public_url=PUBLIC_URL)
    turned = await fake.slash("admin gallery", {"state": "on"}, user=moderator)
    text = (await turned.wait_original()).content
    assert "The web gallery is on" in text
    assert PUBLIC_URL in text

    message = await upscaled(fake, alice)
    assert message.button_labels[-1] == "Web"
    (link,) = links(message)
    assert link["emoji"]["name"] == "🌐"
    assert bot.db is not None
    job = job_id_of(message)
    row = await bot.db.fetchone("SELECT public_id FROM jobs WHERE id = ?", (job,))
    assert row is not None
    assert link["url"] == f"{PUBLIC_URL}/j/{row[0]}"
    # The page behind the link is served by the bot's own process.
    assert bot.web is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(bot.web.url + f"/j/{row[0]}") as page,
    ):
        assert page.status == 200

    # After a restart /show draws the same link, and the other buttons still answer.
    await bots.stop(bot)
    await bots.start(public_url=PUBLIC_URL)
    shown = await (await fake.slash("show", {"job_id": job}, user=alice)).wait_original(
        lambda m: bool(m.attachments)
    )
    assert [item["url"] for item in links(shown)] == [link["url"]]
    favorite = await fake.press(shown.id, button(shown, "fav"), user=alice)
    assert "favorites" in (await favorite.wait_original()).content


async def test_without_the_gallery_or_a_public_url_web_stays_info(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    moderator = fake.add_user("mod", manage_guild=True)
    bot = await bots.start(public_url=PUBLIC_URL)
    shown = await fake.slash("admin gallery", {}, user=moderator)
    assert "The web gallery is off (the default)" in (await shown.wait_original()).content
    message = await upscaled(fake, alice)  # the gallery is off: no page to link to
    assert links(message) == []
    assert message.button_labels[-1] == "Web/Info"
    button(message, "info")
    assert bot.db is not None
    assert await get_job(bot.db, job_id_of(message)) is not None

    await bots.stop(bot)
    await bots.start()  # no ATELIER_PUBLIC_URL: everything as without the web studio
    await fake.slash("admin gallery", {"state": "on"}, user=moderator)
    message = await upscaled(fake, alice)
    assert links(message) == []
    assert message.button_labels[-1] == "Web/Info"
