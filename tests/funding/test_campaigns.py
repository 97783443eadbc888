"""Starting and editing campaigns: who may, for which versions, with which terms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.database import Database
from funding import campaigns
from funding.campaigns import (
    Campaign,
    CampaignEdit,
    CampaignRequest,
    CampaignState,
    create_campaign,
    edit_campaign,
    get_campaign,
    progress,
)
from funding.errors import FundingError
from funding.ledger import pledge
from registry.errors import RegistryError
from registry.versions import ModelVersion
from tests.helpers.campaigns import (
    ALICE,
    CHANNEL,
    CREATOR,
    GUILD,
    MODERATOR,
    T0,
    interaction,
    open_campaign,
    upcoming_version,
)


@pytest.fixture(autouse=True)
async def upcoming(db: Database) -> None:
    """An upcoming ``dreamy:v2`` for the campaigns to fund."""
    await upcoming_version(db)


async def _create(db: Database, *, by: int, moderator: bool = False, **fields: str) -> Campaign:
    request = CampaignRequest(
        **{"model": "dreamy:v2", "goal": "100", "currency": "USD", "deadline": "14", **fields}
    )
    return await create_campaign(
        db,
        request,
        guild_id=GUILD,
        channel_id=CHANNEL,
        owner_id=by,
        may_start_for_others=moderator,
        may_set_backer_role=moderator,
        interaction_id=interaction(),
        now=T0,
    )


async def _create_with_role(
    db: Database, *, by: int, for_others: bool, set_role: bool, other_starters: str = "a moderator"
) -> Campaign:
    return await create_campaign(
        db,
        CampaignRequest(
            model="dreamy:v2", goal="100", currency="USD", deadline="14", backer_role_id=5
        ),
        guild_id=GUILD,
        channel_id=CHANNEL,
        owner_id=by,
        may_start_for_others=for_others,
        may_set_backer_role=set_role,
        other_starters=other_starters,
        interaction_id=interaction(),
        now=T0,
    )


async def test_the_creator_starts_a_campaign_with_amounts_in_minor_units(db: Database) -> None:
    campaign = await open_campaign(db, goal="1,500.50", min_pledge="2.5", deadline="14")
    assert campaign.state is CampaignState.OPEN
    assert (campaign.goal_minor, campaign.min_pledge_minor) == (150050, 250)
    assert campaign.currency.code == "USD"
    assert campaign.starts_at == T0
    assert campaign.deadline == T0 + timedelta(days=14)
    assert campaign.model_key == "dreamy:v2"


async def test_a_moderator_may_start_one_anyone_else_may_not(db: Database) -> None:
    with pytest.raises(FundingError, match="Only the creator of `dreamy:v2` or a moderator"):
        await _create(db, by=ALICE)
    campaign = await _create(db, by=MODERATOR, moderator=True)
    assert campaign.owner_id == MODERATOR


async def test_only_upcoming_versions_can_be_funded(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE model_versions SET status = 'available'")
    with pytest.raises(FundingError, match="is available; campaigns are for upcoming versions"):
        await _create(db, by=CREATOR)


async def test_one_live_campaign_per_version(db: Database) -> None:
    first = await open_campaign(db)
    with pytest.raises(FundingError, match=rf"already has an open campaign \(#{first.id}\)"):
        await open_campaign(db)


async def test_a_release_landing_while_a_campaign_is_created_wins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/models release` commits between create_campaign's read of the version and its
    insert: the campaign is refused, as if the release had come first."""
    real_find_version = campaigns.find_version

    async def find_then_release(db: Database, key: str) -> ModelVersion:
        version = await real_find_version(db, key)
        async with db.transaction() as conn:
            await conn.execute("UPDATE model_versions SET status = 'available'")
        return version  # as read: still upcoming

    monkeypatch.setattr(campaigns, "find_version", find_then_release)
    with pytest.raises(FundingError, match="is available; campaigns are for upcoming"):
        await _create(db, by=CREATOR)
    assert await db.fetchone("SELECT id FROM campaigns") is None


async def test_only_a_moderator_of_the_server_sets_a_backer_role(db: Database) -> None:
    with pytest.raises(FundingError, match="Only this server's moderators can set a backer role"):
        await _create_with_role(db, by=CREATOR, for_others=True, set_role=False)
    assert await db.fetchone("SELECT id FROM campaigns") is None
    # Starting for others and naming a role are separate: the role belongs to the server,
    # so the creator, a moderator there (of no home server), may give one.
    campaign = await _create_with_role(db, by=CREATOR, for_others=False, set_role=True)
    assert campaign.backer_role_id == 5


async def test_a_moderator_of_the_server_alone_may_not_start_one_for_others(
    db: Database,
) -> None:
    # A moderator of a server that is not a home server: early access is everyone's.
    home = "a moderator of Atelier's home server (from there)"
    with pytest.raises(
        FundingError, match=r"Only the creator of `dreamy:v2` or a moderator of Atelier's home"
    ):
        await _create_with_role(
            db, by=MODERATOR, for_others=False, set_role=True, other_starters=home
        )
    assert await db.fetchone("SELECT id FROM campaigns") is None
    campaign = await _create_with_role(db, by=MODERATOR, for_others=True, set_role=True)
    assert (campaign.owner_id, campaign.backer_role_id) == (MODERATOR, 5)


