"""Who may use which version, and who gets the priority lane, on a real SQLite file with
campaigns funded through the campaigns' own functions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from db.database import Database
from funding.errors import FundingError
from registry.access import has_priority, usable_version
from registry.releases import release
from registry.versions import ConfiguredModel, enter_configured, retire
from tests.helpers.campaigns import ALICE, BOB, CAROL, T0
from tests.helpers.registry import funded_campaign_for, new_version

RELEASED = T0 + timedelta(days=11)  # after the campaign's deadline (10 days)
OPENS = RELEASED + timedelta(days=7)


@pytest.fixture(autouse=True)
async def dreamy_versions(db: Database) -> None:
    """``dreamy:1`` available to all; ``dreamy:2`` funded by Alice and Bob, released at
    RELEASED with 7 days of early access; ``dreamy:3`` upcoming."""
    await enter_configured(db, [ConfiguredModel("dreamy", "org/d1", "1", "")], now=T0)
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "60", BOB: "50"})
    await release(db, "dreamy:2", early_access_days=None, now=RELEASED)
    await new_version(db, "dreamy:3")


async def _use(
    db: Database, spec: str, user: int, *, moderator: bool = False, at: datetime = RELEASED
) -> str:
    return (await usable_version(db, spec, user_id=user, moderator=moderator, now=at)).key


async def test_backers_and_moderators_use_an_early_access_version_others_learn_when(
    db: Database,
) -> None:
    assert await _use(db, "dreamy:2", ALICE) == "dreamy:2"
    assert await _use(db, "dreamy:2", BOB) == "dreamy:2"
    assert await _use(db, "dreamy:2", CAROL, moderator=True) == "dreamy:2"
    with pytest.raises(FundingError, match="opens to everyone 2026-12-10 12:00 UTC") as refused:
        await _use(db, "dreamy:2", CAROL)
    assert refused.value.moments == {"opens": OPENS}


async def test_once_early_access_ends_everyone_may_use_it(db: Database) -> None:
    assert await _use(db, "dreamy:2", CAROL, at=OPENS) == "dreamy:2"


async def test_a_bare_name_gives_each_member_the_newest_version_they_may_use(
    db: Database,
) -> None:
    assert await _use(db, "dreamy", ALICE) == "dreamy:2"
    assert await _use(db, "dreamy", CAROL) == "dreamy:1"
    assert await _use(db, "dreamy", CAROL, at=OPENS) == "dreamy:2"


async def test_without_an_available_version_a_non_backer_is_told_when_it_opens(
    db: Database,
) -> None:
    await retire(db, "dreamy:1", now=RELEASED)
    with pytest.raises(FundingError, match="`dreamy:2` is in early access") as refused:
        await _use(db, "dreamy", CAROL)
    assert refused.value.moments == {"opens": OPENS}


async def test_upcoming_retired_and_unknown_models_are_refused_listing_the_available_ones(
    db: Database,
) -> None:
    with pytest.raises(FundingError, match="`dreamy:3` is not released yet; available: `dreamy`"):
        await _use(db, "dreamy:3", ALICE)
    await retire(db, "dreamy:1", now=RELEASED)
    with pytest.raises(FundingError, match="`dreamy:1` is retired; no model is available"):
        await _use(db, "dreamy:1", ALICE)
    with pytest.raises(FundingError, match="unknown model `ghost`"):
        await _use(db, "ghost", ALICE)


async def test_backers_have_the_priority_lane_during_early_access_only(db: Database) -> None:
    assert await has_priority(db, ALICE, RELEASED)
    assert await has_priority(db, BOB, RELEASED + timedelta(days=6))
    assert not await has_priority(db, CAROL, RELEASED)
    assert not await has_priority(db, ALICE, OPENS)


async def test_pledgers_of_a_failed_campaign_are_not_backers(db: Database) -> None:
    await new_version(db, "sleepy:1")
    await funded_campaign_for(db, "sleepy:1", {CAROL: "20"})  # below the goal: failed
    with pytest.raises(FundingError, match="no funded campaign"):
        await release(db, "sleepy:1", early_access_days=3, now=RELEASED)
    assert not await has_priority(db, CAROL, RELEASED)
