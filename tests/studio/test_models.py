"""The model registry as the worker pool and the studio ask it: a job's ``name:version``
is the released version it names, also for a job taken over after a restart, and the
configured default is the registry's default model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from db.database import Database
from db.jobs import JobStatus, get_job, insert_job
from inference.models import ModelRef
from registry.releases import release
from registry.versions import NewVersion, add_version
from studio.models import RegisteredModels
from studio.service import Studio
from tests.helpers.campaigns import CREATOR
from tests.helpers.clock import FakeClock
from tests.helpers.pool import job
from tests.helpers.studio import StudioMaker

OWNER = 42


async def _added_through_models(db: Database, key: str, source: str, now: datetime) -> None:
    """A version a moderator added and released with /models: no setting names it."""
    name, _, version = key.partition(":")
    new = NewVersion(name=name, version=version, source=source, family="sd1")
    await add_version(db, new, added_by=CREATOR, now=now)
    await release(db, key, early_access_days=0, now=now)


async def test_a_job_names_the_released_version_it_runs_on(
    studio: Studio, models: RegisteredModels, tiny_model_dir: Path, clock: FakeClock
) -> None:
    source = str(tiny_model_dir)
    assert await models.find("tiny:1") == ModelRef("tiny:1", source)
    assert await models.find("tiny") == ModelRef("tiny:1", source)  # a job from before
    new = NewVersion(name="tiny", version="2", source=source, family="sd1")
    await add_version(studio.db, new, added_by=CREATOR, now=clock.now)
    assert await models.find("tiny:2") is None  # upcoming: nobody may queue it
    assert await models.find("ghost") is None


async def test_the_configured_default_is_what_imagine_uses_without_a_model(
    studio: Studio,
) -> None:
    assert studio.default_model == "tiny"
    (request,) = await studio.requests_for(OWNER, "a fox")
    assert request.model is None
    assert (await studio.model_for(OWNER, request.model)).name == "tiny:1"


async def test_a_job_recovered_after_a_restart_still_finds_its_model(
    make_studio: StudioMaker, db: Database, tiny_model_dir: Path, clock: FakeClock
) -> None:
    await _added_through_models(db, "extra:1", str(tiny_model_dir), clock.now)
    planned = job("left behind", model="extra:1")
    async with db.transaction() as conn:  # queued when the previous run stopped
        job_id = await insert_job(
            conn,
            kind=planned.kind,
            owner_id=OWNER,
            prompt=planned.request.prompt,
            params=planned.to_params(),
            model=planned.model,
            created_at=clock.now,
        )
    studio = await make_studio()  # the bot starts again: its pool takes the job over
    handle = studio.pool.handle(job_id)
    assert handle is not None
    await handle.result()
    record = await get_job(db, job_id)
    assert record is not None
    assert (record.status, record.model) == (JobStatus.DONE, "extra:1")
