"""Weekly contests: a server's schedule, and the next contest it will open.

The next weekly contest always exists as a row in state ``scheduled`` (its theme is picked
when it opens). Whenever it opens or is cancelled, the one after it is created in the same
transaction, one week on, so the chain never breaks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from contests.errors import ContestError
from contests.model import ContestState
from contests.store import one
from db.database import Database
from db.times import from_db_time, to_db_time

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Schedule:
    guild_id: int
    channel_id: int
    weekday: int  # 0 = Monday
    hour: int  # UTC
    submit_days: int
    vote_days: int

    @property
    def describe(self) -> str:
        return (
            f"every {WEEKDAYS[self.weekday]} at {self.hour:02d}:00 UTC: "
            f"{self.submit_days} day(s) of submissions, then {self.vote_days} day(s) of voting"
        )


def next_occurrence(weekday: int, hour: int, after: datetime) -> datetime:
    """The first ``weekday`` at ``hour``:00 UTC strictly after ``after``."""
    start = after.replace(minute=0, second=0, microsecond=0, hour=hour)
    start += timedelta(days=(weekday - start.weekday()) % 7)
    while start <= after:
        start += timedelta(days=7)
    return start


async def get_schedule(db: Database, guild_id: int) -> Schedule | None:
    row = await db.fetchone("SELECT * FROM contest_schedules WHERE guild_id = ?", (guild_id,))
    return None if row is None else _schedule(row)


async def set_schedule(
    db: Database,
    *,
    guild_id: int,
    channel_id: int,
    weekday: int,
    hour: int,
    submit_days: int,
    vote_days: int,
    set_by: int,
    now: datetime,
) -> datetime:
    """Make the server's contests weekly; returns when the first one opens."""
    if not 0 <= weekday <= 6:
        raise ContestError("The weekday must be one of Monday … Sunday.")
    if not 0 <= hour <= 23:
        raise ContestError(f"The hour must be between 0 and 23 (UTC), not {hour}.")
    if not 1 <= submit_days <= 7:
        raise ContestError(
            "A weekly contest takes entries for 1 to 7 days, so one week's submissions end "
            f"before the next week's begin; {submit_days} is not possible."
        )
    if not 1 <= vote_days <= 14:
        raise ContestError(f"Voting lasts 1 to 14 days, not {vote_days}.")
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO contest_schedules (guild_id, channel_id, weekday, hour, submit_days,"
            " vote_days, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " weekday = excluded.weekday, hour = excluded.hour,"
            " submit_days = excluded.submit_days, vote_days = excluded.vote_days,"
            " created_by = excluded.created_by, created_at = excluded.created_at",
            (guild_id, channel_id, weekday, hour, submit_days, vote_days, set_by, to_db_time(now)),
        )
        await _drop_pending(conn, guild_id)
        first = await ensure_scheduled(conn, guild_id, now)
    assert first is not None
    return first


async def clear_schedule(db: Database, guild_id: int) -> bool:
    """Stop weekly contests (contests already open run to their end); False if none was set."""
    async with db.transaction() as conn:
        async with conn.execute(
            "DELETE FROM contest_schedules WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            removed = cursor.rowcount == 1
        await _drop_pending(conn, guild_id)
    return removed


async def ensure_scheduled(
    conn: aiosqlite.Connection, guild_id: int, now: datetime
) -> datetime | None:
    """Inside a transaction: create the server's next weekly contest unless one is waiting.

    It opens at the first weekly slot after the latest weekly contest (or after the moment
    the schedule was set) whose submission phase has not already ended: after a long outage
    the weeks missed entirely are skipped, not created one by one. Returns when the waiting
    contest opens; None without a schedule.
    """
    row = await one(conn, "SELECT * FROM contest_schedules WHERE guild_id = ?", (guild_id,))
    if row is None:
        return None
    schedule = _schedule(row)
    waiting = await one(
        conn,
        "SELECT opens_at FROM contests WHERE guild_id = ? AND state = ?",
        (guild_id, ContestState.SCHEDULED.value),
    )
    if waiting is not None:
        return from_db_time(waiting["opens_at"])
    latest = await one(
        conn,
        "SELECT max(opens_at) FROM contests WHERE guild_id = ? AND scheduled = 1"
        " AND created_at >= ?",
        (guild_id, row["created_at"]),
    )
    anchor = from_db_time(row["created_at"])
    if latest is not None and latest[0] is not None:
        anchor = max(anchor, from_db_time(latest[0]))
    anchor = max(anchor, now - timedelta(days=schedule.submit_days))
    opens = next_occurrence(schedule.weekday, schedule.hour, anchor)
    voting = opens + timedelta(days=schedule.submit_days)
    closes = voting + timedelta(days=schedule.vote_days)
    await conn.execute(
        "INSERT INTO contests (guild_id, channel_id, state, scheduled, created_at, opens_at,"
        " voting_at, closes_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
        (
            guild_id,
            schedule.channel_id,
            ContestState.SCHEDULED.value,
            to_db_time(now),
            to_db_time(opens),
            to_db_time(voting),
            to_db_time(closes),
        ),
    )
    return opens


async def _drop_pending(conn: aiosqlite.Connection, guild_id: int) -> None:
    """Forget the waiting weekly contest: it never opened, so nothing refers to it."""
    await conn.execute(
        "DELETE FROM contests WHERE guild_id = ? AND state = ?",
        (guild_id, ContestState.SCHEDULED.value),
    )


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        weekday=row["weekday"],
        hour=row["hour"],
        submit_days=row["submit_days"],
        vote_days=row["vote_days"],
    )
