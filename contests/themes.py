"""A server's queue of contest themes.

Scheduled contests take the theme used least often, and among those the one used longest
ago (or added first), so no theme repeats until every theme in the queue has had its turn.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from contests.errors import ContestError, ContestHint
from contests.store import one
from db.database import Database
from db.times import from_db_time, to_db_time

MAX_THEME_LENGTH = 200
MAX_THEMES = 100


@dataclass(frozen=True)
class Theme:
    id: int
    theme: str
    uses: int
    last_used_at: datetime | None


def clean_theme(text: str) -> str:
    """The theme as stored: single spaces, trimmed; ContestError if empty or too long."""
    theme = " ".join(text.split())
    if not theme:
        raise ContestError("A theme needs some words, e.g. “lighthouses at dusk”.")
    if len(theme) > MAX_THEME_LENGTH:
        raise ContestError(
            f"A theme can be at most {MAX_THEME_LENGTH} characters; this one has {len(theme)}."
        )
    return theme


def folded(theme: str) -> str:
    """The key two spellings of one theme share: full Unicode case folding."""
    return theme.casefold()


async def add_theme(
    db: Database, guild_id: int, text: str, *, added_by: int, now: datetime
) -> Theme:
    """Queue a theme. One removed earlier comes back with its uses, so it keeps its place
    in the rotation."""
    theme = clean_theme(text)
    async with db.transaction() as conn:
        existing = await one(
            conn,
            "SELECT * FROM contest_themes WHERE guild_id = ? AND folded = ?",
            (guild_id, folded(theme)),
        )
        if existing is not None and existing["removed_at"] is None:
            raise ContestError(f"“{existing['theme']}” is already in the theme queue.")
        count = await one(
            conn,
            "SELECT count(*) FROM contest_themes WHERE guild_id = ? AND removed_at IS NULL",
            (guild_id,),
        )
        assert count is not None
        if count[0] >= MAX_THEMES:
            raise ContestError(
                f"The theme queue holds at most {MAX_THEMES} themes; remove one first."
            )
        if existing is not None:
            await conn.execute(
                "UPDATE contest_themes SET theme = ?, added_by = ?, added_at = ?,"
                " removed_at = NULL WHERE id = ?",
                (theme, added_by, to_db_time(now), existing["id"]),
            )
            return _theme({**dict(existing), "theme": theme})
        async with conn.execute(
            "INSERT INTO contest_themes (guild_id, theme, folded, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (guild_id, theme, folded(theme), added_by, to_db_time(now)),
        ) as cursor:
            theme_id = cursor.lastrowid
    assert theme_id is not None
    return Theme(theme_id, theme, 0, None)


async def list_themes(db: Database, guild_id: int) -> list[Theme]:
    """The queue in the order scheduled contests will take it."""
    found = await db.fetchall(
        "SELECT * FROM contest_themes WHERE guild_id = ? AND removed_at IS NULL"
        " ORDER BY uses, coalesce(last_used_at, ''), id",
        (guild_id,),
    )
    return [_theme(row) for row in found]


async def remove_theme(db: Database, guild_id: int, text: str, *, now: datetime) -> str:
    """Take the theme (matched without regard to case) out of the queue; returns it as it
    was stored. Its uses are kept in case it is added again."""
    theme = clean_theme(text)
    async with db.transaction() as conn:
        row = await one(
            conn,
            "SELECT id, theme FROM contest_themes WHERE guild_id = ? AND folded = ?"
            " AND removed_at IS NULL",
            (guild_id, folded(theme)),
        )
        if row is None:
            raise ContestError(f"“{theme}” is not in the theme queue.", hint=ContestHint.THEMES)
        await conn.execute(
            "UPDATE contest_themes SET removed_at = ? WHERE id = ?", (to_db_time(now), row["id"])
        )
    return str(row["theme"])


async def take_next_theme(
    conn: aiosqlite.Connection, guild_id: int, now: datetime
) -> tuple[int, str] | None:
    """Inside a transaction: the next theme in rotation, marked used; None if the queue is empty."""
    row = await one(
        conn,
        "SELECT id, theme FROM contest_themes WHERE guild_id = ? AND removed_at IS NULL"
        " ORDER BY uses, coalesce(last_used_at, ''), id LIMIT 1",
        (guild_id,),
    )
    if row is None:
        return None
    await mark_used(conn, row["id"], now)
    return int(row["id"]), str(row["theme"])


async def matching_theme(conn: aiosqlite.Connection, guild_id: int, theme: str) -> int | None:
    """The theme with this text (any case), queued or removed: a contest opened by hand on
    it counts as one of its uses."""
    row = await one(
        conn,
        "SELECT id FROM contest_themes WHERE guild_id = ? AND folded = ?",
        (guild_id, folded(theme)),
    )
    return None if row is None else int(row["id"])


async def mark_used(conn: aiosqlite.Connection, theme_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE contest_themes SET uses = uses + 1, last_used_at = ? WHERE id = ?",
        (to_db_time(now), theme_id),
    )


def _theme(row: sqlite3.Row | Mapping[str, Any]) -> Theme:
    return Theme(
        row["id"],
        row["theme"],
        row["uses"],
        None if row["last_used_at"] is None else from_db_time(row["last_used_at"]),
    )
