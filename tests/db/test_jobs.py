"""Jobs repository: round trips, status transitions, images and time encoding."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiosqlite
import pytest

from db import (
    Database,
    ImageRecord,
    JobKind,
    JobNotFoundError,
    JobStateError,
    JobStatus,
    Lane,
    from_db_time,
    get_job,
    insert_images,
    insert_job,
    list_images,
    mark_finished,
    mark_running,
    requeue,
    to_db_time,
    unfinished_jobs,
)

T0 = datetime(2026, 11, 21, 23, 8, 25, 123456, tzinfo=UTC)


async def _new_job(
    db: Database, prompt: str = "a lighthouse", params: Any = None, **extra: Any
) -> int:
    async with db.transaction() as conn:
        return await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=1234,
            prompt=prompt,
            params={"steps": 4} if params is None else params,
            model="tiny",
            created_at=T0,
            **extra,
        )


# --- times ---------------------------------------------------------------------------------


def test_db_time_format_round_trips_and_is_utc() -> None:
    assert to_db_time(T0) == "2026-11-21T23:08:25.123456Z"
    assert from_db_time("2026-11-21T23:08:25.123456Z") == T0
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert to_db_time(whole_second) == "2026-01-02T03:04:05.000000Z"  # fixed width
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 22, 0, 8, 25, 123456, tzinfo=paris)
    assert to_db_time(local) == "2026-11-21T23:08:25.123456Z"
    assert from_db_time(to_db_time(local)) == local


def test_db_times_sort_as_text() -> None:
    times = [T0 + timedelta(microseconds=n * 999_999) for n in range(-3, 4)]
    times.append(datetime(999, 1, 1, tzinfo=UTC))
    assert sorted(to_db_time(t) for t in times) == [to_db_time(t) for t in sorted(times)]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db_time(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="does not match format"):
        from_db_time("2026-01-01T00:00:00.000000")  # no Z


# --- jobs ------------------------------------------------------------------------------------


async def test_insert_and_get_job_round_trip(db: Database) -> None:
    params = {"steps": 30, "guidance": 7.5, "size": [1024, 768], "negative": "blurry ☂", "x": None}
    async with db.transaction() as conn:
        parent = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=987654321098765432,
            prompt="a lighthouse at dusk, 🌊",
            params=params,
            model="sdxl-base",
            created_at=T0,
        )
        child = await insert_job(
            conn,
            kind=JobKind.VARIATION,
            owner_id=0,
            prompt="a lighthouse at dusk, 🌊",
            params={},
            model="sdxl-base",
            created_at=T0 + timedelta(seconds=1),
            parent_job_id=parent,
            parent_index=3,
        )

    job = await get_job(db, parent)
    assert job is not None
    assert job.id == parent
    assert job.kind is JobKind.IMAGINE
    assert job.owner_id == 987654321098765432
    assert job.prompt == "a lighthouse at dusk, 🌊"
    assert job.params == params
    assert job.model == "sdxl-base"
    assert (job.parent_job_id, job.parent_index) == (None, None)
    assert job.status is JobStatus.QUEUED
    assert job.created_at == T0
    assert job.created_at.tzinfo is UTC
    assert (job.started_at, job.finished_at, job.device, job.error) == (None, None, None, None)
    assert job.gpu_seconds == 0.0

    variation = await get_job(db, child)
    assert variation is not None
    assert variation.kind is JobKind.VARIATION
    assert (variation.parent_job_id, variation.parent_index) == (parent, 3)

    assert await get_job(db, child + 1) is None


async def test_params_must_be_a_json_object(db: Database) -> None:
    with pytest.raises(ValueError, match="JSON"):
        await _new_job(db, params={"guidance": float("nan")})
    with pytest.raises(TypeError, match="mapping"):
        await _new_job(db, params=[1, 2])
    assert await unfinished_jobs(db) == []


async def test_job_lifecycle_queued_running_done(db: Database) -> None:
    job_id = await _new_job(db)
    async with db.transaction() as conn:
        await mark_running(conn, job_id, device="cuda:0", started_at=T0 + timedelta(seconds=2))
    running = await get_job(db, job_id)
    assert running is not None
    assert running.status is JobStatus.RUNNING
    assert running.device == "cuda:0"
    assert running.started_at == T0 + timedelta(seconds=2)

    async with db.transaction() as conn:
        await mark_finished(
            conn,
            job_id,
            status=JobStatus.DONE,
            finished_at=T0 + timedelta(seconds=5),
            gpu_seconds=2.75,
        )
    done = await get_job(db, job_id)
    assert done is not None
    assert done.status is JobStatus.DONE
    assert done.status.is_final
    assert done.finished_at == T0 + timedelta(seconds=5)
    assert done.gpu_seconds == 2.75
    assert done.device == "cuda:0"
    assert done.error is None


async def test_queued_job_can_be_cancelled_or_fail_with_an_error(db: Database) -> None:
    cancelled, failed = await _new_job(db), await _new_job(db)
    async with db.transaction() as conn:
        await mark_finished(
            conn, cancelled, status=JobStatus.CANCELLED, finished_at=T0, gpu_seconds=0
        )
        await mark_finished(
            conn,
            failed,
            status=JobStatus.FAILED,
            finished_at=T0,
            gpu_seconds=0,
            error="model 'nope' is not installed",
        )
    job = await get_job(db, failed)
    assert job is not None
    assert (job.status, job.error) == (JobStatus.FAILED, "model 'nope' is not installed")
    job = await get_job(db, cancelled)
    assert job is not None
    assert job.status is JobStatus.CANCELLED


async def test_invalid_transitions_raise_and_change_nothing(db: Database) -> None:
    job_id = await _new_job(db)
    async with db.transaction() as conn:
        await mark_running(conn, job_id, device="cpu", started_at=T0)

    with pytest.raises(JobStateError, match="is running, not queued"):
        async with db.transaction() as conn:
            await mark_running(conn, job_id, device="cuda:1", started_at=T0)

    async with db.transaction() as conn:
        await mark_finished(conn, job_id, status=JobStatus.FAILED, finished_at=T0, gpu_seconds=1)
    attempts: list[Callable[[aiosqlite.Connection], Awaitable[None]]] = [
        lambda conn: mark_running(conn, job_id, device="cpu", started_at=T0),
        lambda conn: mark_finished(
            conn, job_id, status=JobStatus.DONE, finished_at=T0, gpu_seconds=1
        ),
        lambda conn: requeue(conn, job_id),
    ]
    for attempt in attempts:
        with pytest.raises(JobStateError, match="is failed"):
            async with db.transaction() as conn:
                await attempt(conn)

    job = await get_job(db, job_id)
    assert job is not None
    assert (job.status, job.device) == (JobStatus.FAILED, "cpu")


async def test_mark_finished_needs_a_final_status(db: Database) -> None:
    job_id = await _new_job(db)
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        with pytest.raises(ValueError, match="final status"):
            async with db.transaction() as conn:
                await mark_finished(conn, job_id, status=status, finished_at=T0, gpu_seconds=0)


async def test_negative_gpu_seconds_are_refused(db: Database) -> None:
    job_id = await _new_job(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await mark_finished(
                conn, job_id, status=JobStatus.DONE, finished_at=T0, gpu_seconds=-0.5
            )


async def test_missing_job_is_reported_as_not_found(db: Database) -> None:
    with pytest.raises(JobNotFoundError, match="job 77 does not exist"):
        async with db.transaction() as conn:
            await mark_running(conn, 77, device="cpu", started_at=T0)


async def test_requeue_returns_a_running_job_to_the_queue(db: Database) -> None:
    job_id = await _new_job(db)
    with pytest.raises(JobStateError, match="is queued, not running"):
        async with db.transaction() as conn:
            await requeue(conn, job_id)
    async with db.transaction() as conn:
        await mark_running(conn, job_id, device="cuda:0", started_at=T0)
        await requeue(conn, job_id)
    job = await get_job(db, job_id)
    assert job is not None
    assert (job.status, job.device, job.started_at) == (JobStatus.QUEUED, None, None)


async def test_unfinished_jobs_are_queued_and_running_in_id_order(db: Database) -> None:
    ids = [await _new_job(db, prompt=f"job {n}") for n in range(5)]
    async with db.transaction() as conn:
        await mark_running(conn, ids[3], device="cuda:0", started_at=T0)
        await mark_running(conn, ids[1], device="cuda:1", started_at=T0)
        await mark_finished(conn, ids[1], status=JobStatus.DONE, finished_at=T0, gpu_seconds=1)
        await mark_finished(conn, ids[2], status=JobStatus.CANCELLED, finished_at=T0, gpu_seconds=0)
    unfinished = await unfinished_jobs(db)
    assert [(j.id, j.status) for j in unfinished] == [
        (ids[0], JobStatus.QUEUED),
        (ids[3], JobStatus.RUNNING),
        (ids[4], JobStatus.QUEUED),
    ]


def test_final_statuses() -> None:
    assert {s for s in JobStatus if s.is_final} == {
        JobStatus.DONE,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }


# --- images ----------------------------------------------------------------------------------


async def test_images_round_trip_in_index_order(db: Database) -> None:
    job_id = await _new_job(db)
    images = [
        ImageRecord(
            job_id=job_id, index=i, path=f"out/{job_id}_{i}.png", seed=s, width=64, height=48
        )
        for i, s in [(2, 7), (0, 4294967295), (3, 0), (1, 12345)]
    ]
    async with db.transaction() as conn:
        await insert_images(conn, images)
    assert await list_images(db, job_id) == sorted(images, key=lambda im: im.index)
    assert await list_images(db, job_id + 1) == []


async def test_images_need_an_existing_job_and_unique_indexes(db: Database) -> None:
    orphan = ImageRecord(job_id=99, index=0, path="x.png", seed=1, width=64, height=64)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await insert_images(conn, [orphan])

    job_id = await _new_job(db)
    image = ImageRecord(job_id=job_id, index=0, path="x.png", seed=1, width=64, height=64)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        async with db.transaction() as conn:
            await insert_images(conn, [image, image])
    assert await list_images(db, job_id) == []  # the whole batch was rolled back


async def test_out_of_range_seed_is_refused(db: Database) -> None:
    job_id = await _new_job(db)
    image = ImageRecord(job_id=job_id, index=0, path="x.png", seed=2**32, width=64, height=64)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await insert_images(conn, [image])


# --- lanes -----------------------------------------------------------------------------------


async def test_jobs_wait_in_the_standard_lane_unless_told(db: Database) -> None:
    standard = await _new_job(db)
    priority = await _new_job(db, "a backer's fox", lane=Lane.PRIORITY)
    for job_id, lane in ((standard, Lane.STANDARD), (priority, Lane.PRIORITY)):
        record = await get_job(db, job_id)
        assert record is not None
        assert record.lane is lane
    assert [job.lane for job in await unfinished_jobs(db)] == [Lane.STANDARD, Lane.PRIORITY]


async def test_an_unknown_lane_is_refused(db: Database) -> None:
    job_id = await _new_job(db)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute("UPDATE jobs SET lane = 'vip' WHERE id = ?", (job_id,))
