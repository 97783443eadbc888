"""What a version's campaign says about its release and its early access: the release
waits for the campaign to close and takes its early-access days from the funded one; its
backers may use the version early and have the priority lane while early access lasts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.database import Database
from funding.backers import funded_versions_backed_by, has_priority
from funding.errors import FundingError
from funding.releases import release_version
from registry.access import usable_version
from registry.errors import RegistryError
from registry.releases import pending_announcements
from registry.versions import VersionStatus, find_version
from tests.helpers.campaigns import ALICE, BOB, CAROL, T0, open_campaign
from tests.helpers.registry import funded_campaign_for, new_version

LATER = T0 + timedelta(days=11)  # after a campaign's 10-day deadline


async def test_release_defaults_to_the_funded_campaigns_early_access_days(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "100"}, early_access_days=5)
    released = await release_version(db, "dreamy:2", early_access_days=None, now=LATER)
    assert released.status is VersionStatus.EARLY_ACCESS
    assert released.early_access_until == LATER + timedelta(days=5)


async def test_explicit_days_override_the_campaign(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "100"}, early_access_days=5)
    released = await release_version(db, "dreamy:2", early_access_days=0, now=LATER)
    assert released.status is VersionStatus.AVAILABLE


async def test_without_a_funded_campaign_a_release_is_available_at_once(db: Database) -> None:
    await new_version(db, "plain:1")
    with pytest.raises(FundingError, match="nobody would have early access"):
        await release_version(db, "plain:1", early_access_days=3, now=T0)
    released = await release_version(db, "plain:1", early_access_days=None, now=T0)
    assert released.status is VersionStatus.AVAILABLE


async def test_a_version_whose_campaign_is_open_is_not_released(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await open_campaign(db, model="dreamy:2")
    with pytest.raises(FundingError, match="is still open") as refused:
        await release_version(db, "dreamy:2", early_access_days=0, now=T0)
    assert set(refused.value.moments) == {"deadline"}
    with pytest.raises(RegistryError, match="name the version to release"):
        await release_version(db, "dreamy", early_access_days=0, now=T0)
    assert (await find_version(db, "dreamy:2")).status is VersionStatus.UPCOMING
    assert await pending_announcements(db) == []


async def test_backers_use_it_early_and_have_the_priority_lane_while_early_access_lasts(
    db: Database,
) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "60", BOB: "50"}, early_access_days=7)
    await release_version(db, "dreamy:2", early_access_days=None, now=LATER)
    opens = LATER + timedelta(days=7)
    for backer in (ALICE, BOB):
        granted = await funded_versions_backed_by(db, backer)
        version = await usable_version(db, "dreamy:2", granted=granted, moderator=False, now=LATER)
        assert version.key == "dreamy:2"
    assert await has_priority(db, ALICE, LATER)
    assert await has_priority(db, BOB, opens - timedelta(seconds=1))
    assert not await has_priority(db, CAROL, LATER)
    assert not await has_priority(db, ALICE, opens)


async def test_pledgers_of_a_failed_campaign_are_not_backers(db: Database) -> None:
    await new_version(db, "sleepy:1")
    await funded_campaign_for(db, "sleepy:1", {CAROL: "20"})  # below the goal: failed
    with pytest.raises(FundingError, match="no funded campaign"):
        await release_version(db, "sleepy:1", early_access_days=3, now=LATER)
    assert await funded_versions_backed_by(db, CAROL) == []
    assert not await has_priority(db, CAROL, LATER)
