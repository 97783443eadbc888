"""A server's contest rules: entries per member, membership age, votes per member."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from contests.errors import ContestError
from contests.model import Rules
from contests.store import one
from db.database import Database
from db.times import to_db_time

MAX_ENTRIES_RANGE = (1, 10)
MIN_MEMBER_DAYS_RANGE = (0, 365)
VOTES_RANGE = (1, 25)


async def get_rules(db: Database, guild_id: int) -> Rules:
    row = await db.fetchone("SELECT * FROM contest_rules WHERE guild_id = ?", (guild_id,))
    return _rules(row)


def _rules(row: sqlite3.Row | None) -> Rules:
    if row is None:
        return Rules()
    return Rules(
        max_entries=row["max_entries"],
        min_member_days=row["min_member_days"],
        votes_per_member=row["votes_per_member"],
    )


async def set_rules(
    db: Database,
    guild_id: int,
    *,
    max_entries: int | None = None,
    min_member_days: int | None = None,
    votes_per_member: int | None = None,
    updated_by: int,
    now: datetime,
) -> Rules:
    """Change the given rules (None keeps a rule as it is); returns the rules now in force.

    The rules kept are read in the same transaction as the write, so two moderators
    changing different rules at once both have their change kept.
    """
    async with db.transaction() as conn:
        current = _rules(
            await one(conn, "SELECT * FROM contest_rules WHERE guild_id = ?", (guild_id,))
        )
        new = Rules(
            max_entries=_checked(
                "max entries", max_entries, current.max_entries, MAX_ENTRIES_RANGE
            ),
            min_member_days=_checked(
                "membership days", min_member_days, current.min_member_days, MIN_MEMBER_DAYS_RANGE
            ),
            votes_per_member=_checked(
                "votes per member", votes_per_member, current.votes_per_member, VOTES_RANGE
            ),
        )
        await conn.execute(
            "INSERT INTO contest_rules (guild_id, max_entries, min_member_days,"
            " votes_per_member, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET max_entries = excluded.max_entries,"
            " min_member_days = excluded.min_member_days,"
            " votes_per_member = excluded.votes_per_member,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (
                guild_id,
                new.max_entries,
                new.min_member_days,
                new.votes_per_member,
                updated_by,
                to_db_time(now),
            ),
        )
    return new


def check_membership(rules: Rules, member_since: datetime | None, now: datetime, what: str) -> None:
    """Refuse members who joined the server less than ``min_member_days`` ago."""
    if rules.min_member_days == 0:
        return
    if member_since is None:
        raise ContestError(
            f"Only members of this server can {what}; Discord did not say when you joined."
        )
    allowed_from = member_since + timedelta(days=rules.min_member_days)
    if now < allowed_from:
        raise ContestError(
            f"You can {what} once you have been a member for {rules.min_member_days} days; "
            "that is from {allowed}.",
            allowed=allowed_from,
        )


def _checked(name: str, value: int | None, current: int, bounds: tuple[int, int]) -> int:
    if value is None:
        return current
    low, high = bounds
    if not low <= value <= high:
        raise ContestError(f"{name.capitalize()} must be between {low} and {high}, not {value}.")
    return value
