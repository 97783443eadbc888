"""Entering images, replacing an entry, and disqualifying one.

Provenance: an entry names a job and image that this bot made and that finished; the image
that generated its pixels (the image itself, or for an upscale the image it enlarged, see
:mod:`contests.provenance`) belongs to the member, was made after the contest opened, and
is not already entered in the contest in any form. Each check that fails says so.

A grid image, its upscales and upscales of those are one image: while one form of it
stands as the member's entry, entering another form replaces that entry (after the member
confirms), so they can swap a grid image for its upscale. An image disqualified from a
contest stays out of it in every form; a replaced one may come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from contests.errors import ContestError, ContestHint, ReplaceNeeded
from contests.model import (
    Contest,
    ContestState,
    Entry,
    EntryStatus,
    contest_from_row,
    entry_from_row,
)
from contests.provenance import Origin, image_origin, origin_in
from contests.rules import check_membership, get_rules
from contests.store import accepting_entries, contest_in, contest_in_guild, entry_in, one, rows
from db.database import Database
from db.jobs import JobStatus
from db.times import to_db_time

MAX_REASON_LENGTH = 300


@dataclass(frozen=True)
class Entered:
    """What an entry did: the entry, its contest, and the entry it replaced (if any)."""

    entry: Entry
    contest: Contest
    replaced: Entry | None


async def could_enter(db: Database, guild_id: int, job_id: int) -> bool:
    """Whether job ``job_id``'s image is new enough for the server's open contest: one takes
    entries and the image's origin was made after it opened. Decides whether results show
    **Submit to contest**; who may enter it is checked when it is pressed."""
    contest = await accepting_entries(db, guild_id)
    if contest is None:
        return False
    return (await image_origin(db, job_id)).created_at >= contest.opens_at


async def submit_entry(
    db: Database,
    *,
    guild_id: int,
    user_id: int,
    job_id: int,
    image_index: int,
    member_since: datetime | None,
    now: datetime,
    interaction_id: int | None = None,
    replace: int | None = None,
) -> Entered:
    """Enter image ``image_index`` (0-based) of job ``job_id`` in the server's open contest.

    When another form of the image already stands as the member's entry, or the member
    already has as many entries as the rules allow, this raises :class:`ReplaceNeeded`
    naming that entry (or their oldest one); calling again with ``replace`` set to that
    entry's id replaces it. A repeated ``interaction_id`` returns the entry it made.
    """
    rules = await get_rules(db, guild_id)
    async with db.transaction() as conn:
        if interaction_id is not None:
            earlier = await one(
                conn, "SELECT * FROM contest_entries WHERE interaction_id = ?", (interaction_id,)
            )
            if earlier is not None:
                entry = await entry_in(conn, earlier["id"])
                return Entered(entry, await contest_in(conn, entry.contest_id), None)
        contest = await _contest_accepting(conn, guild_id, now)
        check_membership(rules, member_since, now, "enter contests")
        origin = await _check_provenance(conn, contest, user_id, job_id, image_index)
        replacing = await _entry_to_replace(
            conn, contest, rules.max_entries, user_id, job_id, image_index, origin, replace
        )
        replaced = None
        if replacing is not None:
            # Before the insert: the unique index allows one standing entry per origin image.
            await conn.execute(
                "UPDATE contest_entries SET status = ?, replaced_at = ? WHERE id = ?",
                (EntryStatus.REPLACED.value, to_db_time(now), replacing),
            )
            replaced = await entry_in(conn, replacing)
        async with conn.execute(
            "INSERT INTO contest_entries (contest_id, user_id, job_id, image_index, origin_job_id,"
            " origin_index, created_at, interaction_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                contest.id,
                user_id,
                job_id,
                image_index,
                origin.job_id,
                origin.index,
                to_db_time(now),
                interaction_id,
            ),
        ) as cursor:
            entry_id = cursor.lastrowid
        assert entry_id is not None
        return Entered(await entry_in(conn, entry_id), contest, replaced)


async def disqualify(
    db: Database,
    entry_id: int,
    *,
    guild_id: int,
    moderator_id: int,
    reason: str,
    now: datetime,
) -> tuple[Entry, Contest]:
    """Disqualify an entry of a running contest; its votes stop counting."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ContestError(
            f"Give a reason of 1 to {MAX_REASON_LENGTH} characters; the entrant will see it."
        )
    async with db.transaction() as conn:
        row = await one(conn, "SELECT * FROM contest_entries WHERE id = ?", (entry_id,))
        contest = None if row is None else await contest_in(conn, row["contest_id"])
        if row is None or contest is None or contest.guild_id != guild_id:
            raise ContestError(
                f"There is no entry {entry_id} in this server.", hint=ContestHint.ENTRIES
            )
        if contest.state not in (ContestState.SUBMISSIONS, ContestState.VOTING):
            raise ContestError(
                f"{contest.title} is {contest.state.value}; its entries can no longer change."
            )
        if row["status"] != EntryStatus.ACTIVE.value:
            raise ContestError(f"Entry {entry_id} is already {row['status']}.")
        await conn.execute(
            "UPDATE contest_entries SET status = ?, disqualified_by = ?, disqualify_reason = ?,"
            " disqualified_at = ? WHERE id = ?",
            (EntryStatus.DISQUALIFIED.value, moderator_id, reason, to_db_time(now), entry_id),
        )
        return await entry_in(conn, entry_id), contest


