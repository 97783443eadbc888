"""Per-user settings, option macros, favourites and usage figures (migration 0003)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

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
from db.times import to_db_time
from db.users import (
    StylizePreset,
    UserSettings,
    VariationStrength,
    add_favorite,
    count_favorites,
    delete_user_option,
    get_user_settings,
    save_user_settings,
    set_user_option,
    usage,
    user_options,
)

T0 = datetime(2026, 11, 21, 23, 8, 25, 123456, tzinfo=UTC)
USER = 42
OTHER_USER = 43


async def _job(
    db: Database,
    *,
    owner: int = USER,
    status: JobStatus = JobStatus.DONE,
    images: int = 4,
    finished_at: datetime = T0,
    gpu_seconds: float = 1.5,
) -> int:
    """A job of ``owner`` that ended with ``status`` and produced ``images`` images."""
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=owner,
            prompt="a lighthouse",
            params={},
            model="tiny",
            created_at=finished_at - timedelta(seconds=10),
        )
        if status is JobStatus.QUEUED:
            return job_id
        await mark_running(conn, job_id, device="cpu", started_at=finished_at)
        if status is JobStatus.RUNNING:
            return job_id
        await mark_finished(
            conn, job_id, status=status, finished_at=finished_at, gpu_seconds=gpu_seconds
        )
        await insert_images(
            conn,
            [ImageRecord(job_id, n, f"/images/{job_id}-{n}.png", n, 64, 64) for n in range(images)],
        )
    return job_id


# --- settings ------------------------------------------------------------------------------


async def test_a_user_without_a_row_has_every_default(db: Database) -> None:
    settings = await get_user_settings(db, USER)
    assert settings == UserSettings(USER)
    assert settings.model is None
    assert settings.stylize is None
    assert settings.variation is VariationStrength.SUBTLE
    assert settings.public is True
    assert settings.suffix == ""
    assert settings.remix is False


async def test_settings_round_trip_and_are_replaced_whole(db: Database) -> None:
    chosen = UserSettings(
        USER,
        model="sdxl",
        stylize=StylizePreset.VERY_HIGH,
        variation=VariationStrength.STRONG,
        public=False,
        suffix="--ar 16:9",
        remix=True,
    )
    await save_user_settings(db, chosen)
    stored = await get_user_settings(db, USER)
    assert stored == chosen
    assert stored.stylize is StylizePreset.VERY_HIGH  # an enum again, not a string

    await save_user_settings(db, UserSettings(USER, suffix="moody"))
    assert await get_user_settings(db, USER) == UserSettings(USER, suffix="moody")
    assert await get_user_settings(db, OTHER_USER) == UserSettings(OTHER_USER)


@pytest.mark.parametrize(
    ("column", "value"),
    [("stylize", "huge"), ("variation", "medium"), ("public", 2), ("suffix", None), ("remix", 2)],
)
async def test_the_schema_refuses_bad_settings(db: Database, column: str, value: object) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO user_settings (user_id) VALUES (?)", (USER,))
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(f"UPDATE user_settings SET {column} = ?", (value,))
    assert await get_user_settings(db, USER) == UserSettings(USER)


# --- options -------------------------------------------------------------------------------


async def test_options_are_set_replaced_listed_by_name_and_deleted(db: Database) -> None:
    assert await user_options(db, USER) == {}
    await set_user_option(db, USER, "wide", "--ar 16:9")
    await set_user_option(db, USER, "film", "--s 250 --no text")
    await set_user_option(db, USER, "wide", "--ar 21:9")
    await set_user_option(db, OTHER_USER, "wide", "--ar 2:1")
    options = await user_options(db, USER)
    assert options == {"film": "--s 250 --no text", "wide": "--ar 21:9"}
    assert list(options) == ["film", "wide"]

    assert await delete_user_option(db, USER, "wide") is True
    assert await delete_user_option(db, USER, "wide") is False
    assert await user_options(db, USER) == {"film": "--s 250 --no text"}
    assert await user_options(db, OTHER_USER) == {"wide": "--ar 2:1"}


# --- favourites ----------------------------------------------------------------------------


async def test_a_favourite_is_recorded_once(db: Database) -> None:
    job_id = await _job(db)
    assert await count_favorites(db, job_id, 0) == 0
    assert await add_favorite(db, USER, job_id, 0, T0) is True
    assert await add_favorite(db, USER, job_id, 0, T0 + timedelta(seconds=1)) is False
    assert await count_favorites(db, job_id, 0) == 1

    assert await add_favorite(db, OTHER_USER, job_id, 0, T0) is True  # someone else's heart
    assert await add_favorite(db, USER, job_id, 1, T0) is True  # another image
    assert await count_favorites(db, job_id, 0) == 2
    assert await count_favorites(db, job_id, 1) == 1


async def test_two_simultaneous_presses_record_one_favourite(db: Database) -> None:
    job_id = await _job(db)
    results = await asyncio.gather(
        add_favorite(db, USER, job_id, 2, T0), add_favorite(db, USER, job_id, 2, T0)
    )
    assert sorted(results) == [False, True]
    assert await count_favorites(db, job_id, 2) == 1


async def test_a_favourite_needs_an_existing_job(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await add_favorite(db, USER, 12345, 0, T0)


async def test_the_schema_refuses_a_negative_favourite_index(db: Database) -> None:
    job_id = await _job(db)
    # A plain INSERT: add_favorite's INSERT OR IGNORE would skip the row silently.
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO favorites (user_id, job_id, idx, created_at) VALUES (?, ?, -1, ?)",
                (USER, job_id, to_db_time(T0)),
            )
    assert await count_favorites(db, job_id, -1) == 0


# --- usage ---------------------------------------------------------------------------------


async def test_a_new_user_has_no_usage(db: Database) -> None:
    figures = await usage(db, USER, since=T0)
    assert (figures.images_today, figures.images_total) == (0, 0)
    assert figures.gpu_seconds == 0.0
    assert figures.jobs_total == 0


async def test_usage_counts_images_today_and_in_total_over_finished_jobs(db: Database) -> None:
    midnight = datetime(2026, 11, 21, tzinfo=UTC)
    await _job(db, finished_at=midnight - timedelta(seconds=1), images=4, gpu_seconds=2.0)
    await _job(db, finished_at=midnight, images=1, gpu_seconds=0.5)  # upscale, right at 00:00
    await _job(db, finished_at=midnight + timedelta(hours=5), images=4, gpu_seconds=3.0)
    # Not counted: failed, cancelled, still queued or running, or someone else's.
    await _job(db, status=JobStatus.FAILED, finished_at=midnight + timedelta(hours=1))
    await _job(db, status=JobStatus.CANCELLED, finished_at=midnight + timedelta(hours=1))
    await _job(db, status=JobStatus.RUNNING)
    await _job(db, status=JobStatus.QUEUED)
    await _job(db, owner=OTHER_USER, finished_at=midnight + timedelta(hours=1), gpu_seconds=9)

    figures = await usage(db, USER, since=midnight)
    assert figures.images_today == 5
    assert figures.images_total == 9
    assert figures.gpu_seconds == pytest.approx(5.5)
    assert figures.jobs_total == 3


async def test_usage_since_a_later_time_counts_fewer_images_today(db: Database) -> None:
    await _job(db, finished_at=T0, images=4)
    assert (await usage(db, USER, since=T0)).images_today == 4
    later = await usage(db, USER, since=T0 + timedelta(microseconds=1))
    assert later.images_today == 0
    assert later.images_total == 4
