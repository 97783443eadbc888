"""Where an image's pixels came from: the job that generated them.

An upscale makes a new job, owned by whoever pressed U, but it only enlarges pixels another
job generated. So provenance walks ``parent_job_id`` back through upscales to the first job
that is not an upscale (an imagine, a reroll or a variation: each of those draws a new
image). That origin's owner is the image's author and its ``created_at`` is when the image
was made; contest entries and ❤ credit both go by it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from contests.errors import ContestError
from db.database import Database
from db.jobs import JobKind, from_db_time

# Walk up from the named job while the job is an upscale; the last row reached (the one
# that is not an upscale, or has no parent) is the origin. The depth bound keeps a
# corrupted cycle from looping forever.
_ORIGIN_SQL = """
WITH RECURSIVE chain (id, kind, parent_job_id, owner_id, created_at, depth) AS (
    SELECT id, kind, parent_job_id, owner_id, created_at, 0 FROM jobs WHERE id = ?
    UNION ALL
    SELECT j.id, j.kind, j.parent_job_id, j.owner_id, j.created_at, c.depth + 1
    FROM jobs j JOIN chain c ON j.id = c.parent_job_id
    WHERE c.kind = ? AND c.depth < 64
)
SELECT id, owner_id, created_at FROM chain ORDER BY depth DESC LIMIT 1
"""


@dataclass(frozen=True)
class Origin:
    """The job that generated an image's pixels, its owner, and when it was made."""

    job_id: int
    owner_id: int
    created_at: datetime


async def image_origin(db: Database, job_id: int) -> Origin:
    """The origin of job ``job_id``'s images (the job itself unless it is an upscale).

    Raises :class:`ContestError` when there is no such job.
    """
    row = await db.fetchone(_ORIGIN_SQL, (job_id, JobKind.UPSCALE.value))
    return _origin(row, job_id)


async def origin_in(conn: aiosqlite.Connection, job_id: int) -> Origin:
    """:func:`image_origin`, read inside a write transaction."""
    async with conn.execute(_ORIGIN_SQL, (job_id, JobKind.UPSCALE.value)) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
    return _origin(row, job_id)


def _origin(row: sqlite3.Row | None, job_id: int) -> Origin:
    if row is None:
        raise ContestError(
            f"There is no job #{job_id}; only images Atelier made can enter (the job number "
            "is under each result)."
        )
    return Origin(
        job_id=row["id"], owner_id=row["owner_id"], created_at=from_db_time(row["created_at"])
    )
