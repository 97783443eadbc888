"""The model registry: named models, their versions, and what each version is.

The registry is one for every server the bot is in (the cogs let only moderators of the
operator's home servers change it). A version moves ``upcoming → early_access → available
→ retired`` (release and the end of early access are in ``registry.releases``; who may use
which version in ``registry.access``).
Members name a version as ``name:version``; a bare ``name`` means its newest usable version.
Jobs store the version's key (``name:version``), so "images made" counts by that key (and by
the bare name for jobs made before the registry existed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.database import Database
from db.times import from_db_time, to_db_time
from registry.errors import RegistryError, RegistryHint
from registry.fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_LICENSE_NAME_CHARS,
    check_family,
    check_license_url,
    check_name,
    check_text,
    check_version,
    parse_spec,
)
from registry.sources import check_model_source


class VersionStatus(StrEnum):
    UPCOMING = "upcoming"
    EARLY_ACCESS = "early_access"
    AVAILABLE = "available"
    RETIRED = "retired"


@dataclass(frozen=True)
class ModelVersion:
    id: int
    model_id: int
    name: str
    version: str
    source: str
    family: str
    license_name: str
    license_url: str | None
    creator_id: int | None
    description: str
    status: VersionStatus
    certified: bool
    certified_by: int | None
    early_access_until: datetime | None
    released_at: datetime | None
    retired_at: datetime | None
    created_at: datetime

    @property
    def key(self) -> str:
        """``name:version``: how jobs and the worker pool name this version."""
        return f"{self.name}:{self.version}"

    def status_at(self, now: datetime) -> VersionStatus:
        """The status members see at ``now``: an early access whose end has passed counts
        as available even before the timer has recorded it."""
        if (
            self.status is VersionStatus.EARLY_ACCESS
            and self.early_access_until is not None
            and self.early_access_until <= now
        ):
            return VersionStatus.AVAILABLE
        return self.status


@dataclass(frozen=True)
class NewVersion:
    """What ``/models add`` asks for; ``check()`` refuses anything malformed."""

    name: str
    version: str
    source: str
    family: str
    license_name: str = ""
    license_url: str | None = None
    creator_id: int | None = None
    description: str = ""


@dataclass(frozen=True)
class VersionEdit:
    """The fields ``/models edit`` changes; None leaves a field as it is."""

    source: str | None = None
    family: str | None = None
    license_name: str | None = None
    license_url: str | None = None
    creator_id: int | None = None
    description: str | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


@dataclass(frozen=True)
class ConfiguredModel:
    """A model from the operator's settings, entered into the registry at start-up."""

    name: str
    source: str
    version: str
    license_name: str


def _checked(new: NewVersion) -> NewVersion:
    return NewVersion(
        name=check_name(new.name),
        version=check_version(new.version),
        source=check_model_source(new.source),
        family=check_family(new.family),
        license_name=check_text(new.license_name, "license name", MAX_LICENSE_NAME_CHARS),
        license_url=None if new.license_url is None else check_license_url(new.license_url),
        creator_id=new.creator_id,
        description=check_text(new.description, "description", MAX_DESCRIPTION_CHARS),
    )


# --- writing -------------------------------------------------------------------------------


async def add_version(
    db: Database, new: NewVersion, *, added_by: int | None, now: datetime
) -> ModelVersion:
    """Enter an ``upcoming`` version (and its model, if new). Refuses a duplicate."""
    new = _checked(new)
    stamp = to_db_time(now)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO models (name, created_by, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (new.name, added_by, stamp),
        )
        try:
            async with conn.execute(
                "INSERT INTO model_versions (model_id, version, source, family, license_name,"
                " license_url, creator_id, description, status, created_at)"
                " SELECT id, ?, ?, ?, ?, ?, ?, ?, 'upcoming', ? FROM models WHERE name = ?",
                (
                    new.version,
                    new.source,
                    new.family,
                    new.license_name,
                    new.license_url,
                    new.creator_id,
                    new.description,
                    stamp,
                    new.name,
                ),
            ) as cursor:
                version_id = cursor.lastrowid
        except sqlite3.IntegrityError:
            raise RegistryError(
                f"`{new.name}:{new.version}` already exists.", hint=RegistryHint.EDIT
            ) from None
    assert version_id is not None
    return await version_by_id(db, version_id)


