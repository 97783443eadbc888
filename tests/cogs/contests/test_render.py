"""How contests read in Discord, where the domain hands over plain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cogs.contests import render
from contests.lifecycle import EMPTY_THEME_QUEUE
from contests.model import Contest, ContestState

OPENS = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
WEEKLY = Contest(
    id=7,
    guild_id=1,
    channel_id=2,
    theme=None,
    state=ContestState.CANCELLED,
    scheduled=True,
    created_by=None,
    opens_at=OPENS,
    voting_at=OPENS + timedelta(days=3),
    closes_at=OPENS + timedelta(days=5),
    shuffle_seed=None,
    ballot_sha256=None,
    voter_count=None,
    cancel_reason=EMPTY_THEME_QUEUE,
)


def test_a_week_cancelled_for_want_of_themes_tells_moderators_how_to_add_some() -> None:
    assert render.cancelled(WEEKLY) == (
        "❌ This week's contest (#7) was cancelled: the theme queue was empty "
        "(moderators: /contest theme add)."
    )
    other = replace(WEEKLY, cancel_reason="a clash with the server's event")
    assert "/contest" not in render.cancelled(other)


def test_times_read_as_discord_timestamps() -> None:
    scheduled = replace(WEEKLY, state=ContestState.SCHEDULED, cancel_reason=None)
    assert render.contest_line(scheduled).endswith(f": opens <t:{int(OPENS.timestamp())}:R>")
