"""The one fake clock of the suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Where the ``clock`` fixture starts: a Monday, 18:00 UTC.
T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


class FakeClock:
    """A clock a test moves by hand. Pass it where the code takes a clock (it is called for
    the time, as ``utc_now`` is); read or assign ``now``; ``advance`` moves it forward."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now
