"""Entering images: provenance, the rules, replacing with confirmation, disqualifying."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from contests import lifecycle
from contests.entries import disqualify, submit_entry
from contests.errors import ContestError, ReplaceNeeded
from contests.model import EntryStatus
from contests.rules import get_rules, set_rules
from contests.store import entries
from db.database import Database
from db.jobs import JobKind, JobStatus
from tests.contests.conftest import ALICE, BOB, CHANNEL, GUILD, MOD, T0, VETERAN, Clock, make_job


async def open_contest(db: Database, clock: Clock) -> int:
    contest = await lifecycle.open_contest(
        db,
        guild_id=GUILD,
        channel_id=CHANNEL,
        theme="storms",
        submit_days=2,
        vote_days=1,
        opened_by=MOD,
        now=clock.now,
    )
    return contest.id


async def enter(
    db: Database,
    clock: Clock,
    job: int,
    *,
    user: int = ALICE,
    index: int = 0,
    member_since: datetime | None = VETERAN,
    replace: int | None = None,
    interaction: int | None = None,
) -> int:
    entered = await submit_entry(
        db,
        guild_id=GUILD,
        user_id=user,
        job_id=job,
        image_index=index,
        member_since=member_since,
        now=clock.now,
        replace=replace,
        interaction_id=interaction,
    )
    return entered.entry.id


async def test_every_refusal_says_why_and_changes_nothing(db: Database, clock: Clock) -> None:
    before = await make_job(db, ALICE, T0 - timedelta(minutes=1))
    with pytest.raises(ContestError, match="No contest in this server is accepting entries"):
        await enter(db, clock, before)
    contest_id = await open_contest(db, clock)
    clock.advance(minutes=5)
    mine = await make_job(db, ALICE, clock.now)
    bobs = await make_job(db, BOB, clock.now)
    failed = await make_job(db, ALICE, clock.now, status=JobStatus.FAILED)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE)
    refusals = {
        "no job #999": {"job": 999},
        "someone else's": {"job": bobs},
        "is failed; only finished": {"job": failed},
        "no image 5; it has images 1–4": {"job": mine, "index": 4},
        "no image 2; it has one image": {"job": upscale, "index": 1},
        "made before Contest": {"job": before},
        "member for 7 days": {"job": mine, "member_since": clock.now - timedelta(days=6)},
        "did not say when you joined": {"job": mine, "member_since": None},
    }
    for message, kwargs in refusals.items():
        with pytest.raises(ContestError, match=message):
            await enter(db, clock, **kwargs)  # type: ignore[arg-type]
    assert await entries(db, contest_id, include_all=True) == []

    await enter(db, clock, mine)
    await set_rules(db, GUILD, max_entries=2, updated_by=MOD, now=clock.now)
    with pytest.raises(ContestError, match="already entered"):
        await enter(db, clock, mine)

    # After the deadline (even before the phase timer ran) entries are refused.
    clock.now = T0 + timedelta(days=2)
    late = await make_job(db, ALICE, clock.now)
    with pytest.raises(ContestError, match="No contest in this server is accepting entries"):
        await enter(db, clock, late)
    await lifecycle.advance(db, clock.now)
    with pytest.raises(ContestError, match="No contest in this server is accepting entries"):
        await enter(db, clock, late)


async def test_a_second_entry_replaces_the_first_only_when_confirmed(
    db: Database, clock: Clock
) -> None:
    contest_id = await open_contest(db, clock)
    first = await enter(db, clock, await make_job(db, ALICE, clock.now))
    second_job = await make_job(db, ALICE, clock.now)
    with pytest.raises(ReplaceNeeded, match="replaces your earlier entry") as asked:
        await enter(db, clock, second_job, index=2)
    assert asked.value.entry_id == first
    assert [e.id for e in await entries(db, contest_id)] == [first]

    second = await enter(db, clock, second_job, index=2, replace=first)
    current = await entries(db, contest_id, include_all=True)
    assert [(e.id, e.status) for e in current] == [
        (first, EntryStatus.REPLACED),
        (second, EntryStatus.ACTIVE),
    ]
    assert current[1].image_index == 2
    # A stale confirmation (the entry it names is no longer active) asks again.
    with pytest.raises(ReplaceNeeded):
        await enter(db, clock, await make_job(db, ALICE, clock.now), replace=first)


async def test_rules_are_settable_within_bounds(db: Database, clock: Clock) -> None:
    assert (await get_rules(db, GUILD)).max_entries == 1
    rules = await set_rules(db, GUILD, max_entries=2, min_member_days=0, updated_by=MOD, now=T0)
    assert (rules.max_entries, rules.min_member_days, rules.votes_per_member) == (2, 0, 3)
    with pytest.raises(ContestError, match="between 1 and 25, not 0"):
        await set_rules(db, GUILD, votes_per_member=0, updated_by=MOD, now=T0)
    assert await get_rules(db, GUILD) == rules

    await open_contest(db, clock)
    job = await make_job(db, BOB, clock.now)
    await enter(db, clock, job, user=BOB, member_since=clock.now)  # joined just now: allowed
    await enter(db, clock, job, user=BOB, index=1, member_since=clock.now)  # two allowed


async def test_repeated_interaction_enters_once(db: Database, clock: Clock) -> None:
    contest_id = await open_contest(db, clock)
    job = await make_job(db, ALICE, clock.now)
    first = await enter(db, clock, job, interaction=555)
    assert await enter(db, clock, job, interaction=555) == first
    assert len(await entries(db, contest_id, include_all=True)) == 1


async def test_disqualify(db: Database, clock: Clock) -> None:
    contest_id = await open_contest(db, clock)
    entry_id = await enter(db, clock, await make_job(db, ALICE, clock.now))
    with pytest.raises(ContestError, match="reason"):
        await disqualify(db, entry_id, guild_id=GUILD, moderator_id=MOD, reason="", now=T0)
    with pytest.raises(ContestError, match="no entry"):
        await disqualify(db, entry_id, guild_id=GUILD + 1, moderator_id=MOD, reason="x", now=T0)
    entry, contest = await disqualify(
        db, entry_id, guild_id=GUILD, moderator_id=MOD, reason="not made for the theme", now=T0
    )
    assert entry.status is EntryStatus.DISQUALIFIED
    assert entry.disqualify_reason == "not made for the theme"
    assert contest.id == contest_id
    assert await entries(db, contest_id) == []
    with pytest.raises(ContestError, match="already disqualified"):
        await disqualify(db, entry_id, guild_id=GUILD, moderator_id=MOD, reason="x", now=T0)
    # With the entry gone, the member may enter again without replacing anything.
    again = await enter(db, clock, await make_job(db, ALICE, clock.now))
    await lifecycle.advance(db, T0 + timedelta(days=3))  # voting (one entry), then closed
    with pytest.raises(ContestError, match="is closed; its entries can no longer change"):
        await disqualify(db, again, guild_id=GUILD, moderator_id=MOD, reason="x", now=T0)
