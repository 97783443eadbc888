"""Where each job is shown in Discord, kept so a restart can still update it (migration 0003)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from db.database import Database
from db.job_messages import JobMessage, get_job_message, save_job_message
from db.jobs import JobKind, insert_job

T0 = datetime(2026, 11, 21, 23, 8, 25, 123456, tzinfo=UTC)


async def _job(db: Database) -> int:
    async with db.transaction() as conn:
        return await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=42,
            prompt="a lighthouse",
            params={},
            model="tiny",
            created_at=T0,
        )


async def test_a_job_without_a_message_has_none(db: Database) -> None:
    assert await get_job_message(db, await _job(db)) is None


async def test_a_message_round_trips_with_discord_sized_ids(db: Database) -> None:
    job_id = await _job(db)
    message = JobMessage(
        job_id=job_id,
        guild_id=1_234_567_890_123_456_789,
        channel_id=987_654_321_098_765_432,
        message_id=1_111_111_111_111_111_111,
    )
    await save_job_message(db, message)
    assert await get_job_message(db, job_id) == message


async def test_a_direct_message_has_no_guild(db: Database) -> None:
    job_id = await _job(db)
    await save_job_message(db, JobMessage(job_id, None, 10, 20))
    stored = await get_job_message(db, job_id)
    assert stored is not None
    assert stored.guild_id is None


async def test_saving_again_replaces_the_row_and_records_the_result_message(
    db: Database,
) -> None:
    job_id = await _job(db)
    await save_job_message(db, JobMessage(job_id, 1, 10, 20))
    moved = JobMessage(job_id, 1, 10, 20, result_message_id=30)
    await save_job_message(db, moved)
    assert await get_job_message(db, job_id) == moved
    row = await db.fetchone("SELECT count(*) FROM job_messages WHERE job_id = ?", (job_id,))
    assert row is not None
    assert row[0] == 1


async def test_messages_are_per_job(db: Database) -> None:
    first, second = await _job(db), await _job(db)
    await save_job_message(db, JobMessage(first, 1, 10, 20))
    await save_job_message(db, JobMessage(second, 1, 10, 21))
    assert (await get_job_message(db, first)) == JobMessage(first, 1, 10, 20)
    assert (await get_job_message(db, second)) == JobMessage(second, 1, 10, 21)


async def test_a_message_needs_an_existing_job(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await save_job_message(db, JobMessage(999, 1, 10, 20))


async def test_deleting_a_job_deletes_its_message(db: Database) -> None:
    job_id = await _job(db)
    await save_job_message(db, JobMessage(job_id, 1, 10, 20))
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
    assert await get_job_message(db, job_id) is None
