"""Announcements waiting to be posted in a contest's channel.

Each is queued in the same transaction as the phase change it announces, so a change is
announced exactly once: the bot posts pending announcements and marks them posted. (A crash
between posting and marking may repeat one post; none is ever lost.)
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from contests.model import Announcement, AnnouncementKind
from db.database import Database
from db.times import to_db_time


async def queue(
    conn: aiosqlite.Connection, contest_id: int, kind: AnnouncementKind, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO contest_announcements (contest_id, kind, created_at) VALUES (?, ?, ?)",
        (contest_id, kind.value, to_db_time(now)),
    )


async def pending(db: Database) -> list[Announcement]:
    """Announcements not yet posted, oldest first."""
    found = await db.fetchall(
        "SELECT id, contest_id, kind FROM contest_announcements WHERE posted_at IS NULL ORDER BY id"
    )
    return [
        Announcement(row["id"], row["contest_id"], AnnouncementKind(row["kind"])) for row in found
    ]


async def mark_posted(db: Database, announcement_id: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE contest_announcements SET posted_at = ? WHERE id = ? AND posted_at IS NULL",
            (to_db_time(now), announcement_id),
        )
