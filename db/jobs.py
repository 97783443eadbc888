"""Repository functions for the ``jobs`` and ``images`` tables, returning plain records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import aiosqlite

from db.database import Database
from db.times import from_db_time, to_db_time


class JobKind(StrEnum):
    IMAGINE = "imagine"
    REROLL = "reroll"
    VARIATION = "variation"
    UPSCALE = "upscale"
    ZOOM = "zoom"  # Zoom Out 2×/1.5×, Custom Zoom: a wider canvas around the image
    PAN = "pan"  # the canvas extended on one side
    SQUARE = "square"  # Make Square: the short side extended
    REGION = "region"  # Vary (Region): a marked area made again


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """A final job never changes status again."""
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Lane(StrEnum):
    """Queue lanes, served in this order; inside a lane, users take turns."""

    PRIORITY = "priority"
    STANDARD = "standard"


#: The ``owner_id`` of jobs started from the command line (no Discord user).
LOCAL_OWNER_ID = 0


class JobStateError(Exception):
    """A status change that the job's current status does not allow."""


class JobNotFoundError(LookupError):
    """No job has the given id."""


@dataclass(frozen=True)
class JobRecord:
    """One row of ``jobs``; times are aware UTC datetimes."""

    id: int
    kind: JobKind
    owner_id: int
    prompt: str
    params: dict[str, Any]
    model: str
    parent_job_id: int | None
    parent_index: int | None
    status: JobStatus
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    device: str | None
    gpu_seconds: float
    lane: Lane


@dataclass(frozen=True)
class ImageRecord:
    """One row of ``images``: image ``index`` (0-based) of job ``job_id``."""

    job_id: int
    index: int
    path: str
    seed: int
    width: int
    height: int


async def insert_job(
    conn: aiosqlite.Connection,
    *,
    kind: JobKind,
    owner_id: int,
    prompt: str,
    params: Mapping[str, Any],
    model: str,
    created_at: datetime,
    parent_job_id: int | None = None,
    parent_index: int | None = None,
    lane: Lane = Lane.STANDARD,
    loras: Sequence[tuple[str, float]] = (),
) -> int:
    """Insert a queued job and return its id. ``conn`` comes from ``Database.transaction()``.
    ``loras``: the (version key, weight) of each LoRA it runs with, in the prompt's order."""
    async with conn.execute(
        "INSERT INTO jobs (kind, owner_id, prompt, params, model, parent_job_id, parent_index,"
        " status, created_at, lane) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            JobKind(kind).value,
            owner_id,
            prompt,
            _encode_params(params),
            model,
            parent_job_id,
            parent_index,
            JobStatus.QUEUED.value,
            to_db_time(created_at),
            Lane(lane).value,
        ),
    ) as cursor:
        job_id = cursor.lastrowid
    assert job_id is not None
    if loras:
        await conn.executemany(
            "INSERT INTO job_loras (job_id, position, version_key, weight) VALUES (?, ?, ?, ?)",
            [(job_id, position, key, weight) for position, (key, weight) in enumerate(loras)],
        )
    return job_id


async def mark_running(
    conn: aiosqlite.Connection, job_id: int, *, device: str, started_at: datetime
) -> None:
    """queued → running on ``device``."""
    await _transition(
        conn,
        job_id,
        allowed_from=(JobStatus.QUEUED,),
        to=JobStatus.RUNNING,
        assignments="device = ?, started_at = ?",
        values=(device, to_db_time(started_at)),
    )


async def mark_finished(
    conn: aiosqlite.Connection,
    job_id: int,
    *,
    status: JobStatus,
    finished_at: datetime,
    gpu_seconds: float,
    error: str | None = None,
) -> None:
    """queued or running → done, failed or cancelled (a queued job can be cancelled or fail)."""
    status = JobStatus(status)
    if not status.is_final:
        raise ValueError(f"mark_finished needs a final status, not {status.value!r}")
    await _transition(
        conn,
        job_id,
        allowed_from=(JobStatus.QUEUED, JobStatus.RUNNING),
        to=status,
        assignments="finished_at = ?, gpu_seconds = ?, error = ?",
        values=(to_db_time(finished_at), gpu_seconds, error),
    )


async def requeue(conn: aiosqlite.Connection, job_id: int) -> None:
    """running → queued, forgetting device and start time: restart recovery for a job whose
    worker died with the process."""
    await _transition(
        conn,
        job_id,
        allowed_from=(JobStatus.RUNNING,),
        to=JobStatus.QUEUED,
        assignments="device = NULL, started_at = NULL",
        values=(),
    )