async def entry_by_number(
    db: Database, *, guild_id: int, number: int, contest_id: int | None
) -> int:
    """The id of entry ``#number`` (as its voting post shows it) in ``contest_id``, or in
    the server's contest being voted on when no contest is given (or, with none in voting,
    the one taking entries, whose entries have no numbers yet: that refusal says so)."""
    if contest_id is None:
        voting = [
            contest_from_row(row)
            for row in await db.fetchall(
                "SELECT * FROM contests WHERE guild_id = ? AND state = ? ORDER BY id",
                (guild_id, ContestState.VOTING.value),
            )
        ]
        if not voting:
            accepting = await db.fetchone(
                "SELECT * FROM contests WHERE guild_id = ? AND state = ?",
                (guild_id, ContestState.SUBMISSIONS.value),
            )
            voting = [] if accepting is None else [contest_from_row(accepting)]
        if not voting:
            raise ContestError(
                "No contest in this server is being voted on, so entries have no numbers "
                "yet. Give `contest:` for another contest, or an entry's `entry_id:`.",
                hint=ContestHint.ENTRIES,
            )
        if len(voting) > 1:
            names = " and ".join(f"#{c.id}" for c in voting)
            raise ContestError(f"Contests {names} are both in voting; say which with `contest:`.")
        contest = voting[0]
    else:
        contest = await contest_in_guild(db, contest_id, guild_id)
    row = await db.fetchone(
        "SELECT id FROM contest_entries WHERE contest_id = ? AND number = ?", (contest.id, number)
    )
    if row is not None:
        return int(row["id"])
    if contest.state in (ContestState.SCHEDULED, ContestState.SUBMISSIONS):
        raise ContestError(
            f"Entries of {contest.title} get their numbers when voting starts; until then "
            "give an entry's `entry_id:`.",
            hint=ContestHint.ENTRIES,
        )
    highest = await db.fetchone(
        "SELECT max(number) FROM contest_entries WHERE contest_id = ?", (contest.id,)
    )
    numbered = (
        "it has no numbered entries"
        if highest is None or highest[0] is None
        else (f"its entries are numbered 1–{highest[0]}")
    )
    raise ContestError(f"{contest.title} has no entry #{number}; {numbered}.")


async def _contest_accepting(conn: aiosqlite.Connection, guild_id: int, now: datetime) -> Contest:
    row = await one(
        conn,
        "SELECT * FROM contests WHERE guild_id = ? AND state = ?",
        (guild_id, ContestState.SUBMISSIONS.value),
    )
    if row is None or now >= contest_from_row(row).voting_at:
        upcoming = await one(
            conn,
            "SELECT * FROM contests WHERE guild_id = ? AND state = ? ORDER BY opens_at LIMIT 1",
            (guild_id, ContestState.SCHEDULED.value),
        )
        none_now = "No contest in this server is accepting entries right now."
        if upcoming is None:
            raise ContestError(none_now)
        raise ContestError(
            none_now + " The next contest opens {opens}.",
            opens=contest_from_row(upcoming).opens_at,
        )
    return contest_from_row(row)


async def _entry_to_replace(
    conn: aiosqlite.Connection,
    contest: Contest,
    max_entries: int,
    user_id: int,
    job_id: int,
    image_index: int,
    origin: Origin,
    replace: int | None,
) -> int | None:
    """The entry that entering this image replaces: a standing form of the same image, or
    with the member at their limit their oldest entry; ``None`` when nothing needs
    replacing. Raises :class:`ReplaceNeeded` unless ``replace`` confirms that entry."""
    other_form = await _standing_form(conn, contest, job_id, image_index, origin)
    if other_form is not None:
        # Swapping one form of an image for another keeps the member's entry count.
        if replace != other_form.id:
            raise ReplaceNeeded(
                _another_form(contest, job_id, image_index, origin, other_form),
                entry_id=other_form.id,
                voting=contest.voting_at,
            )
        return replace
    mine = [
        row["id"]
        for row in await rows(
            conn,
            "SELECT id FROM contest_entries WHERE contest_id = ? AND user_id = ?"
            " AND status = 'active' ORDER BY id",
            (contest.id, user_id),
        )
    ]
    if len(mine) < max_entries:
        return None  # a stale confirmation with room to spare replaces nothing
    if replace is None or replace not in mine:
        allowed = "one entry" if max_entries == 1 else f"{max_entries} entries"
        raise ReplaceNeeded(
            f"You may have {allowed} in {contest.title}. Entering this image replaces "
            "your earlier entry"
            + ("" if max_entries == 1 else " (the oldest one)")
            + "; you can change it until {voting}.",
            entry_id=mine[0],
            voting=contest.voting_at,
        )
    return replace


