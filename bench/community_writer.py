"""Shared by the ``bench.community`` data builders: sizes, and a writer of generated rows."""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

GUILD_ID = 1
CHANNEL_ID = 10
FIRST_MEMBER = 1000
MODELS = ("sd15", "dreamshaper", "realvis", "anime-xl", "sdxl", "juggernaut", "pixel", "flux-s")
YEAR = timedelta(days=365)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Sizes:
    """How much of everything; the defaults are a busy server after a year."""

    members: int = 5_000
    grid_jobs: int = 200_000  # imagine / reroll / variation, four images each
    upscales: int = 50_000  # one image each
    favorites: int = 150_000  # ❤ on upscales
    contests: int = 50  # closed, one a week
    entries_per_contest: int = 40
    voters_per_contest: int = 150  # three votes each
    live_voters: int = 2_000  # in the contest now voting, three votes each
    campaigns: int = 30
    pledge_events: int = 5_000

    def scaled(self, factor: float) -> Sizes:
        """Every count times ``factor`` (at least 4 of each)."""
        counts = {f.name: max(4, round(getattr(self, f.name) * factor)) for f in fields(self)}
        return replace(self, **counts)


@dataclass(frozen=True)
class Job:
    id: int
    owner: int
    finished: datetime
    done: bool


class RowWriter:
    """Inserts generated rows; holds the random source and what later tables refer to."""

    def __init__(self, conn: sqlite3.Connection, sizes: Sizes, now: datetime, seed: int) -> None:
        self.conn = conn
        self.sizes = sizes
        self.now = now
        self.rng = random.Random(seed)
        self.members = list(range(FIRST_MEMBER, FIRST_MEMBER + sizes.members))
        # Activity follows a power law: a few members make most of the images.
        self.activity = list(itertools.accumulate(1 / r**0.7 for r in range(1, sizes.members + 1)))
        self.interaction = itertools.count(10**15)
        self.rows: dict[str, int] = {}
        self.grids: list[Job] = []
        self.upscales: list[Job] = []

    def member(self) -> int:
        return self.rng.choices(self.members, cum_weights=self.activity)[0]

    def insert(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        marks = ", ".join("?" * len(rows[0]))
        self.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        self.rows[table] = self.rows.get(table, 0) + len(rows)

    def insert_into(self, table: str, columns: str, rows: Sequence[Sequence[object]]) -> None:
        marks = ", ".join("?" * len(rows[0]))
        self.conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        self.rows[table] = self.rows.get(table, 0) + len(rows)
