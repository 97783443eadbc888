"""What a version's campaign says about its release: ``/models release`` goes through here.

A release waits until the version's campaign has closed; its early access lasts as long as
the funded campaign promised unless the moderator says otherwise, and only a version with a
funded campaign can have early access at all (its backers are who it is for). The change
of status itself is the registry's (``registry.releases``).
"""

from __future__ import annotations

from datetime import datetime

from db.database import Database
from db.times import from_db_time
from funding.backers import funded_campaign
from funding.errors import FundingError
from registry.releases import releasable_version, release
from registry.versions import ModelVersion


async def release_version(
    db: Database, spec: str, *, early_access_days: int | None, now: datetime
) -> ModelVersion:
    """Release the upcoming version ``name:version``.

    ``early_access_days`` None takes the funded campaign's ``early_access_days`` (0 without
    one). Raises RegistryError (not an upcoming version, days out of range) or FundingError
    (its campaign is still open; early access without a funded campaign).
    """
    version = await releasable_version(db, spec)
    open_campaign = await db.fetchone(
        "SELECT id, deadline FROM campaigns WHERE version_id = ? AND state = 'open'",
        (version.id,),
    )
    if open_campaign is not None:
        raise FundingError(
            f"campaign #{open_campaign['id']} for `{version.key}` is still open (deadline "
            "{deadline}); release it after the deadline, or cancel the campaign first",
            deadline=from_db_time(open_campaign["deadline"]),
        )
    campaign = await funded_campaign(db, version.id)
    days = early_access_days
    if days is None:
        days = campaign.early_access_days if campaign is not None else 0
    if days > 0 and campaign is None:
        raise FundingError(
            f"`{version.key}` has no funded campaign, so nobody would have early access; "
            "release it with 0 early-access days"
        )
    return await release(db, version.key, early_access_days=days, now=now)
