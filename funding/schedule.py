"""Campaign start and deadline as members type them: a date ``YYYY-MM-DD`` or a number of days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from core.errors import quoted
from funding.errors import FundingError

#: A campaign runs at least a day (the last-24-hours rule needs one) and at most this long.
MIN_DURATION = timedelta(days=1)
MAX_DURATION = timedelta(days=90)
#: How far ahead a campaign may be scheduled to open.
MAX_START_DELAY = timedelta(days=90)

_DAYS = re.compile(r"^(?P<n>\d{1,3})\s*(?:d|days?)?$", re.IGNORECASE)


def parse_moment(text: str, now: datetime, *, what: str, date_time: time) -> datetime:
    """``"14"``/``"14d"``/``"14 days"``: that many days after ``now``; ``"2026-12-24"``: that
    date at ``date_time`` UTC. ``what`` names the option in the error message."""
    raw = text.strip()
    days = _DAYS.match(raw)
    if days:
        return now + timedelta(days=int(days["n"]))
    try:
        day = date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
    except ValueError:
        raise FundingError(f"{what} {quoted(raw)} is not a real date; use YYYY-MM-DD.") from None
    if day is None:
        raise FundingError(
            f"{what} {quoted(raw)} is neither a date (YYYY-MM-DD, in UTC) nor a number of "
            "days (e.g. 14)."
        )
    return datetime.combine(day, date_time, tzinfo=UTC)


def parse_deadline(text: str, now: datetime, *, starts_at: datetime) -> datetime:
    """The deadline: a number of days from now, or the end of a UTC date (its midnight)."""
    deadline = parse_moment(text, now, what="Deadline", date_time=time(0))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        deadline += timedelta(days=1)  # "2026-12-24" means pledges are open all that day
    if deadline - starts_at < MIN_DURATION:
        raise FundingError(
            "The deadline {deadline} is less than a day after the campaign opens; give at "
            "least 1 day.",
            deadline=deadline,
        )
    if deadline - starts_at > MAX_DURATION:
        raise FundingError(
            f"The deadline {{deadline}} is more than {MAX_DURATION.days} days after the "
            f"campaign opens; give at most {MAX_DURATION.days}.",
            deadline=deadline,
        )
    return deadline


def parse_start(text: str | None, now: datetime) -> datetime:
    """When pledges open: now (no text), a number of days from now, or a UTC date's start."""
    if text is None or not text.strip():
        return now
    start = parse_moment(text, now, what="Start", date_time=time(0))
    if start < now:
        raise FundingError(f"Start {quoted(text)} is in the past; leave it out to open now.")
    if start - now > MAX_START_DELAY:
        raise FundingError(f"Start {quoted(text)} is more than {MAX_START_DELAY.days} days away.")
    return start
