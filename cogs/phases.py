"""Wakes the bot when a contest or campaign phase falls due.

The database holds every phase time (DESIGN.md, "Scheduling"); APScheduler only wakes the
bot. Each wake-up, and start-up, asks every registered ``PhaseSource`` to ``advance(now)``:
perform every transition whose time has passed, in order, idempotently, and announce it.
Then the timer asks each source when it next needs waking and arms one APScheduler job
for the earliest of those times.

Times come from the injectable clock, but APScheduler sleeps in real time, so the timer
converts "due at T by the clock" into "wake in T - now seconds". Tests with a fake clock
move it forward and call ``tick()`` themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

log = logging.getLogger(__name__)

_JOB_ID = "atelier-phases"

#: Never wake more often than this, even if a source keeps reporting a time in the past
#: (say, an announcement that fails because Discord is down): no busy loop.
MIN_WAKE_SECONDS = 1.0
#: Wake at least this often anyway, so a clock jump or a lost wake-up costs at most this.
MAX_WAKE_SECONDS = 3600.0


class PhaseSource(Protocol):
    """A domain whose records change phase at stored times (contests, campaigns)."""

    async def advance(self, now: datetime) -> None:
        """Perform every transition due at or before ``now``, exactly once, oldest first."""
        ...

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest stored time after which ``advance`` has work, or None."""
        ...


class PhaseTimer:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._sources: list[PhaseSource] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._next_wake: datetime | None = None

    def add(self, source: PhaseSource) -> None:
        self._sources.append(source)

    @property
    def next_wake(self) -> datetime | None:
        """When (by the clock) the armed wake-up is due; None if nothing is pending."""
        return self._next_wake

    async def start(self) -> None:
        """Catch up on everything that fell due while the bot was down, then arm the timer."""
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.start()
        await self.tick()

    async def tick(self) -> None:
        """Advance every source to now, then re-arm for the next due time."""
        async with self._lock:
            now = self._clock()
            for source in self._sources:
                try:
                    await source.advance(now)
                except Exception:
                    log.exception("advancing %s failed; retrying at the next wake-up", source)
            await self._arm(now)

    async def poke(self) -> None:
        """A phase time changed (a contest opened, a deadline moved): re-arm the timer."""
        async with self._lock:
            await self._arm(self._clock())

    async def _arm(self, now: datetime) -> None:
        due_times = []
        for source in self._sources:
            try:
                due = await source.next_due(now)
            except Exception:
                log.exception("asking %s for its next phase time failed", source)
                continue
            if due is not None:
                due_times.append(due)
        self._next_wake = min(due_times) if due_times else None
        if self._scheduler is None:
            return
        wait = MAX_WAKE_SECONDS
        if self._next_wake is not None:
            wait = (self._next_wake - now).total_seconds()
        wait = min(max(wait, MIN_WAKE_SECONDS), MAX_WAKE_SECONDS)
        run_date = datetime.now().astimezone() + timedelta(seconds=wait)
        # misfire_grace_time=None: a wake-up that comes late (a busy loop, a suspended
        # laptop) still runs; the database decides what is due, not the scheduler.
        self._scheduler.add_job(
            self.tick,
            DateTrigger(run_date=run_date),
            id=_JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
