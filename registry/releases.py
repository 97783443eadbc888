"""Releasing a model version, and the end of its early access.

``release`` turns an ``upcoming`` version ``early_access`` for *d* days (moderators, and
the members funding grants it to, use it first) or ``available`` at once; what a version's
campaign says about its release (wait for it to close, how long early access lasts) is
``funding.releases``. ``open_due``
turns early access into ``available`` when its time has come, exactly once. Each records
its announcement ("released", "now available to everyone") in the same transaction as the
change of status; the announcer posts pending announcements and marks them, so a post
Discord refused is tried again rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from db.database import Database
from db.times import from_db_time, to_db_time
from registry.errors import RegistryError
from registry.fields import parse_spec
from registry.versions import ModelVersion, VersionStatus, find_version, version_by_id

#: The longest early access a release may grant.
MAX_EARLY_ACCESS_DAYS = 365


class AnnouncementEvent(StrEnum):
    #: The version was released (to its backers first, or to everyone).
    RELEASED = "released"
    #: Its early access ended: now available to everyone.
    AVAILABLE = "available"


@dataclass(frozen=True)
class Announcement:
    """A pending post about ``version``."""

    id: int
    event: AnnouncementEvent
    version: ModelVersion


async def releasable_version(db: Database, spec: str) -> ModelVersion:
    """The upcoming version ``name:version`` names; refuses a bare name and any version
    that is not upcoming."""
    if parse_spec(spec)[1] is None:
        raise RegistryError(f"name the version to release, e.g. `{spec.strip()}:2`")
    version = await find_version(db, spec)
    if version.status is not VersionStatus.UPCOMING:
        raise RegistryError(
            f"`{version.key}` is {version.status.value.replace('_', ' ')}; only an upcoming "
            "version can be released"
        )
    return version


async def release(
    db: Database, spec: str, *, early_access_days: int, now: datetime
) -> ModelVersion:
    """Release the upcoming version ``name:version``: with d > 0 early-access days it is
    ``early_access`` until now + d days; with 0 it is ``available`` at once."""
    version = await releasable_version(db, spec)
    if not 0 <= early_access_days <= MAX_EARLY_ACCESS_DAYS:
        raise RegistryError(
            f"early access of {early_access_days} days: give 0 (available at once) to "
            f"{MAX_EARLY_ACCESS_DAYS} days"
        )
    until = now + timedelta(days=early_access_days) if early_access_days > 0 else None
    status = VersionStatus.EARLY_ACCESS if until is not None else VersionStatus.AVAILABLE
    async with db.transaction() as conn:
        async with conn.execute(
            "UPDATE model_versions SET status = ?, early_access_until = ?, released_at = ? "
            "WHERE id = ? AND status = 'upcoming'",
            (
                status.value,
                None if until is None else to_db_time(until),
                to_db_time(now),
                version.id,
            ),
        ) as cursor:
            changed = cursor.rowcount
        if changed:
            await conn.execute(
                "INSERT INTO model_announcements (version_id, event, created_at) "
                "VALUES (?, ?, ?) ON CONFLICT (version_id, event) DO NOTHING",
                (version.id, AnnouncementEvent.RELEASED.value, to_db_time(now)),
            )
    if not changed:
        raise RegistryError(f"`{version.key}` was released or retired meanwhile")
    return await version_by_id(db, version.id)


async def open_due(db: Database, now: datetime) -> list[ModelVersion]:
    """Make every early-access version whose period ended by ``now`` available, oldest
    first, each with a pending announcement; returns the versions opened by this call (a
    second call for the same moment opens nothing)."""
    async with db.transaction() as conn:
        async with conn.execute(
            "SELECT id FROM model_versions WHERE status = 'early_access' "
            "AND early_access_until <= ? ORDER BY early_access_until, id",
            (to_db_time(now),),
        ) as cursor:
            due = [int(row["id"]) for row in await cursor.fetchall()]
        for version_id in due:
            await conn.execute(
                "UPDATE model_versions SET status = 'available' "
                "WHERE id = ? AND status = 'early_access'",
                (version_id,),
            )
            await conn.execute(
                "INSERT INTO model_announcements (version_id, event, created_at) "
                "VALUES (?, 'available', ?) ON CONFLICT (version_id, event) DO NOTHING",
                (version_id, to_db_time(now)),
            )
    return [await version_by_id(db, version_id) for version_id in due]


async def next_opening(db: Database) -> datetime | None:
    """When the next early access ends, if any version is in early access."""
    row = await db.fetchone(
        "SELECT min(early_access_until) AS due FROM model_versions WHERE status = 'early_access'"
    )
    return None if row is None or row["due"] is None else from_db_time(row["due"])


async def pending_announcements(db: Database) -> list[Announcement]:
    """Announcements recorded but not yet posted, oldest first."""
    rows = await db.fetchall(
        "SELECT id, event, version_id FROM model_announcements WHERE posted_at IS NULL ORDER BY id"
    )
    return [
        Announcement(
            int(row["id"]),
            AnnouncementEvent(row["event"]),
            await version_by_id(db, row["version_id"]),
        )
        for row in rows
    ]


async def mark_announced(db: Database, announcement_id: int, now: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE model_announcements SET posted_at = ? WHERE id = ? AND posted_at IS NULL",
            (to_db_time(now), announcement_id),
        )
