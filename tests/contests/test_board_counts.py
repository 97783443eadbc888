"""The creators, models and trending boards, and the models' images made, read running counts
(migration ``board_counts``); they must give exactly what a recount of the raw rows gives,
after any history of writes: jobs made, finished and posted (and moved to another server),
images added and deleted, ❤ given and taken back, jobs deleted, members hiding and showing
their results. The recount here is plain Python over every row, written from the boards'
rules, not from their SQL; histories are random (fixed seeds) and are checked every few
writes, at several ``now``s (one at midnight, one before some of the data), for every
window.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contests.boards.trending import TrendingImage, trending_board, trending_from_rows
from contests.leaderboards import (
    CreatorStanding,
    Window,
    creators_board,
    models_board,
)
from db.database import Database
from db.jobs import (
    ImageRecord,
    JobKind,
    JobStatus,
    insert_images,
    insert_job,
    mark_finished,
    mark_running,
)
from db.migrate import Migrations
from db.times import from_db_time, to_db_time
from db.users import add_favorite
from registry.versions import images_made

START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN_DAYS = 50
GUILDS = (900, 901)
MEMBERS = (0, 1, 2, 3, 4, 5)
MODELS = ("tiny", "tiny:2", "Tiny:10", "other:1", "other")
NOWS = (
    START + timedelta(days=SPAN_DAYS + 1),
    START + timedelta(days=35),  # before some of the history
    START + timedelta(days=40),  # exactly midnight
    START + timedelta(days=30, hours=5),  # the day's part from midnight
)


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.2:  # exactly at midnight, on the edge of a day total (and of NOWS)
        return START + timedelta(days=rng.choice((30, 40, rng.randrange(SPAN_DAYS))))
    if rng.random() < 0.5:  # the weeks before NOWS, where the trending board looks
        return START + timedelta(days=rng.uniform(27, 41))
    return START + timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))


async def _show_in(db: Database, job_id: int, guild_id: int | None, *, message_id: int) -> None:
    """Record (or move) where a job is shown, as the bot's writes and a moderator's repair
    of a wrong place could: an insert the first time, an update of the server after."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
            " VALUES (?, ?, 1, ?) ON CONFLICT (job_id) DO UPDATE SET"
            " guild_id = excluded.guild_id, message_id = excluded.message_id",
            (job_id, guild_id, message_id),
        )


@dataclass
class History:
    """Random writes through the functions the bot writes with (raw SQL where the bot has
    none yet: taking a ❤ back, deleting an image or a job)."""

    db: Database
    rng: random.Random
    kinds: tuple[JobKind, ...] = tuple(JobKind)

    async def step(self) -> None:
        rng, db = self.rng, self.db
        jobs = [int(r[0]) for r in await db.fetchall("SELECT id FROM jobs")]
        action = rng.choices(
            ("job", "post", "finish", "heart", "unheart", "hide", "drop_image", "drop_job"),
            (6, 6, 6, 24, 3, 1, 1, 1),
        )[0]
        if action == "job" or not jobs:
            await self._job(jobs)
        elif action == "post":
            guild = rng.choice((*GUILDS, GUILDS[0], None))
            unposted = [
                int(r[0])
                for r in await db.fetchall(
                    "SELECT id FROM jobs WHERE id NOT IN (SELECT job_id FROM job_messages)"
                )
            ]
            job_id = rng.choice(unposted if unposted and rng.random() < 0.8 else jobs)
            await _show_in(db, job_id, guild, message_id=rng.randrange(99))
        elif action == "finish":
            queued = [
                int(r[0]) for r in await db.fetchall("SELECT id FROM jobs WHERE status = 'queued'")
            ]
            await self._finish(rng.choice(queued or jobs))
        elif action == "heart":
            # Mostly on upscales (the ❤ that count), at times of their own or soon after.
            upscales = [
                int(r[0]) for r in await db.fetchall("SELECT id FROM jobs WHERE kind = 'upscale'")
            ]
            job_id = rng.choice(upscales if upscales and rng.random() < 0.8 else jobs)
            await add_favorite(db, rng.choice(MEMBERS), job_id, rng.randrange(2), _moment(rng))
        elif action == "unheart":
            async with db.transaction() as conn:
                await conn.execute(
                    "DELETE FROM favorites WHERE rowid IN"
                    " (SELECT rowid FROM favorites ORDER BY random() LIMIT 1)"
                )
        elif action == "hide":
            # Plain SQL, not save_user_settings: the history is also written on the schema
            # of older migrations, which lack later columns (remix).
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO user_settings (user_id, public) VALUES (?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET public = excluded.public",
                    (rng.choice(MEMBERS), int(rng.random() < 0.5)),
                )
        elif action == "drop_image":
            async with db.transaction() as conn:
                await conn.execute(
                    "DELETE FROM images WHERE rowid IN"
                    " (SELECT rowid FROM images ORDER BY random() LIMIT 1)"
                )
        else:
            async with db.transaction() as conn:
                await conn.execute(
                    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE id NOT IN"
                    " (SELECT parent_job_id FROM jobs WHERE parent_job_id IS NOT NULL)"
                    " ORDER BY random() LIMIT 1)"
                )

    async def _job(self, jobs: list[int]) -> None:
        rng = self.rng
        # Upscales and imagines most, every other kind (rerolls, variations, reworks) less.
        weights = [3 if k in (JobKind.IMAGINE, JobKind.UPSCALE) else 1 for k in self.kinds]
        kind = rng.choices(self.kinds, weights)[0] if jobs else JobKind.IMAGINE
        parent = rng.choice(jobs) if jobs and (kind is not JobKind.IMAGINE) else None
        if kind is JobKind.UPSCALE and rng.random() < 0.1:
            parent = None  # an upscale of nothing recorded: its own origin
        async with self.db.transaction() as conn:
            await insert_job(
                conn,
                kind=kind,
                owner_id=rng.choice(MEMBERS),
                prompt="p",
                params={},
                model=rng.choice(MODELS),
                created_at=_moment(rng),
                parent_job_id=parent,
                parent_index=None if parent is None else rng.randrange(4),
            )

    async def _finish(self, job_id: int) -> None:
        rng = self.rng
        row = await self.db.fetchone("SELECT status, created_at FROM jobs WHERE id = ?", (job_id,))
        assert row is not None
        if row["status"] != JobStatus.QUEUED.value:
            return
        created = from_db_time(row["created_at"])
        status = rng.choices((JobStatus.DONE, JobStatus.FAILED), (9, 1))[0]
        async with self.db.transaction() as conn:
            await mark_running(conn, job_id, device="cpu", started_at=created)
            finished = created + timedelta(hours=rng.choice((0, 0.01, 5, 24, 30)))
            await mark_finished(conn, job_id, status=status, finished_at=finished, gpu_seconds=1)
            if status is JobStatus.DONE:
                images = [
                    ImageRecord(job_id, n, f"/{job_id}-{n}", n, 8, 8)
                    for n in range(rng.choice((1, 4)))
                ]
                await insert_images(conn, images)


