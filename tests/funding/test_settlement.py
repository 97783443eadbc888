"""The deadline and cancelling: funded or failed exactly once, voids, and what is owed after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.database import Database
from funding.campaigns import Campaign, CampaignState, get_campaign, progress
from funding.errors import FundingError
from funding.ledger import backer_amount, pledge
from funding.settlement import (
    cancel_campaign,
    mark_announced,
    mark_notice_done,
    next_deadline,
    pending_notices,
    settle_due,
    unannounced,
)
from tests.helpers.campaigns import (
    ALICE,
    BOB,
    CREATOR,
    T0,
    interaction,
    open_campaign,
    upcoming_version,
)

DEADLINE = T0 + timedelta(days=10)


@pytest.fixture(autouse=True)
async def upcoming(db: Database) -> None:
    """Upcoming ``dreamy:v2`` and ``other:v1`` for the campaigns to fund."""
    await upcoming_version(db)
    await upcoming_version(db, "other", "v1")


async def _back(db: Database, campaign: Campaign, backer: int, amount: str) -> None:
    await pledge(
        db, campaign.id, backer, amount, anonymous=None, interaction_id=interaction(), now=T0
    )


async def test_reaching_the_goal_at_the_deadline_funds_it(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10", backer_role_id=77)
    await _back(db, campaign, ALICE, "60")
    await _back(db, campaign, BOB, "40")
    assert await next_deadline(db) == DEADLINE

    assert await settle_due(db, DEADLINE - timedelta(seconds=1)) == []
    [settled] = await settle_due(db, DEADLINE)
    assert settled.state is CampaignState.FUNDED
    assert settled.settled_at == DEADLINE
    assert settled.settled_total_minor == 10000
    assert settled.state_reason == "100.00 USD pledged of a 100.00 USD goal"
    # Settlement events keep what each backer owes; the total is unchanged.
    assert await backer_amount(db, campaign.id, ALICE) == 6000
    kinds = await db.fetchall(
        "SELECT kind, system_key FROM pledge_events WHERE kind = 'settle' ORDER BY backer_id"
    )
    assert [tuple(k) for k in kinds] == [
        ("settle", f"settle:{campaign.id}:{ALICE}"),
        ("settle", f"settle:{campaign.id}:{BOB}"),
    ]
    # Each backer is owed the backer role.
    assert [(n.backer_id, n.kind) for n in await pending_notices(db)] == [
        (ALICE, "role"),
        (BOB, "role"),
    ]
    assert await next_deadline(db) is None


async def test_short_of_the_goal_fails_and_voids_every_pledge(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10")
    await _back(db, campaign, ALICE, "60")
    await _back(db, campaign, BOB, "39.99")
    [settled] = await settle_due(db, DEADLINE + timedelta(minutes=5))
    assert settled.state is CampaignState.FAILED
    assert settled.settled_total_minor == 9999
    # Nobody owes anything: the voids bring each pledge to zero, in the ledger.
    assert await backer_amount(db, campaign.id, ALICE) == 0
    shown = await progress(db, settled)
    assert (shown.pledged_minor, shown.backers, shown.shown_total_minor) == (0, 0, 9999)
    notices = await pending_notices(db)
    assert [(n.backer_id, n.kind, n.amount_minor) for n in notices] == [
        (ALICE, "void", 6000),
        (BOB, "void", 3999),
    ]


async def test_settling_happens_exactly_once(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10")
    await _back(db, campaign, ALICE, "10")
    first = await settle_due(db, DEADLINE)
    again = await settle_due(db, DEADLINE + timedelta(hours=1))
    assert [c.id for c in first] == [campaign.id]
    assert again == []
    voids = await db.fetchall("SELECT id FROM pledge_events WHERE kind = 'void'")
    assert len(voids) == 1


async def test_catch_up_after_downtime_settles_oldest_first_at_their_deadlines(
    db: Database,
) -> None:
    late = await open_campaign(db, goal="100", deadline="10")
    early = await open_campaign(db, model="other:v1", goal="10", deadline="3")
    await _back(db, late, ALICE, "100")
    await _back(db, early, ALICE, "5")
    # The bot was down from day 2 to day 30.
    settled = await settle_due(db, T0 + timedelta(days=30))
    assert [(c.id, c.state) for c in settled] == [
        (early.id, CampaignState.FAILED),
        (late.id, CampaignState.FUNDED),
    ]
    assert [c.settled_at for c in settled] == [T0 + timedelta(days=3), DEADLINE]


async def test_announcements_are_due_until_marked(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10")
    await settle_due(db, DEADLINE)
    assert [c.id for c in await unannounced(db)] == [campaign.id]
    await mark_announced(db, campaign.id, DEADLINE)
    assert await unannounced(db) == []


async def test_notices_are_done_once_marked(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10")
    await _back(db, campaign, ALICE, "10")
    await settle_due(db, DEADLINE)
    [notice] = await pending_notices(db, campaign.id)
    await mark_notice_done(db, notice, outcome="sent", at=DEADLINE)
    assert await pending_notices(db) == []


async def test_cancelling_voids_all_pledges(db: Database) -> None:
    campaign = await open_campaign(db, goal="100", deadline="10")
    await _back(db, campaign, ALICE, "60")
    await _back(db, campaign, BOB, "70")
    with pytest.raises(FundingError, match="Only the campaign's owner or a moderator can cancel"):
        await cancel_campaign(db, campaign.id, by=ALICE, by_moderator=False, reason="", now=T0)
    cancelled = await cancel_campaign(
        db, campaign.id, by=CREATOR, by_moderator=False, reason="weights lost", now=T0
    )
    assert cancelled.state is CampaignState.CANCELLED
    assert cancelled.state_reason == "weights lost"
    assert (await progress(db, cancelled)).pledged_minor == 0
    reasons = await db.fetchall("SELECT DISTINCT reason FROM pledge_events WHERE kind = 'void'")
    assert [r[0] for r in reasons] == ["campaign cancelled: weights lost"]
    assert {n.backer_id for n in await pending_notices(db)} == {ALICE, BOB}
    # The deadline then passes without anything more happening.
    assert await settle_due(db, DEADLINE) == []
    with pytest.raises(FundingError, match="already cancelled"):
        await cancel_campaign(db, campaign.id, by=CREATOR, by_moderator=False, reason="", now=T0)


async def test_after_a_failure_the_version_may_try_again(db: Database) -> None:
    first = await open_campaign(db, goal="100", deadline="10")
    await settle_due(db, DEADLINE)
    second = await open_campaign(db, goal="50", deadline="10", now=DEADLINE)
    assert second.id != first.id
    assert (await get_campaign(db, first.id)).state is CampaignState.FAILED