async def test_a_replayed_create_returns_the_same_campaign(db: Database) -> None:
    request = CampaignRequest(model="dreamy:v2", goal="100", currency="EUR", deadline="3")
    created = [
        await create_campaign(
            db,
            request,
            guild_id=GUILD,
            channel_id=CHANNEL,
            owner_id=CREATOR,
            may_start_for_others=False,
            may_set_backer_role=False,
            interaction_id=77,
            now=T0,
        )
        for _ in range(2)
    ]
    assert created[0] == created[1]
    row = await db.fetchone("SELECT COUNT(*) FROM campaigns")
    assert row is not None
    assert row[0] == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"deadline": "0"}, "less than a day after the campaign opens"),
        ({"deadline": "91"}, "more than 90 days"),
        ({"deadline": "2026-13-01"}, "not a real date"),
        ({"deadline": "next friday"}, "neither a date (YYYY-MM-DD, in UTC) nor a number of days"),
        ({"currency": "XYZ"}, "not an ISO 4217 currency code"),
        ({"goal": "ten"}, "is not an amount"),
        ({"min_pledge": "200"}, "minimum pledge (200.00 USD) is more than the goal"),
        ({"start": "2026-11-01"}, "is in the past"),
        ({"model": "dreamy:v9"}, "has no version `v9`"),
    ],
)
async def test_bad_terms_are_refused_and_nothing_is_created(
    db: Database, fields: dict[str, str], reason: str
) -> None:
    # The model is the registry's to find: an unknown one is its refusal, not funding's.
    with pytest.raises((FundingError, RegistryError)) as caught:
        await _create(db, by=CREATOR, **fields)
    assert reason in caught.value.message
    assert await db.fetchone("SELECT id FROM campaigns") is None


async def test_a_refused_deadline_is_a_moment_that_reads_in_utc_as_plain_text(
    db: Database,
) -> None:
    with pytest.raises(FundingError) as caught:
        await _create(db, by=CREATOR, deadline="0")
    assert caught.value.moments == {"deadline": T0}
    assert str(caught.value).startswith(
        "The deadline 2026-11-22 12:00 UTC is less than a day after the campaign opens"
    )


async def test_a_date_deadline_means_the_end_of_that_utc_day(db: Database) -> None:
    campaign = await open_campaign(db, deadline="2026-12-24")
    assert campaign.deadline.isoformat() == "2026-12-25T00:00:00+00:00"


async def test_the_goal_may_not_go_below_what_is_pledged(db: Database) -> None:
    campaign = await open_campaign(db, goal="100")
    await pledge(
        db, campaign.id, ALICE, "60", anonymous=False, interaction_id=interaction(), now=T0
    )
    with pytest.raises(FundingError, match=r"lowered below what is already pledged \(60.00 USD\)"):
        await edit_campaign(
            db,
            campaign.id,
            CampaignEdit(goal="59.99"),
            editor_id=CREATOR,
            editor_is_moderator=False,
            now=T0,
        )
    assert (await get_campaign(db, campaign.id)).goal_minor == 10000
    edited = await edit_campaign(
        db,
        campaign.id,
        CampaignEdit(goal="60"),
        editor_id=CREATOR,
        editor_is_moderator=False,
        now=T0,
    )
    assert edited.goal_minor == 6000
    assert (await progress(db, edited)).percent == 100


async def test_raising_the_goal_is_allowed_even_below_what_is_pledged(db: Database) -> None:
    campaign = await open_campaign(db, goal="100")
    await pledge(
        db, campaign.id, ALICE, "150", anonymous=False, interaction_id=interaction(), now=T0
    )
    raised = await edit_campaign(
        db,
        campaign.id,
        CampaignEdit(goal="120"),
        editor_id=CREATOR,
        editor_is_moderator=False,
        now=T0,
    )
    assert raised.goal_minor == 12000
    with pytest.raises(FundingError, match="lowered below what is already pledged"):
        await edit_campaign(
            db,
            campaign.id,
            CampaignEdit(goal="110"),
            editor_id=CREATOR,
            editor_is_moderator=False,
            now=T0,
        )
    assert (await get_campaign(db, campaign.id)).goal_minor == 12000


async def test_only_the_owner_or_a_moderator_edits(db: Database) -> None:
    campaign = await open_campaign(db)
    with pytest.raises(FundingError, match="Only the campaign's owner or a moderator can edit"):
        await edit_campaign(
            db,
            campaign.id,
            CampaignEdit(title="Mine now"),
            editor_id=ALICE,
            editor_is_moderator=False,
            now=T0,
        )
    edited = await edit_campaign(
        db,
        campaign.id,
        CampaignEdit(title="Dreamy 2", description="Sharper"),
        editor_id=MODERATOR,
        editor_is_moderator=True,
        now=T0,
    )
    assert (edited.title, edited.description) == ("Dreamy 2", "Sharper")
