"""The job queue: lanes served in priority order, users taking turns inside a lane, and
batches of compatible jobs.

Thread-safe: the event loop puts and removes jobs, worker threads block in
:meth:`JobQueue.take_batch`. Every method holds the lock only for a few list operations,
so the loop never waits on a worker.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserFacingError
from db.jobs import Lane
from inference.jobs import BatchKey, GenerationJob, batch_key
from inference.models import ModelRef
from inference.pool.config import UserLimits

#: Lanes in the order they are served.
LANE_ORDER = (Lane.PRIORITY, Lane.STANDARD)


@dataclass(frozen=True)
class OutputPaths:
    """Where a job's PNGs go: one per image, plus the 2×2 grid for multi-image jobs."""

    images: tuple[Path, ...]
    grid: Path | None

    @classmethod
    def for_job(cls, images_dir: Path, job_id: int, num_images: int) -> OutputPaths:
        """``images_dir/<id>/<id>-1.png`` … and ``<id>-grid.png``: derived from the id alone,
        so a job recovered after a restart writes exactly where it would have."""
        folder = images_dir / str(job_id)
        images = tuple(folder / f"{job_id}-{n}.png" for n in range(1, num_images + 1))
        return cls(images, folder / f"{job_id}-grid.png" if num_images > 1 else None)


@dataclass(eq=False)
class QueuedJob:
    """A job waiting for, or running on, a worker.

    ``cancel_requested`` is set by the event loop and read by the worker between steps (a
    plain attribute write is atomic in CPython). ``solo`` makes a job run alone: a retry
    after its batch was lost with a crashed or hung worker.
    """

    job_id: int
    owner_id: int
    lane: Lane
    job: GenerationJob
    model: ModelRef
    outputs: OutputPaths
    enqueued_at: float = field(default_factory=time.monotonic)
    solo: bool = False
    attempts: int = 0
    free_returns: int = 0  # times its worker was lost before its work ran (not a retry)
    cancel_requested: bool = False
    running: bool = False
    reported: bool = False  # its worker has reported how it ended
    key: BatchKey = field(init=False)

    def __post_init__(self) -> None:
        self.key = batch_key(self.job)

    @property
    def images(self) -> int:
        return self.job.num_images


class QueueLimitError(UserFacingError):
    """A user has too many jobs waiting; the message says so in their words."""


class QueueClosedError(Exception):
    """The queue takes no more work: the pool is shutting down."""


@dataclass
class _Lane:
    """One lane's waiting jobs, and whose turn it is.

    Turns are kept as tags (start-time fair queuing): the next job comes from the user with
    the lowest tag, ties going to whoever became active first, and a served user's tag goes
    up by one. A user who arrives (or comes back) starts at the lane's current tag, so they
    are next in line after at most one job per user already waiting, and cannot bank turns
    by staying away.
    """

    waiting: dict[int, deque[QueuedJob]] = field(default_factory=dict)
    tags: dict[int, int] = field(default_factory=dict)
    arrival: dict[int, int] = field(default_factory=dict)
    now: int = 0  # the tag of the last job served
    arrivals: int = 0

    def users_in_turn(self) -> list[int]:
        return sorted(self.waiting, key=lambda user: (self.tags[user], self.arrival[user]))

    def add(self, entry: QueuedJob, *, front: bool) -> None:
        jobs = self.waiting.get(entry.owner_id)
        if jobs is None:
            jobs = self.waiting[entry.owner_id] = deque()
            self.tags[entry.owner_id] = max(self.tags.get(entry.owner_id, 0), self.now)
            self.arrival[entry.owner_id] = self.arrivals
            self.arrivals += 1
        if front:
            jobs.appendleft(entry)
        else:
            jobs.append(entry)

    def take(self, entry: QueuedJob) -> None:
        """Remove ``entry`` as served: its owner's turn is used."""
        self.now = self.tags[entry.owner_id]
        self.tags[entry.owner_id] += 1
        self.discard(entry)

    def discard(self, entry: QueuedJob) -> None:
        jobs = self.waiting[entry.owner_id]
        jobs.remove(entry)
        if not jobs:
            del self.waiting[entry.owner_id], self.arrival[entry.owner_id]
            if self.tags[entry.owner_id] <= self.now:  # nothing left to remember
                del self.tags[entry.owner_id]

    def predicted_order(self) -> list[QueuedJob]:
        """Every waiting job in serving order: a user's *k*-th job comes at tag + k."""
        ranked = [
            ((self.tags[user] + k, self.arrival[user]), entry)
            for user, jobs in self.waiting.items()
            for k, entry in enumerate(jobs)
        ]
        return [entry for _, entry in sorted(ranked, key=lambda item: item[0])]


