"""Contests run through the contests service on a fake clock, then read back by the boards:
the hall of fame of past winners, contest points on the creators board, wins per model."""

from __future__ import annotations

from contests.boards.hall_of_fame import Winner, count_famed, hall_of_fame
from contests.leaderboards import (
    CreatorStanding,
    ModelStanding,
    Window,
    creators_board,
    models_board,
)
from db.database import Database
from db.users import UserSettings, save_user_settings
from tests.helpers.clock import FakeClock
from tests.helpers.contests import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    ERIN,
    GUILD,
    run_contest,
)


async def post_every_job_in(db: Database, guild_id: int) -> None:
    """Record every job's message as posted in ``guild_id`` (as /imagine does)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
            " SELECT id, ?, ?, id FROM jobs WHERE true ON CONFLICT (job_id) DO NOTHING",
            (guild_id, CHANNEL),
        )


async def test_a_closed_contest_enters_the_hall_of_fame_and_the_boards(
    db: Database, clock: FakeClock
) -> None:
    jobs = await run_contest(
        db,
        clock,
        "Lighthouses at dusk",
        {ALICE: [CAROL, DAVE, ERIN], BOB: [DAVE, ERIN], CAROL: [ALICE]},
    )
    # Two entries only: no places awarded, so no winner to remember.
    await run_contest(db, clock, "Foxes in snow", {ALICE: [BOB], BOB: [CAROL]})
    await post_every_job_in(db, GUILD)

    famed = await hall_of_fame(db, GUILD)
    assert await count_famed(db, GUILD) == 1
    assert [(f.theme, f.entries, f.voters) for f in famed] == [("Lighthouses at dusk", 3, 4)]
    assert famed[0].winners == [Winner(ALICE, jobs[ALICE], 0, 3, hidden=False)]
    assert await hall_of_fame(db, GUILD + 1) == []

    creators = await creators_board(db, guild_id=GUILD, window=Window.MONTH, now=clock.now)
    # 10 / 6 / 3 for the places, +1 for each entry (also in the contest with two entries).
    assert creators == [
        CreatorStanding(ALICE, 12, 0),
        CreatorStanding(BOB, 8, 0),
        CreatorStanding(CAROL, 4, 0),
    ]
    assert await models_board(db, guild_id=GUILD, window=Window.MONTH, now=clock.now) == [
        ModelStanding("tiny", 20, 1)
    ]
    # Another server the bot is in has no contests: nothing of these on its boards.
    assert await creators_board(db, guild_id=GUILD + 1, window=Window.ALL, now=clock.now) == []


async def test_ties_share_the_hall_of_fame_and_hidden_winners_stay_unnamed(
    db: Database, clock: FakeClock
) -> None:
    await run_contest(db, clock, "Ruins", {ALICE: [CAROL, DAVE], BOB: [DAVE, ERIN], CAROL: [ERIN]})
    await run_contest(db, clock, "Rivers", {DAVE: [ALICE, BOB], ERIN: [ALICE], CAROL: []})
    await save_user_settings(db, UserSettings(BOB, public=False))

    famed = await hall_of_fame(db, GUILD)

    assert [f.theme for f in famed] == ["Rivers", "Ruins"]  # newest first
    assert [(w.user_id, w.votes, w.hidden) for w in famed[1].winners] == [
        (ALICE, 2, False),
        (BOB, 2, True),
    ]
    assert [f.theme for f in await hall_of_fame(db, GUILD, offset=1, limit=1)] == ["Ruins"]
