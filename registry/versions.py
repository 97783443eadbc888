"""The model registry: named models, their versions, and what each version is.

The registry is one for every server the bot is in (the cogs let only moderators of the
operator's home servers change it). A version moves ``upcoming → early_access → available
→ retired`` (release and the end of early access are in ``registry.releases``; who may use
which version in ``registry.access``).
Members name a version as ``name:version``; a bare ``name`` means its newest usable version.
Jobs store the version's key (``name:version``), so "images made" counts by that key (and by
the bare name for jobs made before the registry existed).

A model is of one kind: a ``checkpoint`` (what ``--model`` names) or a ``lora`` (what
``<lora:name:weight>`` in a prompt names). LoRA versions have the same statuses, campaigns
and early access as checkpoints; a LoRA's file — a local one, or a file of a hub
repository, read through the :data:`~registry.weight_files.HubFetch` the caller passes — is
checked and hashed when it is registered, never when a member first uses it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from core.errors import UserFacingError
from db.database import Database
from db.times import from_db_time, to_db_time
from registry.errors import RegistryError, RegistryHint
from registry.fields import (
    MAX_DESCRIPTION_CHARS,
    MAX_LICENSE_NAME_CHARS,
    check_family,
    check_license_url,
    check_name,
    check_source,
    check_text,
    check_trigger_words,
    check_version,
    check_weight,
    parse_spec,
    split_trigger_words,
)
from registry.recommended import Recommended
from registry.sources import check_model_source, hub_file_text, is_hub_id, split_hub_file
from registry.weight_files import (
    HubFetch,
    check_lora_family,
    file_sha256,
    inspect_lora,
    not_a_lora,
    short_hash,
)


class ModelKind(StrEnum):
    CHECKPOINT = "checkpoint"
    LORA = "lora"


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
    kind: ModelKind = ModelKind.CHECKPOINT
    weight_name: str | None = None  # a hub LoRA's file inside its repository
    trigger_words: tuple[str, ...] = ()
    default_weight: float = 1.0
    recommended: Recommended = field(default_factory=Recommended)
    #: Of the weights file (a LoRA's, local or on the hub); None for folders and hub models.
    sha256: str | None = None
    #: A checkpoint's dedicated inpainting checkpoint, for reworks (zoom, pan, region…).
    inpaint_source: str | None = None
    inpaint_sha256: str | None = None

    @property
    def short_hash(self) -> str | None:
        """The hash A1111 and model sites show (first ten hex digits of the SHA-256)."""
        return short_hash(self.sha256)

    @property
    def is_lora(self) -> bool:
        return self.kind is ModelKind.LORA

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
    kind: ModelKind = ModelKind.CHECKPOINT
    weight_name: str | None = None  # a hub LoRA's file in its repository (or in an hf:// source)
    trigger_words: str = ""  # comma-separated
    default_weight: float = 1.0
    recommended: Recommended = field(default_factory=Recommended)


@dataclass(frozen=True)
class VersionEdit:
    """The fields ``/models edit`` changes; None leaves a field as it is."""

    source: str | None = None
    family: str | None = None
    license_name: str | None = None
    license_url: str | None = None
    creator_id: int | None = None
    description: str | None = None
    trigger_words: str | None = None
    default_weight: float | None = None
    recommended: Recommended | None = None
    #: A checkpoint's dedicated inpainting checkpoint; "" forgets it. It may change after
    #: release (unlike the source): each job records the one it ran with.
    inpaint_source: str | None = None

    def is_empty(self) -> bool:
        return all(
            value is None or (isinstance(value, Recommended) and value.is_empty())
            for value in vars(self).values()
        )


@dataclass(frozen=True)
class ConfiguredModel:
    """A model from the operator's settings, entered into the registry at start-up."""

    name: str
    source: str
    version: str
    license_name: str
    kind: ModelKind = ModelKind.CHECKPOINT
    family: str = "other"
    sha256: str | None = None
    weight_name: str | None = None  # a hub LoRA's file inside its repository


