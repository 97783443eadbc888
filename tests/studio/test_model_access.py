"""/imagine and its buttons through the model registry: early access for backers and
moderators only, the priority lane for backers, and follow-ups of older jobs."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from db.jobs import JobStatus, Lane
from funding.releases import release_version
from inference.pool.handle import JobHandle
from registry.versions import NewVersion, add_version, retire
from studio.errors import StudioError
from studio.service import StoredJob, Studio
from tests.helpers.campaigns import ALICE, BOB, CREATOR, T0
from tests.helpers.clock import FakeClock
from tests.helpers.registry import funded_campaign_for

RELEASED = T0 + timedelta(days=11)


async def _done(studio: Studio, handle: JobHandle) -> StoredJob:
    await handle
    stored = await studio.stored_job(handle.job_id)
    assert stored.record.status is JobStatus.DONE
    return stored


@pytest.fixture
async def early(studio: Studio, clock: FakeClock, tiny_model_dir: Path) -> Studio:
    """``tiny:2`` (the tiny model again) funded by Alice, in early access for 7 days."""
    clock.now = RELEASED
    source = str(tiny_model_dir)
    new = NewVersion(name="tiny", version="2", source=source, family="sd1", creator_id=CREATOR)
    await add_version(studio.db, new, added_by=CREATOR, now=T0)
    await funded_campaign_for(studio.db, "tiny:2", {ALICE: "100"}, early_access_days=7)
    await release_version(studio.db, "tiny:2", early_access_days=None, now=RELEASED)
    return studio


async def test_a_backer_imagines_with_early_access_in_the_priority_lane(early: Studio) -> None:
    (request,) = await early.requests_for(ALICE, "a fox --model tiny:2 --seed 3")
    handle = await early.submit_imagine(ALICE, request)
    assert (handle.job.model, handle.lane) == ("tiny:2", Lane.PRIORITY)
    await _done(early, handle)
    assert await early.lane_for(ALICE) is Lane.PRIORITY
    assert await early.lane_for(BOB) is Lane.STANDARD


async def test_others_are_refused_before_anything_is_queued_unless_moderators(
    early: Studio,
) -> None:
    requests = await early.requests_for(BOB, "a fox --model tiny:2")
    with pytest.raises(StudioError, match="opens to everyone 2026-12-10 12:00 UTC") as refused:
        await early.check_model_access(BOB, requests)
    assert refused.value.moments == {"opens": RELEASED + timedelta(days=7)}
    await early.check_model_access(BOB, requests, moderator=True)
    handle = await early.submit_imagine(BOB, requests[0], moderator=True)
    assert (handle.job.model, handle.lane) == ("tiny:2", Lane.STANDARD)
    await _done(early, handle)


async def test_follow_ups_of_an_early_access_job_are_gated_like_imagine(
    early: Studio, clock: FakeClock
) -> None:
    (request,) = await early.requests_for(ALICE, "a fox --model tiny:2 --seed 3")
    grid = await _done(early, await early.submit_imagine(ALICE, request))
    # Bob may press the buttons (the server allows it) but not use the version yet.
    with pytest.raises(StudioError, match="in early access"):
        await early.reroll(BOB, grid)
    with pytest.raises(StudioError, match="in early access"):
        await early.vary(BOB, grid, 0, None)
    variation = await early.vary(ALICE, grid, 1, None)
    assert (variation.job.model, variation.lane) == ("tiny:2", Lane.PRIORITY)
    await _done(early, variation)
    clock.now = RELEASED + timedelta(days=7)  # early access over: everyone, standard lane
    reroll = await early.reroll(BOB, grid)
    assert (reroll.job.model, reroll.lane) == ("tiny:2", Lane.STANDARD)
    await _done(early, reroll)
    await retire(early.db, "tiny:2", now=clock.now)
    with pytest.raises(StudioError, match="`tiny:2` is retired; available: `other`, `tiny`"):
        await early.upscale(ALICE, grid, 0)


async def test_a_job_from_before_the_registry_rerolls_on_its_models_current_version(
    studio: Studio,
) -> None:
    (request,) = await studio.requests_for(ALICE, "a fox --seed 3")
    grid = await _done(studio, await studio.submit_imagine(ALICE, request))
    assert grid.job.model == "tiny:1"
    old = dataclasses.replace(grid.job, model="tiny")  # as jobs were stored before
    legacy = await _done(studio, await studio.pool.submit(old, owner_id=ALICE))
    reroll = await studio.reroll(ALICE, legacy)
    assert reroll.job.model == "tiny:1"
    await _done(studio, reroll)
