"""Who may use which model version.

An ``available`` version is for everyone; an ``early_access`` one, until its early access
ends, only for moderators and for the members the caller grants it to (the caller says who
is which: the cogs count only moderators of the operator's home servers, as the registry is
one for every server, and funding grants early access to the backers of the version's
funded campaign); ``upcoming`` and ``retired`` versions for nobody. A bare model name picks
the newest version the member may use.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from datetime import datetime

from db.database import Database
from registry.errors import RegistryError
from registry.fields import parse_spec
from registry.versions import (
    ModelKind,
    ModelVersion,
    VersionStatus,
    all_versions,
    available_text,
    versions_of,
)


async def usable_version(
    db: Database,
    spec: str,
    *,
    granted: Collection[int],
    moderator: bool,
    now: datetime,
    kind: ModelKind = ModelKind.CHECKPOINT,
) -> ModelVersion:
    """The version ``spec`` (``name`` or ``name:version``) gives a member at ``now``.

    ``granted``: the ids of the versions whose early access the member was granted;
    ``moderator``: whether they may use every early-access version; ``kind``: what the
    member asked for (``--model`` names a checkpoint, ``<lora:…>`` a LoRA).

    Raises RegistryError saying why not: unknown (with "did you mean") or retired (listing
    the available ones), of the other kind, not released yet, or in early access (with when
    it opens to everyone).
    """
    name, wanted = parse_spec(spec)
    versions = await versions_of(db, name)
    if not versions:
        raise RegistryError(await _unknown(db, name, kind, now))
    if versions[0].kind is not kind:
        if kind is ModelKind.LORA:
            raise RegistryError(f"`{name}` is a checkpoint, not a LoRA: use it with --model {name}")
        raise RegistryError(f"`{name}` is a LoRA: add it to the prompt as `<lora:{name}:1>`")
    if wanted is not None:
        version = next((v for v in versions if v.version == wanted), None)
        if version is None:
            known = ", ".join(f"`{v.key}`" for v in versions)
            raise RegistryError(f"`{name}` has no version `{wanted}`; its versions: {known}")
        await _check_usable(db, version, granted=granted, moderator=moderator, now=now)
        return version
    refusals: list[tuple[int, RegistryError]] = []
    for version in versions:  # newest first
        try:
            await _check_usable(db, version, granted=granted, moderator=moderator, now=now)
        except RegistryError as error:
            refusals.append((_rank(version, now), error))
            continue
        return version
    # Tell the member about the most promising version: early access (it opens soon)
    # before "not released yet" before "retired"; the newest among equals.
    raise min(refusals, key=lambda refusal: refusal[0])[1]


async def _unknown(db: Database, name: str, kind: ModelKind, now: datetime) -> str:
    what = "LoRA" if kind is ModelKind.LORA else "model"
    names = sorted({v.name for v in await all_versions(db) if v.kind is kind})
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    guess = f" (did you mean `{close[0]}`?)" if close else ""
    return f"unknown {what} `{name}`{guess}; {await available_text(db, now, kind)}"


async def _check_usable(
    db: Database, version: ModelVersion, *, granted: Collection[int], moderator: bool, now: datetime
) -> None:
    status = version.status_at(now)
    if status is VersionStatus.AVAILABLE:
        return
    if status is VersionStatus.RETIRED:
        available = await available_text(db, now, version.kind)
        raise RegistryError(f"`{version.key}` is retired; {available}")
    if status is VersionStatus.UPCOMING:
        available = await available_text(db, now, version.kind)
        raise RegistryError(f"`{version.key}` is not released yet; {available}")
    if moderator or version.id in granted:
        return
    assert version.early_access_until is not None
    raise RegistryError(
        f"`{version.key}` is in early access for the backers of its campaign; it opens to "
        "everyone {opens}",
        opens=version.early_access_until,
    )


def _rank(version: ModelVersion, now: datetime) -> int:
    order = (VersionStatus.EARLY_ACCESS, VersionStatus.UPCOMING, VersionStatus.RETIRED)
    return order.index(version.status_at(now))
