"""/info tells members why their jobs wait when the bot has remote workers only and the
Ray cluster offers no GPU for one."""

from __future__ import annotations

import pytest

from db.jobs import JobStatus, unfinished_jobs
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.cluster import local_ray
from tests.helpers.discord_bots import Bots

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("local_ray")]

__all__ = ["local_ray"]  # a fixture


async def test_info_says_why_nothing_runs_when_the_cluster_has_no_gpu(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    # The test's Ray has CPUs only: remote workers that want a GPU find none.
    bot = await bots.start(devices="none", ray_address="auto", ray_worker_device="cuda")
    assert bot.pool is not None
    await fake.wait_for(lambda: "no free GPU" in (bot.pool.capacity_note() or ""), timeout=60)

    rec = await fake.slash("info", {}, user=alice)
    info = await rec.wait_original()
    fields = {field["name"]: field["value"] for field in info.embeds[0]["fields"]}
    assert fields["Workers"] == (
        "none can run jobs now (the Ray cluster has no free GPU for a worker): jobs wait"
    )


async def test_imagine_with_no_worker_at_all_records_the_job_and_says_it_waits(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start(devices="none", ray_address="auto", ray_worker_device="cuda")

    rec = await fake.slash("imagine", {"prompt": "a patient heron --seed 2"}, user=alice)
    answer = await rec.wait_original(lambda m: not m.loading, timeout=30)

    jobs = await unfinished_jobs(bot.db)
    assert [(job.owner_id, job.status) for job in jobs] == [(alice.id, JobStatus.QUEUED)]
    assert "Waiting to start, position 1" in answer.content