async def edit_version(db: Database, spec: str, edit: VersionEdit) -> ModelVersion:
    """Change a version's description fields. The source is fixed once a version has been
    released, so images made with ``name:version`` stay reproducible."""
    if edit.is_empty():
        raise RegistryError("nothing to change: give at least one field to edit")
    current = await find_version(db, spec)
    changes: dict[str, object] = {}
    if edit.source is not None:
        if current.status is not VersionStatus.UPCOMING:
            raise RegistryError(
                f"`{current.key}` is {current.status.value}: its source can no longer change.",
                hint=RegistryHint.ADD,
            )
        changes["source"] = check_model_source(edit.source)
    if edit.family is not None:
        changes["family"] = check_family(edit.family)
    if edit.license_name is not None:
        changes["license_name"] = check_text(
            edit.license_name, "license name", MAX_LICENSE_NAME_CHARS
        )
    if edit.license_url is not None:
        changes["license_url"] = check_license_url(edit.license_url)
    if edit.creator_id is not None:
        changes["creator_id"] = edit.creator_id
    if edit.description is not None:
        changes["description"] = check_text(edit.description, "description", MAX_DESCRIPTION_CHARS)
    assignments = ", ".join(f"{column} = ?" for column in changes)
    # A source change is guarded by the status in the same statement, so a release in
    # between cannot slip it past the rule.
    guard = " AND status = 'upcoming'" if "source" in changes else ""
    async with (
        db.transaction() as conn,
        conn.execute(
            f"UPDATE model_versions SET {assignments} WHERE id = ?{guard}",
            (*changes.values(), current.id),
        ) as cursor,
    ):
        changed = cursor.rowcount
    if not changed:
        raise RegistryError(f"`{current.key}` was released meanwhile; its source stays as it is")
    return await version_by_id(db, current.id)


async def set_certified(
    db: Database, spec: str, *, certified: bool, moderator_id: int
) -> ModelVersion:
    """Set or clear the "meets our standards" mark. There is one registry for every
    server the bot is in, so the mark is the operator community's, shown everywhere (the
    cog lets only moderators of the operator's home servers set it)."""
    version = await find_version(db, spec)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE model_versions SET certified = ?, certified_by = ? WHERE id = ?",
            (int(certified), moderator_id if certified else None, version.id),
        )
    return await version_by_id(db, version.id)


async def retire(db: Database, spec: str, *, now: datetime) -> ModelVersion:
    """Take a version out of use for good; its images and jobs stay."""
    version = await find_version(db, spec)
    async with (
        db.transaction() as conn,
        conn.execute(
            "UPDATE model_versions SET status = 'retired', retired_at = ?, "
            "early_access_until = NULL WHERE id = ? AND status != 'retired'",
            (to_db_time(now), version.id),
        ) as cursor,
    ):
        changed = cursor.rowcount
    if not changed:
        raise RegistryError(f"`{version.key}` is already retired")
    return await version_by_id(db, version.id)


async def enter_configured(
    db: Database, models: Sequence[ConfiguredModel], *, now: datetime
) -> list[ModelVersion]:
    """Enter the operator's configured models as ``available`` versions, unless a version
    of that name already has that source; returns the versions added.

    A new source for a known name becomes a new version (the card's version, or the next
    free number), so changing the settings takes effect without losing the old history.
    """
    added = []
    stamp = to_db_time(now)
    for model in models:
        name = model.name.strip().lower()[:64]
        async with db.transaction() as conn:
            async with conn.execute(
                "SELECT v.version, v.source FROM model_versions v JOIN models m "
                "ON m.id = v.model_id WHERE m.name = ?",
                (name,),
            ) as cursor:
                rows = list(await cursor.fetchall())
            if any(row["source"] == model.source for row in rows):
                continue
            taken = {str(row["version"]) for row in rows}
            version = model.version.strip().lower()[:32] or "1"
            number = 1
            while version in taken:
                number += 1
                version = str(number)
            await conn.execute(
                "INSERT INTO models (name, created_by, created_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, stamp),
            )
            async with conn.execute(
                "INSERT INTO model_versions (model_id, version, source, family, license_name,"
                " status, released_at, created_at) SELECT id, ?, ?, 'other', ?, 'available',"
                " ?, ? FROM models WHERE name = ?",
                (version, model.source, model.license_name, stamp, stamp, name),
            ) as cursor:
                version_id = cursor.lastrowid
        assert version_id is not None
        added.append(await version_by_id(db, version_id))
    return added


# --- reading -------------------------------------------------------------------------------

_SELECT = "SELECT v.*, m.name AS name FROM model_versions v JOIN models m ON m.id = v.model_id "


