"""Links from Discord to the web studio, over the stand-in: with ATELIER_PUBLIC_URL and the
server's gallery on, 🌐 under an upscale opens the job's page; otherwise it stays Web/Info."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from db.jobs import get_job
from registry.versions import NewVersion, add_version
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.clock import FakeClock
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
    # A nickname is one server's business; the web, shared by every server, shows her
    # Discord-wide name.
    alice.global_name, alice.nick = "Alice Liddell", "Ali the Moderator's pal"
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
        # The name she goes by across Discord, which the bot recorded when she used it.
        text = await page.text()
        assert f'by <a href="/m/{alice.id}">Alice Liddell</a>' in text
        assert "pal" not in text

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


async def test_info_leaderboard_campaign_and_contest_results_link_to_their_pages(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    moderator = fake.add_user("mod", manage_guild=True)
    bot = await bots.start(public_url=PUBLIC_URL, clock=clock)
    assert bot.db is not None
    await (await fake.slash("admin gallery", {"state": "on"}, user=moderator)).wait_original()
    guild = fake.guild_id

    await upscaled(fake, alice)
    info = await (await fake.slash("info", {}, user=alice)).wait_original()
    fields = {f["name"]: f["value"] for f in info.embeds[0]["fields"]}
    assert fields["Your gallery"] == f"{PUBLIC_URL}/m/{alice.id}"

    board = await (
        await fake.slash("leaderboard", {"board": "creators", "window": "week"}, user=alice)
    ).wait_original(lambda m: not m.loading)
    assert board.embeds[0]["url"] == f"{PUBLIC_URL}/s/{guild}/boards/creators?window=week"

    await add_version(
        bot.db,
        NewVersion(
            name="dreamy", version="2", source="org/dreamy", family="sd1", creator_id=alice.id
        ),
        added_by=alice.id,
        now=start,
    )
    created = await fake.slash(
        "campaign create",
        {"model": "dreamy:2", "goal": "50", "currency": "USD", "deadline": "3"},
        user=alice,
    )
    await created.wait_original(lambda m: not m.loading)
    campaign = await fake.wait_for_message(lambda m: "campaign:pledge:1" in m.custom_ids)
    assert campaign.embeds[0]["url"] == f"{PUBLIC_URL}/campaigns/1"

    opened = await fake.slash(
        "contest open", {"theme": "foxes", "submit_days": 1, "vote_days": 1}, user=moderator
    )
    await opened.wait_original()
    clock.now = start + timedelta(days=1)
    await bot.phases.tick()
    clock.now = start + timedelta(days=2)
    await bot.phases.tick()
    results = await fake.wait_for_message(
        lambda m: bool(m.embeds) and "Results of Contest #1" in m.embeds[0]["title"]
    )
    assert results.embeds[0]["url"] == f"{PUBLIC_URL}/contests/1"