def _origin(jobs: dict[int, Any], job_id: int, idx: int) -> tuple[int, int] | None:
    """The image an image enlarges in the end: up the parent links while the job is an
    upscale with a parent; None if the walk leaves the jobs (or goes round)."""
    at, seen = (job_id, idx), set()
    while at not in seen:
        seen.add(at)
        job = jobs.get(at[0])
        if job is None:
            return None
        if job["kind"] != JobKind.UPSCALE.value or job["parent_job_id"] is None:
            return at
        at = (int(job["parent_job_id"]), int(job["parent_index"]))
    return None


async def _recount(
    db: Database, guild: int, since: datetime | None, now: datetime
) -> tuple[list[CreatorStanding], dict[str, int]]:
    """The boards' ❤ and images, from every row, by the rules in plain Python."""
    jobs = {int(r["id"]): r for r in await db.fetchall("SELECT * FROM jobs")}
    posted = {
        int(r["job_id"]): r["guild_id"] for r in await db.fetchall("SELECT * FROM job_messages")
    }
    hidden = {
        int(r[0]) for r in await db.fetchall("SELECT user_id FROM user_settings WHERE public = 0")
    }
    images = Counter(int(r[0]) for r in await db.fetchall("SELECT job_id FROM images"))
    start, end = ("" if since is None else to_db_time(since)), to_db_time(now)

    pairs: set[tuple[int, int, tuple[int, int]]] = set()
    for fan, job_id, idx, at in await db.fetchall("SELECT * FROM favorites"):
        if not (start < at <= end) or posted.get(job_id) != guild:
            continue
        if jobs[job_id]["kind"] != JobKind.UPSCALE.value:
            continue
        found = _origin(jobs, job_id, idx)
        if found is None:
            continue
        owner = int(jobs[found[0]]["owner_id"])
        if owner not in (0, fan) and owner not in hidden:
            pairs.add((owner, fan, found))
    received = Counter(owner for owner, _, _ in pairs)
    creators = sorted(
        (CreatorStanding(owner, 0, n) for owner, n in received.items()),
        key=lambda s: (-s.score, -s.points, s.user_id),
    )
    made: Counter[str] = Counter()
    for job_id, job in jobs.items():
        made_at = job["finished_at"] or job["created_at"]
        if job["status"] != JobStatus.DONE.value or posted.get(job_id) != guild:
            continue
        if start < made_at <= end and int(job["owner_id"]) not in hidden and images[job_id]:
            made[job["model"].lower().partition(":")[0]] += images[job_id]
    return creators, dict(made)


