"""The studio's services over a real database and a worker pool on the tiny model: what a
user's preferences do to a prompt, and what the grid and upscale buttons plan and record."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from db.database import Database
from db.guilds import add_banned_words, set_buttons_for_everyone
from db.jobs import JobKind, JobStatus, insert_job
from db.users import (
    StylizePreset,
    UserSettings,
    VariationStrength,
    save_user_settings,
    set_user_option,
)
from inference.params import ParamError
from inference.pool.handle import JobHandle
from inference.pool.queue import QueueLimitError
from studio.errors import StudioError
from studio.service import StoredJob, Studio
from tests.helpers.clock import FakeClock
from tests.helpers.inference import FAST
from tests.helpers.pool import job
from tests.helpers.studio import LIMITS, MAX_UPSCALE_SIDE, StudioMaker

OWNER = 42
OTHER = 43
GUILD = 7
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)


async def _settings(db: Database, **changes: Any) -> None:
    await save_user_settings(db, dataclasses.replace(UserSettings(OWNER), **changes))


async def _finished(studio: Studio, handle: JobHandle) -> StoredJob:
    """Wait for ``handle``'s job and load it as the buttons under its message would."""
    await handle
    stored = await studio.stored_job(handle.job_id)
    assert stored.record.status is JobStatus.DONE
    return stored


async def _grid(studio: Studio, prompt: str = "a lighthouse --seed 5") -> StoredJob:
    """A finished /imagine grid of four 64-px images, owned by OWNER."""
    (request,) = await studio.requests_for(OWNER, prompt)
    return await _finished(studio, await studio.submit_imagine(OWNER, request))


def _delete(path: str) -> None:
    Path(path).unlink()


# --- /imagine: preferences ------------------------------------------------------------------


async def test_without_preferences_the_prompt_is_parsed_as_typed(studio: Studio) -> None:
    (request,) = await studio.requests_for(OWNER, "a cat --ar 2:1")
    assert (request.prompt, request.aspect) == ("a cat", (2, 1))
    assert request.stylize == 100
    assert request.model is None


async def test_the_stylize_preset_applies_unless_the_prompt_sets_stylize(
    studio: Studio,
) -> None:
    await _settings(studio.db, stylize=StylizePreset.HIGH)
    (request,) = await studio.requests_for(OWNER, "a cat")
    assert request.stylize == 250
    (request,) = await studio.requests_for(OWNER, "a cat --s 20")
    assert request.stylize == 20
    (request,) = await studio.requests_for(OWNER, "a cat --stylize 0")
    assert request.stylize == 0
    (request,) = await studio.requests_for(OTHER, "a cat")  # someone else's preference
    assert request.stylize == 100


async def test_the_default_model_applies_unless_the_prompt_names_one(studio: Studio) -> None:
    await _settings(studio.db, model="Other")
    (request,) = await studio.requests_for(OWNER, "a cat")
    assert request.model == "Other"
    (request,) = await studio.requests_for(OWNER, "a cat --model tiny")
    assert request.model == "tiny"


async def test_a_stored_model_that_is_no_longer_configured_is_ignored(studio: Studio) -> None:
    await _settings(studio.db, model="retired-model", stylize=StylizePreset.LOW)
    (request,) = await studio.requests_for(OWNER, "a cat")
    assert request.model is None  # the operator's default, not an error
    assert request.stylize == 50
    assert (await studio.model_for(OWNER, request.model)).name == "tiny:1"


async def test_the_suffix_and_options_are_applied(studio: Studio) -> None:
    await _settings(studio.db, suffix="--c 20", stylize=StylizePreset.VERY_HIGH)
    await set_user_option(studio.db, OWNER, "wide", "--ar 16:9 --s 300")
    (request,) = await studio.requests_for(OWNER, "a cat --wide")
    assert request.prompt == "a cat"
    assert (request.aspect, request.chaos) == ((16, 9), 20)
    assert request.stylize == 300  # the option's --s beats the preset
    with pytest.raises(ParamError, match="unknown parameter --wide"):
        await studio.requests_for(OTHER, "a cat --wide")  # options are per user


