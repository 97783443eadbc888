"""Shared set-up for the campaign tests: a database, an upcoming model version, a campaign."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from db.database import Database
from db.times import to_db_time
from funding.campaigns import Campaign, CampaignRequest, create_campaign

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CREATOR = 1001
MODERATOR = 1002
ALICE = 2001
BOB = 2002
CAROL = 2003
GUILD = 9001
CHANNEL = 9002

_interactions = itertools.count(50_000)


def interaction() -> int:
    """A fresh interaction id, as Discord gives one per press or command."""
    return next(_interactions)


async def upcoming_version(
    db: Database, name: str = "dreamy", version: str = "v2", *, creator_id: int = CREATOR
) -> int:
    """An ``upcoming`` model version made by ``creator_id``, entered with plain SQL."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO models (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, to_db_time(T0)),
        )
        async with conn.execute(
            "INSERT INTO model_versions (model_id, version, source, family, creator_id,"
            " created_at) SELECT id, ?, '/models/x', 'sd1', ?, ? FROM models WHERE name = ?",
            (version, creator_id, to_db_time(T0), name),
        ) as cursor:
            version_id = cursor.lastrowid
    assert version_id is not None
    return version_id


async def open_campaign(
    db: Database,
    *,
    model: str = "dreamy:v2",
    goal: str = "100",
    currency: str = "USD",
    deadline: str = "10",
    min_pledge: str | None = None,
    start: str | None = None,
    backer_role_id: int | None = None,
    now: datetime = T0,
) -> Campaign:
    """A campaign by the version's creator (the version must exist); a creator who is also
    a moderator of the campaign's server when it has a backer role (only they may set one)."""
    return await create_campaign(
        db,
        CampaignRequest(
            model=model,
            goal=goal,
            currency=currency,
            deadline=deadline,
            min_pledge=min_pledge,
            start=start,
            backer_role_id=backer_role_id,
            description="A dreamier model",
        ),
        guild_id=GUILD,
        channel_id=CHANNEL,
        owner_id=CREATOR,
        may_start_for_others=False,
        may_set_backer_role=backer_role_id is not None,
        interaction_id=interaction(),
        now=now,
    )
