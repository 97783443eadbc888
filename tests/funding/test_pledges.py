"""The pledge rules, each as a backer would meet it, on a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest

from db.database import Database
from funding.campaigns import Campaign, get_campaign, progress
from funding.errors import FundingError
from funding.ledger import PledgeChange, PledgeResult, backer_amount, pledge, withdraw
from tests.helpers.campaigns import (
    ALICE,
    BOB,
    CAROL,
    CREATOR,
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


@pytest.fixture
async def campaign(db: Database) -> Campaign:
    """Goal 100 USD, minimum 5 USD, open from T0 for 10 days."""
    return await open_campaign(db, goal="100", min_pledge="5", deadline="10")


async def _pledge(
    db: Database,
    campaign: Campaign,
    backer: int,
    amount: str,
    *,
    at: timedelta = timedelta(hours=1),
    anonymous: bool | None = None,
    interaction_id: int | None = None,
) -> PledgeResult:
    return await pledge(
        db,
        campaign.id,
        backer,
        amount,
        anonymous=anonymous,
        interaction_id=interaction_id or interaction(),
        now=T0 + at,
    )


async def _events(db: Database, campaign: Campaign) -> list[tuple[int, str, int, int]]:
    rows = await db.fetchall(
        "SELECT backer_id, kind, delta_minor, amount_minor FROM pledge_events "
        "WHERE campaign_id = ? ORDER BY id",
        (campaign.id,),
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_pledging_again_changes_the_one_pledge(db: Database, campaign: Campaign) -> None:
    first = await _pledge(db, campaign, ALICE, "20")
    second = await _pledge(db, campaign, ALICE, "35.50")
    assert first.change is PledgeChange.PLEDGED
    assert second.change is PledgeChange.CHANGED
    assert await backer_amount(db, campaign.id, ALICE) == 3550
    shown = await progress(db, campaign)
    assert (shown.pledged_minor, shown.backers) == (3550, 1)
    # The ledger holds both events; nothing was updated in place.
    assert await _events(db, campaign) == [
        (ALICE, "pledge", 2000, 2000),
        (ALICE, "change", 1550, 3550),
    ]


async def test_the_same_amount_again_writes_nothing(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, ALICE, "20")
    again = await _pledge(db, campaign, ALICE, "20.00")
    assert again.change is PledgeChange.UNCHANGED
    assert len(await _events(db, campaign)) == 1


async def test_a_replayed_interaction_changes_nothing(db: Database, campaign: Campaign) -> None:
    first = await _pledge(db, campaign, ALICE, "20", interaction_id=424242)
    # The same delivery again, even claiming another amount, is the first one's result.
    again = await _pledge(db, campaign, ALICE, "90", interaction_id=424242)
    assert again.replayed
    assert again.amount_minor == first.amount_minor == 2000
    withdrawn = await withdraw(
        db, campaign.id, ALICE, interaction_id=5151, now=T0 + timedelta(hours=2)
    )
    replayed = await withdraw(
        db, campaign.id, ALICE, interaction_id=5151, now=T0 + timedelta(hours=2)
    )
    assert replayed.replayed
    assert replayed.change is withdrawn.change is PledgeChange.WITHDRAWN
    assert await _events(db, campaign) == [
        (ALICE, "pledge", 2000, 2000),
        (ALICE, "withdraw", -2000, 0),
    ]


async def test_simultaneous_pledges_by_one_backer_leave_one_pledge(
    db: Database, campaign: Campaign
) -> None:
    results = await asyncio.gather(
        *(_pledge(db, campaign, ALICE, amount) for amount in ("10", "25", "40", "25"))
    )
    shown = await progress(db, campaign)
    assert shown.backers == 1
    final = await backer_amount(db, campaign.id, ALICE)
    assert final in (1000, 2500, 4000)
    assert shown.pledged_minor == final
    # Exactly one of them started the pledge; the rest changed (or repeated) it.
    changes = [r.change for r in results]
    assert changes.count(PledgeChange.PLEDGED) == 1


async def test_simultaneous_deliveries_of_one_press_record_it_once(
    db: Database, campaign: Campaign
) -> None:
    results = await asyncio.gather(
        *(_pledge(db, campaign, ALICE, "30", interaction_id=999) for _ in range(3))
    )
    assert [r.amount_minor for r in results] == [3000, 3000, 3000]
    assert len(await _events(db, campaign)) == 1


async def test_minimum_and_maximum(db: Database, campaign: Campaign) -> None:
    with pytest.raises(FundingError, match=r"minimum pledge to this campaign is 5.00 USD; 4.99"):
        await _pledge(db, campaign, ALICE, "4.99")
    with pytest.raises(FundingError, match=r"more than the maximum of 1,000,000\.00 USD"):
        await _pledge(db, campaign, ALICE, "1000001")
    assert await _events(db, campaign) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ten", "not an amount"),
        ("-5", "negative"),
        ("1e9", "exponent notation"),
        ("5.555", "has 3 decimals, but USD has 2"),
    ],
)
async def test_malformed_amounts_are_refused(
    db: Database, campaign: Campaign, text: str, reason: str
) -> None:
    with pytest.raises(FundingError, match=reason):
        await _pledge(db, campaign, ALICE, text)
    assert await _events(db, campaign) == []


async def test_no_pledges_before_the_start(db: Database) -> None:
    later = await open_campaign(db, start="2", deadline="10")
    with pytest.raises(FundingError) as early:
        await _pledge(db, later, ALICE, "10", at=timedelta(days=1))
    # The opening is a value each front end shows its own way; str() is plain UTC.
    assert early.value.moments == {"opens": later.starts_at}
    assert str(early.value) == (
        f"Campaign #{later.id} opens for pledges 2026-11-24 12:00 UTC; try again then."
    )
    done = await _pledge(db, later, ALICE, "10", at=timedelta(days=2))
    assert done.amount_minor == 1000


async def test_no_pledges_or_withdrawals_after_the_deadline(
    db: Database, campaign: Campaign
) -> None:
    await _pledge(db, campaign, ALICE, "10")
    with pytest.raises(FundingError, match="closed 2026-12-02 12:00 UTC; pledges can no longer"):
        await _pledge(db, campaign, BOB, "10", at=timedelta(days=10))
    with pytest.raises(FundingError) as late:
        await withdraw(
            db, campaign.id, ALICE, interaction_id=interaction(), now=T0 + timedelta(days=11)
        )
    assert late.value.moments == {"closed": campaign.deadline}
    assert await backer_amount(db, campaign.id, ALICE) == 1000


async def test_the_creator_cannot_pledge_to_their_own_campaign(db: Database) -> None:
    # Started by a moderator: the version's creator still may not back it, nor the moderator.
    from funding.campaigns import CampaignRequest, create_campaign

    campaign = await create_campaign(
        db,
        CampaignRequest(model="dreamy:v2", goal="100", currency="USD", deadline="10"),
        guild_id=1,
        channel_id=2,
        owner_id=MODERATOR,
        may_start_for_others=True,
        may_set_backer_role=True,
        interaction_id=interaction(),
        now=T0,
    )
    for creator in (CREATOR, MODERATOR):
        with pytest.raises(FundingError, match="You created this campaign"):
            await _pledge(db, campaign, creator, "10")
    assert await _events(db, campaign) == []


async def test_withdrawing_takes_the_whole_pledge_back(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, ALICE, "40")
    result = await withdraw(db, campaign.id, ALICE, interaction_id=interaction(), now=T0)
    assert (result.previous_minor, result.amount_minor, result.total_minor) == (4000, 0, 0)
    with pytest.raises(FundingError, match="You have no pledge to campaign"):
        await withdraw(db, campaign.id, ALICE, interaction_id=interaction(), now=T0)
    # Pledging after a withdrawal starts a new pledge.
    again = await _pledge(db, campaign, ALICE, "15")
    assert again.change is PledgeChange.PLEDGED


LAST_DAY = timedelta(days=9, hours=1)  # 23 hours before the deadline


async def test_in_the_last_day_no_cut_below_the_goal(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, ALICE, "70")
    await _pledge(db, campaign, BOB, "40")  # 110 of 100
    with pytest.raises(FundingError) as caught:
        await withdraw(db, campaign.id, ALICE, interaction_id=interaction(), now=T0 + LAST_DAY)
    assert "In the last 24 hours" in caught.value.message
    assert "drops the total below the goal (110.00 USD pledged, goal 100.00 USD)" in (
        caught.value.message
    )
    assert "lower your pledge by at most 10.00 USD" in caught.value.message
    with pytest.raises(FundingError, match="In the last 24 hours"):
        await _pledge(db, campaign, ALICE, "59.99", at=LAST_DAY)
    # A cut that keeps the goal is fine, and so is raising.
    cut = await _pledge(db, campaign, ALICE, "60", at=LAST_DAY)
    assert cut.total_minor == 10000
    await _pledge(db, campaign, ALICE, "80", at=LAST_DAY)


async def test_before_the_last_day_cuts_are_free(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, ALICE, "120")
    early = T0 + timedelta(days=8, hours=23)  # 25 hours before the deadline
    result = await withdraw(db, campaign.id, ALICE, interaction_id=interaction(), now=early)
    assert result.total_minor == 0


async def test_in_the_last_day_a_campaign_short_of_its_goal_may_lose_pledges(
    db: Database, campaign: Campaign
) -> None:
    await _pledge(db, campaign, ALICE, "30")
    result = await withdraw(db, campaign.id, ALICE, interaction_id=interaction(), now=T0 + LAST_DAY)
    assert result.total_minor == 0


async def test_anonymity_is_kept_unless_changed(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, CAROL, "10", anonymous=True)
    changed = await _pledge(db, campaign, CAROL, "12")
    assert changed.anonymous
    public = await _pledge(db, campaign, CAROL, "12", anonymous=False)
    assert public.change is PledgeChange.CHANGED
    assert not public.anonymous


async def test_the_ledger_refuses_updates_and_deletes(db: Database, campaign: Campaign) -> None:
    await _pledge(db, campaign, ALICE, "10")
    for sql in ("UPDATE pledge_events SET delta_minor = 1", "DELETE FROM pledge_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(sql)
    assert await backer_amount(db, campaign.id, ALICE) == 1000


async def test_pledges_to_a_closed_campaign_are_refused(db: Database, campaign: Campaign) -> None:
    from funding.settlement import cancel_campaign

    await cancel_campaign(db, campaign.id, by=CREATOR, by_moderator=False, reason="", now=T0)
    with pytest.raises(FundingError, match="is cancelled; pledges can no longer change"):
        await _pledge(db, campaign, ALICE, "10")
    assert (await get_campaign(db, campaign.id)).state.value == "cancelled"
