"""Entering images: provenance, the rules, replacing with confirmation, disqualifying."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta

import pytest

from contests import lifecycle
from contests.entries import could_enter, disqualify, entry_by_number, submit_entry
from contests.errors import ContestError, ContestHint, ReplaceNeeded
from contests.model import EntryStatus
from contests.provenance import Origin, image_origin
from contests.rules import get_rules, set_rules
from contests.store import entries
from db.database import Database
from db.jobs import JobKind, JobStatus
from tests.helpers.clock import T0, FakeClock
from tests.helpers.contests import ALICE, BOB, CHANNEL, GUILD, MOD, VETERAN, make_job


async def open_contest(db: Database, clock: FakeClock) -> int:
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
    clock: FakeClock,
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


async def test_every_refusal_says_why_and_changes_nothing(db: Database, clock: FakeClock) -> None:
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


async def test_times_in_refusals_are_values_that_read_in_utc_as_plain_text(
    db: Database, clock: FakeClock
) -> None:
    """The rules hand moments to the front ends as values (Discord shows each member their
    own time); ``str()`` of a refusal, as the CLI and logs show it, reads in UTC."""
    before = await make_job(db, ALICE, T0 - timedelta(minutes=1))
    await open_contest(db, clock)
    opens, voting = T0, T0 + timedelta(days=2)
    with pytest.raises(ContestError) as made_before:
        await enter(db, clock, before)
    assert made_before.value.moments == {"opens": opens}
    assert "was made before Contest #1 — “storms” opened (2026-11-23 18:00 UTC)" in str(
        made_before.value
    )
    with pytest.raises(ContestError) as too_new:
        await enter(db, clock, await make_job(db, ALICE, T0), member_since=T0)
    assert too_new.value.moments == {"allowed": T0 + timedelta(days=7)}
    assert str(too_new.value).endswith("that is from 2026-11-30 18:00 UTC.")
    await enter(db, clock, await make_job(db, ALICE, T0))
    with pytest.raises(ReplaceNeeded) as asked:
        await enter(db, clock, await make_job(db, ALICE, T0))
    assert asked.value.moments == {"voting": voting}
    assert str(asked.value).endswith("you can change it until 2026-11-25 18:00 UTC.")


async def test_a_second_entry_replaces_the_first_only_when_confirmed(
    db: Database, clock: FakeClock
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


async def test_rules_are_settable_within_bounds(db: Database, clock: FakeClock) -> None:
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


async def test_two_moderators_changing_different_rules_at_once_keep_both(
    db: Database,
) -> None:
    await asyncio.gather(
        set_rules(db, GUILD, max_entries=2, updated_by=MOD, now=T0),
        set_rules(db, GUILD, votes_per_member=5, updated_by=MOD + 1, now=T0),
        set_rules(db, GUILD, min_member_days=0, updated_by=MOD + 2, now=T0),
    )
    rules = await get_rules(db, GUILD)
    assert (rules.max_entries, rules.votes_per_member, rules.min_member_days) == (2, 5, 0)


async def test_repeated_interaction_enters_once(db: Database, clock: FakeClock) -> None:
    contest_id = await open_contest(db, clock)
    job = await make_job(db, ALICE, clock.now)
    first = await enter(db, clock, job, interaction=555)
    assert await enter(db, clock, job, interaction=555) == first
    assert len(await entries(db, contest_id, include_all=True)) == 1


async def test_disqualify(db: Database, clock: FakeClock) -> None:
    contest_id = await open_contest(db, clock)
    entry_id = await enter(db, clock, await make_job(db, ALICE, clock.now))
    with pytest.raises(ContestError, match="reason"):
        await disqualify(db, entry_id, guild_id=GUILD, moderator_id=MOD, reason="", now=T0)
    with pytest.raises(ContestError, match="no entry") as elsewhere:
        await disqualify(db, entry_id, guild_id=GUILD + 1, moderator_id=MOD, reason="x", now=T0)
    assert elsewhere.value.hint is ContestHint.ENTRIES
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


async def test_an_upscale_enters_only_if_its_grid_was_made_for_the_contest(
    db: Database, clock: FakeClock
) -> None:
    old_grid = await make_job(db, ALICE, T0 - timedelta(days=30))
    contest_id = await open_contest(db, clock)
    clock.advance(hours=1)
    # Alice re-shows her month-old grid and presses U after the contest opened.
    recycled = await make_job(
        db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(old_grid, 2)
    )
    with pytest.raises(
        ContestError, match=rf"upscale of job #{old_grid}, which was made before Contest"
    ):
        await enter(db, clock, recycled)
    # An upscale of an upscale still leads back to the old grid.
    twice = await make_job(
        db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(recycled, 0)
    )
    with pytest.raises(ContestError, match=rf"upscale of job #{old_grid}, which was made before"):
        await enter(db, clock, twice)
    # A variation draws a new image: one made now from the old grid may enter.
    variation = await make_job(db, ALICE, clock.now, kind=JobKind.VARIATION, parent=(old_grid, 2))
    fresh = await make_job(
        db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(variation, 1)
    )
    # Results offer Submit to contest only under images that could enter.
    assert not await could_enter(db, GUILD, recycled)
    assert not await could_enter(db, GUILD, twice)
    assert await could_enter(db, GUILD, fresh)
    entry = await enter(db, clock, fresh)
    assert [e.id for e in await entries(db, contest_id)] == [entry]


async def test_an_upscale_of_someone_elses_grid_is_not_the_pressers_image(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    clock.advance(hours=1)
    alices_grid = await make_job(db, ALICE, clock.now)
    # In a server where everyone may press buttons, Bob presses U on Alice's grid.
    bobs_upscale = await make_job(
        db, BOB, clock.now, images=1, kind=JobKind.UPSCALE, parent=(alices_grid, 0)
    )
    with pytest.raises(
        ContestError, match=rf"upscale of job #{alices_grid}, which is someone else's"
    ):
        await enter(db, clock, bobs_upscale, user=BOB)
    assert await entries(db, contest_id) == []
    # The pixels are Alice's: she may enter that upscale herself.
    entry = await enter(db, clock, bobs_upscale, user=ALICE)
    assert [(e.id, e.user_id) for e in await entries(db, contest_id)] == [(entry, ALICE)]


async def test_image_origin_walks_upscales_to_the_generating_job(
    db: Database, clock: FakeClock
) -> None:
    made = T0 - timedelta(days=3)
    grid = await make_job(db, ALICE, made)
    upscale = await make_job(db, BOB, T0, images=1, kind=JobKind.UPSCALE, parent=(grid, 1))
    twice = await make_job(db, BOB, T0, images=1, kind=JobKind.UPSCALE, parent=(upscale, 0))
    assert await image_origin(db, upscale) == Origin(grid, 1, ALICE, made)
    assert await image_origin(db, twice, 0) == Origin(grid, 1, ALICE, made)
    assert await image_origin(db, grid, 3) == Origin(grid, 3, ALICE, made)
    with pytest.raises(ContestError, match="no job #999"):
        await image_origin(db, 999)


async def test_an_image_enters_once_whether_upscaled_or_not(db: Database, clock: FakeClock) -> None:
    contest_id = await open_contest(db, clock)
    await set_rules(db, GUILD, max_entries=3, updated_by=MOD, now=clock.now)
    clock.advance(minutes=5)
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 2))
    again = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 2))
    twice = await make_job(
        db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(upscale, 0)
    )
    first = await enter(db, clock, upscale)
    # Another form of the entered image does not become a second entry: it asks to replace it.
    for job, index in ((grid, 2), (again, 0), (twice, 0)):
        with pytest.raises(
            ReplaceNeeded,
            match=rf"^Image 1 of job #{upscale} \(an upscale of image 3 of job #{grid}\) is"
            rf" already your entry in Contest #{contest_id} — “storms”\. Image {index + 1} of"
            rf" job #{job} is the same image, (not )?upscaled, and an image enters once",
        ) as asked:
            await enter(db, clock, job, index=index)
        assert asked.value.entry_id == first
    with pytest.raises(ContestError, match=rf"entry in .*: image 1 of job #{upscale}\.$"):
        await enter(db, clock, upscale)
    # Another image of the same grid is another image.
    other = await enter(db, clock, grid, index=0)
    assert [e.id for e in await entries(db, contest_id)] == [first, other]


async def test_an_entry_can_be_swapped_for_another_form_of_its_image(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 1))
    first = await enter(db, clock, grid, index=1)
    with pytest.raises(
        ReplaceNeeded,
        match=rf"Image 2 of job #{grid} is already your entry in Contest #{contest_id} — “storms”"
        rf"\. Image 1 of job #{upscale} is the same image, upscaled, .*voters see the larger",
    ) as asked:
        await enter(db, clock, upscale)
    assert asked.value.entry_id == first
    assert [e.id for e in await entries(db, contest_id, include_all=True)] == [first]

    swapped = await submit_entry(
        db,
        guild_id=GUILD,
        user_id=ALICE,
        job_id=upscale,
        image_index=0,
        member_since=VETERAN,
        now=clock.now,
        replace=first,
    )
    assert swapped.replaced is not None
    assert swapped.replaced.id == first
    current = await entries(db, contest_id, include_all=True)
    assert [(e.id, e.job_id, e.status) for e in current] == [
        (first, grid, EntryStatus.REPLACED),
        (swapped.entry.id, upscale, EntryStatus.ACTIVE),
    ]
    # And back again: the grid image replaces its upscale, with voters told what they see.
    with pytest.raises(ReplaceNeeded, match="grid image instead replaces it") as asked:
        await enter(db, clock, grid, index=1)
    assert asked.value.entry_id == swapped.entry.id


async def test_a_swap_replaces_the_other_form_not_the_oldest_entry(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    await set_rules(db, GUILD, max_entries=2, updated_by=MOD, now=clock.now)
    oldest = await enter(db, clock, await make_job(db, ALICE, clock.now))
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 0))
    small = await enter(db, clock, grid)
    # At the limit, but the upscale asks to replace its own grid image, not the oldest entry;
    # a confirmation naming the oldest entry asks again.
    for replace in (None, oldest):
        with pytest.raises(ReplaceNeeded, match="larger version") as asked:
            await enter(db, clock, upscale, replace=replace)
        assert asked.value.entry_id == small
    large = await enter(db, clock, upscale, replace=small)
    assert [e.id for e in await entries(db, contest_id)] == [oldest, large]


async def test_a_disqualified_image_stays_out_in_every_form_and_a_replaced_one_may_return(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 2))
    twice = await make_job(
        db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(upscale, 0)
    )
    first = await enter(db, clock, upscale)
    await disqualify(
        db, first, guild_id=GUILD, moderator_id=MOD, reason="stolen art", now=clock.now
    )
    for job, index in ((upscale, 0), (grid, 2), (twice, 0)):
        with pytest.raises(
            ContestError,
            match=rf"^Image 1 of job #{upscale} \(an upscale of image 3 of job #{grid}\) was"
            rf" disqualified from Contest #{contest_id} — “storms”: stolen art; it cannot enter"
            " again",
        ):
            await enter(db, clock, job, index=index)
    assert await entries(db, contest_id) == []
    # Another image of that grid is another image.
    other = await enter(db, clock, grid, index=0)
    # A replaced image was not refused by anyone: it may come back.
    later = await enter(db, clock, await make_job(db, ALICE, clock.now), replace=other)
    back = await enter(db, clock, grid, index=0, replace=later)
    assert [e.id for e in await entries(db, contest_id)] == [back]


async def test_two_forms_of_one_image_entered_at_once_enter_once(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    await set_rules(db, GUILD, max_entries=3, updated_by=MOD, now=clock.now)
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 1))
    outcomes = await asyncio.gather(
        enter(db, clock, grid, index=1, interaction=1),
        enter(db, clock, upscale, interaction=2),
        return_exceptions=True,
    )
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert sum(isinstance(o, ContestError) for o in outcomes) == 1
    assert len(await entries(db, contest_id)) == 1


async def test_the_database_holds_one_standing_entry_per_origin_image(
    db: Database, clock: FakeClock
) -> None:
    contest_id = await open_contest(db, clock)
    grid = await make_job(db, ALICE, clock.now)
    upscale = await make_job(db, ALICE, clock.now, images=1, kind=JobKind.UPSCALE, parent=(grid, 1))
    await enter(db, clock, grid, index=1)
    # A writer that skipped the check (or raced it) is stopped by the unique index.
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO contest_entries (contest_id, user_id, job_id, image_index,"
                " origin_job_id, origin_index, created_at) VALUES (?, ?, ?, 0, ?, 1, '')",
                (contest_id, ALICE, upscale, grid),
            )


async def test_moderators_name_an_entry_by_the_number_on_its_post(
    db: Database, clock: FakeClock
) -> None:
    first = await open_contest(db, clock)
    with pytest.raises(ContestError, match="get their numbers when voting starts"):
        await entry_by_number(db, guild_id=GUILD, number=1, contest_id=None)
    ids = {}
    for user in (ALICE, BOB):
        ids[user] = await enter(db, clock, await make_job(db, user, clock.now), user=user)
    clock.now = T0 + timedelta(days=2)  # voting starts
    await lifecycle.advance(db, clock.now)
    numbered = {e.number: e.id for e in await entries(db, first)}
    assert sorted(numbered.values()) == sorted(ids.values())
    for number, entry_id in numbered.items():
        assert number is not None
        assert await entry_by_number(db, guild_id=GUILD, number=number, contest_id=None) == entry_id
        assert (
            await entry_by_number(db, guild_id=GUILD, number=number, contest_id=first) == entry_id
        )
    with pytest.raises(ContestError, match="has no entry #3; its entries are numbered 1–2"):
        await entry_by_number(db, guild_id=GUILD, number=3, contest_id=None)
    with pytest.raises(ContestError, match="no contest #99 in this server") as unknown:
        await entry_by_number(db, guild_id=GUILD, number=1, contest_id=99)
    assert unknown.value.hint is ContestHint.CONTESTS

    # A second contest in voting at the same time: the number alone is ambiguous.
    await lifecycle.extend(
        db,
        first,
        guild_id=GUILD,
        by=timedelta(days=5),
        extended_by=MOD,
        interaction_id=1,
        now=clock.now,
    )
    second = await open_contest(db, clock)
    await enter(db, clock, await make_job(db, ALICE, clock.now))
    await enter(db, clock, await make_job(db, BOB, clock.now), user=BOB)
    clock.now += timedelta(days=2)
    await lifecycle.advance(db, clock.now)
    with pytest.raises(ContestError, match=rf"Contests #{first} and #{second} are both in voting"):
        await entry_by_number(db, guild_id=GUILD, number=1, contest_id=None)
    assert await entry_by_number(db, guild_id=GUILD, number=1, contest_id=first) == numbered[1]
