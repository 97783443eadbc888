"""Where each job is shown in Discord, and whether its outcome was delivered there.

A job's place (server, channel, the interaction that made it) is written in the same
transaction as the job (``insert_job_place``), before anything is posted; the status
message's id follows once it exists (``link_job_message``), and ``delivered_at`` once the
member has been shown the outcome (``mark_delivered``). So a process killed at any moment
leaves enough behind for the next start to find the job's message, or post one, and to
deliver every finished job that was not delivered (``undelivered``), once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db.database import Database
from db.jobs import JobStatus
from db.times import from_db_time, to_db_time


@dataclass(frozen=True)
class JobPlace:
    """Where a job is to be shown, known when it is made: the server (None: a DM), the
    channel and the interaction (a snowflake; None when unknown)."""

    guild_id: int | None
    channel_id: int
    interaction_id: int | None = None


@dataclass(frozen=True)
class JobMessage:
    job_id: int
    guild_id: int | None
    channel_id: int
    #: The status message; None until its id is recorded.
    message_id: int | None
    result_message_id: int | None = None
    interaction_id: int | None = None
    delivered_at: datetime | None = None


async def insert_job_place(conn: aiosqlite.Connection, job_id: int, place: JobPlace) -> None:
    """Record where ``job_id`` will be shown; ``conn`` is the transaction inserting the job."""
    await conn.execute(
        "INSERT INTO job_messages (job_id, guild_id, channel_id, interaction_id)"
        " VALUES (?, ?, ?, ?)",
        (job_id, place.guild_id, place.channel_id, place.interaction_id),
    )


async def link_job_message(db: Database, job_id: int, message_id: int) -> None:
    """The job's status message is ``message_id`` (posted, or found after a restart)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE job_messages SET message_id = ? WHERE job_id = ?", (message_id, job_id)
        )


async def mark_delivered(
    db: Database,
    job_id: int,
    at: datetime,
    *,
    message_id: int | None = None,
    result_message_id: int | None = None,
) -> None:
    """The job's outcome has been shown: in its status message, or (``result_message_id``)
    in a message of its own. ``message_id``: the status message, when it was only now
    found or posted."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE job_messages SET delivered_at = coalesce(delivered_at, ?),"
            " message_id = coalesce(?, message_id),"
            " result_message_id = coalesce(?, result_message_id) WHERE job_id = ?",
            (to_db_time(at), message_id, result_message_id, job_id),
        )


async def get_job_message(db: Database, job_id: int) -> JobMessage | None:
    row = await db.fetchone("SELECT * FROM job_messages WHERE job_id = ?", (job_id,))
    return None if row is None else _from_row(row)


async def reply_target(db: Database, job_id: int) -> int | None:
    """The message a job made outside Discord (no interaction: from the web editor) is
    shown as a reply to: its parent's message in the same channel (the one carrying the
    parent's result). None for a job an interaction made, or whose parent has no message
    there. Derived from what is stored, so a restart finds the same one."""
    row = await db.fetchone(
        "SELECT coalesce(p.result_message_id, p.message_id) AS target"
        " FROM job_messages m JOIN jobs j ON j.id = m.job_id"
        " JOIN job_messages p ON p.job_id = j.parent_job_id AND p.channel_id = m.channel_id"
        " WHERE m.job_id = ? AND m.interaction_id IS NULL",
        (job_id,),
    )
    return None if row is None else row["target"]


async def undelivered(db: Database) -> list[JobMessage]:
    """Jobs that ended (done, failed or cancelled) but whose outcome was never shown,
    oldest first: what a start-up delivers."""
    final = (JobStatus.DONE.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
    rows = await db.fetchall(
        "SELECT m.* FROM job_messages m JOIN jobs j ON j.id = m.job_id"
        " WHERE m.delivered_at IS NULL AND j.status IN (?, ?, ?) ORDER BY m.job_id",
        final,
    )
    return [_from_row(row) for row in rows]


def _from_row(row: sqlite3.Row) -> JobMessage:
    delivered = row["delivered_at"]
    return JobMessage(
        job_id=row["job_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        result_message_id=row["result_message_id"],
        interaction_id=row["interaction_id"],
        delivered_at=None if delivered is None else from_db_time(delivered),
    )
