"""How moments are stored: fixed-width UTC text that sorts as text, and back."""

from __future__ import annotations

from datetime import UTC, datetime

_DB_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(value: datetime) -> str:
    """``2026-11-21T23:08:25.123456Z``: fixed width UTC text, so it sorts as text."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing naive datetime {value!r}: store times in UTC")
    # isoformat, not strftime: strftime("%Y") does not zero-pad years before 1000 on glibc.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(value: str) -> datetime:
    """Parse a time written by :func:`to_db_time` into an aware UTC datetime."""
    return datetime.strptime(value, _DB_TIME_FORMAT).replace(tzinfo=UTC)
