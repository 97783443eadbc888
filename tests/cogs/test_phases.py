"""The phase timer: catch-up at start, wake-ups at the earliest due time, no busy loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cogs.phases import MIN_WAKE_SECONDS, PhaseTimer
from tests.helpers.clock import FakeClock

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


class Deadlines:
    """A source with stored due times; ``advance`` records what it performed."""

    def __init__(self, *due: datetime) -> None:
        self.pending = sorted(due)
        self.performed: list[tuple[datetime, datetime]] = []
        self.advanced = asyncio.Event()

    async def advance(self, now: datetime) -> None:
        while self.pending and self.pending[0] <= now:
            self.performed.append((self.pending.pop(0), now))
            self.advanced.set()

    async def next_due(self, now: datetime) -> datetime | None:
        return self.pending[0] if self.pending else None


class Broken:
    async def advance(self, now: datetime) -> None:
        raise RuntimeError("discord is down")

    async def next_due(self, now: datetime) -> datetime | None:
        return now - timedelta(hours=1)  # overdue forever


async def test_start_catches_up_on_everything_overdue_in_order() -> None:
    clock = FakeClock(START)
    missed = [START - timedelta(days=2), START - timedelta(hours=3)]
    source = Deadlines(*missed, START + timedelta(days=1))
    timer = PhaseTimer(clock)
    timer.add(source)
    await timer.start()
    try:
        assert [due for due, _ in source.performed] == missed
        assert timer.next_wake == START + timedelta(days=1)
        await timer.tick()  # nothing new is due: nothing happens twice
        assert len(source.performed) == 2
    finally:
        timer.stop()


async def test_the_timer_wakes_itself_when_a_phase_falls_due() -> None:
    clock = FakeClock(START)
    source = Deadlines()
    timer = PhaseTimer(clock)
    timer.add(source)
    await timer.start()
    try:
        source.pending.append(START + timedelta(seconds=MIN_WAKE_SECONDS))
        await timer.poke()
        clock.now = START + timedelta(seconds=MIN_WAKE_SECONDS)
        await asyncio.wait_for(source.advanced.wait(), timeout=10)
        assert timer.next_wake is None
    finally:
        timer.stop()


async def test_a_failing_source_neither_stops_the_others_nor_spins() -> None:
    clock = FakeClock(START)
    healthy = Deadlines(START - timedelta(minutes=1))
    broken = Broken()
    calls = 0
    original = broken.advance

    async def counted(now: datetime) -> None:
        nonlocal calls
        calls += 1
        await original(now)

    broken.advance = counted  # type: ignore[method-assign]
    timer = PhaseTimer(clock)
    timer.add(broken)
    timer.add(healthy)
    await timer.start()
    try:
        assert len(healthy.performed) == 1
        await asyncio.sleep(0.5)
        assert calls == 1  # the overdue time is retried after MIN_WAKE_SECONDS, not at once
    finally:
        timer.stop()
