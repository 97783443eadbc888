"""/leaderboard and /contest hall-of-fame through the stand-in: ranks, names and figures in
an embed, only the server's own members and activity, ◀ ▶ paging that edits the message in
place (also after a restart), the trending image, the empty backers board, past winners
with their images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from contests.leaderboards import Window
from db.database import Database
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.boards import favorite, hide, posted_job
from tests.helpers.clock import FakeClock
from tests.helpers.contests import run_contest
from tests.helpers.discord_bots import Bots

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
FIRST_CREATOR = 5001
STRANGER = 6666


def embed(message: RecordedMessage) -> dict[str, object]:
    assert len(message.embeds) == 1, message.embeds
    return message.embeds[0]


def rows(message: RecordedMessage) -> list[str]:
    description = embed(message).get("description")
    assert isinstance(description, str)
    return description.splitlines()


def footer(message: RecordedMessage) -> str:
    found = embed(message).get("footer")
    assert isinstance(found, dict)
    return str(found["text"])


async def twelve_creators(db: Database, guild_id: int) -> None:
    """Creators 5001..5012, creator n getting n − 5000 ❤ from others this week on an image
    posted in ``guild_id``; 5012, the best of them, hides their results."""
    for n in range(12):
        job_id = await posted_job(
            db, FIRST_CREATOR + n, at=NOW - timedelta(days=10), guild=guild_id
        )
        fans = [9000 + k for k in range(n + 1)]
        await favorite(db, job_id, *fans, at=NOW - timedelta(days=2))
    await hide(db, FIRST_CREATOR + 11)


async def test_creators_board_pages_with_buttons_that_survive_a_restart(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start(clock=FakeClock(NOW))
    assert bot.db is not None
    await twelve_creators(bot.db, fake.guild_id)
    # The best-loved creator of another server the bot is in is not on this server's board.
    elsewhere = await posted_job(
        bot.db, STRANGER, at=NOW - timedelta(days=1), guild=fake.guild_id + 1
    )
    await favorite(bot.db, elsewhere, *range(9100, 9150), at=NOW - timedelta(days=1))
    [registered] = [c for c in fake.registered_commands() if c["name"] == "leaderboard"]
    assert registered["contexts"] == [0]  # servers only: not in DMs

    rec = await fake.slash("leaderboard", {"board": "creators", "window": "week"}, user=alice)
    board = await rec.wait_original(lambda m: not m.loading)

    assert not rec.ephemeral
    assert embed(board)["title"] == f"🏆 Top creators · {Window.WEEK.label}"
    first_page = rows(board)
    assert len(first_page) == 10
    assert first_page[0] == f"🥇 <@{FIRST_CREATOR + 10}> — **11** (0 contest points · 11 ❤)"
    assert first_page[3].startswith(f"**4.** <@{FIRST_CREATOR + 7}> — **8**")
    assert footer(board).startswith("Page 1/2")
    assert f"<@{FIRST_CREATOR + 11}>" not in str(board.embeds)
    assert f"<@{STRANGER}>" not in str(board.embeds)
    assert board.custom_ids == ["board:creators:week:1", "board:creators:week:2"]
    assert board.component("board:creators:week:1")["disabled"] is True  # type: ignore[index]

    edits = board.edits
    pressed = await fake.press(board.id, "board:creators:week:2", user=bob)
    await fake.wait_for(lambda: board.edits > edits)

    assert pressed.original is board  # the leaderboard message itself was edited
    assert rows(board) == [f"**11.** <@{FIRST_CREATOR}> — **1** (0 contest points · 1 ❤)"]
    assert footer(board).startswith("Page 2/2")
    assert board.custom_ids == ["board:creators:week:1", "board:creators:week:2"]
    assert board.component("board:creators:week:2")["disabled"] is True  # type: ignore[index]

    await bots.stop(bot)
    await bots.start(clock=FakeClock(NOW))
    edits = board.edits
    await fake.press(board.id, "board:creators:week:1", user=bob)
    await fake.wait_for(lambda: board.edits > edits)

    assert rows(board) == first_page
    assert footer(board).startswith("Page 1/2")


async def test_trending_shows_the_top_image_and_job_ids_and_backers_says_how_to_get_on(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, tmp_path: Path
) -> None:
    bot = await bots.start(clock=FakeClock(NOW))
    db = bot.db
    assert db is not None
    top = await posted_job(db, alice.id, at=NOW - timedelta(hours=6), guild=fake.guild_id)
    second = await posted_job(db, 6001, at=NOW - timedelta(days=1), guild=fake.guild_id)
    path = tmp_path / "top.png"
    Image.new("RGB", (32, 32), "orange").save(path)
    async with db.transaction() as conn:
        await conn.execute("UPDATE images SET path = ? WHERE job_id = ?", (str(path), top))
    await favorite(db, top, 7001, 7002, at=NOW - timedelta(hours=1))
    await favorite(db, second, 7001, at=NOW - timedelta(hours=1))

    rec = await fake.slash("leaderboard", {"board": "trending", "window": "all"}, user=alice)
    trending = await rec.wait_original(lambda m: not m.loading)

    lines = rows(trending)
    assert lines[0].startswith(f"🥇 <@{alice.id}> — job **#{top}** · 2 ❤ · score 2.00")
    assert lines[1].startswith(f"🥈 <@6001> — job **#{second}** · 1 ❤")
    assert len(trending.attachments) == 1
    assert trending.attachments[0].data == path.read_bytes()
    image = embed(trending)["image"]
    assert isinstance(image, dict)
    assert image["url"] == f"attachment://{trending.attachments[0].filename}"
    assert "always covers the last 7 days; the window you chose (all time)" in footer(trending)
    assert trending.custom_ids == []  # one page: no buttons

    rec = await fake.slash("leaderboard", {"board": "backers"}, user=alice)
    backers = await rec.wait_original(lambda m: not m.loading)
    assert embed(backers)["title"] == "💎 Top backers · all time"  # its default window
    assert "No backers yet" in str(embed(backers)["description"])
    assert "pledging to a model campaign" in str(embed(backers)["description"])


async def test_hall_of_fame_shows_past_winners_with_their_images_newest_first(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser, tmp_path: Path
) -> None:
    bot = await bots.start(clock=FakeClock(NOW))
    db = bot.db
    assert db is not None
    contests = FakeClock(NOW - timedelta(days=40))
    voters = {alice.id: [8001, 8002, 8003], bob.id: [8001], 8004: [8002]}
    winning_jobs = []
    for theme in ("Ruins", "Rivers", "Robots", "Rockets"):
        jobs = await run_contest(
            db, contests, theme, voters, guild_id=fake.guild_id, channel_id=fake.channel_id
        )
        winning_jobs.append(jobs[alice.id])
    path = tmp_path / "winner.png"
    Image.new("RGB", (24, 24), "purple").save(path)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE images SET path = ? WHERE job_id = ?", (str(path), jobs[alice.id])
        )

    rec = await fake.slash("contest hall-of-fame", {}, user=bob)
    famed = await rec.wait_original(lambda m: not m.loading)

    assert "Hall of fame" in famed.content
    assert "page 1/2" in famed.content
    assert [e["title"] for e in famed.embeds] == ["🏆 Rockets", "🏆 Robots", "🏆 Rivers"]
    newest = famed.embeds[0]
    assert newest["description"].startswith(f"Won by <@{alice.id}> with **3 votes**")
    assert "3 entries · 3 voters" in newest["description"]
    assert f"/show #{winning_jobs[-1]}" in newest["footer"]["text"]
    # Only the newest winner's file is still stored: one image, shown in its contest's embed.
    assert len(famed.attachments) == 1
    assert famed.attachments[0].data == path.read_bytes()
    assert newest["image"]["url"] == f"attachment://{famed.attachments[0].filename}"

    edits = famed.edits
    await fake.press(famed.id, "hof:2", user=alice)
    await fake.wait_for(lambda: famed.edits > edits)

    assert [e["title"] for e in famed.embeds] == ["🏆 Ruins"]
    assert "page 2/2" in famed.content
    assert famed.attachments == []
