"""The Ray cluster's head goes away mid-run and comes back: the pool notices within seconds,
the local worker carries on, waiting jobs wait and members are told why; when the head is
back, remote workers return by themselves and every job is delivered once. A head of the
test's own (``ray start --head``), a process group on 127.0.0.1 only, killed whole."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

import pytest

from cogs.imagine.cog import workers_field
from db.database import Database
from db.jobs import JobStatus, get_job, list_images
from inference.jobs import GenerationJob
from inference.pool.config import RayConfig
from inference.pool.events import Finished, JobEvent, Progress, Started
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from tests.helpers.cluster import RayHead, ray_head  # first: before anything imports Ray
from tests.helpers.editor import free_port
from tests.helpers.pool import PoolMaker, RemoteTiny, Script, job
from web.operations import HealthSources, health

pytestmark = pytest.mark.cluster

from inference.pool.remote import RemoteWorker  # noqa: E402 (needs Ray)

__all__ = ["ray_head"]  # a fixture


async def _eventually(condition: Callable[[], bool], within: float = 60) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (threads change it: nothing to await)
            await asyncio.sleep(0.05)


def _remote_up(pool: WorkerPool) -> list[RemoteWorker]:
    return [w for w in pool._workers if isinstance(w, RemoteWorker) and w.up]


class Gate:
    """Holds every batch of the local worker while closed (a busy local GPU)."""

    def __init__(self) -> None:
        self.open = threading.Event()

    def __call__(self, jobs: Sequence[GenerationJob]) -> None:
        assert self.open.wait(60), "the test never opened the gate"


async def _all_events(handles: list[JobHandle]) -> dict[int, list[JobEvent]]:
    async def follow(handle: JobHandle) -> list[JobEvent]:
        return [event async for event in handle.events()]

    async with asyncio.timeout(90):
        seen = await asyncio.gather(*(follow(handle) for handle in handles))
    return {handle.job_id: events for handle, events in zip(handles, seen, strict=True)}


async def test_a_lost_head_leaves_the_local_worker_running_and_its_return_brings_workers_back(
    make_pool: PoolMaker, db: Database, script: Script, ray_head: RayHead
) -> None:
    gate = Gate()
    script.fault = gate
    ray_config = RayConfig(ray_head.address, max_workers=1, worker_device="cpu", check_seconds=0.5)
    pool = await make_pool(ray=ray_config, remote_factory=RemoteTiny(step_delay=0.3))
    # The local worker takes the first job (the remote one is not up yet) and holds it …
    held = await pool.submit(job("held"), owner_id=1)
    await _eventually(lambda: held.status is JobStatus.RUNNING)
    await _eventually(lambda: len(_remote_up(pool)) == 1)
    # … so the remote worker takes the second, and runs it.
    lost = await pool.submit(job("lost with the head --steps 30"), owner_id=2)
    lost_events = lost.events()
    before: list[JobEvent] = []
    async for event in lost_events:
        before.append(event)
        if isinstance(event, Progress):
            break
    assert before[0] == Started("ray-1")

    ray_head.kill()
    await _eventually(lambda: pool.cluster_note() is not None, within=15)  # within seconds

    note = pool.cluster_note()
    assert note is not None
    assert f"the Ray cluster at {ray_head.address} is unreachable since" in note
    assert pool.capacity_note() is None  # the local worker carries on
    assert workers_field(pool) == f"cpu (no remote worker: {note})"  # what /info shows
    healthy, body = await health(HealthSources(db, pool))
    assert healthy  # 200: jobs still run here
    assert body["cluster"] == {
        "address": ray_head.address,
        "state": note,
        "reachable": False,
        "remote_workers": 0,
    }
    assert [d.device for d in pool.metrics().devices] == ["cpu"]
    assert lost.status is JobStatus.QUEUED  # back in the queue, waiting for a worker
    async with asyncio.timeout(10):  # its row follows
        while await _status(db, lost.job_id) is not JobStatus.QUEUED:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    gate.open.set()  # the local worker finishes its job, then runs the lost one
    await _eventually(lambda: lost.final is not None)
    gate.open.clear()
    waiting = await pool.submit(job("held again"), owner_id=3)
    await _eventually(lambda: waiting.status is JobStatus.RUNNING)
    later = await pool.submit(job("after the head is back"), owner_id=4)

    ray_head.start()
    later_result = await asyncio.wait_for(later.result(), timeout=60)
    gate.open.set()

    assert later_result.device == "ray-2"  # a new remote worker, without a restart
    assert pool.cluster_note() is None
    seen = await _all_events([held, waiting, later])
    seen[lost.job_id] = before + [event async for event in lost_events]
    for handle in (held, lost, waiting, later):
        events = seen[handle.job_id]
        assert isinstance(events[-1], Finished)
        assert [e for e in events if isinstance(e, Finished)] == [events[-1]]  # once
        assert await _status(db, handle.job_id) is JobStatus.DONE
        assert len(await list_images(db, handle.job_id)) == 4
    started = {
        job_id: [e.device for e in seen[job_id] if isinstance(e, Started)] for job_id in seen
    }
    assert started == {
        held.job_id: ["cpu"],
        lost.job_id: ["ray-1", "cpu"],  # run again by the local worker, alone
        waiting.job_id: ["cpu"],
        later.job_id: ["ray-2"],
    }


async def test_a_pool_started_while_the_head_is_down_runs_jobs_locally_and_says_why(
    make_pool: PoolMaker,
) -> None:
    nothing_there = f"127.0.0.1:{free_port()}"
    ray_config = RayConfig(nothing_there, max_workers=1, worker_device="cpu", check_seconds=0.2)
    pool = await make_pool(ray=ray_config, remote_factory=RemoteTiny())
    await _eventually(lambda: pool.cluster_note() is not None, within=15)

    handle = await pool.submit(job("local"), owner_id=1)
    result = await asyncio.wait_for(handle.result(), 60)

    assert result.device == "cpu"
    note = pool.cluster_note()
    assert note is not None
    assert note.startswith(f"the Ray cluster at {nothing_there} is unreachable since ")
    assert note.endswith(" UTC (Connection refused)")
    assert pool.capacity_note() is None


async def _status(db: Database, job_id: int) -> JobStatus:
    record = await get_job(db, job_id)
    assert record is not None
    return record.status
