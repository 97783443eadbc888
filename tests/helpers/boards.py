"""Board test data: finished jobs posted in a server, favorites, members who hide."""

from __future__ import annotations

from datetime import datetime, timedelta

from db.database import Database
from db.jobs import (
    ImageRecord,
    JobKind,
    JobStatus,
    insert_images,
    insert_job,
    mark_finished,
    mark_running,
)
from db.users import UserSettings, add_favorite, save_user_settings

#: The server whose boards the tests read.
GUILD = 900


async def posted_job(
    db: Database,
    owner: int,
    *,
    at: datetime,
    kind: JobKind = JobKind.UPSCALE,
    images: int = 1,
    model: str = "tiny",
    status: JobStatus = JobStatus.DONE,
    guild: int = GUILD,
    parent: tuple[int, int] | None = None,
) -> int:
    """A job of ``owner`` that finished at ``at`` with ``images`` images, posted in server
    ``guild``; ``parent`` is the (job, image index) it was made from."""
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=kind,
            owner_id=owner,
            prompt="a lighthouse",
            params={},
            model=model,
            created_at=at - timedelta(seconds=30),
            parent_job_id=None if parent is None else parent[0],
            parent_index=None if parent is None else parent[1],
        )
        await conn.execute(
            "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
            " VALUES (?, ?, 1, ?)",
            (job_id, guild, job_id),
        )
        await mark_running(conn, job_id, device="cpu", started_at=at - timedelta(seconds=20))
        await mark_finished(conn, job_id, status=status, finished_at=at, gpu_seconds=1.0)
        if status is JobStatus.DONE:
            await insert_images(
                conn,
                [
                    ImageRecord(job_id, n, f"/img/{job_id}-{n}.png", n, 64, 64)
                    for n in range(images)
                ],
            )
    return job_id


async def favorite(db: Database, job_id: int, *by: int, at: datetime) -> None:
    for user_id in by:
        await add_favorite(db, user_id, job_id, 0, at)


async def hide(db: Database, user_id: int) -> None:
    await save_user_settings(db, UserSettings(user_id, public=False))
