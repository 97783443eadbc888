"""Per-user preferences (/settings, /prefer), favourites and usage figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.database import Database
from db.jobs import JobStatus
from db.times import to_db_time


class StylizePreset(StrEnum):
    """Midjourney's /settings stylize buttons, as ``--s`` values (see ``STYLIZE_VALUES``)."""

    LOW = "low"
    MED = "med"
    HIGH = "high"
    VERY_HIGH = "very_high"


STYLIZE_VALUES = {
    StylizePreset.LOW: 50,
    StylizePreset.MED: 100,
    StylizePreset.HIGH: 250,
    StylizePreset.VERY_HIGH: 750,
}


class VariationStrength(StrEnum):
    SUBTLE = "subtle"
    STRONG = "strong"


@dataclass(frozen=True)
class UserSettings:
    user_id: int
    model: str | None = None
    stylize: StylizePreset | None = None
    variation: VariationStrength = VariationStrength.SUBTLE
    public: bool = True
    suffix: str = ""
    #: /prefer remix: edit the prompt before each variation, zoom, pan or re-roll.
    remix: bool = False


@dataclass(frozen=True)
class Usage:
    images_today: int
    images_total: int
    gpu_seconds: float
    jobs_total: int


async def get_user_settings(db: Database, user_id: int) -> UserSettings:
    row = await db.fetchone("SELECT * FROM user_settings WHERE user_id = ?", (user_id,))
    if row is None:
        return UserSettings(user_id)
    return UserSettings(
        user_id=user_id,
        model=row["model"],
        stylize=None if row["stylize"] is None else StylizePreset(row["stylize"]),
        variation=VariationStrength(row["variation"]),
        public=bool(row["public"]),
        suffix=row["suffix"],
        remix=bool(row["remix"]),
    )


async def save_user_settings(db: Database, settings: UserSettings) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO user_settings"
            " (user_id, model, stylize, variation, public, suffix, remix) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "model = excluded.model, stylize = excluded.stylize, "
            "variation = excluded.variation, public = excluded.public, "
            "suffix = excluded.suffix, remix = excluded.remix",
            (
                settings.user_id,
                settings.model,
                None if settings.stylize is None else settings.stylize.value,
                settings.variation.value,
                int(settings.public),
                settings.suffix,
                int(settings.remix),
            ),
        )


async def user_options(db: Database, user_id: int) -> dict[str, str]:
    rows = await db.fetchall(
        "SELECT name, flags FROM user_options WHERE user_id = ? ORDER BY name", (user_id,)
    )
    return {row["name"]: row["flags"] for row in rows}


async def set_user_option(db: Database, user_id: int, name: str, flags: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO user_options (user_id, name, flags) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id, name) DO UPDATE SET flags = excluded.flags",
            (user_id, name, flags),
        )


async def delete_user_option(db: Database, user_id: int, name: str) -> bool:
    async with (
        db.transaction() as conn,
        conn.execute(
            "DELETE FROM user_options WHERE user_id = ? AND name = ?", (user_id, name)
        ) as cursor,
    ):
        return cursor.rowcount == 1


async def add_favorite(db: Database, user_id: int, job_id: int, index: int, at: datetime) -> bool:
    """Record the favourite; False if it was one already (a second press changes nothing)."""
    async with (
        db.transaction() as conn,
        conn.execute(
            "INSERT INTO favorites (user_id, job_id, idx, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, job_id, index, to_db_time(at)),
        ) as cursor,
    ):
        return cursor.rowcount == 1


async def count_favorites(db: Database, job_id: int, index: int) -> int:
    row = await db.fetchone(
        "SELECT count(*) FROM favorites WHERE job_id = ? AND idx = ?", (job_id, index)
    )
    assert row is not None
    return int(row[0])


async def usage(db: Database, user_id: int, *, since: datetime) -> Usage:
    """Images made in total and since ``since`` (the start of the user's day), GPU-seconds
    of finished jobs."""
    row = await db.fetchone(
        "SELECT count(*) AS jobs, coalesce(sum(gpu_seconds), 0) AS gpu,"
        " coalesce(sum((SELECT count(*) FROM images WHERE images.job_id = jobs.id)), 0)"
        "   AS images,"
        " coalesce(sum(CASE WHEN finished_at >= ? THEN"
        "   (SELECT count(*) FROM images WHERE images.job_id = jobs.id) END), 0) AS today"
        " FROM jobs WHERE owner_id = ? AND status = ?",
        (to_db_time(since), user_id, JobStatus.DONE.value),
    )
    assert row is not None
    return Usage(
        images_today=int(row["today"]),
        images_total=int(row["images"]),
        gpu_seconds=float(row["gpu"]),
        jobs_total=int(row["jobs"]),
    )


#: Discord allows display names of up to 32 characters; the column allows 100.
MAX_NAME_CHARS = 100


async def remember_name(db: Database, user_id: int, name: str, at: datetime) -> None:
    """Record the name a member goes by, for the web pages (which cannot ask Discord)."""
    name = name.strip()[:MAX_NAME_CHARS] or str(user_id)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO member_names (user_id, name, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, "
            "updated_at = excluded.updated_at",
            (user_id, name, to_db_time(at)),
        )


async def member_names(db: Database, user_ids: list[int]) -> dict[int, str]:
    """The remembered names of ``user_ids`` (members never seen are left out)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetchall(
        f"SELECT user_id, name FROM member_names WHERE user_id IN ({marks})", wanted
    )
    return {int(row["user_id"]): str(row["name"]) for row in rows}
