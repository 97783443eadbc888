"""The pool's database writer: job updates applied in the order they happened.

Worker messages arrive on the event loop in order, but each database write is a coroutine;
if each ran as its own task, a job's "done" could be committed before its "running". One
recorder task applies them in order instead, several to a transaction when they pile up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import aiosqlite

from db.database import Database
from db.jobs import ImageRecord, JobStatus, insert_images, mark_finished, mark_running, requeue

log = logging.getLogger(__name__)

Write = Callable[[aiosqlite.Connection], Awaitable[None]]
Then = Callable[[], None]


class Recorder:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: asyncio.Queue[tuple[Write, Then | None]] = asyncio.Queue()

    def add(self, write: Write, then: Then | None = None) -> None:
        """Apply ``write`` after every write added before it; then call ``then`` (whether or
        not the write succeeded: a failed write is logged, and the pool goes on)."""
        self._pending.put_nowait((write, then))

    async def flush(self) -> None:
        """Wait until every write added so far is applied."""
        await self._pending.join()

    async def run(self) -> None:
        """Apply writes until cancelled. Whatever has piled up goes in one transaction; if
        that fails, each write is tried alone, so one bad write cannot block the rest."""
        while True:
            batch = [await self._pending.get()]
            while not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                async with self._db.transaction() as conn:
                    for write, _ in batch:
                        await write(conn)
            except Exception:
                log.exception("writing %d job update(s) failed; trying one by one", len(batch))
                for write, _ in batch:
                    try:
                        async with self._db.transaction() as conn:
                            await write(conn)
                    except Exception:
                        log.exception("a job update could not be written")
            for _, then in batch:
                if then is not None:
                    then()
            for _ in batch:
                self._pending.task_done()


def started(job_id: int, device: str, at: datetime) -> Write:
    async def write(conn: aiosqlite.Connection) -> None:
        await mark_running(conn, job_id, device=device, started_at=at)

    return write


def back_to_queue(job_id: int) -> Write:
    async def write(conn: aiosqlite.Connection) -> None:
        await requeue(conn, job_id)

    return write


def ended(
    job_id: int,
    status: JobStatus,
    at: datetime,
    gpu_seconds: float,
    *,
    error: str | None = None,
    images: Sequence[ImageRecord] = (),
) -> Write:
    """The job's final status, with the images it made (if any) in the same transaction."""

    async def write(conn: aiosqlite.Connection) -> None:
        if images:
            await insert_images(conn, images)
        await mark_finished(
            conn, job_id, status=status, finished_at=at, gpu_seconds=gpu_seconds, error=error
        )

    return write