async def _trending_recount(db: Database, guild: int, now: datetime) -> list[TrendingImage]:
    """The trending board's rows from every row, by its rules, then ranked by the board's
    own (unchanged) ranking."""
    jobs = {int(r["id"]): r for r in await db.fetchall("SELECT * FROM jobs")}
    posted = {
        int(r[0]): r[1] for r in await db.fetchall("SELECT job_id, guild_id FROM job_messages")
    }
    hidden = {
        int(r[0]) for r in await db.fetchall("SELECT user_id FROM user_settings WHERE public = 0")
    }
    images = {(int(r[0]), int(r[1])) for r in await db.fetchall("SELECT job_id, idx FROM images")}
    start, end = to_db_time(now - timedelta(days=7)), to_db_time(now)

    def made(job: Any) -> str:
        return str(job["finished_at"] or job["created_at"])

    hearts: list[tuple[tuple[int, int], int, str, int, int, int]] = []
    for fan, job_id, idx, at in await db.fetchall("SELECT * FROM favorites"):
        job = jobs[job_id]
        if job["kind"] != JobKind.UPSCALE.value or job["status"] != JobStatus.DONE.value:
            continue
        if posted.get(job_id) != guild or not start < made(job) <= end or at > end:
            continue
        found = _origin(jobs, job_id, idx)
        if found is None or (job_id, idx) not in images:
            continue
        owner = int(jobs[found[0]]["owner_id"])
        if owner not in (0, fan) and owner not in hidden:
            hearts.append((found, owner, made(jobs[found[0]]), job_id, idx, fan))
    fans: dict[tuple[int, int], set[int]] = {}
    on_upscale: Counter[tuple[tuple[int, int], int, int]] = Counter()
    for origin, _, _, job_id, idx, fan in hearts:
        fans.setdefault(origin, set()).add(fan)
        on_upscale[(origin, job_id, idx)] += 1
    rows = {
        (origin, job_id, idx): {
            "origin_id": origin[0],
            "origin_idx": origin[1],
            "owner_id": owner,
            "made_at": made_at,
            "job_id": job_id,
            "idx": idx,
            "on_upscale": on_upscale[(origin, job_id, idx)],
            "n": len(fans[origin]),
        }
        for origin, owner, made_at, job_id, idx, _ in hearts
    }
    return trending_from_rows(rows.values(), now)  # type: ignore[arg-type]


async def _check(db: Database) -> None:
    made_by_jobs: Counter[str] = Counter()
    for (model,) in await db.fetchall(
        "SELECT j.model FROM images i JOIN jobs j ON j.id = i.job_id"
    ):
        made_by_jobs[model.lower()] += 1
    counts = await images_made(db)
    assert counts.by_version == {m: n for m, n in made_by_jobs.items() if ":" in m}
    by_model: Counter[str] = Counter()
    for model, n in made_by_jobs.items():
        by_model[model.partition(":")[0]] += n
    assert counts.by_model == dict(by_model)
    for now in NOWS:
        for window in Window:
            for guild in GUILDS:
                creators, made = await _recount(db, guild, window.since(now), now)
                assert await creators_board(db, guild_id=guild, window=window, now=now) == (
                    creators
                ), (window, now, guild)
                models = await models_board(db, guild_id=guild, window=window, now=now)
                assert {m.model: m.images for m in models} == made, (window, now, guild)
                assert [m.images for m in models] == sorted(made.values(), reverse=True)
            assert await trending_board(db, guild_id=guild, now=now) == (
                await _trending_recount(db, guild, now)
            ), (now, guild)


@pytest.mark.parametrize("seed", range(4))
async def test_boards_equal_a_recount_after_random_writes(db: Database, seed: int) -> None:
    history = History(db, random.Random(seed))
    for n in range(1, 241):
        await history.step()
        if n % 40 == 0:
            await _check(db)


def _before(name: str) -> Migrations:
    """Every migration before the one called ``name``."""
    migrations = Migrations.packaged().migrations
    number = next(m.number for m in migrations if m.name == name)
    return Migrations(migrations[: number - 1])


#: The job kinds before migration ``rework_kinds`` added zoom, pan, square and region.
OLD_KINDS = (JobKind.IMAGINE, JobKind.REROLL, JobKind.VARIATION, JobKind.UPSCALE)


@pytest.mark.parametrize("seed", range(2))
async def test_the_migration_counts_an_existing_history(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "old.db"
    async with await Database.open(path, migrations=_before("board_counts")) as old:
        history = History(old, random.Random(seed), OLD_KINDS)
        for _ in range(200):
            await history.step()
    async with await Database.open(path) as db:
        await _check(db)
        history = History(db, random.Random(seed + 100))
        for _ in range(40):
            await history.step()
        await _check(db)


@pytest.mark.parametrize("seed", range(2))
async def test_the_rework_kinds_migration_keeps_the_history_and_its_counts(
    tmp_path: Path, seed: int
) -> None:
    """Migration ``rework_kinds`` rebuilds ``jobs``: the counts it finds stay right, and the
    triggers it recreates keep them right through writes of every kind, old and new."""
    path = tmp_path / "old.db"
    async with await Database.open(path, migrations=_before("rework_kinds")) as old:
        history = History(old, random.Random(seed), OLD_KINDS)
        for _ in range(200):
            await history.step()
        await _check(old)
    async with await Database.open(path) as db:
        await _check(db)
        history = History(db, random.Random(seed + 100))
        for _ in range(120):
            await history.step()
        await _check(db)
        kinds = {row[0] for row in await db.fetchall("SELECT kind FROM jobs")}
        assert kinds & {"zoom", "pan", "square", "region"}
