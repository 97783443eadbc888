"""Releasing versions and the end of early access: the refusals, each announcement recorded
with its change of status, and ``open_due`` turning versions available exactly once, with
catch-up. What a campaign changes about a release is tested in tests/funding/test_releases.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.database import Database
from registry.errors import RegistryError
from registry.releases import (
    AnnouncementEvent,
    mark_announced,
    next_opening,
    open_due,
    pending_announcements,
    release,
)
from registry.versions import VersionStatus, find_version
from tests.helpers.campaigns import T0
from tests.helpers.registry import new_version

LATER = T0 + timedelta(days=11)


async def test_days_of_early_access_or_zero_for_available_at_once(db: Database) -> None:
    await new_version(db, "dreamy:2")
    released = await release(db, "dreamy:2", early_access_days=5, now=LATER)
    assert released.status is VersionStatus.EARLY_ACCESS
    assert released.early_access_until == LATER + timedelta(days=5)
    assert released.released_at == LATER
    await new_version(db, "plain:1")
    released = await release(db, "plain:1", early_access_days=0, now=LATER)
    assert released.status is VersionStatus.AVAILABLE
    assert released.early_access_until is None


async def test_release_refusals_change_nothing_and_record_no_announcement(db: Database) -> None:
    await new_version(db, "dreamy:2")
    with pytest.raises(RegistryError, match="name the version to release"):
        await release(db, "dreamy", early_access_days=0, now=T0)
    with pytest.raises(RegistryError, match=r"0 .*to 365 days"):
        await release(db, "dreamy:2", early_access_days=400, now=T0)
    assert (await find_version(db, "dreamy:2")).status is VersionStatus.UPCOMING
    assert await pending_announcements(db) == []
    released = await release(db, "dreamy:2", early_access_days=0, now=T0)
    with pytest.raises(RegistryError, match="is available; only an upcoming version"):
        await release(db, "dreamy:2", early_access_days=0, now=T0)
    (announcement,) = await pending_announcements(db)
    assert (announcement.event, announcement.version) == (AnnouncementEvent.RELEASED, released)


async def test_early_access_ends_exactly_once_with_one_announcement(db: Database) -> None:
    await new_version(db, "dreamy:2")
    await release(db, "dreamy:2", early_access_days=7, now=LATER)
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
        await release(db, key, early_access_days=days, now=LATER)
    # The bot was down for a month: one catch-up opens both, the earlier end first.
    opened = await open_due(db, LATER + timedelta(days=30))
    assert [version.key for version in opened] == ["early:1", "late:1"]
    assert [
        a.version.key
        for a in await pending_announcements(db)
        if a.event is AnnouncementEvent.AVAILABLE
    ] == ["early:1", "late:1"]
