"""Opening, extending and cancelling contests, and moving them through their phases.

``advance(now)`` performs every phase change whose time has come, oldest first, each in
one transaction that checks the contest is still in the state it expects (so a change
happens once however often ``advance`` runs) and queues its announcement. Reminders come
24 hours before each deadline; one whose deadline has already passed (the bot was down)
is skipped rather than posted late.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import aiosqlite

from contests import announcements, results, schedule
from contests.errors import ContestError
from contests.model import AnnouncementKind, Contest, ContestState, contest_from_row
from contests.store import contest_in, one, rows
from contests.themes import clean_theme, mark_used, matching_theme, take_next_theme
from db.database import Database
from db.times import from_db_time, to_db_time

REMINDER_BEFORE = timedelta(hours=24)
MAX_PHASE_DAYS = 14
MAX_EXTENSION = timedelta(days=14)
MAX_REASON_LENGTH = 300
MISSED_WHILE_OFFLINE = "Atelier was offline for its whole submission phase"
#: Why a weekly contest was cancelled when it had no theme to open with.
EMPTY_THEME_QUEUE = "the theme queue was empty"

#: Safety net: one ``advance`` performs at most this many changes (the rest wait a tick).
MAX_STEPS_PER_ADVANCE = 1000


def draw_seed() -> int:
    """A fresh shuffle seed for the voting order."""
    return random.SystemRandom().getrandbits(63)


async def open_contest(
    db: Database,
    *,
    guild_id: int,
    channel_id: int,
    theme: str,
    submit_days: int,
    vote_days: int,
    opened_by: int,
    now: datetime,
) -> Contest:
    """Open a contest now, taking entries for ``submit_days``, then votes for ``vote_days``."""
    text = clean_theme(theme)
    for name, days in (("Submissions", submit_days), ("Voting", vote_days)):
        if not 1 <= days <= MAX_PHASE_DAYS:
            raise ContestError(f"{name} can last 1 to {MAX_PHASE_DAYS} days, not {days}.")
    voting_at = now + timedelta(days=submit_days)
    closes_at = voting_at + timedelta(days=vote_days)
    async with db.transaction() as conn:
        await _refuse_if_accepting(conn, guild_id)
        theme_id = await matching_theme(conn, guild_id, text)
        if theme_id is not None:
            await mark_used(conn, theme_id, now)
        async with conn.execute(
            "INSERT INTO contests (guild_id, channel_id, theme, theme_id, state, created_by,"
            " created_at, opens_at, voting_at, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                channel_id,
                text,
                theme_id,
                ContestState.SUBMISSIONS.value,
                opened_by,
                to_db_time(now),
                to_db_time(now),
                to_db_time(voting_at),
                to_db_time(closes_at),
            ),
        ) as cursor:
            contest_id = cursor.lastrowid
        assert contest_id is not None
        await announcements.queue(conn, contest_id, AnnouncementKind.OPENING, now)
        return await contest_in(conn, contest_id)


async def extend(
    db: Database,
    contest_id: int,
    *,
    guild_id: int,
    by: timedelta,
    extended_by: int,
    interaction_id: int,
    now: datetime,
) -> Contest:
    """Move the current phase's deadline (and the ones after it) later by ``by``.

    A repeated ``interaction_id`` adds nothing: it returns the contest with the deadlines
    that extension set.
    """
    if by <= timedelta(0) or by > MAX_EXTENSION:
        raise ContestError("An extension must be more than 0 hours and at most 14 days.")
    async with db.transaction() as conn:
        earlier = await one(
            conn,
            "SELECT contest_id, voting_at, closes_at FROM contest_extensions"
            " WHERE interaction_id = ?",
            (interaction_id,),
        )
        if earlier is not None:
            return dataclasses.replace(
                await contest_in(conn, earlier["contest_id"]),
                voting_at=from_db_time(earlier["voting_at"]),
                closes_at=from_db_time(earlier["closes_at"]),
            )
        contest = await contest_in(conn, contest_id)
        _check_guild(contest, guild_id)
        if contest.state is ContestState.SUBMISSIONS:
            voting_at, closes_at = contest.voting_at + by, contest.closes_at + by
            reminder_column = "submit_reminded_at"
            rearm = voting_at - REMINDER_BEFORE > now
        elif contest.state is ContestState.VOTING:
            voting_at, closes_at = contest.voting_at, contest.closes_at + by
            reminder_column = "vote_reminded_at"
            rearm = closes_at - REMINDER_BEFORE > now
        else:
            raise _not_running(contest, "extended")
        await conn.execute(
            f"UPDATE contests SET voting_at = ?, closes_at = ?,"
            f" {reminder_column} = CASE WHEN ? THEN NULL ELSE {reminder_column} END"
            " WHERE id = ?",
            (to_db_time(voting_at), to_db_time(closes_at), int(rearm), contest.id),
        )
        await conn.execute(
            "INSERT INTO contest_extensions (contest_id, interaction_id, extended_by, seconds,"
            " voting_at, closes_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                contest.id,
                interaction_id,
                extended_by,
                int(by.total_seconds()),
                to_db_time(voting_at),
                to_db_time(closes_at),
                to_db_time(now),
            ),
        )
        await announcements.queue(conn, contest.id, AnnouncementKind.EXTENDED, now)
        return await contest_in(conn, contest.id)


async def cancel(
    db: Database, contest_id: int, *, guild_id: int, reason: str, by: int, now: datetime
) -> Contest:
    """Cancel a contest that has not closed; no points are awarded for it."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise ContestError(
            f"Give a reason of 1 to {MAX_REASON_LENGTH} characters; members will see it."
        )
    async with db.transaction() as conn:
        contest = await contest_in(conn, contest_id)
        _check_guild(contest, guild_id)
        if contest.state.is_final:
            raise _not_running(contest, "cancelled")
        await _cancel_in(conn, contest, reason=reason, by=by, now=now)
        return await contest_in(conn, contest.id)