class JobQueue:
    def __init__(self, limits: UserLimits) -> None:
        self.limits = limits
        self._changed = threading.Condition()
        self._lanes = {lane: _Lane() for lane in LANE_ORDER}
        self._running: Counter[int] = Counter()
        self._closed = False

    # --- the event loop's side -------------------------------------------------------

    def check_limits(self, owner_id: int, count: int = 1) -> None:
        """Raise :class:`QueueLimitError` if ``owner_id`` may not queue ``count`` more jobs."""
        with self._changed:
            waiting = self._waiting_for(owner_id)
            if waiting + count <= self.limits.max_queued:
                return
            running = self._running[owner_id]
        asking = "" if count == 1 else f" This prompt makes {count} jobs."
        raise QueueLimitError(
            f"You already have {waiting} jobs waiting and {running} running; the limit is "
            f"{self.limits.max_queued} waiting and {self.limits.max_running} running at once."
            f"{asking} Wait for one to start, or cancel one."
        )

    def set_limits(self, limits: UserLimits) -> None:
        """New per-user limits, from now on (a raised running limit starts waiting jobs)."""
        with self._changed:
            self.limits = limits
            self._changed.notify_all()

    def put(self, entry: QueuedJob, *, front: bool = False) -> None:
        """Queue ``entry`` behind its owner's other jobs (``front``: ahead of them)."""
        with self._changed:
            if self._closed:
                raise QueueClosedError("the queue is closed")
            self._lanes[entry.lane].add(entry, front=front)
            self._changed.notify_all()

    def remove(self, job_id: int) -> QueuedJob | None:
        """Take a waiting job out of the queue; None if it is not waiting (any more)."""
        with self._changed:
            for lane in self._lanes.values():
                for jobs in lane.waiting.values():
                    for entry in jobs:
                        if entry.job_id == job_id:
                            lane.discard(entry)
                            return entry
        return None

    def order(self) -> list[QueuedJob]:
        """Waiting jobs in the order they will start, as far as is known now.

        Lanes in priority order; inside a lane, users in turn, one job per turn. (Limits on
        running jobs and batching can shift this a little; it is an estimate for users.)
        """
        with self._changed:
            return [entry for lane in LANE_ORDER for entry in self._lanes[lane].predicted_order()]

    def depths(self) -> dict[Lane, int]:
        with self._changed:
            return {
                lane: sum(len(jobs) for jobs in self._lanes[lane].waiting.values())
                for lane in LANE_ORDER
            }

    def close(self) -> None:
        """Stop handing out work; waiting jobs stay where they are."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def wake(self) -> None:
        """Wake every worker waiting in :meth:`take_batch`, so it checks its own flags."""
        with self._changed:
            self._changed.notify_all()

    # --- the workers' side -------------------------------------------------------------

    def take_batch(
        self, max_images: int, timeout: float, *, interrupt: Callable[[], bool] = lambda: False
    ) -> list[QueuedJob]:
        """Wait up to ``timeout`` seconds for work and take the next batch (maybe empty).

        The first job is the next one in turn that its owner's running limit allows; the
        batch is then filled, again in turn, with jobs sharing its batch key, up to
        ``max_images`` images. ``interrupt`` is checked whenever the queue is woken.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self._closed or interrupt():
                    return []
                batch = self._pick(max_images)
                if batch:
                    for entry in batch:
                        entry.running = True
                        self._running[entry.owner_id] += 1
                    return batch
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._changed.wait(remaining)

    def release(self, entries: list[QueuedJob]) -> None:
        """The jobs stopped running (finished, failed or handed back). Safe to call twice."""
        with self._changed:
            for entry in entries:
                if entry.running:
                    entry.running = False
                    self._running[entry.owner_id] -= 1
                    if self._running[entry.owner_id] <= 0:
                        del self._running[entry.owner_id]
            self._changed.notify_all()

    def _waiting_for(self, owner_id: int) -> int:
        return sum(len(lane.waiting.get(owner_id, ())) for lane in self._lanes.values())

    def _may_run(self, owner_id: int, extra: int = 0) -> bool:
        return self._running[owner_id] + extra < self.limits.max_running

    def _pick(self, max_images: int) -> list[QueuedJob]:
        lead = self._next_lead()
        if lead is None:
            return []
        self._lanes[lead.lane].take(lead)
        batch, images = [lead], lead.images
        if lead.solo:
            return batch
        taken: Counter[int] = Counter({lead.owner_id: 1})
        # Fill in rounds: each user with a compatible job adds one per round, in turn.
        added = True
        while added and images < max_images:
            added = False
            for lane_name in LANE_ORDER:
                lane = self._lanes[lane_name]
                for owner_id in lane.users_in_turn():
                    if not self._may_run(owner_id, taken[owner_id]):
                        continue
                    entry = next(
                        (
                            e
                            for e in lane.waiting[owner_id]
                            if e.key == lead.key and not e.solo and images + e.images <= max_images
                        ),
                        None,
                    )
                    if entry is None:
                        continue
                    lane.take(entry)
                    batch.append(entry)
                    images += entry.images
                    taken[owner_id] += 1
                    added = True
        return batch

    def _next_lead(self) -> QueuedJob | None:
        for lane in LANE_ORDER:
            for owner_id in self._lanes[lane].users_in_turn():
                if self._may_run(owner_id):
                    return self._lanes[lane].waiting[owner_id][0]
        return None
