"""A contest from opening to points on an injectable clock, and catching up after downtime."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contests import announcements, lifecycle, results
from contests.entries import submit_entry
from contests.errors import ContestError
from contests.model import AnnouncementKind, ContestState
from contests.store import entries, get_contest
from contests.voting import press_vote
from db.database import Database
from tests.helpers.clock import T0, FakeClock
from tests.helpers.contests import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    ERIN,
    GUILD,
    MOD,
    VETERAN,
    make_job,
)

#: Who extends, and with which interaction, where a test doesn't care.
BY_MOD = {"extended_by": MOD, "interaction_id": 900}


async def kinds(db: Database) -> list[AnnouncementKind]:
    """Pending announcements, oldest first, then marks them posted (as the cog does)."""
    found = await announcements.pending(db)
    for announcement in found:
        await announcements.mark_posted(db, announcement.id, T0)
    return [a.kind for a in found]


async def open_one(db: Database, clock: FakeClock, *, submit: int = 3, vote: int = 2) -> int:
    contest = await lifecycle.open_contest(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        theme="  Lighthouses   at dusk ",
        submit_days=submit,
        vote_days=vote,
        opened_by=MOD,
        now=clock.now,
    )
    return contest.id


async def enter(db: Database, clock: FakeClock, user: int) -> int:
    job = await make_job(db, user, clock.now)
    entered = await submit_entry(
        db,
        guild_id=GUILD,
        user_id=user,
        job_id=job,
        image_index=0,
        member_since=VETERAN,
        now=clock.now,
    )
    return entered.entry.id


async def vote(db: Database, clock: FakeClock, voter: int, entry_id: int, interaction: int) -> str:
    receipt = await press_vote(
        db,
        entry_id=entry_id,
        voter_id=voter,
        interaction_id=interaction,
        member_since=VETERAN,
        now=clock.now,
    )
    return receipt.text


async def test_full_lifecycle_awards_points_by_votes(db: Database, clock: FakeClock) -> None:
    contest_id = await open_one(db, clock)
    contest = await get_contest(db, contest_id)
    assert contest is not None
    assert contest.state is ContestState.SUBMISSIONS
    assert contest.theme == "Lighthouses at dusk"
    assert contest.voting_at == T0 + timedelta(days=3)
    assert contest.closes_at == T0 + timedelta(days=5)
    assert await kinds(db) == [AnnouncementKind.OPENING]

    clock.advance(hours=1)
    ids = {user: await enter(db, clock, user) for user in (ALICE, BOB, CAROL, DAVE)}

    # Nothing is due before the reminder, 24 h before the submission deadline.
    assert await lifecycle.next_due(db) == T0 + timedelta(days=2)
    assert await lifecycle.advance(db, clock.advance(hours=10)) == 0
    await lifecycle.advance(db, clock.advance(days=2))
    assert await kinds(db) == [AnnouncementKind.SUBMIT_REMINDER]

    await lifecycle.advance(db, T0 + timedelta(days=3), draw=lambda: 7)
    clock.now = T0 + timedelta(days=3, hours=1)
    assert await kinds(db) == [AnnouncementKind.VOTING]
    contest = await get_contest(db, contest_id)
    assert contest is not None
    assert contest.state is ContestState.VOTING
    assert contest.shuffle_seed == 7
    numbered = await entries(db, contest_id)
    assert sorted(e.number for e in numbered if e.number is not None) == [1, 2, 3, 4]

    # Bob 3 votes, Carol 2, Alice 1, Dave none; Erin (no entry) votes too.
    interaction = iter(range(1, 100))
    for voter, targets in {
        ALICE: [BOB, CAROL],
        DAVE: [BOB, CAROL, ALICE],
        ERIN: [BOB],
    }.items():
        for target in targets:
            await vote(db, clock, voter, ids[target], next(interaction))

    await lifecycle.advance(db, T0 + timedelta(days=4))
    assert await kinds(db) == [AnnouncementKind.VOTE_REMINDER]
    await lifecycle.advance(db, T0 + timedelta(days=5))
    assert await kinds(db) == [AnnouncementKind.RESULTS]
    contest = await get_contest(db, contest_id)
    assert contest is not None
    assert contest.state is ContestState.CLOSED
    assert contest.voter_count == 3

    standings = await results.standings(db, contest_id)
    by_user = {s.user_id: (s.rank, s.place, s.votes, s.points) for s in standings}
    assert by_user == {
        BOB: (1, 1, 3, 11),
        CAROL: (2, 2, 2, 7),
        ALICE: (3, 3, 1, 4),
        DAVE: (4, None, 0, 1),
    }
    assert contest.ballot_sha256 == results.ballot_sha256(
        results.ballot_csv(await results.counted_ballots(db, contest_id))
    )
    # Closed is final: advancing again changes and announces nothing.
    assert await lifecycle.advance(db, T0 + timedelta(days=30)) == 0
    assert await kinds(db) == []
    assert await lifecycle.next_due(db) is None


async def test_catch_up_after_downtime_runs_each_phase_once_in_order(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_one(db, clock)
    await kinds(db)
    clock.advance(hours=1)
    for user in (ALICE, BOB):
        await enter(db, clock, user)

    # Down from day 1 to day 4.5: the submission reminder's deadline passed unseen, so it is
    # skipped; voting starts (late) and the vote reminder, still before its deadline, is sent.
    down_until = T0 + timedelta(days=4, hours=12)
    assert await lifecycle.advance(db, down_until) == 3
    assert await kinds(db) == [AnnouncementKind.VOTING, AnnouncementKind.VOTE_REMINDER]
    assert await lifecycle.advance(db, down_until) == 0
    assert await kinds(db) == []

    # A second, long downtime: closing happens exactly once however often start-up runs.
    later = T0 + timedelta(days=9)
    await lifecycle.advance(db, later)
    await lifecycle.advance(db, later)
    assert await kinds(db) == [AnnouncementKind.RESULTS]
    contest = await get_contest(db, contest_id)
    assert contest is not None
    assert contest.state is ContestState.CLOSED
    # Two entries: no places, one point each for entering.
    assert [(s.place, s.points) for s in await results.standings(db, contest_id)] == [
        (None, 1),
        (None, 1),
    ]


async def test_contest_without_entries_closes_at_voting_time(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_one(db, clock, submit=1, vote=1)
    await kinds(db)
    await lifecycle.advance(db, T0 + timedelta(days=1))
    assert await kinds(db) == [AnnouncementKind.RESULTS]
    contest = await get_contest(db, contest_id)
    assert contest is not None
    assert contest.state is ContestState.CLOSED
    assert contest.voter_count == 0


async def test_extend_moves_deadlines_and_rearms_the_reminder(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_one(db, clock, submit=2, vote=2)
    await lifecycle.advance(db, clock.advance(days=1, hours=1))
    assert await kinds(db) == [AnnouncementKind.OPENING, AnnouncementKind.SUBMIT_REMINDER]
    extended = await lifecycle.extend(
        db,
        contest_id,
        guild_id=GUILD,
        by=timedelta(days=2),
        extended_by=MOD,
        interaction_id=700,
        now=clock.now,
    )
    assert extended.voting_at == T0 + timedelta(days=4)
    assert extended.closes_at == T0 + timedelta(days=6)
    assert await kinds(db) == [AnnouncementKind.EXTENDED]
    # Still in submissions at the old deadline; reminded again 24 h before the new one.
    await lifecycle.advance(db, T0 + timedelta(days=2, hours=1))
    assert await kinds(db) == []
    await lifecycle.advance(db, T0 + timedelta(days=3))
    assert await kinds(db) == [AnnouncementKind.SUBMIT_REMINDER]


async def test_a_repeated_extend_interaction_adds_the_time_once(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_one(db, clock, submit=2, vote=2)
    for _ in range(2):  # the same interaction delivered twice
        extended = await lifecycle.extend(
            db,
            contest_id,
            guild_id=GUILD,
            by=timedelta(days=1),
            extended_by=MOD,
            interaction_id=800,
            now=clock.now,
        )
        assert extended.voting_at == T0 + timedelta(days=3)
    stored = await get_contest(db, contest_id)
    assert stored is not None
    assert (stored.voting_at, stored.closes_at) == (T0 + timedelta(days=3), T0 + timedelta(days=5))
    assert await kinds(db) == [AnnouncementKind.OPENING, AnnouncementKind.EXTENDED]
    # A new press is a new extension, and the replay of the first still answers as it did.
    await lifecycle.extend(
        db,
        contest_id,
        guild_id=GUILD,
        by=timedelta(hours=6),
        extended_by=MOD,
        interaction_id=801,
        now=clock.now,
    )
    replay = await lifecycle.extend(
        db,
        contest_id,
        guild_id=GUILD,
        by=timedelta(days=1),
        extended_by=MOD,
        interaction_id=800,
        now=clock.now,
    )
    assert replay.voting_at == T0 + timedelta(days=3)
    stored = await get_contest(db, contest_id)
    assert stored is not None
    assert stored.voting_at == T0 + timedelta(days=3, hours=6)
    trail = await db.fetchall(
        "SELECT interaction_id, extended_by, seconds FROM contest_extensions ORDER BY id"
    )
    assert [tuple(row) for row in trail] == [(800, MOD, 86_400), (801, MOD, 21_600)]


async def test_cancel_announces_and_stops_the_phases(db: Database, clock: FakeClock) -> None:
    contest_id = await open_one(db, clock)
    await kinds(db)
    cancelled = await lifecycle.cancel(
        db, contest_id, guild_id=GUILD, reason="theme clashes with an event", by=MOD, now=clock.now
    )
    assert cancelled.state is ContestState.CANCELLED
    assert cancelled.cancel_reason == "theme clashes with an event"
    assert await kinds(db) == [AnnouncementKind.CANCELLED]
    assert await lifecycle.advance(db, T0 + timedelta(days=30)) == 0
    assert await results.standings(db, contest_id) == []


async def test_lifecycle_refusals(db: Database, clock: FakeClock) -> None:
    contest_id = await open_one(db, clock)
    with pytest.raises(ContestError, match="still accepting entries until 2026-11-26") as busy:
        await open_one(db, clock)
    assert busy.value.moments == {"voting": T0 + timedelta(days=3)}
    with pytest.raises(ContestError, match="1 to 14 days, not 0"):
        await lifecycle.open_contest(
            db,
            guild_id=GUILD + 1,
            channel_id=CHANNEL,
            theme="x",
            submit_days=0,
            vote_days=1,
            opened_by=MOD,
            now=clock.now,
        )
    with pytest.raises(ContestError, match="needs some words"):
        await lifecycle.open_contest(
            db,
            guild_id=GUILD + 1,
            channel_id=CHANNEL,
            theme="   ",
            submit_days=1,
            vote_days=1,
            opened_by=MOD,
            now=clock.now,
        )
    with pytest.raises(ContestError, match="no contest #"):
        await lifecycle.extend(
            db, contest_id, guild_id=GUILD + 1, by=timedelta(days=1), **BY_MOD, now=T0
        )
    with pytest.raises(ContestError, match="more than 0 hours"):
        await lifecycle.extend(db, contest_id, guild_id=GUILD, by=timedelta(0), **BY_MOD, now=T0)
    with pytest.raises(ContestError, match="reason"):
        await lifecycle.cancel(db, contest_id, guild_id=GUILD, reason=" ", by=MOD, now=T0)
    await lifecycle.cancel(db, contest_id, guild_id=GUILD, reason="oops", by=MOD, now=T0)
    with pytest.raises(ContestError, match="already cancelled"):
        await lifecycle.cancel(db, contest_id, guild_id=GUILD, reason="again", by=MOD, now=T0)
    with pytest.raises(ContestError, match="already cancelled"):
        await lifecycle.extend(
            db, contest_id, guild_id=GUILD, by=timedelta(days=1), **BY_MOD, now=T0
        )
