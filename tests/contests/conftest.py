"""A real temporary database, a movable clock, and finished jobs to enter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.database import Database
from db.jobs import ImageRecord, JobKind, JobStatus, insert_images, insert_job, mark_finished

GUILD = 1000
CHANNEL = 2000
MOD = 1
ALICE, BOB, CAROL, DAVE, ERIN = 11, 12, 13, 14, 15
#: Joined long ago: old enough to enter and vote under the default 7-day rule.
VETERAN = datetime(2026, 1, 1, tzinfo=UTC)
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "a.db")
    try:
        yield database
    finally:
        await database.close()


@dataclass
class Clock:
    now: datetime = T0

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def make_job(
    db: Database,
    owner: int,
    at: datetime,
    *,
    images: int = 4,
    status: JobStatus = JobStatus.DONE,
    kind: JobKind = JobKind.IMAGINE,
    parent: tuple[int, int] | None = None,
) -> int:
    """A job by ``owner`` created at ``at`` with ``images`` images, finished as ``status``;
    ``parent`` is the (job, image index) it was made from."""
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=kind,
            owner_id=owner,
            prompt="a lighthouse at dusk",
            params={},
            model="tiny",
            created_at=at,
            parent_job_id=None if parent is None else parent[0],
            parent_index=None if parent is None else parent[1],
        )
        if status is not JobStatus.QUEUED:
            await mark_finished(conn, job_id, status=status, finished_at=at, gpu_seconds=0.1)
        if status is JobStatus.DONE:
            await insert_images(
                conn,
                [
                    ImageRecord(job_id, i, f"/tmp/{job_id}-{i}.png", i, 64, 64)
                    for i in range(images)
                ],
            )
    return job_id
