"""Who counts as a backer: for early access, the priority lane and the backers leaderboard."""

from __future__ import annotations

from datetime import timedelta

from db.database import Database
from funding.backers import (
    BackerTotal,
    backer_board,
    funded_campaign,
    funded_versions_backed_by,
)
from funding.campaigns import Campaign
from funding.ledger import pledge, withdraw
from funding.settlement import settle_due
from tests.helpers.campaigns import (
    ALICE,
    BOB,
    CAROL,
    T0,
    interaction,
    open_campaign,
    upcoming_version,
)


async def _back(
    db: Database, campaign: Campaign, backer: int, amount: str, anonymous: bool = False
) -> None:
    await pledge(
        db, campaign.id, backer, amount, anonymous=anonymous, interaction_id=interaction(), now=T0
    )


async def test_only_positive_pledges_to_funded_campaigns_count(db: Database) -> None:
    version = await upcoming_version(db)
    campaign = await open_campaign(db, goal="50", deadline="10", backer_role_id=5)
    await _back(db, campaign, ALICE, "50")
    await _back(db, campaign, BOB, "10")
    await withdraw(db, campaign.id, BOB, interaction_id=interaction(), now=T0)
    # Open: nobody is a funded backer yet.
    assert await funded_versions_backed_by(db, ALICE) == []
    assert await funded_campaign(db, version) is None

    await settle_due(db, T0 + timedelta(days=10))
    assert await funded_versions_backed_by(db, ALICE) == [version]
    assert await funded_versions_backed_by(db, BOB) == []  # withdrew
    assert await funded_versions_backed_by(db, CAROL) == []  # never pledged
    found = await funded_campaign(db, version)
    assert found is not None
    assert (found.campaign_id, found.backer_role_id, found.early_access_days) == (
        campaign.id,
        5,
        7,
    )


async def test_failed_campaigns_make_no_backers(db: Database) -> None:
    version = await upcoming_version(db)
    campaign = await open_campaign(db, goal="500", deadline="10")
    await _back(db, campaign, ALICE, "50")
    await settle_due(db, T0 + timedelta(days=10))
    assert await funded_versions_backed_by(db, ALICE) == []
    assert await funded_campaign(db, version) is None
    assert await backer_board(db, since=None) == []


async def test_the_board_sums_funded_pledges_per_currency_keeping_anonymity(
    db: Database,
) -> None:
    await upcoming_version(db, "a", "v1")
    await upcoming_version(db, "b", "v1")
    await upcoming_version(db, "c", "v1")
    usd = await open_campaign(db, model="a:v1", goal="50", deadline="5")
    usd_later = await open_campaign(db, model="b:v1", goal="10", deadline="20")
    yen = await open_campaign(db, model="c:v1", goal="1000", currency="JPY", deadline="5")
    await _back(db, usd, ALICE, "30")
    await _back(db, usd, BOB, "20")
    await _back(db, usd_later, ALICE, "15")
    await _back(db, usd_later, CAROL, "100", anonymous=True)
    await _back(db, yen, BOB, "5000")
    await settle_due(db, T0 + timedelta(days=30))

    assert await backer_board(db, since=None) == [
        BackerTotal(BOB, False, "JPY", 5000),
        BackerTotal(CAROL, True, "USD", 10000),
        BackerTotal(ALICE, False, "USD", 4500),
        BackerTotal(BOB, False, "USD", 2000),
    ]
    # A window by the time each campaign was funded (its deadline).
    assert await backer_board(db, since=T0 + timedelta(days=10)) == [
        BackerTotal(CAROL, True, "USD", 10000),
        BackerTotal(ALICE, False, "USD", 1500),
    ]