def _checked_source(source: str, kind: ModelKind) -> str:
    """A checkpoint's source must be a model (``registry.sources``); a LoRA's file is
    checked for being a LoRA when it is read and hashed (:func:`weights_facts`), with its
    own refusal that, like the checkpoints', says nothing about what exists."""
    return check_model_source(source) if kind is ModelKind.CHECKPOINT else check_source(source)


def lora_location(source: str, weight_name: str | None = None) -> tuple[str, str | None]:
    """Where a LoRA's file is: a local path and None, or a hub repository id and the file's
    name in it (given apart, or together as ``hf://org/repo/file``). Decided by how the
    source is written, never by looking at the disk."""
    source = check_source(source)
    weight_name = weight_name.strip() if weight_name else None
    in_hub = split_hub_file(source)
    if in_hub is not None:
        if weight_name not in (None, in_hub[1]):
            raise RegistryError(f"`{source[:120]}` already names its file: leave the file name out")
        return in_hub
    if weight_name and not is_hub_id(source):
        raise RegistryError(
            f"a file name belongs with a hub repository id (`org/repo`), not with `{source[:120]}`"
        )
    return source, weight_name


def lora_text(source: str, weight_name: str | None) -> str:
    """A LoRA's file as one string: its path, or ``hf://org/repo/file``."""
    return source if weight_name is None else hub_file_text(source, weight_name)


def _checked(new: NewVersion) -> NewVersion:
    weight_name = new.weight_name.strip() if new.weight_name else None
    if new.kind is ModelKind.CHECKPOINT and weight_name:
        raise RegistryError("a file name inside a hub repository is for LoRAs only")
    source = _checked_source(new.source, new.kind)
    if new.kind is ModelKind.LORA:
        source, weight_name = lora_location(source, weight_name)
    return NewVersion(
        name=check_name(new.name),
        version=check_version(new.version),
        source=source,
        family=check_family(new.family),
        license_name=check_text(new.license_name, "license name", MAX_LICENSE_NAME_CHARS),
        license_url=None if new.license_url is None else check_license_url(new.license_url),
        creator_id=new.creator_id,
        description=check_text(new.description, "description", MAX_DESCRIPTION_CHARS),
        kind=new.kind,
        weight_name=weight_name,
        trigger_words=check_trigger_words(new.trigger_words),
        default_weight=check_weight(new.default_weight, "default weight"),
        recommended=new.recommended.checked(),
    )


def local_weights_file(source: str) -> Path | None:
    """The local file ``source`` names, if it names one (not a folder, not a hub id)."""
    path = Path(source).expanduser()
    return path if path.is_file() else None


def check_new_version(new: NewVersion) -> NewVersion:
    """Every field of ``new`` checked, a local LoRA file by its header (cheap: the slow
    part, hashing the whole file, is :func:`weights_facts`'s, which also fetches a hub
    LoRA). Refusals say the same words whatever is or is not at a path, so a caller may
    answer before it hashes."""
    checked = _checked(new)
    if checked.kind is ModelKind.LORA:
        text = lora_text(checked.source, checked.weight_name)
        if checked.weight_name is not None:
            if not checked.weight_name.lower().endswith(".safetensors"):
                raise not_a_lora(text)  # checked again when it is read: cheap here
        elif (path := local_weights_file(checked.source)) is not None:
            check_lora_family(inspect_lora(path, text), checked.family, text)
        else:
            raise not_a_lora(text)
    return checked


def needs_reading(new: NewVersion) -> bool:
    """Whether registering ``new`` (checked) reads a whole file (hashing it, or first
    downloading a hub LoRA): a front end answers "thinking…" first."""
    return new.weight_name is not None or local_weights_file(new.source) is not None


