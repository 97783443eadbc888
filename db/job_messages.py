"""Where each job is shown in Discord, so a restart can still update and deliver it."""

from __future__ import annotations

from dataclasses import dataclass

from db.database import Database


@dataclass(frozen=True)
class JobMessage:
    job_id: int
    guild_id: int | None
    channel_id: int
    message_id: int
    result_message_id: int | None = None


async def save_job_message(db: Database, message: JobMessage) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id,"
            " result_message_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET"
            " guild_id = excluded.guild_id, channel_id = excluded.channel_id,"
            " message_id = excluded.message_id, result_message_id = excluded.result_message_id",
            (
                message.job_id,
                message.guild_id,
                message.channel_id,
                message.message_id,
                message.result_message_id,
            ),
        )


async def get_job_message(db: Database, job_id: int) -> JobMessage | None:
    row = await db.fetchone("SELECT * FROM job_messages WHERE job_id = ?", (job_id,))
    if row is None:
        return None
    return JobMessage(
        job_id=row["job_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        result_message_id=row["result_message_id"],
    )
