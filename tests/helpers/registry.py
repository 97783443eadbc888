"""Set-up for the registry, access and release tests: versions added through the registry,
and funded campaigns made through the campaigns engineer's own functions."""

from __future__ import annotations

from datetime import timedelta

from db.database import Database
from funding.campaigns import Campaign, CampaignRequest, create_campaign
from funding.ledger import pledge
from funding.settlement import settle_due
from registry.versions import ModelVersion, NewVersion, add_version
from tests.helpers.campaigns import CHANNEL, CREATOR, GUILD, T0, interaction


async def new_version(
    db: Database, key: str = "dreamy:2", *, source: str = "org/dreamy", creator_id: int = CREATOR
) -> ModelVersion:
    """An upcoming version made by ``creator_id``, added as a moderator would."""
    name, _, version = key.partition(":")
    new = NewVersion(
        name=name,
        version=version,
        source=source,
        family="sd1",
        license_name="CreativeML OpenRAIL-M",
        license_url="https://example.org/license",
        creator_id=creator_id,
    )
    return await add_version(db, new, added_by=creator_id, now=T0)


async def funded_campaign_for(
    db: Database,
    key: str,
    backers: dict[int, str],
    *,
    early_access_days: int = 7,
    guild_id: int = GUILD,
    channel_id: int = CHANNEL,
    owner_id: int = CREATOR,
    backer_role_id: int | None = None,
) -> Campaign:
    """A campaign for ``key`` (goal 100 USD, 10 days from T0) that ``backers`` pledge to,
    settled at its deadline: funded if they pledged 100 or more. Its owner is a moderator
    of the campaign's server when it has a backer role (only they may set one)."""
    campaign = await create_campaign(
        db,
        CampaignRequest(
            model=key,
            goal="100",
            currency="USD",
            deadline="10",
            early_access_days=early_access_days,
            description="the next version",
            backer_role_id=backer_role_id,
        ),
        guild_id=guild_id,
        channel_id=channel_id,
        owner_id=owner_id,
        may_start_for_others=False,
        may_set_backer_role=backer_role_id is not None,
        interaction_id=interaction(),
        now=T0,
    )
    for backer, amount in backers.items():
        await pledge(
            db,
            campaign.id,
            backer,
            amount,
            anonymous=None,
            interaction_id=interaction(),
            now=T0 + timedelta(days=1),
        )
    await settle_due(db, campaign.deadline)
    return campaign
