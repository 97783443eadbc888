"""Who may use which version, on a real SQLite file: everyone the available ones,
moderators and the members granted it an early-access one, nobody the others."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import pytest

from db.database import Database
from registry.access import usable_version
from registry.errors import RegistryError
from registry.releases import release
from registry.versions import ConfiguredModel, enter_configured, find_version, retire
from tests.helpers.campaigns import T0
from tests.helpers.registry import new_version

RELEASED = T0 + timedelta(days=11)
OPENS = RELEASED + timedelta(days=7)


@pytest.fixture(autouse=True)
async def dreamy_versions(db: Database) -> None:
    """``dreamy:1`` available to all; ``dreamy:2`` released at RELEASED with 7 days of
    early access; ``dreamy:3`` upcoming."""
    await enter_configured(db, [ConfiguredModel("dreamy", "org/d1", "1", "")], now=T0)
    await new_version(db, "dreamy:2")
    await release(db, "dreamy:2", early_access_days=7, now=RELEASED)
    await new_version(db, "dreamy:3")


async def _use(
    db: Database,
    spec: str,
    *,
    granted: Collection[int] = (),
    moderator: bool = False,
    at: datetime = RELEASED,
) -> str:
    version = await usable_version(db, spec, granted=granted, moderator=moderator, now=at)
    return version.key


async def _early(db: Database) -> list[int]:
    """What funding grants a backer of ``dreamy:2``: that version."""
    return [(await find_version(db, "dreamy:2")).id]


async def test_granted_members_and_moderators_use_an_early_access_version_others_learn_when(
    db: Database,
) -> None:
    assert await _use(db, "dreamy:2", granted=await _early(db)) == "dreamy:2"
    assert await _use(db, "dreamy:2", moderator=True) == "dreamy:2"
    with pytest.raises(RegistryError, match="opens to everyone 2026-12-10 12:00 UTC") as refused:
        await _use(db, "dreamy:2")
    assert refused.value.moments == {"opens": OPENS}


async def test_once_early_access_ends_everyone_may_use_it(db: Database) -> None:
    assert await _use(db, "dreamy:2", at=OPENS) == "dreamy:2"


async def test_a_bare_name_gives_each_member_the_newest_version_they_may_use(
    db: Database,
) -> None:
    assert await _use(db, "dreamy", granted=await _early(db)) == "dreamy:2"
    assert await _use(db, "dreamy") == "dreamy:1"
    assert await _use(db, "dreamy", at=OPENS) == "dreamy:2"


async def test_without_an_available_version_a_member_is_told_when_it_opens(
    db: Database,
) -> None:
    await retire(db, "dreamy:1", now=RELEASED)
    with pytest.raises(RegistryError, match="`dreamy:2` is in early access") as refused:
        await _use(db, "dreamy")
    assert refused.value.moments == {"opens": OPENS}


async def test_upcoming_retired_and_unknown_models_are_refused_listing_the_available_ones(
    db: Database,
) -> None:
    granted = await _early(db)
    with pytest.raises(RegistryError, match="`dreamy:3` is not released yet; available: `dreamy`"):
        await _use(db, "dreamy:3", granted=granted, moderator=True)
    await retire(db, "dreamy:1", now=RELEASED)
    with pytest.raises(RegistryError, match="`dreamy:1` is retired; no model is available"):
        await _use(db, "dreamy:1", granted=granted)
    with pytest.raises(RegistryError, match="unknown model `ghost`"):
        await _use(db, "ghost")
