"""Who may use which model version, and who gets the worker pool's priority lane.

An ``available`` version is for everyone; an ``early_access`` one only for the backers of
its funded campaign and for moderators (the caller says who is one: the cogs count only
moderators of the operator's home servers, as the registry is one for every server),
until its early access ends; ``upcoming`` and
``retired`` versions for nobody. A bare model name picks the newest version the member may
use. Backers of a version in early access get the priority lane while it lasts.
"""

from __future__ import annotations

from datetime import datetime

from db.database import Database
from funding.backers import funded_versions_backed_by, is_funded_backer
from funding.errors import FundingError
from registry.fields import parse_spec
from registry.versions import (
    ModelVersion,
    VersionStatus,
    available_text,
    version_by_id,
    versions_of,
)


async def usable_version(
    db: Database, spec: str, *, user_id: int, moderator: bool, now: datetime
) -> ModelVersion:
    """The version ``spec`` (``name`` or ``name:version``) gives ``user_id`` at ``now``.

    Raises FundingError saying why not: unknown or retired (listing the available models),
    not released yet, or in early access (with when it opens to everyone).
    """
    name, wanted = parse_spec(spec)
    versions = await versions_of(db, name)
    if not versions:
        raise FundingError(f"unknown model `{name}`; {await available_text(db, now)}")
    if wanted is not None:
        version = next((v for v in versions if v.version == wanted), None)
        if version is None:
            known = ", ".join(f"`{v.key}`" for v in versions)
            raise FundingError(f"`{name}` has no version `{wanted}`; its versions: {known}")
        await _check_usable(db, version, user_id=user_id, moderator=moderator, now=now)
        return version
    refusals: list[tuple[int, FundingError]] = []
    for version in versions:  # newest first
        try:
            await _check_usable(db, version, user_id=user_id, moderator=moderator, now=now)
        except FundingError as error:
            refusals.append((_rank(version, now), error))
            continue
        return version
    # Tell the member about the most promising version: early access (it opens soon)
    # before "not released yet" before "retired"; the newest among equals.
    raise min(refusals, key=lambda refusal: refusal[0])[1]


async def _check_usable(
    db: Database, version: ModelVersion, *, user_id: int, moderator: bool, now: datetime
) -> None:
    status = version.status_at(now)
    if status is VersionStatus.AVAILABLE:
        return
    if status is VersionStatus.RETIRED:
        raise FundingError(f"`{version.key}` is retired; {await available_text(db, now)}")
    if status is VersionStatus.UPCOMING:
        raise FundingError(f"`{version.key}` is not released yet; {await available_text(db, now)}")
    if moderator or await is_funded_backer(db, version.id, user_id):
        return
    assert version.early_access_until is not None
    raise FundingError(
        f"`{version.key}` is in early access for the backers of its campaign; it opens to "
        "everyone {opens}",
        opens=version.early_access_until,
    )


def _rank(version: ModelVersion, now: datetime) -> int:
    order = (VersionStatus.EARLY_ACCESS, VersionStatus.UPCOMING, VersionStatus.RETIRED)
    return order.index(version.status_at(now))


async def early_access_backed(db: Database, user_id: int, now: datetime) -> list[ModelVersion]:
    """The versions in early access at ``now`` whose funded campaign ``user_id`` backs."""
    backed = [await version_by_id(db, v) for v in await funded_versions_backed_by(db, user_id)]
    return [v for v in backed if v.status_at(now) is VersionStatus.EARLY_ACCESS]


async def has_priority(db: Database, user_id: int, now: datetime) -> bool:
    """Whether ``user_id``'s jobs go in the priority lane: they back a funded version that
    is still in early access."""
    return bool(await early_access_backed(db, user_id, now))