async def test_permutations_and_repeats_each_get_the_preferences(studio: Studio) -> None:
    await _settings(studio.db, stylize=StylizePreset.MED, model="other")
    requests = await studio.requests_for(OWNER, "a {cat, dog} --r 2")
    assert [r.prompt for r in requests] == ["a cat", "a cat", "a dog", "a dog"]
    assert {(r.stylize, r.model) for r in requests} == {(100, "other")}


async def test_banned_words_apply_only_in_their_server(studio: Studio) -> None:
    await add_banned_words(studio.db, GUILD, ["gore", "dead body"], added_by=1, at=T0)
    assert await studio.banned_in(GUILD, ["GORE and a dead  body"]) == ["dead body", "gore"]
    assert await studio.banned_in(GUILD, ["a gorgeous party"]) == []
    assert await studio.banned_in(GUILD, ["x", "more gore"]) == ["gore"]
    # Each text on its own: a phrase does not match across a prompt and its negative.
    assert await studio.banned_in(GUILD, ["playing dead", "body paint"]) == []
    assert await studio.banned_in(None, ["gore"]) == []  # direct messages have no list
    assert await studio.banned_in(GUILD + 1, ["gore"]) == []


async def test_a_prompt_making_more_jobs_than_the_queue_allows_is_refused(
    studio: Studio,
) -> None:
    studio.check_limits(OWNER, LIMITS.max_queued)
    with pytest.raises(QueueLimitError) as refused:
        studio.check_limits(OWNER, LIMITS.max_queued + 1)
    message = str(refused.value)
    assert f"the limit is {LIMITS.max_queued} waiting" in message
    assert f"This prompt makes {LIMITS.max_queued + 1} jobs" in message
    studio.check_limits(OTHER)


async def test_imagine_plans_at_the_models_native_size_and_records_the_owner(
    studio: Studio,
) -> None:
    grid = await _grid(studio, "a lighthouse --ar 2:1 --seed 9")
    assert grid.record.kind is JobKind.IMAGINE
    assert grid.record.owner_id == OWNER
    assert grid.record.parent_job_id is None
    assert (grid.job.width, grid.job.height) == (88, 48)  # about 64² pixels in a 2:1 shape
    assert grid.job.seed == 9
    assert grid.job.steps == FAST.steps
    assert [image.seed for image in grid.images] == [9, 10, 11, 12]
    assert studio.result_file(grid).name == f"{grid.id}-grid.png"


# --- buttons ---------------------------------------------------------------------------------


async def test_reroll_is_the_same_request_with_a_new_seed_under_image_0(studio: Studio) -> None:
    grid = await _grid(studio)
    handle = await studio.reroll(OTHER, grid)
    assert handle.owner_id == OTHER
    assert handle.job.kind is JobKind.REROLL
    assert handle.job.request == grid.job.request
    assert (handle.job.width, handle.job.height) == (grid.job.width, grid.job.height)
    assert handle.job.seed != grid.job.seed
    reroll = await _finished(studio, handle)
    assert (reroll.record.parent_job_id, reroll.record.parent_index) == (grid.id, 0)
    assert reroll.record.owner_id == OTHER


async def test_vary_uses_the_users_preferred_strength_unless_one_is_given(
    studio: Studio,
) -> None:
    grid = await _grid(studio)
    await _settings(studio.db, variation=VariationStrength.STRONG)

    preferred = await studio.vary(OWNER, grid, 2, None)
    assert preferred.job.kind is JobKind.VARIATION
    assert preferred.job.strength == FAST.strong_strength
    assert preferred.job.init_image == grid.images[2].path
    assert preferred.job.num_images == 4
    assert (preferred.job.width, preferred.job.height) == (grid.job.width, grid.job.height)

    chosen = await studio.vary(OWNER, grid, 3, VariationStrength.SUBTLE)
    assert chosen.job.strength == FAST.subtle_strength
    assert chosen.job.init_image == grid.images[3].path

    others_default = await studio.vary(OTHER, grid, 0, None)  # OTHER never chose: subtle
    assert others_default.job.strength == FAST.subtle_strength

    for handle, index in [(preferred, 2), (chosen, 3), (others_default, 0)]:
        record = (await _finished(studio, handle)).record
        assert (record.parent_job_id, record.parent_index) == (grid.id, index)


