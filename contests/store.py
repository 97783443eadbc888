"""Small reads shared by the contest modules, on the reader or inside a write transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from contests.errors import ContestError, ContestHint
from contests.model import Contest, ContestState, Entry, contest_from_row, entry_from_row
from db.database import Database
from db.times import to_db_time


async def one(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> sqlite3.Row | None:
    """The first row of a query run inside a transaction."""
    async with conn.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
    return row


async def rows(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()
) -> list[sqlite3.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def contest_in(conn: aiosqlite.Connection, contest_id: int) -> Contest:
    """The contest, read inside a transaction; ContestError if there is none."""
    row = await one(conn, "SELECT * FROM contests WHERE id = ?", (contest_id,))
    if row is None:
        raise ContestError(f"There is no contest #{contest_id}.")
    return contest_from_row(row)


async def get_contest(db: Database, contest_id: int) -> Contest | None:
    row = await db.fetchone("SELECT * FROM contests WHERE id = ?", (contest_id,))
    return None if row is None else contest_from_row(row)


async def contest_in_guild(db: Database, contest_id: int, guild_id: int) -> Contest:
    """The contest if it belongs to this server; ContestError otherwise."""
    contest = await get_contest(db, contest_id)
    if contest is None or contest.guild_id != guild_id:
        raise ContestError(
            f"There is no contest #{contest_id} in this server.", hint=ContestHint.CONTESTS
        )
    return contest


async def accepting_entries(db: Database, guild_id: int) -> Contest | None:
    """The server's contest in its submission phase, if any (at most one, by an index)."""
    row = await db.fetchone(
        "SELECT * FROM contests WHERE guild_id = ? AND state = ?",
        (guild_id, ContestState.SUBMISSIONS.value),
    )
    return None if row is None else contest_from_row(row)


async def guild_contests(db: Database, guild_id: int, *, limit: int = 10) -> list[Contest]:
    """The server's contests still running or scheduled first, then the latest finished."""
    found = await db.fetchall(
        "SELECT * FROM contests WHERE guild_id = ? ORDER BY"
        " state IN ('closed', 'cancelled'), opens_at DESC LIMIT ?",
        (guild_id, limit),
    )
    return [contest_from_row(row) for row in found]


async def entries(db: Database, contest_id: int, *, include_all: bool = False) -> list[Entry]:
    """The contest's active entries (every entry with ``include_all``), in entry order."""
    sql = "SELECT * FROM contest_entries WHERE contest_id = ?"
    if not include_all:
        sql += " AND status = 'active'"
    found = await db.fetchall(sql + " ORDER BY coalesce(number, 1e9), id", (contest_id,))
    return [entry_from_row(row) for row in found]


async def entry_in(conn: aiosqlite.Connection, entry_id: int) -> Entry:
    row = await one(conn, "SELECT * FROM contest_entries WHERE id = ?", (entry_id,))
    if row is None:
        raise ContestError(f"There is no contest entry {entry_id}.")
    return entry_from_row(row)


async def set_vote_message(db: Database, entry_id: int, message_id: int) -> None:
    """Remember the message showing the entry for voting (so a retried post skips it)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE contest_entries SET vote_message_id = ? WHERE id = ?", (message_id, entry_id)
        )


async def mark_post_refused(db: Database, contest_id: int, now: datetime) -> bool:
    """Record that Discord refused a post of this contest; True only the first time, so
    the moderators are told once."""
    async with (
        db.transaction() as conn,
        conn.execute(
            "UPDATE contests SET post_refused_at = ? WHERE id = ? AND post_refused_at IS NULL",
            (to_db_time(now), contest_id),
        ) as cursor,
    ):
        return cursor.rowcount == 1
