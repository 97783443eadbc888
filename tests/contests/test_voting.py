"""Vote presses: limits, withdrawal, double-clicks, repeated deliveries, concurrency, ties,
and a ballot hash anyone can reproduce from the CSV."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta

import pytest

from contests import lifecycle, results
from contests.entries import disqualify, submit_entry
from contests.errors import ContestError
from contests.rules import set_rules
from contests.store import get_contest
from contests.voting import Outcome, press_vote
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

ENTRANTS = (ALICE, BOB, CAROL, DAVE)


async def contest_in_voting(db: Database, clock: FakeClock) -> dict[int, int]:
    """A contest with one entry each by ENTRANTS, now in voting; user → entry id."""
    await lifecycle.open_contest(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        theme="rain",
        submit_days=1,
        vote_days=2,
        opened_by=MOD,
        now=clock.now,
    )
    ids = {}
    for user in ENTRANTS:
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
        ids[user] = entered.entry.id
    clock.now = T0 + timedelta(days=1)
    await lifecycle.advance(db, clock.now)
    return ids


class Presser:
    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.db, self.clock, self.interaction = db, clock, 0

    async def __call__(
        self,
        voter: int,
        entry_id: int,
        *,
        interaction: int | None = None,
        since: datetime | None = VETERAN,
    ) -> tuple[Outcome, str]:
        if interaction is None:
            self.interaction += 1
            interaction = self.interaction
        receipt = await press_vote(
            self.db,
            entry_id=entry_id,
            voter_id=voter,
            interaction_id=interaction,
            member_since=since,
            now=self.clock.now,
        )
        return receipt.outcome, receipt.render()


async def test_votes_up_to_the_limit_and_a_second_press_withdraws(
    db: Database, clock: FakeClock
) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    outcome, text = await press(ERIN, ids[ALICE])
    assert outcome is Outcome.CAST
    assert "Vote counted for entry #" in text
    assert "You have 2 votes left." in text
    # When the results come out is a value; rendered plainly it reads in UTC.
    assert "Counts stay hidden until the results (2026-11-26 18:00 UTC)." in text
    clock.advance(seconds=10)
    assert "You have 1 vote left." in (await press(ERIN, ids[BOB]))[1]
    clock.advance(seconds=10)
    assert "You have no votes left." in (await press(ERIN, ids[CAROL]))[1]
    clock.advance(seconds=10)
    with pytest.raises(ContestError, match="used all 3 of your votes"):
        await press(ERIN, ids[DAVE])
    outcome, text = await press(ERIN, ids[BOB])
    assert outcome is Outcome.WITHDRAWN
    assert "withdrawn. You have 1 vote left." in text
    clock.advance(seconds=10)
    assert (await press(ERIN, ids[DAVE]))[0] is Outcome.CAST
    ballots = await results.counted_ballots(db, (await contest_id(db)))
    assert len(ballots) == 3


async def contest_id(db: Database) -> int:
    row = await db.fetchone("SELECT id FROM contests")
    assert row is not None
    return int(row[0])


async def test_refusals(db: Database, clock: FakeClock) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    with pytest.raises(ContestError, match="your own entry"):
        await press(ALICE, ids[ALICE])
    with pytest.raises(ContestError, match="member for 7 days"):
        await press(ERIN, ids[ALICE], since=clock.now - timedelta(days=1))
    await disqualify(db, ids[BOB], guild_id=GUILD, moderator_id=MOD, reason="x", now=clock.now)
    with pytest.raises(ContestError, match="disqualified"):
        await press(ERIN, ids[BOB])
    clock.now = T0 + timedelta(days=3)
    with pytest.raises(ContestError, match="Voting in Contest #1 — “rain” is over"):
        await press(ERIN, ids[CAROL])
    assert await results.counted_ballots(db, await contest_id(db)) == []


async def test_a_press_after_cancellation_gives_the_moderators_reason(
    db: Database, clock: FakeClock
) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    await press(ERIN, ids[ALICE])
    await lifecycle.cancel(
        db,
        await contest_id(db),
        guild_id=GUILD,
        reason="entries were copied",
        by=MOD,
        now=clock.now,
    )
    with pytest.raises(
        ContestError, match="“rain” was cancelled by the moderators: entries were copied"
    ):
        await press(ERIN, ids[BOB])
    with pytest.raises(ContestError, match="was cancelled") as withdraw:
        await press(ERIN, ids[ALICE])  # taking a vote back is refused the same way
    assert "results" in str(withdraw.value)  # says there will be none


async def test_no_votes_before_voting_starts(db: Database, clock: FakeClock) -> None:
    await lifecycle.open_contest(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        theme="rain",
        submit_days=1,
        vote_days=1,
        opened_by=MOD,
        now=clock.now,
    )
    entered = await submit_entry(
        db,
        guild_id=GUILD,
        user_id=ALICE,
        job_id=await make_job(db, ALICE, clock.now),
        image_index=0,
        member_since=VETERAN,
        now=clock.now,
    )
    with pytest.raises(ContestError, match="starts 2026-11-24 18:00 UTC") as early:
        await Presser(db, clock)(BOB, entered.entry.id)
    assert early.value.moments == {"voting": entered.contest.voting_at}


async def test_repeated_delivery_changes_nothing(db: Database, clock: FakeClock) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    first = await press(ERIN, ids[ALICE], interaction=900)
    clock.advance(seconds=30)
    # The same interaction delivered again, long after: same receipt, still one vote.
    assert await press(ERIN, ids[ALICE], interaction=900) == first
    assert len(await results.counted_ballots(db, await contest_id(db))) == 1


async def test_simultaneous_presses_by_one_member_count_once(
    db: Database, clock: FakeClock
) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    outcomes = await asyncio.gather(
        *(press(ERIN, ids[ALICE], interaction=1000 + i) for i in range(5))
    )
    assert sorted(o for o, _ in outcomes) == sorted([Outcome.CAST] + [Outcome.DUPLICATE] * 4)
    assert len(await results.counted_ballots(db, await contest_id(db))) == 1
    # Simultaneous presses on different entries are each counted, within the limit.
    clock.advance(seconds=5)
    both = await asyncio.gather(
        press(ERIN, ids[BOB]),
        press(ERIN, ids[CAROL]),
        press(ERIN, ids[DAVE]),
        return_exceptions=True,
    )
    assert sum(isinstance(b, ContestError) for b in both) == 1
    assert len(await results.counted_ballots(db, await contest_id(db))) == 3


async def test_a_deliberate_second_press_after_the_window_withdraws(
    db: Database, clock: FakeClock
) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    await press(ERIN, ids[ALICE])
    clock.advance(seconds=1)
    assert (await press(ERIN, ids[ALICE]))[0] is Outcome.DUPLICATE
    clock.advance(seconds=2)
    assert (await press(ERIN, ids[ALICE]))[0] is Outcome.WITHDRAWN
    assert await results.counted_ballots(db, await contest_id(db)) == []


async def test_ties_share_a_place_and_its_points(db: Database, clock: FakeClock) -> None:
    await set_rules(db, GUILD, min_member_days=0, updated_by=MOD, now=T0)
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    # Alice 2, Bob 2, Carol 1, Dave 0.
    for voter, target in ((CAROL, ALICE), (DAVE, ALICE), (CAROL, BOB), (ERIN, BOB), (ERIN, CAROL)):
        await press(voter, ids[target])
    await lifecycle.advance(db, T0 + timedelta(days=3))
    standings = {s.user_id: (s.rank, s.place, s.points) for s in await results.standings(db, 1)}
    assert standings == {
        ALICE: (1, 1, 11),
        BOB: (1, 1, 11),
        CAROL: (3, 3, 4),
        DAVE: (4, None, 1),
    }


async def test_ballot_hash_is_reproducible_from_the_csv(db: Database, clock: FakeClock) -> None:
    ids = await contest_in_voting(db, clock)
    press = Presser(db, clock)
    for voter, target in ((ERIN, ALICE), (ERIN, DAVE), (BOB, ALICE), (CAROL, DAVE)):
        await press(voter, ids[target])
    await disqualify(db, ids[DAVE], guild_id=GUILD, moderator_id=MOD, reason="x", now=clock.now)
    await lifecycle.advance(db, T0 + timedelta(days=3))
    contest = await get_contest(db, 1)
    assert contest is not None
    csv_text = results.ballot_csv(await results.counted_ballots(db, 1))
    lines = csv_text.splitlines()
    assert lines[0] == "voter_id,entry_number"
    # Votes for the disqualified entry are not counted, nor published.
    assert len(lines) == 3
    assert lines[1:] == sorted(lines[1:], key=lambda line: tuple(map(int, line.split(","))))
    assert contest.ballot_sha256 == hashlib.sha256(csv_text.encode()).hexdigest()
    assert contest.voter_count == 2


def test_ranking_rules() -> None:
    two = [results.Candidate(i, i, 100 + i, i, 0) for i in (1, 2)]
    # Fewer than three entries: no places, one point each.
    assert [(s.place, s.points) for s in results.rank(two, {1: 5, 2: 1})] == [(None, 1)] * 2
    three = [*two, results.Candidate(3, 3, 103, 3, 0)]
    # Nobody voted: no places either.
    assert [s.place for s in results.rank(three, {})] == [None, None, None]
    # 2nd place shared: both get 6 points, nobody is 3rd.
    ranked = results.rank([*three, results.Candidate(4, 4, 104, 4, 0)], {1: 3, 2: 1, 3: 1, 4: 0})
    assert [(s.entry_id, s.rank, s.place, s.points) for s in ranked] == [
        (1, 1, 1, 11),
        (2, 2, 2, 7),
        (3, 2, 2, 7),
        (4, 4, None, 1),
    ]