async def test_upscale_doubles_the_chosen_image_and_keeps_its_seed(studio: Studio) -> None:
    grid = await _grid(studio)
    assert studio.can_upscale(grid)
    handle = await studio.upscale(OWNER, grid, 1)
    assert handle.job.kind is JobKind.UPSCALE
    assert (handle.job.width, handle.job.height) == (128, 128)
    assert handle.job.num_images == 1
    assert handle.job.seed == grid.images[1].seed
    assert handle.job.init_image == grid.images[1].path
    upscaled = await _finished(studio, handle)
    assert (upscaled.record.parent_job_id, upscaled.record.parent_index) == (grid.id, 1)
    assert [(i.width, i.height) for i in upscaled.images] == [(128, 128)]
    assert studio.result_file(upscaled) == Path(upscaled.images[0].path)


async def test_upscaling_past_the_largest_side_is_refused_clearly(studio: Studio) -> None:
    grid = await _grid(studio)
    upscaled = await _finished(studio, await studio.upscale(OWNER, grid, 0))
    assert not studio.can_upscale(upscaled)
    with pytest.raises(StudioError) as refused:
        await studio.upscale(OWNER, upscaled, 0)
    message = str(refused.value)
    assert "this image is 128×128" in message
    assert f"({MAX_UPSCALE_SIDE} px)" in message
    assert studio.pool.jobs_of(OWNER) == []  # nothing was queued


async def test_an_upscale_cannot_be_rerolled(studio: Studio) -> None:
    grid = await _grid(studio)
    upscaled = await _finished(studio, await studio.upscale(OWNER, grid, 0))
    with pytest.raises(StudioError, match="cannot be re-rolled; use Vary"):
        await studio.reroll(OWNER, upscaled)


async def test_vary_of_an_upscale_comes_back_at_the_grids_size(studio: Studio) -> None:
    grid = await _grid(studio)
    upscaled = await _finished(studio, await studio.upscale(OWNER, grid, 2))
    handle = await studio.vary(OWNER, upscaled, 0, VariationStrength.STRONG)
    assert (handle.job.width, handle.job.height) == (grid.job.width, grid.job.height)
    assert handle.job.num_images == 4
    assert handle.job.init_image == upscaled.images[0].path
    assert handle.job.strength == FAST.strong_strength
    varied = await _finished(studio, handle)
    assert (varied.record.parent_job_id, varied.record.parent_index) == (upscaled.id, 0)
    assert {(i.width, i.height) for i in varied.images} == {(64, 64)}

    # The whole chain, oldest first.
    lineage = await studio.lineage(varied.id)
    assert [(r.id, r.kind) for r in lineage] == [
        (grid.id, JobKind.IMAGINE),
        (upscaled.id, JobKind.UPSCALE),
        (varied.id, JobKind.VARIATION),
    ]
    assert await studio.lineage(grid.id) == [grid.record]
    assert await studio.lineage(99_999) == []


async def test_vary_of_a_second_upscale_comes_back_at_the_grids_size(
    make_studio: StudioMaker,
) -> None:
    studio = await make_studio(max_upscale_side=256)
    grid = await _grid(studio)
    once = await _finished(studio, await studio.upscale(OWNER, grid, 0))
    twice = await _finished(studio, await studio.upscale(OWNER, once, 0))
    assert (twice.job.width, twice.job.height) == (256, 256)
    handle = await studio.vary(OWNER, twice, 0, None)
    handle.cancel()
    assert (handle.job.width, handle.job.height) == (grid.job.width, grid.job.height)


async def test_a_job_that_does_not_exist_is_a_studio_error(studio: Studio) -> None:
    with pytest.raises(StudioError, match="job #12345 does not exist"):
        await studio.stored_job(12345)