def weights_facts(new: NewVersion, fetch_hub: HubFetch | None = None) -> tuple[str, str | None]:
    """The family to record and the file's SHA-256 (None for folders and hub models).
    A LoRA must be a LoRA file (for the declared family), local or in a hub repository
    (read through ``fetch_hub``; without one, a hub LoRA is refused). Blocking: reads the
    whole file once (and downloads a hub LoRA not in the hub cache)."""
    if new.kind is ModelKind.LORA:
        lora = lora_file(new.source, new.weight_name, fetch_hub)
        text = lora_text(new.source, new.weight_name)
        family = check_lora_family(inspect_lora(lora, text), new.family, text)
        return family, file_sha256(lora)
    path = local_weights_file(new.source)
    return new.family, None if path is None else file_sha256(path)


def lora_file(source: str, weight_name: str | None, fetch_hub: HubFetch | None) -> Path:
    """A LoRA's file on this machine: its local path, or its hub file through
    ``fetch_hub``. RegistryError when there is none. Blocking."""
    if weight_name is None:
        path = local_weights_file(source)
        if path is None:
            raise not_a_lora(source)
        return path
    text = hub_file_text(source, weight_name)
    if not weight_name.lower().endswith(".safetensors"):
        raise not_a_lora(text)  # before downloading what may be a whole checkpoint
    if fetch_hub is None or not is_hub_id(source):
        raise RegistryError(f"`{text[:120]}`: files on the Hugging Face hub are not read here")
    try:
        return fetch_hub(source, weight_name)
    except UserFacingError as error:
        raise RegistryError(error.message) from None


# --- writing -------------------------------------------------------------------------------


