"""A submitted job as its submitter sees it: progress events, the outcome, cancelling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from typing import Any

from db.jobs import JobStatus, Lane
from inference.jobs import GenerationJob
from inference.pool.events import (
    Cancelled,
    Deferred,
    Failed,
    FinalEvent,
    Finished,
    JobCancelledError,
    JobDeferredError,
    JobEvent,
    JobFailedError,
    JobResult,
)
from inference.pool.queue import QueuedJob


@dataclass(frozen=True)
class QueueStatus:
    """Where a waiting job stands. The ETA is None until the pool has timed a batch."""

    position: int  # 1: next to start
    eta_start_seconds: float | None


class JobHandle:
    """A submitted job: its progress events, its outcome, and a way to cancel it."""

    def __init__(
        self,
        entry: QueuedJob,
        *,
        cancel: Callable[[JobHandle], bool],
        queue_status: Callable[[int], QueueStatus | None],
    ) -> None:
        """``cancel`` and ``queue_status`` are the pool's; use ``WorkerPool.submit``."""
        self._cancel = cancel
        self._queue_status = queue_status
        self.entry = entry
        self.status = JobStatus.QUEUED  # as last written to the database
        self.waited = 0.0  # seconds from queued to started (the first time)
        self.final: FinalEvent | None = None
        self._events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._done = asyncio.Event()
        self._streaming = False

    @property
    def job_id(self) -> int:
        return self.entry.job_id

    @property
    def owner_id(self) -> int:
        return self.entry.owner_id

    @property
    def lane(self) -> Lane:
        return self.entry.lane

    @property
    def job(self) -> GenerationJob:
        return self.entry.job

    def cancel(self) -> bool:
        """Cancel the job: at once if it is waiting, at the next step if it is running.

        Returns False if it had already ended. The handle then ends with ``Cancelled``.
        """
        return self._cancel(self)

    def queue_status(self) -> QueueStatus | None:
        """Position and ETA while the job waits; None once it started or ended."""
        return self._queue_status(self.job_id)

    def __await__(self) -> Generator[Any, None, JobResult]:
        """``await handle`` is ``await handle.result()``."""
        return self.result().__await__()

    async def result(self) -> JobResult:
        """Wait for the outcome. Raises JobFailedError, JobCancelledError or
        JobDeferredError (the pool shut down before the job could run)."""
        await self._done.wait()
        final = self.final
        if isinstance(final, Finished):
            return final.result
        if isinstance(final, Failed):
            raise JobFailedError(final.reason)
        if isinstance(final, Cancelled):
            raise JobCancelledError(f"job {self.job_id} was cancelled")
        raise JobDeferredError(
            f"job {self.job_id} is still queued: Atelier stopped before it ran, and it will "
            "run after the next start"
        )

    async def events(self) -> AsyncIterator[JobEvent]:
        """Started, Progress…, then one final event (Finished, Failed, Cancelled or
        Deferred), in order. One consumer per handle."""
        if self._streaming:
            raise RuntimeError("a job's events can be read by one consumer only")
        self._streaming = True
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, (Finished, Failed, Cancelled, Deferred)):
                return

    def _emit(self, event: JobEvent) -> None:
        self._events.put_nowait(event)

    def _finish(self, event: FinalEvent) -> None:
        if self.final is None:
            self.final = event
            self._emit(event)
            self._done.set()
