"""A ❤ press while a slow read is under way: the all-time creators board computed by a scan
of every ❤ (``bench.community_scans``: ~1 s on a year of data, as before the running
counts), with one reader connection (every read waits for the one before it, as
before the read pool) and with the pool (``db.database.DEFAULT_READERS``).

Each mode opens the same database file with its ``readers``, keeps the board being
recomputed without a break, and times presses (``add_favorite`` + ``count_favorites``, as
in ``bench.community``) arriving at seeded random moments of it. The modes take turns in
two rounds (one reader, pool, then pool, one reader), so both share the machine's slower
moments.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.community_data import Fixture
from bench.community_scans import creators_board_by_scan
from bench.community_writer import GUILD_ID
from contests.leaderboards import Window
from db import Database
from db.database import DEFAULT_READERS
from db.users import add_favorite, count_favorites

#: A press arrives this long (at most; seeded random) after the one before it answered, so
#: presses fall at different moments of the board.
MAX_PAUSE_S = 0.25


@dataclass
class Samples:
    """Seconds: each press, and each board computed meanwhile."""

    presses: list[float]
    boards: list[float]


async def heart_while_board(
    path: Path, fixture: Fixture, *, presses: int, members: Sequence[int]
) -> dict[int, Samples]:
    """``presses`` ❤ presses per mode, keyed by the mode's number of readers; the presses
    are made by ``members`` (each once, a different one every press)."""
    if len(members) < 2 * presses:
        raise ValueError(f"{2 * presses} presses need as many members, not {len(members)}")
    modes = (1, DEFAULT_READERS)
    samples = {readers: Samples([], []) for readers in modes}
    rng = random.Random(12)
    voters = iter(members)
    for turn, order in enumerate((modes, modes[::-1])):
        for readers in order:
            count = presses // 2 if turn == 0 else presses - presses // 2
            who = [next(voters) for _ in range(count)]
            await _phase(path, fixture, readers, who, rng, samples[readers])
    return samples


async def _phase(
    path: Path,
    fixture: Fixture,
    readers: int,
    members: list[int],
    rng: random.Random,
    into: Samples,
) -> None:
    async with await Database.open(path, readers=readers) as db:
        stop = asyncio.Event()
        board = asyncio.create_task(_boards(db, fixture, stop, into.boards))
        for member in members:
            await asyncio.sleep(rng.uniform(0, MAX_PAUSE_S))
            start = time.perf_counter()
            await add_favorite(db, member, fixture.popular_upscale, 0, fixture.now)
            await count_favorites(db, fixture.popular_upscale, 0)
            into.presses.append(time.perf_counter() - start)
        stop.set()
        await board


async def _boards(db: Database, fixture: Fixture, stop: asyncio.Event, into: list[float]) -> None:
    """The all-time creators board by scan, again and again until ``stop``."""
    while not stop.is_set():
        start = time.perf_counter()
        await creators_board_by_scan(db, guild_id=GUILD_ID, window=Window.ALL, now=fixture.now)
        into.append(time.perf_counter() - start)
