"""Weekly contests: the theme queue, rotation without repeats, and catch-up of missed weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contests import announcements, lifecycle
from contests.errors import ContestError, ContestHint
from contests.model import AnnouncementKind, ContestState
from contests.schedule import clear_schedule, get_schedule, next_occurrence, set_schedule
from contests.store import guild_contests
from contests.themes import add_theme, list_themes, remove_theme
from db.database import Database
from tests.helpers.clock import T0
from tests.helpers.contests import CHANNEL, GUILD, MOD

WEDNESDAY = 2


async def weekly(db: Database, *, submit: int = 2, vote: int = 2) -> datetime:
    return await set_schedule(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        weekday=WEDNESDAY,
        hour=17,
        submit_days=submit,
        vote_days=vote,
        set_by=MOD,
        now=T0,
    )


async def opened_themes(db: Database) -> list[str | None]:
    contests = await guild_contests(db, GUILD, limit=100)
    opened = [c for c in contests if c.state is not ContestState.SCHEDULED]
    return [c.theme for c in sorted(opened, key=lambda c: c.opens_at)]


def test_next_occurrence() -> None:
    monday_18 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert next_occurrence(WEDNESDAY, 17, monday_18) == datetime(2026, 11, 25, 17, tzinfo=UTC)
    assert next_occurrence(0, 18, monday_18) == datetime(2026, 11, 30, 18, tzinfo=UTC)
    assert next_occurrence(0, 19, monday_18) == datetime(2026, 11, 23, 19, tzinfo=UTC)


async def test_theme_queue(db: Database) -> None:
    await add_theme(db, GUILD, "Foxes", added_by=MOD, now=T0)
    with pytest.raises(ContestError, match="already in the theme queue"):
        await add_theme(db, GUILD, "  foxes ", added_by=MOD, now=T0)
    with pytest.raises(ContestError, match="at most 200 characters"):
        await add_theme(db, GUILD, "x" * 201, added_by=MOD, now=T0)
    await add_theme(db, GUILD, "Owls", added_by=MOD, now=T0)
    assert [t.theme for t in await list_themes(db, GUILD)] == ["Foxes", "Owls"]
    assert await remove_theme(db, GUILD, "FOXES", now=T0) == "Foxes"
    with pytest.raises(ContestError, match="not in the theme queue") as absent:
        await remove_theme(db, GUILD, "foxes", now=T0)
    assert absent.value.hint is ContestHint.THEMES
    assert [t.theme for t in await list_themes(db, GUILD)] == ["Owls"]
    assert await list_themes(db, GUILD + 1) == []


async def test_themes_match_with_unicode_case_folding(db: Database) -> None:
    await add_theme(db, GUILD, "Äpfel im Schnee", added_by=MOD, now=T0)
    with pytest.raises(ContestError, match="“Äpfel im Schnee” is already in the theme queue"):
        await add_theme(db, GUILD, "äpfel IM schnee", added_by=MOD, now=T0)
    await add_theme(db, GUILD, "Straße", added_by=MOD, now=T0)
    with pytest.raises(ContestError, match="already in the theme queue"):
        await add_theme(db, GUILD, "STRASSE", added_by=MOD, now=T0)  # ß folds to ss
    assert await remove_theme(db, GUILD, "ÄPFEL IM SCHNEE", now=T0) == "Äpfel im Schnee"
    assert [t.theme for t in await list_themes(db, GUILD)] == ["Straße"]
    # Opening a contest by hand on a queued theme counts as its use, whatever the case.
    await lifecycle.open_contest(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        theme="straße",
        submit_days=1,
        vote_days=1,
        opened_by=MOD,
        now=T0,
    )
    assert [(t.theme, t.uses) for t in await list_themes(db, GUILD)] == [("Straße", 1)]


async def test_a_theme_removed_and_added_again_keeps_its_place(db: Database) -> None:
    for theme in ("Foxes", "Owls", "Bridges"):
        await add_theme(db, GUILD, theme, added_by=MOD, now=T0)
    first = await weekly(db)
    for week in (0, 1):  # Foxes, then Owls
        await lifecycle.advance(db, first + timedelta(days=7 * week, hours=1))
    await remove_theme(db, GUILD, "owls", now=first)
    again = await add_theme(db, GUILD, "OWLS", added_by=MOD, now=first)
    assert (again.theme, again.uses) == ("OWLS", 1)
    # Owls was used after Foxes, so it still waits behind it rather than jumping ahead.
    assert [(t.theme, t.uses) for t in await list_themes(db, GUILD)] == [
        ("Bridges", 0),
        ("Foxes", 1),
        ("OWLS", 1),
    ]
    for week in (2, 3, 4):
        await lifecycle.advance(db, first + timedelta(days=7 * week, hours=1))
    assert await opened_themes(db) == ["Foxes", "Owls", "Bridges", "Foxes", "OWLS"]


async def test_weekly_rotation_never_repeats_until_all_were_used(db: Database) -> None:
    for theme in ("Foxes", "Owls", "Bridges"):
        await add_theme(db, GUILD, theme, added_by=MOD, now=T0)
    first = await weekly(db)
    assert first == datetime(2026, 11, 25, 17, tzinfo=UTC)
    assert await lifecycle.next_due(db) == first
    now = first
    for week in range(6):
        await lifecycle.advance(db, now + timedelta(days=week * 7, hours=1))
        if week == 1:
            await add_theme(db, GUILD, "Rain", added_by=MOD, now=now)
    assert await opened_themes(db) == [
        "Foxes",
        "Owls",
        "Bridges",
        "Rain",  # added in week 2: it has its turn before any theme comes round again
        "Foxes",
        "Owls",
    ]


async def test_missed_weeks_are_caught_up_once_without_a_post_per_week(db: Database) -> None:
    for theme in ("Foxes", "Owls"):
        await add_theme(db, GUILD, theme, added_by=MOD, now=T0)
    first = await weekly(db, submit=2, vote=2)
    # Down until 14.5 days after the first contest was due: weeks 1 and 2 ran their whole
    # submission phase unseen; week 3 opened 12 hours ago and still takes entries.
    back = first + timedelta(days=14, hours=12)
    await lifecycle.advance(db, back)
    await lifecycle.advance(db, back)
    # Members never saw weeks 1 and 2 announced, so nothing is posted about them: the only
    # post is week 3 opening (late, with its deadline unchanged).
    posted = [(a.contest_id, a.kind) for a in await announcements.pending(db)]
    assert posted == [(2, AnnouncementKind.OPENING)]
    contests = {c.id: c for c in await guild_contests(db, GUILD, limit=10)}
    assert contests[1].state is ContestState.CANCELLED
    assert contests[1].cancel_reason == "Atelier was offline for its whole submission phase"
    # Week 2 was skipped outright rather than created only to be retired.
    assert contests[2].opens_at == first + timedelta(days=14)
    assert contests[2].voting_at == first + timedelta(days=16)
    assert contests[2].theme == "Foxes"  # the retired week used no theme
    assert contests[3].state is ContestState.SCHEDULED
    assert contests[3].opens_at == first + timedelta(days=21)
    assert len(contests) == 3


async def test_an_outage_of_months_retires_one_row_and_resumes(db: Database) -> None:
    await add_theme(db, GUILD, "Foxes", added_by=MOD, now=T0)
    first = await weekly(db, submit=2, vote=2)
    back = first + timedelta(days=7 * 20, hours=60)  # 20 weeks on, after that week's entries
    assert await lifecycle.advance(db, back) == 1
    assert await announcements.pending(db) == []
    contests = await guild_contests(db, GUILD, limit=50)
    assert [(c.id, c.state) for c in contests] == [
        (2, ContestState.SCHEDULED),
        (1, ContestState.CANCELLED),
    ]
    assert contests[0].opens_at == first + timedelta(days=7 * 21)


async def test_an_empty_queue_cancels_the_week_and_keeps_the_schedule(db: Database) -> None:
    first = await weekly(db)
    await lifecycle.advance(db, first)
    contests = await guild_contests(db, GUILD)
    assert [c.state for c in contests] == [ContestState.SCHEDULED, ContestState.CANCELLED]
    assert "theme queue was empty" in (contests[1].cancel_reason or "")
    assert contests[0].opens_at == first + timedelta(days=7)


async def test_schedule_refusals_and_clearing(db: Database) -> None:
    with pytest.raises(ContestError, match="1 to 7 days"):
        await weekly(db, submit=8)
    with pytest.raises(ContestError, match="Voting lasts 1 to 14 days"):
        await weekly(db, vote=0)
    await weekly(db)
    schedule = await get_schedule(db, GUILD)
    assert schedule is not None
    assert schedule.describe.startswith("every Wednesday at 17:00 UTC")
    # Setting it again replaces the waiting contest rather than adding one.
    await weekly(db, submit=3)
    waiting = await guild_contests(db, GUILD)
    assert len(waiting) == 1
    assert waiting[0].voting_at - waiting[0].opens_at == timedelta(days=3)
    assert await clear_schedule(db, GUILD)
    assert await guild_contests(db, GUILD) == []
    assert not await clear_schedule(db, GUILD)
    assert await lifecycle.next_due(db) is None
