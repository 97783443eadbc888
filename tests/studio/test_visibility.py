"""The one rule for who may see a job (``studio.visibility.can_see``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.database import Database
from db.job_messages import JobPlace, insert_job_place
from db.jobs import JobKind, JobRecord, get_job, insert_job
from db.users import UserSettings, save_user_settings
from studio.visibility import JobNotVisibleError, can_see, check_visible

OWNER, OTHER, GUILD = 1, 2, 100


async def _job(db: Database, place: JobPlace | None) -> JobRecord:
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=OWNER,
            prompt="p",
            params={},
            model="tiny",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        if place is not None:
            await insert_job_place(conn, job_id, place)
    record = await get_job(db, job_id)
    assert record is not None
    return record


async def test_a_public_job_is_seen_by_others_only_in_its_own_server(db: Database) -> None:
    job = await _job(db, JobPlace(GUILD, 10))
    assert await can_see(db, job, OTHER, GUILD)
    assert not await can_see(db, job, OTHER, GUILD + 1)
    assert not await can_see(db, job, OTHER, None)  # a DM
    assert await can_see(db, job, OWNER, None)
    assert await can_see(db, job, OWNER, GUILD + 1)


async def test_a_private_members_job_is_seen_by_them_alone(db: Database) -> None:
    job = await _job(db, JobPlace(GUILD, 10))
    await save_user_settings(db, UserSettings(OWNER, public=False))
    assert not await can_see(db, job, OTHER, GUILD)
    assert await can_see(db, job, OWNER, GUILD)


async def test_a_job_made_in_a_dm_or_without_a_place_is_its_owners_alone(db: Database) -> None:
    for place in (JobPlace(None, 10), None):
        job = await _job(db, place)
        assert not await can_see(db, job, OTHER, GUILD)
        assert await can_see(db, job, OWNER, None)


async def test_a_hidden_job_and_a_missing_one_are_refused_in_the_same_words(
    db: Database,
) -> None:
    job = await _job(db, JobPlace(GUILD, 10))
    with pytest.raises(JobNotVisibleError) as hidden:
        await check_visible(db, job, job.id, OTHER, GUILD + 1)
    with pytest.raises(JobNotVisibleError) as missing:
        await check_visible(db, None, job.id, OTHER, GUILD)
    assert str(hidden.value) == str(missing.value)
    assert await check_visible(db, job, job.id, OTHER, GUILD) == job