async def _check_provenance(
    conn: aiosqlite.Connection, contest: Contest, user_id: int, job_id: int, image_index: int
) -> Origin:
    """Refuse the image unless the member may enter it in ``contest``; its origin if so."""
    origin = await origin_in(conn, job_id, image_index)  # refuses a job that does not exist
    # An aggregate without GROUP BY gives exactly one row.
    (job,) = await rows(
        conn,
        "SELECT j.status AS status, count(i.idx) AS images FROM jobs j"
        " LEFT JOIN images i ON i.job_id = j.id WHERE j.id = ?",
        (job_id,),
    )
    upscale_of = "" if origin.job_id == job_id else f" is an upscale of job #{origin.job_id}, which"
    if origin.owner_id != user_id:
        raise ContestError(
            f"Job #{job_id}{upscale_of} is someone else's; you can only enter images you "
            "generated yourself."
        )
    if job["status"] != JobStatus.DONE.value:
        raise ContestError(f"Job #{job_id} is {job['status']}; only finished images can enter.")
    if not 0 <= image_index < job["images"]:
        has = "one image (1)" if job["images"] == 1 else f"images 1–{job['images']}"
        raise ContestError(f"Job #{job_id} has no image {image_index + 1}; it has {has}.")
    if origin.created_at < contest.opens_at:
        raise ContestError(
            f"Job #{job_id}{upscale_of} was made before {contest.title} opened "
            "({opens}); enter an image you made for this contest.",
            opens=contest.opens_at,
        )
    return origin


async def _standing_form(
    conn: aiosqlite.Connection, contest: Contest, job_id: int, image_index: int, origin: Origin
) -> Entry | None:
    """The member's standing entry that is another form of this image (the image itself, an
    upscale of it, or the image an entered upscale enlarges), if there is one. Refuses the
    very image that already stands, and an image disqualified from ``contest`` in any form.

    Only the origin's owner may enter it (:func:`_check_provenance`), so every entry with
    this origin is the member's own. (The unique index ``contest_entries_one_image`` backs
    up the one standing entry per image.)"""
    disqualified = await one(
        conn,
        "SELECT * FROM contest_entries WHERE contest_id = ? AND origin_job_id = ?"
        " AND origin_index = ? AND status = ? ORDER BY id LIMIT 1",
        (contest.id, origin.job_id, origin.index, EntryStatus.DISQUALIFIED.value),
    )
    if disqualified is not None:
        out = entry_from_row(disqualified)
        raise ContestError(
            f"{_describe(out.job_id, out.image_index, origin)} was disqualified from "
            f"{contest.title}: {out.disqualify_reason}; it cannot enter again, in any form. "
            "Enter another image."
        )
    taken = await one(
        conn,
        "SELECT * FROM contest_entries WHERE contest_id = ? AND origin_job_id = ?"
        " AND origin_index = ? AND status = ?",
        (contest.id, origin.job_id, origin.index, EntryStatus.ACTIVE.value),
    )
    if taken is None:
        return None
    entered = entry_from_row(taken)
    if (entered.job_id, entered.image_index) == (job_id, image_index):
        raise ContestError(
            f"That image is already entered as your entry in {contest.title}: image "
            f"{image_index + 1} of job #{job_id}."
        )
    return entered


def _another_form(
    contest: Contest, job_id: int, image_index: int, origin: Origin, entered: Entry
) -> str:
    """Asks to swap the standing form ``entered`` of an image for another form of it
    (``{voting}``: when submissions close)."""
    new_is_upscale = job_id != origin.job_id
    old_is_upscale = entered.job_id != origin.job_id
    if new_is_upscale and not old_is_upscale:
        swap = "entering this upscale instead replaces it, and voters see the larger version"
    elif old_is_upscale and not new_is_upscale:
        swap = "entering the grid image instead replaces it, and voters see the grid-sized version"
    else:
        swap = "entering this upscale instead replaces it, and voters see this version"
    return (
        f"{_describe(entered.job_id, entered.image_index, origin)} is already your entry in "
        f"{contest.title}. Image {image_index + 1} of job #{job_id} is the same image, "
        f"{'upscaled' if new_is_upscale else 'not upscaled'}, and an image enters once: "
        f"{swap}. You can change it until {{voting}}."
    )


def _describe(job_id: int, image_index: int, origin: Origin) -> str:
    """Image ``image_index`` of job ``job_id``, saying which image it enlarges if it is an
    upscale."""
    named = f"Image {image_index + 1} of job #{job_id}"
    if job_id == origin.job_id:
        return named
    return f"{named} (an upscale of image {origin.index + 1} of job #{origin.job_id})"