async def add_version(
    db: Database,
    new: NewVersion,
    *,
    added_by: int | None,
    now: datetime,
    fetch_hub: HubFetch | None = None,
) -> ModelVersion:
    """Enter an ``upcoming`` version (and its model, if new). Refuses a duplicate, a
    version of another kind than its model's, and a LoRA file that is not a LoRA (or is
    for another family). A weights file is hashed here, once, off the event loop; a hub
    LoRA is read through ``fetch_hub`` first (without one, it is refused)."""
    new = check_new_version(new)
    family, sha256 = await asyncio.to_thread(weights_facts, new, fetch_hub)
    stamp = to_db_time(now)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO models (name, created_by, created_at, kind) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING",
            (new.name, added_by, stamp, new.kind.value),
        )
        async with conn.execute("SELECT kind FROM models WHERE name = ?", (new.name,)) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        if row["kind"] != new.kind.value:
            raise RegistryError(
                f"`{new.name}` is a {row['kind']}; a {new.kind.value} needs a name of its own"
            )
        try:
            async with conn.execute(
                "INSERT INTO model_versions (model_id, version, source, family, license_name,"
                " license_url, creator_id, description, status, created_at, weight_name,"
                " trigger_words, default_weight, recommended, sha256)"
                " SELECT id, ?, ?, ?, ?, ?, ?, ?, 'upcoming', ?, ?, ?, ?, ?, ? FROM models"
                " WHERE name = ?",
                (
                    new.version,
                    new.source,
                    family,
                    new.license_name,
                    new.license_url,
                    new.creator_id,
                    new.description,
                    stamp,
                    new.weight_name,
                    new.trigger_words,
                    new.default_weight,
                    new.recommended.to_json(),
                    sha256,
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


async def edit_version(
    db: Database, spec: str, edit: VersionEdit, *, fetch_hub: HubFetch | None = None
) -> ModelVersion:
    """Change a version's description fields. The source is fixed once a version has been
    released, so images made with ``name:version`` stay reproducible. A LoRA's new file
    (or a new family for its file) is checked and hashed like a new version's, a hub one
    read through ``fetch_hub``."""
    if edit.is_empty():
        raise RegistryError("nothing to change: give at least one field to edit")
    current = await find_version(db, spec)
    changes: dict[str, object] = {}
    weight_name = current.weight_name
    if edit.source is not None:
        if current.status is not VersionStatus.UPCOMING:
            raise RegistryError(
                f"`{current.key}` is {current.status.value}: its source can no longer change.",
                hint=RegistryHint.ADD,
            )
        source = _checked_source(edit.source, current.kind)
        if current.is_lora:
            # A hub repository keeps its file name unless the source names another.
            keep = weight_name if is_hub_id(source) else None
            source, weight_name = lora_location(source, keep)
            changes["weight_name"] = weight_name
        changes["source"] = source
    if edit.family is not None:
        changes["family"] = check_family(edit.family)
    if "source" in changes or (current.is_lora and "family" in changes):
        # A new file is checked and hashed like a new version's.
        checked = NewVersion(
            name=current.name,
            version=current.version,
            source=str(changes.get("source", current.source)),
            family=str(changes.get("family", current.family)),
            kind=current.kind,
            weight_name=weight_name,
        )
        changes["family"], changes["sha256"] = await asyncio.to_thread(
            weights_facts, checked, fetch_hub
        )
    if edit.inpaint_source is not None:
        changes.update(await _inpaint_changes(current, edit.inpaint_source))
    if edit.trigger_words is not None:
        changes["trigger_words"] = check_trigger_words(edit.trigger_words)
    if edit.default_weight is not None:
        changes["default_weight"] = check_weight(edit.default_weight, "default weight")
    if edit.recommended is not None and not edit.recommended.is_empty():
        changes["recommended"] = current.recommended.merged(edit.recommended).to_json()
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


async def _inpaint_changes(current: ModelVersion, source: str) -> dict[str, object]:
    """The columns that name ``source`` (empty: none) as ``current``'s inpainting
    checkpoint, checked like a source and hashed when it is one file."""
    if current.is_lora:
        raise RegistryError(f"`{current.key}` is a LoRA; only checkpoints have inpainting ones")
    if not source.strip():
        return {"inpaint_source": None, "inpaint_sha256": None}
    checked = check_model_source(source)
    path = local_weights_file(checked)
    sha256 = None if path is None else await asyncio.to_thread(file_sha256, path)
    return {"inpaint_source": checked, "inpaint_sha256": sha256}


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
    of that name already has that source (a LoRA: and that hash); returns the versions
    added. A checkpoint's version entered before with the unknown family (``other``) gets
    the configured model's family, when that one is known.

    A new source for a known name becomes a new version (the card's version, or the next
    free number), so changing the settings takes effect without losing the old history.
    """
    added = []
    stamp = to_db_time(now)
    for model in models:
        name = model.name.strip().lower()[:64]
        async with db.transaction() as conn:
            async with conn.execute(
                "SELECT v.version, v.source, v.weight_name, v.sha256 FROM model_versions v "
                "JOIN models m ON m.id = v.model_id WHERE m.name = ?",
                (name,),
            ) as cursor:
                rows = list(await cursor.fetchall())
            if any(
                (row["source"], row["weight_name"]) == (model.source, model.weight_name)
                # a LoRA file changed in place is a new version (``registry.configured``)
                and (model.kind is ModelKind.CHECKPOINT or row["sha256"] == model.sha256)
                for row in rows
            ):
                if model.kind is ModelKind.CHECKPOINT and model.family != "other":
                    await conn.execute(
                        "UPDATE model_versions SET family = ? WHERE family = 'other' AND "
                        "source = ? AND weight_name IS NULL AND model_id = "
                        "(SELECT id FROM models WHERE name = ?)",
                        (model.family, model.source, name),
                    )
                continue
            async with conn.execute("SELECT kind FROM models WHERE name = ?", (name,)) as cursor:
                existing = await cursor.fetchone()
            if existing is not None and existing["kind"] != model.kind.value:
                raise RegistryError(
                    f"`{name}` is registered as a {existing['kind']}; the configured "
                    f"{model.kind.value} needs another name"
                )
            taken = {str(row["version"]) for row in rows}
            version = model.version.strip().lower()[:32] or "1"
            number = 1
            while version in taken:
                number += 1
                version = str(number)
            await conn.execute(
                "INSERT INTO models (name, created_by, created_at, kind) VALUES (?, NULL, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, stamp, model.kind.value),
            )
            async with conn.execute(
                "INSERT INTO model_versions (model_id, version, source, family, license_name,"
                " status, released_at, created_at, sha256, weight_name) SELECT id, ?, ?, ?, ?,"
                " 'available', ?, ?, ?, ? FROM models WHERE name = ?",
                (
                    version,
                    model.source,
                    model.family,
                    model.license_name,
                    stamp,
                    stamp,
                    model.sha256,
                    model.weight_name,
                    name,
                ),
            ) as cursor:
                version_id = cursor.lastrowid
        assert version_id is not None
        added.append(await version_by_id(db, version_id))
    return added


# --- reading -------------------------------------------------------------------------------

_SELECT = (
    "SELECT v.*, m.name AS name, m.kind AS kind FROM model_versions v "
    "JOIN models m ON m.id = v.model_id "
)


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


async def available_names(
    db: Database, now: datetime, kind: ModelKind = ModelKind.CHECKPOINT
) -> list[str]:
    """Models of ``kind`` with a version everyone may use now, by name."""
    names = {
        v.name
        for v in await all_versions(db)
        if v.kind is kind and v.status_at(now) is VersionStatus.AVAILABLE
    }
    return sorted(names)


async def available_text(
    db: Database, now: datetime | None = None, kind: ModelKind = ModelKind.CHECKPOINT
) -> str:
    """ "available: a, b" for refusals that should say what would work."""
    if now is None:
        names = sorted(
            {
                v.name
                for v in await all_versions(db)
                if v.kind is kind and v.status is VersionStatus.AVAILABLE
            }
        )
    else:
        names = await available_names(db, now, kind)
    what = "LoRA" if kind is ModelKind.LORA else "model"
    if not names:
        return f"no {what} is available right now"
    label = "available LoRAs" if kind is ModelKind.LORA else "available"
    return f"{label}: " + ", ".join(f"`{name}`" for name in names)


@dataclass(frozen=True)
class ImageCounts:
    """Images made, by model name and by version key."""

    by_model: dict[str, int]
    by_version: dict[str, int]


async def images_made(db: Database) -> ImageCounts:
    """How many images jobs with each model made, and with each LoRA (an image made with a
    checkpoint and two LoRAs counts once for each). Jobs from before the registry stored the
    bare model name: they count for the model, not for any one version. Checkpoints are read
    from the running count the database keeps per model as images are written
    (``model_images``, migration ``board_counts``): counting every image took ~0.5 s on a
    year of data. LoRAs are counted from ``job_loras``, which holds LoRA jobs only."""
    rows = await db.fetchall("SELECT model, images FROM model_images WHERE images > 0")
    counts = [(str(row["model"]), int(row["images"])) for row in rows]
    counts += list((await lora_images_by_version(db)).items())
    by_model: dict[str, int] = {}
    by_version: dict[str, int] = {}
    for model, images in counts:
        name, colon, _ = model.partition(":")
        by_model[name] = by_model.get(name, 0) + images
        if colon:
            by_version[model] = images
    return ImageCounts(by_model, by_version)


async def lora_images_by_version(db: Database) -> dict[str, int]:
    """Images made with each LoRA version, by its key: the credit ``/models list`` and
    ``/models info`` give a LoRA's creator (``contests.leaderboards`` counts the same way
    for the models board, per server and window)."""
    rows = await db.fetchall(
        "SELECT l.version_key AS version_key, count(*) AS images FROM images i "
        "JOIN job_loras l ON l.job_id = i.job_id GROUP BY l.version_key"
    )
    return {str(row["version_key"]): int(row["images"]) for row in rows}


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
        kind=ModelKind(row["kind"]),
        weight_name=row["weight_name"],
        trigger_words=split_trigger_words(str(row["trigger_words"])),
        default_weight=float(row["default_weight"]),
        recommended=Recommended.from_json(str(row["recommended"])),
        sha256=row["sha256"],
        inpaint_source=row["inpaint_source"],
        inpaint_sha256=row["inpaint_sha256"],
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)
