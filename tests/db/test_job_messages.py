"""Where each job is shown in Discord and whether its outcome was delivered there
(migrations 0003 and 0010)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from db import Migrations
from db.database import Database
from db.job_messages import (
    JobMessage,
    JobPlace,
    get_job_message,
    insert_job_place,
    link_job_message,
    mark_delivered,
    reply_target,
    undelivered,
)
from db.jobs import JobKind, JobStatus, insert_job, mark_finished

T0 = datetime(2026, 11, 21, 23, 8, 25, 123456, tzinfo=UTC)


async def _job(db: Database, place: JobPlace | None = None, parent: int | None = None) -> int:
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=42,
            prompt="a lighthouse",
            params={},
            model="tiny",
            created_at=T0,
            parent_job_id=parent,
            parent_index=None if parent is None else 0,
        )
        if place is not None:
            await insert_job_place(conn, job_id, place)
    return job_id


async def _end(db: Database, job_id: int, status: JobStatus = JobStatus.DONE) -> None:
    async with db.transaction() as conn:
        await mark_finished(conn, job_id, status=status, finished_at=T0, gpu_seconds=1.0)


async def test_a_job_without_a_place_has_none(db: Database) -> None:
    assert await get_job_message(db, await _job(db)) is None


async def test_a_place_is_known_before_any_message_and_round_trips_discord_sized_ids(
    db: Database,
) -> None:
    place = JobPlace(1_234_567_890_123_456_789, 987_654_321_098_765_432, 1_111_111_111_111_111)
    job_id = await _job(db, place)
    assert await get_job_message(db, job_id) == JobMessage(
        job_id, place.guild_id, place.channel_id, None, interaction_id=place.interaction_id
    )
    await link_job_message(db, job_id, 2_222_222_222_222_222_222)
    stored = await get_job_message(db, job_id)
    assert stored is not None
    assert stored.message_id == 2_222_222_222_222_222_222


async def test_a_direct_message_has_no_guild(db: Database) -> None:
    stored = await get_job_message(db, await _job(db, JobPlace(None, 10)))
    assert stored is not None
    assert stored.guild_id is None


async def test_a_place_needs_an_existing_job(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await insert_job_place(conn, 999, JobPlace(1, 10))


async def test_deleting_a_job_deletes_its_place(db: Database) -> None:
    job_id = await _job(db, JobPlace(1, 10))
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    assert await get_job_message(db, job_id) is None


async def test_ended_jobs_stay_undelivered_until_marked_and_only_ended_ones_count(
    db: Database,
) -> None:
    done, failed, waiting, silent = (
        await _job(db, JobPlace(1, 10)),
        await _job(db, JobPlace(1, 10)),
        await _job(db, JobPlace(1, 10)),
        await _job(db),
    )
    await _end(db, done)
    await _end(db, failed, JobStatus.FAILED)
    await _end(db, silent)
    assert [m.job_id for m in await undelivered(db)] == [done, failed]
    await mark_delivered(db, done, T0, message_id=20, result_message_id=30)
    assert [m.job_id for m in await undelivered(db)] == [failed]
    stored = await get_job_message(db, done)
    assert stored is not None
    assert (stored.message_id, stored.result_message_id, stored.delivered_at) == (20, 30, T0)
    assert waiting not in [m.job_id for m in await undelivered(db)]


async def test_delivering_twice_keeps_the_first_record(db: Database) -> None:
    job_id = await _job(db, JobPlace(1, 10))
    await link_job_message(db, job_id, 20)
    await _end(db, job_id)
    await mark_delivered(db, job_id, T0, result_message_id=30)
    await mark_delivered(db, job_id, T0 + timedelta(hours=1))
    stored = await get_job_message(db, job_id)
    assert stored is not None
    assert (stored.message_id, stored.result_message_id, stored.delivered_at) == (20, 30, T0)


async def test_upgrading_counts_ended_jobs_as_delivered_and_keeps_waiting_ones_to_deliver(
    tmp_path: Path,
) -> None:
    """Migration 0010 on a database in use: a job that had ended before the upgrade is not
    posted again; one still waiting keeps its message and is delivered when it ends."""
    path = tmp_path / "old.db"
    before = Migrations([m for m in Migrations.packaged().migrations if m.number < 10])
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await before.apply(conn)
        for job_id, status in ((1, "done"), (2, "queued")):
            await conn.execute(
                "INSERT INTO jobs (id, kind, owner_id, prompt, params, model, status,"
                " created_at, finished_at) VALUES (?, 'imagine', 42, 'p', '{}', 'tiny', ?,"
                " '2026-01-01T00:00:00.000000Z', ?)",
                (job_id, status, "2026-01-01T00:01:00.000000Z" if status == "done" else None),
            )
            await conn.execute(
                "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
                " VALUES (?, 1, 10, ?)",
                (job_id, 100 + job_id),
            )
    async with await Database.open(path) as db:
        done, waiting = await get_job_message(db, 1), await get_job_message(db, 2)
        assert done is not None
        assert waiting is not None
        assert done.delivered_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
        assert (waiting.message_id, waiting.delivered_at) == (102, None)
        await _end(db, 2)
        assert [m.job_id for m in await undelivered(db)] == [2]


async def test_a_job_made_outside_discord_replies_to_its_parents_message_there(
    db: Database,
) -> None:
    parent = await _job(db, JobPlace(1, 10, 100))
    await link_job_message(db, parent, 500)
    from_web = await _job(db, JobPlace(1, 10), parent)
    assert await reply_target(db, from_web) == 500  # the result shown in place
    await mark_delivered(db, parent, T0, result_message_id=501)
    assert await reply_target(db, from_web) == 501  # the result posted on its own
    assert await reply_target(db, await _job(db, JobPlace(1, 10, 200), parent)) is None
    assert await reply_target(db, await _job(db, JobPlace(1, 11), parent)) is None
    assert await reply_target(db, await _job(db, JobPlace(1, 10))) is None
