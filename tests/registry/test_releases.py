"""Releasing versions and the end of early access: defaults from the funded campaign, the
refusals, each announcement recorded with its change of status, and ``open_due`` turning
versions available exactly once, with catch-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.database import Database
from funding.errors import FundingError
from registry.releases import (
    AnnouncementEvent,
    mark_announced,
    next_opening,
    open_due,
    pending_announcements,
    release,
)
from registry.versions import VersionStatus, find_version
from tests.helpers.campaigns import ALICE, T0, open_campaign
from tests.helpers.registry import funded_campaign_for, new_version

LATER = T0 + timedelta(days=11)  # after a campaign's 10-day deadline


async def test_release_defaults_to_the_funded_campaigns_early_access_days(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "100"}, early_access_days=5)
    released = await release(db, "dreamy:2", early_access_days=None, now=LATER)
    assert released.status is VersionStatus.EARLY_ACCESS
    assert released.early_access_until == LATER + timedelta(days=5)
    assert released.released_at == LATER


async def test_explicit_days_override_the_campaign_and_zero_means_available_at_once(
    db: Database,
) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "100"}, early_access_days=5)
    released = await release(db, "dreamy:2", early_access_days=0, now=LATER)
    assert released.status is VersionStatus.AVAILABLE
    assert released.early_access_until is None


async def test_without_a_funded_campaign_a_release_is_available_at_once(db: Database) -> None:
    await new_version(db, "plain:1")
    with pytest.raises(FundingError, match="nobody would have early access"):
        await release(db, "plain:1", early_access_days=3, now=T0)
    assert (await release(db, "plain:1", early_access_days=None, now=T0)).status is (
        VersionStatus.AVAILABLE
    )


async def test_release_refusals_change_nothing(db: Database) -> None:
    await new_version(db, "dreamy:2")
    with pytest.raises(FundingError, match="name the version to release"):
        await release(db, "dreamy", early_access_days=0, now=T0)
    with pytest.raises(FundingError, match=r"0 .*to 365 days"):
        await release(db, "dreamy:2", early_access_days=400, now=T0)
    await open_campaign(db, model="dreamy:2")
    with pytest.raises(FundingError, match="is still open"):
        await release(db, "dreamy:2", early_access_days=0, now=T0)
    assert (await find_version(db, "dreamy:2")).status is VersionStatus.UPCOMING
    await new_version(db, "other:1")
    await release(db, "other:1", early_access_days=0, now=T0)
    with pytest.raises(FundingError, match="is available; only an upcoming version"):
        await release(db, "other:1", early_access_days=0, now=T0)


async def test_a_release_records_its_announcement_and_a_refused_one_records_none(
    db: Database,
) -> None:
    await new_version(db, "dreamy:2")
    await open_campaign(db, model="dreamy:2")
    with pytest.raises(FundingError, match="is still open"):
        await release(db, "dreamy:2", early_access_days=0, now=T0)
    assert await pending_announcements(db) == []

    await new_version(db, "plain:1")
    released = await release(db, "plain:1", early_access_days=0, now=T0)
    with pytest.raises(FundingError, match="only an upcoming version"):
        await release(db, "plain:1", early_access_days=0, now=T0)

    (announcement,) = await pending_announcements(db)
    assert (announcement.event, announcement.version) == (AnnouncementEvent.RELEASED, released)


async def test_early_access_ends_exactly_once_with_one_announcement(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await funded_campaign_for(db, "dreamy:2", {ALICE: "100"}, early_access_days=7)
    await release(db, "dreamy:2", early_access_days=None, now=LATER)
    ends = LATER + timedelta(days=7)
    assert await next_opening(db) == ends
    assert await open_due(db, ends - timedelta(seconds=1)) == []
    (opened,) = await open_due(db, ends)
    assert opened.key == "dreamy:2"
    assert opened.status is VersionStatus.AVAILABLE
    assert await open_due(db, ends) == []
    assert await next_opening(db) is None
    released, available = await pending_announcements(db)
    assert (released.event, available.event) == (
        AnnouncementEvent.RELEASED,
        AnnouncementEvent.AVAILABLE,
    )
    assert available.version.key == "dreamy:2"
    for announcement in (released, available):
        await mark_announced(db, announcement.id, ends)
    assert await pending_announcements(db) == []


async def test_after_downtime_every_overdue_version_opens_oldest_first(db: Database) -> None:
    for key, days in (("late:1", 9), ("early:1", 2)):
        await new_version(db, key)
        await funded_campaign_for(db, key, {ALICE: "100"}, early_access_days=days)
        await release(db, key, early_access_days=None, now=LATER)
    # The bot was down for a month: one catch-up opens both, the earlier end first.
    opened = await open_due(db, LATER + timedelta(days=30))
    assert [version.key for version in opened] == ["early:1", "late:1"]
    assert [
        a.version.key
        for a in await pending_announcements(db)
        if a.event is AnnouncementEvent.AVAILABLE
    ] == ["early:1", "late:1"]