async def version_by_id(db: Database, version_id: int) -> ModelVersion:
    row = await db.fetchone(_SELECT + "WHERE v.id = ?", (version_id,))
    if row is None:
        raise RegistryError(f"model version #{version_id} does not exist")
    return _version(row)


async def all_versions(db: Database) -> list[ModelVersion]:
    """Every version, by model name, oldest version first."""
    rows = await db.fetchall(_SELECT + "ORDER BY m.name, v.id")
    return [_version(row) for row in rows]


async def versions_of(db: Database, name: str) -> list[ModelVersion]:
    """A model's versions, newest first (empty for an unknown name)."""
    rows = await db.fetchall(_SELECT + "WHERE m.name = ? ORDER BY v.id DESC", (name.lower(),))
    return [_version(row) for row in rows]


async def find_version(db: Database, spec: str) -> ModelVersion:
    """The version ``name:version`` names, whatever its status; a bare name means the
    newest version that is not retired (or the newest, if all are)."""
    name, version = parse_spec(spec)
    versions = await versions_of(db, name)
    if not versions:
        raise RegistryError(f"there is no model `{name}`; {await available_text(db)}")
    if version is None:
        live = [v for v in versions if v.status is not VersionStatus.RETIRED]
        return (live or versions)[0]
    found = next((v for v in versions if v.version == version), None)
    if found is None:
        known = ", ".join(v.key for v in versions)
        raise RegistryError(f"`{name}` has no version `{version}`; its versions: {known}")
    return found


async def runnable_version(db: Database, name: str) -> ModelVersion | None:
    """The version a queued job that names ``name`` runs on, whoever asked for it (who may
    use which was checked before it was queued): ``name:version`` exactly, once released,
    also after it was retired; a bare name (jobs from before the registry) the newest
    released version not retired. None if ``name`` names no such version."""
    try:
        model, version = parse_spec(name)
    except RegistryError:
        return None
    released = [v for v in await versions_of(db, model) if v.status is not VersionStatus.UPCOMING]
    if version is not None:
        return next((v for v in released if v.version == version), None)
    return next((v for v in released if v.status is not VersionStatus.RETIRED), None)


async def available_names(db: Database, now: datetime) -> list[str]:
    """Models with a version everyone may use now, by name."""
    names = {v.name for v in await all_versions(db) if v.status_at(now) is VersionStatus.AVAILABLE}
    return sorted(names)


async def available_text(db: Database, now: datetime | None = None) -> str:
    """ "available: a, b" for refusals that should say what would work."""
    if now is None:
        names = sorted(
            {v.name for v in await all_versions(db) if v.status is VersionStatus.AVAILABLE}
        )
    else:
        names = await available_names(db, now)
    if not names:
        return "no model is available right now"
    return "available: " + ", ".join(f"`{name}`" for name in names)


@dataclass(frozen=True)
class ImageCounts:
    """Images made, by model name and by version key."""

    by_model: dict[str, int]
    by_version: dict[str, int]


async def images_made(db: Database) -> ImageCounts:
    """How many images jobs with each model made. Jobs from before the registry stored the
    bare model name: they count for the model, not for any one version."""
    rows = await db.fetchall(
        "SELECT lower(j.model) AS model, count(*) AS images FROM images i "
        "JOIN jobs j ON j.id = i.job_id GROUP BY lower(j.model)"
    )
    by_model: dict[str, int] = {}
    by_version: dict[str, int] = {}
    for row in rows:
        model, images = str(row["model"]), int(row["images"])
        name, colon, _ = model.partition(":")
        by_model[name] = by_model.get(name, 0) + images
        if colon:
            by_version[model] = images
    return ImageCounts(by_model, by_version)


def _version(row: sqlite3.Row) -> ModelVersion:
    return ModelVersion(
        id=int(row["id"]),
        model_id=int(row["model_id"]),
        name=str(row["name"]),
        version=str(row["version"]),
        source=str(row["source"]),
        family=str(row["family"]),
        license_name=str(row["license_name"]),
        license_url=row["license_url"],
        creator_id=row["creator_id"],
        description=str(row["description"]),
        status=VersionStatus(row["status"]),
        certified=bool(row["certified"]),
        certified_by=row["certified_by"],
        early_access_until=_time(row["early_access_until"]),
        released_at=_time(row["released_at"]),
        retired_at=_time(row["retired_at"]),
        created_at=from_db_time(row["created_at"]),
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)
