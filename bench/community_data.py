"""A year of a busy server, written straight into an Atelier database for ``bench.community``.

Rows are generated with a fixed seed and written with ``executemany`` in one transaction on
a plain ``sqlite3`` connection, into a file the real migrations have already created (so the
schema, its checks and its indexes are the ones the bot runs on). The shapes follow what the
bot itself writes: jobs with their images, ❤ favorites on upscales, closed weekly contests
with entries, votes, presses and results (ranked by ``contests.results.rank``), one contest
in its voting phase, and campaigns with their append-only ledger (settled ones carrying
their settle or void events).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.community_contests import contests
from bench.community_ledger import campaigns
from bench.community_writer import (
    CHANNEL_ID,
    DAY,
    GUILD_ID,
    MODELS,
    YEAR,
    Job,
    RowWriter,
    Sizes,
)
from db.times import to_db_time


@dataclass
class Fixture:
    """What the benchmark needs to know about the data it runs on."""

    now: datetime
    heavy_user: int  # the member with the most jobs
    heavy_jobs: int
    live_contest: int  # the contest now voting
    live_entries: list[int]
    live_votes: int
    big_campaign: int  # the open campaign with the most ledger events
    big_campaign_events: int
    popular_upscale: int  # the upscale with the most ❤
    # Neither voting nor entered in the live contest, and no pledge anywhere.
    idle_members: list[int] = field(default_factory=list)
    not_fans: list[int] = field(default_factory=list)  # no ❤ on the popular upscale yet
    rows: dict[str, int] = field(default_factory=dict)  # table → rows written


def build(path: Path, sizes: Sizes, now: datetime, *, seed: int = 7) -> Fixture:
    """Fill the migrated, empty database at ``path``; returns what the benchmark needs."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        w = RowWriter(conn, sizes, now, seed)
        conn.execute("BEGIN")
        _jobs(w)
        _favorites(w)
        _settings(w)
        live_contest, live_entries, live_votes = contests(w)
        big_campaign, big_events = campaigns(w)
        conn.execute("COMMIT")
        jobs_per_member = Counter(job.owner for job in w.grids + w.upscales)
        heavy_user, heavy_jobs = jobs_per_member.most_common(1)[0]
        popular = int(
            conn.execute(
                "SELECT job_id FROM favorites GROUP BY job_id ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()[0]
        )
        fans = {
            int(r[0])
            for r in conn.execute("SELECT user_id FROM favorites WHERE job_id = ?", (popular,))
        }
        busy = {
            int(r[0])
            for r in conn.execute(
                "SELECT voter_id FROM contest_votes WHERE contest_id = ?"
                " UNION SELECT user_id FROM contest_entries WHERE contest_id = ?"
                " UNION SELECT backer_id FROM pledge_events UNION SELECT owner_id FROM campaigns",
                (live_contest, live_contest),
            )
        }
    finally:
        conn.close()
    return Fixture(
        now=now,
        heavy_user=heavy_user,
        heavy_jobs=heavy_jobs,
        live_contest=live_contest,
        live_entries=live_entries,
        live_votes=live_votes,
        big_campaign=big_campaign,
        big_campaign_events=big_events,
        popular_upscale=popular,
        idle_members=[m for m in w.members if m not in busy],
        not_fans=[m for m in w.members if m not in fans],
        rows=w.rows,
    )


def _job_row(
    w: RowWriter, job_id: int, kind: str, owner: int, parent: int | None, created: datetime
) -> tuple[tuple[object, ...], Job]:
    done = kind == "upscale" or w.rng.random() >= 0.02  # 2 % of grids failed
    seconds = w.rng.uniform(3, 20) if done else 0.5
    finished = min(w.now, created + timedelta(seconds=seconds + w.rng.uniform(0, 60)))
    model = MODELS[min(int(w.rng.expovariate(0.6)), len(MODELS) - 1)]
    row = (
        job_id,
        kind,
        owner,
        f"prompt {job_id} by member {owner}, highly detailed, volumetric light",
        '{"steps": 30, "guidance": 7.0}',
        model,
        parent,
        None if parent is None else w.rng.randrange(4),
        "done" if done else "failed",
        None if done else "out of memory",
        to_db_time(created),
        to_db_time(created),
        to_db_time(finished),
        "cuda:0",
        seconds,
        "standard",
    )
    return row, Job(job_id, owner, finished, done)


def _jobs(w: RowWriter) -> None:
    """Grid jobs in time order (a reroll or variation follows the owner's last grid), then
    upscales of finished grids by the grid's owner, within the hour after it."""
    times = sorted(w.now - YEAR * w.rng.random() for _ in range(w.sizes.grid_jobs))
    last_grid: dict[int, int] = {}
    jobs: list[tuple[object, ...]] = []
    images: list[tuple[object, ...]] = []
    for job_id, created in enumerate(times, start=1):
        owner = w.member()
        kind = w.rng.choices(("imagine", "reroll", "variation"), (75, 12, 13))[0]
        parent = None if kind == "imagine" else last_grid.get(owner)
        row, job = _job_row(w, job_id, kind if parent else "imagine", owner, parent, created)
        jobs.append(row)
        if job.done:
            w.grids.append(job)
            last_grid[owner] = job_id
            images.extend(
                (job_id, i, f"/data/{job_id}/{i}.png", job_id * 4 + i, 512, 512) for i in range(4)
            )
    for job_id in range(w.sizes.grid_jobs + 1, w.sizes.grid_jobs + w.sizes.upscales + 1):
        grid = w.rng.choice(w.grids)
        created = min(w.now, grid.finished + timedelta(minutes=60 * w.rng.random()))
        row, job = _job_row(w, job_id, "upscale", grid.owner, grid.id, created)
        jobs.append(row)
        w.upscales.append(job)
        images.append((job_id, 0, f"/data/{job_id}/0.png", job_id * 4, 1024, 1024))
    w.insert("jobs", jobs)
    w.insert("images", images)
    # Every job was posted in the server's channel: the boards count a server's jobs by it.
    # (Written in the shipped schema's shape; the delivery migration marks every job that
    # had ended as delivered.)
    w.insert_into(
        "job_messages",
        "job_id, guild_id, channel_id, message_id",
        [(job_id, GUILD_ID, CHANNEL_ID, 10**12 + job_id) for job_id in range(1, len(jobs) + 1)],
    )


def _favorites(w: RowWriter) -> None:
    """❤ on upscales: a few images get hundreds, most one to a few; given within days."""
    weights = list(itertools.accumulate(1 / r**0.6 for r in range(1, len(w.upscales) + 1)))
    shuffled = w.upscales[:]
    w.rng.shuffle(shuffled)
    seen: set[tuple[int, int]] = set()
    rows: list[tuple[object, ...]] = []
    while len(rows) < w.sizes.favorites:
        job = w.rng.choices(shuffled, cum_weights=weights)[0]
        # Mostly other members; about one ❤ in 30 is the owner's own (it does not count).
        user = job.owner if w.rng.random() < 0.03 else w.rng.choice(w.members)
        if (user, job.id) in seen:
            continue
        seen.add((user, job.id))
        at = min(w.now, job.finished + DAY * w.rng.expovariate(1.0))
        rows.append((user, job.id, 0, to_db_time(at)))
    w.insert("favorites", rows)


def _settings(w: RowWriter) -> None:
    """A quarter of the members changed a setting; one in twenty hides from public lists."""
    rows = [
        (m, None, None, "subtle", 0 if w.rng.random() < 0.2 else 1, "")
        for m in w.rng.sample(w.members, len(w.members) // 4)
    ]
    w.insert("user_settings", rows)