async def advance(db: Database, now: datetime, *, draw: Callable[[], int] = draw_seed) -> int:
    """Perform every phase change due at or before ``now``, oldest first; returns how many."""
    done = 0
    while done < MAX_STEPS_PER_ADVANCE:
        due = await _earliest_due(db)
        if due is None or due[0] > now:
            return done
        _, contest, step = due
        await _STEPS[step](db, contest, now, draw)
        done += 1
    return done


async def next_due(db: Database) -> datetime | None:
    """When the earliest pending phase change falls due, or None."""
    due = await _earliest_due(db)
    return None if due is None else due[0]


# --- the phase changes ----------------------------------------------------------------------


async def _earliest_due(db: Database) -> tuple[datetime, Contest, str] | None:
    found = await db.fetchall(
        "SELECT * FROM contests WHERE state IN ('scheduled', 'submissions', 'voting')"
    )
    best: tuple[datetime, Contest, str] | None = None
    for row in found:
        contest = contest_from_row(row)
        at, step = _next_step(contest, row["submit_reminded_at"], row["vote_reminded_at"])
        if best is None or (at, contest.id) < (best[0], best[1].id):
            best = (at, contest, step)
    return best


def _next_step(
    contest: Contest, submit_reminded: str | None, vote_reminded: str | None
) -> tuple[datetime, str]:
    if contest.state is ContestState.SCHEDULED:
        return contest.opens_at, "open"
    if contest.state is ContestState.SUBMISSIONS:
        reminder = contest.voting_at - REMINDER_BEFORE
        if submit_reminded is None and reminder > contest.opens_at:
            return reminder, "submit_reminder"
        return contest.voting_at, "voting"
    reminder = contest.closes_at - REMINDER_BEFORE
    if vote_reminded is None and reminder > contest.voting_at:
        return reminder, "vote_reminder"
    return contest.closes_at, "close"


async def _open_scheduled(
    db: Database, contest: Contest, now: datetime, _: Callable[[], int]
) -> None:
    async with db.transaction() as conn:
        if not await _still(conn, contest.id, ContestState.SCHEDULED):
            return
        other = await one(
            conn,
            "SELECT id FROM contests WHERE guild_id = ? AND state = ?",
            (contest.guild_id, ContestState.SUBMISSIONS.value),
        )
        reason = None
        theme = None
        if now >= contest.voting_at:
            # Never opened, never announced: members never knew of it, so it is retired
            # without a post; the next week's contest is created where it can still open.
            await _cancel_in(
                conn, contest, reason=MISSED_WHILE_OFFLINE, by=None, now=now, announce=False
            )
            return
        if other is not None:
            reason = f"contest #{other['id']} was still accepting entries"
        else:
            theme = await take_next_theme(conn, contest.guild_id, now)
            if theme is None:
                reason = EMPTY_THEME_QUEUE
        if theme is None:
            assert reason is not None
            await _cancel_in(conn, contest, reason=reason, by=None, now=now)
            return
        await conn.execute(
            "UPDATE contests SET state = ?, theme_id = ?, theme = ? WHERE id = ?",
            (ContestState.SUBMISSIONS.value, theme[0], theme[1], contest.id),
        )
        await announcements.queue(conn, contest.id, AnnouncementKind.OPENING, now)
        await schedule.ensure_scheduled(conn, contest.guild_id, now)


