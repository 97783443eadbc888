"""Migrations 0008 and board_counts: the ❤ count and the week's boards find their rows
through an index; the all-time boards read running counts.

Speed itself is measured in ``bench.community`` (no timed tests here). What a test can hold
is the query plan: the statements these functions really run (recorded as SQLite executes
them) must not read a whole table of favorites, jobs or images. They would, and a busy
server would feel it, if an index were dropped or a query changed so that it no longer
matches one (the made-at expression, for instance, must stay the one indexed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from contests.boards.trending import trending_board
from contests.leaderboards import Window, creators_board, models_board
from db.database import Database
from db.users import count_favorites

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
#: The big tables, and the aliases the boards give them.
BIG = {"favorites", "jobs", "images", "f", "j", "i", "favorite_credits", "board_job_images"}


async def _plans(db: Database, call: Callable[[], Awaitable[object]]) -> list[str]:
    """The query plan lines of every statement ``call`` runs."""
    statements: list[str] = []
    async with db.tracing(statements.append):
        await call()
    assert statements, "the call ran no statement"
    lines = []
    for sql in statements:
        rows = await db.fetchall("EXPLAIN QUERY PLAN " + sql)
        lines += [str(row["detail"]) for row in rows]
    return lines


def _full_scans(lines: list[str]) -> list[str]:
    """Plan lines reading a big table from end to end (through an index or not)."""
    return [line for line in lines if line.split()[:1] == ["SCAN"] and line.split()[1] in BIG]


async def test_a_heart_press_counts_the_images_favorites_through_an_index(db: Database) -> None:
    lines = await _plans(db, lambda: count_favorites(db, 1, 0))
    assert any("favorites_image" in line for line in lines), lines
    assert _full_scans(lines) == []


@pytest.mark.parametrize(
    ("board", "index"),
    [
        ("creators", "favorite_credits_given"),  # the ❤ given this week
        ("models", "board_job_images_made"),  # the jobs finished this week's part-days
        ("trending", "jobs_done_made_at"),  # this week's upscales, then their ❤
    ],
)
async def test_the_weeks_boards_read_only_the_week(db: Database, board: str, index: str) -> None:
    calls = {
        "creators": lambda: creators_board(db, guild_id=1, window=Window.WEEK, now=NOW),
        "models": lambda: models_board(db, guild_id=1, window=Window.WEEK, now=NOW),
        "trending": lambda: trending_board(db, guild_id=1, now=NOW),
    }
    lines = await _plans(db, calls[board])
    assert any(index in line and ">" in line for line in lines), lines
    assert _full_scans(lines) == [], lines


@pytest.mark.parametrize(
    ("board", "counts"),
    [("creators", "creator_hearts"), ("models", "model_image_days")],
)
async def test_the_all_time_boards_read_running_counts(
    db: Database, board: str, counts: str
) -> None:
    calls = {
        "creators": lambda: creators_board(db, guild_id=1, window=Window.ALL, now=NOW),
        "models": lambda: models_board(db, guild_id=1, window=Window.ALL, now=NOW),
    }
    lines = await _plans(db, calls[board])
    assert any(counts in line for line in lines), lines
    assert _full_scans(lines) == [], lines