async def insert_images(conn: aiosqlite.Connection, images: Sequence[ImageRecord]) -> None:
    """Record the images a job produced. ``conn`` comes from ``Database.transaction()``."""
    async with conn.executemany(
        "INSERT INTO images (job_id, idx, path, seed, width, height) VALUES (?, ?, ?, ?, ?, ?)",
        [(i.job_id, i.index, i.path, i.seed, i.width, i.height) for i in images],
    ):
        pass


async def get_job(db: Database, job_id: int) -> JobRecord | None:
    row = await db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
    return None if row is None else _job_from_row(row)


async def list_images(db: Database, job_id: int) -> list[ImageRecord]:
    """The job's images, by index."""
    rows = await db.fetchall(
        "SELECT job_id, idx, path, seed, width, height FROM images WHERE job_id = ? ORDER BY idx",
        (job_id,),
    )
    return [
        ImageRecord(
            job_id=row["job_id"],
            index=row["idx"],
            path=row["path"],
            seed=row["seed"],
            width=row["width"],
            height=row["height"],
        )
        for row in rows
    ]


async def unfinished_child(
    db: Database,
    *,
    owner_id: int,
    kind: JobKind,
    parent_job_id: int,
    parent_index: int,
    strength: float | None,
    same: Mapping[str, Any] | None = None,
) -> int | None:
    """The id of ``owner_id``'s queued or running ``kind`` job made from that parent image
    with that img2img strength, if there is one: the same button pressed again too soon.
    ``same``: more of the job's parameters that must match, by JSON path (``$.width``;
    a list or mapping is compared as the compact JSON that ``json_extract`` gives)."""
    paths = sorted((same or {}).items())
    extra = "".join(" AND json_extract(params, ?) IS ?" for _ in paths)
    values = [
        value
        for path, wanted in paths
        for value in (path, _json_text(wanted) if isinstance(wanted, list | dict) else wanted)
    ]
    row = await db.fetchone(
        "SELECT id FROM jobs WHERE owner_id = ? AND kind = ? AND parent_job_id = ?"
        " AND parent_index = ? AND json_extract(params, '$.strength') IS ?"
        f"{extra} AND status IN (?, ?) ORDER BY id LIMIT 1",
        (
            owner_id,
            JobKind(kind).value,
            parent_job_id,
            parent_index,
            strength,
            *values,
            JobStatus.QUEUED.value,
            JobStatus.RUNNING.value,
        ),
    )
    return None if row is None else int(row["id"])


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


async def unfinished_jobs(db: Database) -> list[JobRecord]:
    """Queued and running jobs, oldest first: what a restart must recover."""
    rows = await db.fetchall(
        "SELECT * FROM jobs WHERE status IN (?, ?) ORDER BY id",
        (JobStatus.QUEUED.value, JobStatus.RUNNING.value),
    )
    return [_job_from_row(row) for row in rows]


async def _transition(
    conn: aiosqlite.Connection,
    job_id: int,
    *,
    allowed_from: tuple[JobStatus, ...],
    to: JobStatus,
    assignments: str,
    values: tuple[Any, ...],
) -> None:
    """Change status only if the current one is in ``allowed_from``; explain a refusal.

    The status test is in the UPDATE's WHERE clause, so check and change are one statement.
    """
    marks = ", ".join("?" for _ in allowed_from)
    async with conn.execute(
        f"UPDATE jobs SET status = ?, {assignments} WHERE id = ? AND status IN ({marks})",
        (to.value, *values, job_id, *(s.value for s in allowed_from)),
    ) as cursor:
        changed = cursor.rowcount
    if changed == 1:
        return
    async with conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise JobNotFoundError(f"job {job_id} does not exist")
    allowed = " or ".join(s.value for s in allowed_from)
    raise JobStateError(f"job {job_id} is {row[0]}, not {allowed}; cannot make it {to.value}")


def _encode_params(params: Mapping[str, Any]) -> str:
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping, not {type(params).__name__}")
    # allow_nan=False: NaN/Infinity are not JSON, and json_valid() would reject them anyway.
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _job_from_row(row: sqlite3.Row) -> JobRecord:
    params = json.loads(row["params"])
    if not isinstance(params, dict):  # the CHECK constraint makes this unreachable
        raise ValueError(f"job {row['id']} params are not a JSON object")
    return JobRecord(
        id=row["id"],
        kind=JobKind(row["kind"]),
        owner_id=row["owner_id"],
        prompt=row["prompt"],
        params=params,
        model=row["model"],
        parent_job_id=row["parent_job_id"],
        parent_index=row["parent_index"],
        status=JobStatus(row["status"]),
        error=row["error"],
        created_at=from_db_time(row["created_at"]),
        started_at=_optional_time(row["started_at"]),
        finished_at=_optional_time(row["finished_at"]),
        device=row["device"],
        gpu_seconds=float(row["gpu_seconds"]),
        lane=Lane(row["lane"]),
    )


def _optional_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)
