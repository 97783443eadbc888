"""The app clock: every "now" in Atelier comes from a ``Clock`` passed in, so contests,
deadlines and early access are testable without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: Returns the current moment, timezone-aware in UTC.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)