async def test_a_deleted_image_file_is_a_studio_error(studio: Studio) -> None:
    grid = await _grid(studio)
    _delete(grid.images[3].path)
    assert grid.image(2) == grid.images[2]
    with pytest.raises(StudioError, match=f"image 4 of job #{grid.id} is no longer stored"):
        grid.image(3)
    with pytest.raises(StudioError, match="no longer stored"):
        await studio.upscale(OWNER, grid, 3)
    with pytest.raises(StudioError, match="no longer stored"):
        await studio.vary(OWNER, grid, 3, None)
    assert studio.pool.jobs_of(OWNER) == []


async def test_an_upscale_has_only_image_1(studio: Studio) -> None:
    grid = await _grid(studio)
    upscaled = await _finished(studio, await studio.upscale(OWNER, grid, 0))
    with pytest.raises(StudioError, match=f"job #{upscaled.id} has no image 2"):
        upscaled.image(1)


async def test_a_job_that_has_not_finished_has_no_images(studio: Studio) -> None:
    planned = job("a lighthouse")
    async with studio.db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=planned.kind,
            owner_id=OWNER,
            prompt=planned.request.prompt,
            params=planned.to_params(),
            model="tiny",
            created_at=T0,
        )
    queued = await studio.stored_job(job_id)
    assert queued.job == planned
    with pytest.raises(StudioError, match=f"job #{job_id} is queued; it has no images"):
        queued.image(0)
    with pytest.raises(StudioError, match="has no stored images"):
        studio.result_file(queued)


async def test_a_job_stored_in_an_unreadable_form_is_a_studio_error(studio: Studio) -> None:
    async with studio.db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=JobKind.IMAGINE,
            owner_id=OWNER,
            prompt="old",
            params={"steps": 4},
            model="tiny",
            created_at=T0,
        )
    with pytest.raises(StudioError, match="cannot read"):
        await studio.stored_job(job_id)


async def test_only_the_owner_may_press_unless_the_server_allows_everyone(
    studio: Studio,
) -> None:
    grid = await _grid(studio)
    assert await studio.may_press(grid, OWNER, GUILD)
    assert await studio.may_press(grid, OWNER, None)
    assert not await studio.may_press(grid, OTHER, GUILD)
    assert not await studio.may_press(grid, OTHER, None)

    await set_buttons_for_everyone(studio.db, GUILD, True)
    assert await studio.may_press(grid, OTHER, GUILD)
    assert not await studio.may_press(grid, OTHER, GUILD + 1)  # another server's setting
    assert not await studio.may_press(grid, OTHER, None)


async def test_usage_counts_todays_images_by_the_studios_clock(
    studio: Studio, clock: FakeClock
) -> None:
    grid = await _grid(studio)
    await _finished(studio, await studio.upscale(OWNER, grid, 0))
    today = await studio.usage(OWNER)
    assert (today.images_today, today.images_total, today.jobs_total) == (5, 5, 2)
    assert today.gpu_seconds > 0
    clock.now += timedelta(days=1)
    tomorrow = await studio.usage(OWNER)
    assert (tomorrow.images_today, tomorrow.images_total) == (0, 5)
    assert (await studio.usage(OTHER)).images_total == 0


async def test_the_same_follow_up_twice_at_once_makes_one_job(studio: Studio) -> None:
    grid = await _grid(studio)
    first, second = await asyncio.gather(
        studio.upscale(OWNER, grid, 1), studio.upscale(OWNER, grid, 1), return_exceptions=True
    )
    handles = [r for r in (first, second) if isinstance(r, JobHandle)]
    errors = [r for r in (first, second) if isinstance(r, StudioError)]
    assert len(handles) == 1
    assert len(errors) == 1
    assert f"job #{handles[0].job_id}" in str(errors[0])
    # Other follow-ups of the same image, and the same one by someone else, are not blocked.
    other = await studio.upscale(OTHER, grid, 1)
    subtle = await studio.vary(OWNER, grid, 1, VariationStrength.SUBTLE)
    strong = await studio.vary(OWNER, grid, 1, VariationStrength.STRONG)
    for handle in (handles[0], other, subtle, strong):
        await handle
    # Once it is done, pressing again makes a new one.
    again = await studio.upscale(OWNER, grid, 1)
    assert again.job_id > strong.job_id
    await again
