"""Where an image's pixels came from: the job and image that generated them.

An upscale makes a new job, owned by whoever pressed U, but it only enlarges pixels another
job generated. So provenance walks ``parent_job_id`` back through upscales to the first job
that is not an upscale (an imagine, a reroll or a variation: each of those draws a new
image). Each upscale step's ``parent_index`` says which image of its parent it enlarged, so
the origin image is that first job's image at the ``parent_index`` of the last upscale
step; for a job that is not an upscale it is the image named. The origin's owner is the
image's author and its ``created_at`` is when the image was made; contest entries (who may
enter it, and that it enters once) and ❤ credit all go by it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from contests.errors import ContestError
from db.database import Database
from db.jobs import JobKind
from db.times import from_db_time

# Walk up from the named job and image while the job is an upscale, carrying the index of
# the parent image each step enlarged; the last row reached (the one that is not an
# upscale, or has no parent) is the origin. The depth bound keeps a corrupted cycle from
# looping forever.
_ORIGIN_SQL = """
WITH RECURSIVE chain (id, idx, kind, parent_job_id, parent_index, owner_id, created_at, depth)
AS (
    SELECT id, :index, kind, parent_job_id, parent_index, owner_id, created_at, 0
    FROM jobs WHERE id = :job
    UNION ALL
    SELECT j.id, c.parent_index, j.kind, j.parent_job_id, j.parent_index, j.owner_id,
           j.created_at, c.depth + 1
    FROM jobs j JOIN chain c ON j.id = c.parent_job_id
    WHERE c.kind = :upscale AND c.depth < 64
)
SELECT id, idx, owner_id, created_at FROM chain ORDER BY depth DESC LIMIT 1
"""


@dataclass(frozen=True)
class Origin:
    """The image that generated a result's pixels: its job and 0-based index, the job's
    owner, and when it was made."""

    job_id: int
    index: int
    owner_id: int
    created_at: datetime


async def image_origin(db: Database, job_id: int, index: int = 0) -> Origin:
    """The origin of image ``index`` of job ``job_id`` (that image itself unless the job is
    an upscale). The owner and time do not depend on ``index``, so callers that only need
    those may leave it out.

    Raises :class:`ContestError` when there is no such job.
    """
    row = await db.fetchone(_ORIGIN_SQL, _params(job_id, index))
    return _origin(row, job_id)


async def origin_in(conn: aiosqlite.Connection, job_id: int, index: int = 0) -> Origin:
    """:func:`image_origin`, read inside a write transaction."""
    async with conn.execute(_ORIGIN_SQL, _params(job_id, index)) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
    return _origin(row, job_id)


def _params(job_id: int, index: int) -> dict[str, object]:
    return {"job": job_id, "index": index, "upscale": JobKind.UPSCALE.value}


def _origin(row: sqlite3.Row | None, job_id: int) -> Origin:
    if row is None:
        raise ContestError(
            f"There is no job #{job_id}; only images Atelier made can enter (the job number "
            "is under each result)."
        )
    return Origin(
        job_id=row["id"],
        index=row["idx"],
        owner_id=row["owner_id"],
        created_at=from_db_time(row["created_at"]),
    )
