"""The owner's CSV exports: the ledger, and what each backer owes; both add up."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from db.database import Database
from funding.campaigns import Campaign, get_campaign, progress
from funding.export import backers_csv, ledger_csv
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


@pytest.fixture(autouse=True)
async def upcoming(db: Database) -> None:
    """An upcoming ``dreamy:v2`` for the campaigns to fund."""
    await upcoming_version(db)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _history(db: Database, campaign: Campaign) -> None:
    """Pledges, a change, a withdrawal and an anonymous pledge."""
    for backer, amount, anonymous in (
        (ALICE, "40", False),
        (BOB, "25.25", False),
        (ALICE, "55.10", None),
        (CAROL, "30", True),
    ):
        await pledge(
            db,
            campaign.id,
            backer,
            amount,
            anonymous=anonymous,
            interaction_id=interaction(),
            now=T0,
        )
    await withdraw(db, campaign.id, BOB, interaction_id=interaction(), now=T0)


@pytest.mark.parametrize("goal", ["80", "500"])  # funded, and failed
async def test_export_totals_equal_the_ledger_sums(db: Database, goal: str) -> None:
    campaign = await open_campaign(db, goal=goal, deadline="10")
    await _history(db, campaign)
    await settle_due(db, T0 + timedelta(days=10))
    campaign = await get_campaign(db, campaign.id)

    ledger = _rows(await ledger_csv(db, campaign))
    backers = _rows(await backers_csv(db, campaign))
    ledger_sum = sum(int(r["delta_minor"]) for r in ledger)
    backers_sum = sum(int(r["amount_minor"]) for r in backers)
    stored = await db.fetchone(
        "SELECT SUM(delta_minor) FROM pledge_events WHERE campaign_id = ?", (campaign.id,)
    )
    assert stored is not None
    assert ledger_sum == backers_sum == stored[0] == (await progress(db, campaign)).pledged_minor
    # Per backer too: each backer's row is the sum of their ledger rows.
    for row in backers:
        mine = [int(r["delta_minor"]) for r in ledger if r["backer_id"] == row["backer_id"]]
        assert sum(mine) == int(row["amount_minor"])


async def test_a_funded_export_says_who_owes_what(db: Database) -> None:
    campaign = await open_campaign(db, goal="80", deadline="10")
    await _history(db, campaign)
    await settle_due(db, T0 + timedelta(days=10))
    campaign = await get_campaign(db, campaign.id)
    backers = {
        int(r["backer_id"]): (r["amount"], r["status"], r["anonymous"])
        for r in _rows(await backers_csv(db, campaign))
    }
    assert backers == {
        ALICE: ("55.10", "owed", "no"),
        CAROL: ("30.00", "owed", "yes"),
        BOB: ("0.00", "withdrawn", "no"),
    }
    ledger = _rows(await ledger_csv(db, campaign))
    assert [r["kind"] for r in ledger] == [
        "pledge",
        "pledge",
        "change",
        "pledge",
        "withdraw",
        "settle",
        "settle",
    ]
    assert ledger[0]["idempotency_key"].startswith("interaction:")
    assert ledger[-1]["idempotency_key"] == f"settle:{campaign.id}:{CAROL}"
    assert ledger[2]["delta"] == "15.10"


async def test_a_failed_export_shows_voids(db: Database) -> None:
    campaign = await open_campaign(db, goal="500", deadline="10")
    await _history(db, campaign)
    await settle_due(db, T0 + timedelta(days=10))
    campaign = await get_campaign(db, campaign.id)
    statuses = {r["backer_id"]: r["status"] for r in _rows(await backers_csv(db, campaign))}
    assert statuses == {str(ALICE): "void", str(CAROL): "void", str(BOB): "withdrawn"}