async def _remind(db: Database, contest: Contest, now: datetime, _: Callable[[], int]) -> None:
    voting = contest.state is ContestState.VOTING
    column = "vote_reminded_at" if voting else "submit_reminded_at"
    deadline = contest.closes_at if voting else contest.voting_at
    kind = AnnouncementKind.VOTE_REMINDER if voting else AnnouncementKind.SUBMIT_REMINDER
    async with db.transaction() as conn:
        async with conn.execute(
            f"UPDATE contests SET {column} = ? WHERE id = ? AND state = ? AND {column} IS NULL",
            (to_db_time(now), contest.id, contest.state.value),
        ) as cursor:
            if cursor.rowcount != 1:
                return
        if now < deadline:
            await announcements.queue(conn, contest.id, kind, now)


async def _start_voting(
    db: Database, contest: Contest, now: datetime, draw: Callable[[], int]
) -> None:
    async with db.transaction() as conn:
        if not await _still(conn, contest.id, ContestState.SUBMISSIONS):
            return
        entry_ids = [
            row["id"]
            for row in await rows(
                conn,
                "SELECT id FROM contest_entries WHERE contest_id = ? AND status = 'active'"
                " ORDER BY id",
                (contest.id,),
            )
        ]
        if not entry_ids:
            await results.close(conn, contest, now)
            return
        seed = draw()
        random.Random(seed).shuffle(entry_ids)
        for number, entry_id in enumerate(entry_ids, start=1):
            await conn.execute(
                "UPDATE contest_entries SET number = ? WHERE id = ?", (number, entry_id)
            )
        await conn.execute(
            "UPDATE contests SET state = ?, shuffle_seed = ? WHERE id = ?",
            (ContestState.VOTING.value, seed, contest.id),
        )
        await announcements.queue(conn, contest.id, AnnouncementKind.VOTING, now)


async def _close(db: Database, contest: Contest, now: datetime, _: Callable[[], int]) -> None:
    async with db.transaction() as conn:
        if await _still(conn, contest.id, ContestState.VOTING):
            await results.close(conn, contest, now)


_STEPS = {
    "open": _open_scheduled,
    "submit_reminder": _remind,
    "voting": _start_voting,
    "vote_reminder": _remind,
    "close": _close,
}


# --- helpers --------------------------------------------------------------------------------


async def _cancel_in(
    conn: aiosqlite.Connection,
    contest: Contest,
    *,
    reason: str,
    by: int | None,
    now: datetime,
    announce: bool = True,
) -> None:
    """Cancel (guarded by the state read just before) and announce it; a waiting weekly
    contest that is cancelled makes room for the next week's. ``announce=False`` retires a
    weekly contest missed entirely while offline, which nobody ever saw announced."""
    async with conn.execute(
        "UPDATE contests SET state = ?, cancel_reason = ?, cancelled_by = ?, cancelled_at = ?"
        " WHERE id = ? AND state = ?",
        (
            ContestState.CANCELLED.value,
            reason,
            by,
            to_db_time(now),
            contest.id,
            contest.state.value,
        ),
    ) as cursor:
        if cursor.rowcount != 1:
            return
    if announce:
        await announcements.queue(conn, contest.id, AnnouncementKind.CANCELLED, now)
    if contest.state is ContestState.SCHEDULED:
        await schedule.ensure_scheduled(conn, contest.guild_id, now)


async def _still(conn: aiosqlite.Connection, contest_id: int, state: ContestState) -> bool:
    row = await one(conn, "SELECT state FROM contests WHERE id = ?", (contest_id,))
    return row is not None and row["state"] == state.value


async def _refuse_if_accepting(conn: aiosqlite.Connection, guild_id: int) -> None:
    row = await one(
        conn,
        "SELECT * FROM contests WHERE guild_id = ? AND state = ?",
        (guild_id, ContestState.SUBMISSIONS.value),
    )
    if row is not None:
        other = contest_from_row(row)
        raise ContestError(
            f"{other.title} is still accepting entries until {{voting}}; a server runs one "
            "submission phase at a time. Cancel it or wait until its voting starts.",
            voting=other.voting_at,
        )


def _check_guild(contest: Contest, guild_id: int) -> None:
    if contest.guild_id != guild_id:
        raise ContestError(f"There is no contest #{contest.id} in this server.")


def _not_running(contest: Contest, what: str) -> ContestError:
    if contest.state is ContestState.SCHEDULED:
        return ContestError(
            f"{contest.title} has not opened yet (it opens {{opens}}); only an open contest "
            f"can be {what}. The weekly contests follow the server's contest schedule.",
            opens=contest.opens_at,
        )
    return ContestError(f"{contest.title} is already {contest.state.value}; it cannot be {what}.")
