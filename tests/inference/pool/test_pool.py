"""The worker pool on the tiny model: order, lanes, limits, progress, cancelling, batching,
faults and shutdown, over real worker threads and a real database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import torch

from db.database import Database
from db.jobs import JobStatus, Lane, get_job, list_images
from inference.backend import DiffusersBackend
from inference.jobs import GenerationJob
from inference.loading import ModelLoadError
from inference.models import ModelRef
from inference.params import ParamError
from inference.pool.config import UserLimits
from inference.pool.events import (
    Cancelled,
    Deferred,
    Finished,
    JobCancelledError,
    JobDeferredError,
    JobEvent,
    JobFailedError,
    Progress,
    Started,
)
from inference.pool.handle import JobHandle
from inference.pool.pool import MAX_FREE_RETURNS, PoolClosedError, WorkerPool
from inference.pool.queue import QueueLimitError
from inference.pool.worker import JobSucceeded, WorkerLost, WorkerMessage
from inference.tiny import save_tiny_model
from tests.helpers.pool import NamedModels, PoolMaker, Script, job


async def _events(handle: JobHandle) -> list[JobEvent]:
    return [event async for event in handle.events()]


async def _eventually(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (state that threads change, so there is no event to await)."""
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _started(pool: WorkerPool, planned: GenerationJob, **how: Any) -> JobHandle:
    """Submit a job and wait until a worker has started it."""
    handle = await pool.submit(planned, **how)
    await _running(handle)
    return handle


async def _running(handle: JobHandle) -> None:
    """Wait until a worker has started ``handle``'s job."""
    await _eventually(lambda: handle.status is JobStatus.RUNNING)


async def _start_order(db: Database) -> list[int]:
    rows = await db.fetchall("SELECT id FROM jobs WHERE started_at IS NOT NULL ORDER BY started_at")
    return [row["id"] for row in rows]


async def _status(db: Database, job_id: int) -> JobStatus:
    record = await get_job(db, job_id)
    assert record is not None
    return record.status


async def test_progress_arrives_in_order_and_ends_with_the_saved_result(
    make_pool: PoolMaker, db: Database
) -> None:
    pool = await make_pool(preview_every=2)
    handle = await pool.submit(job("a lighthouse --seed 3 --steps 6"), owner_id=1)
    events = await _events(handle)

    assert events[0] == Started("cpu")
    steps = [event for event in events if isinstance(event, Progress)]
    assert [(event.step, event.total) for event in steps] == [(n, 6) for n in range(1, 7)]
    assert [event.preview is not None for event in steps] == [False, True] * 3
    assert steps[1].preview is not None
    assert steps[1].preview.size == (2 * 32, 2 * 32)  # four 32×32 latents (tiny VAE: 1/2), 2×2
    assert isinstance(events[-1], Finished)
    assert len(events) == 1 + 6 + 1

    result = await handle  # the same as await handle.result()
    assert result == events[-1].result
    assert [image.seed for image in result.images] == [3, 4, 5, 6]
    assert all(image.path.is_file() for image in result.images)
    assert result.grid is not None
    assert result.grid.is_file()
    record = await get_job(db, handle.job_id)
    assert record is not None
    assert record.status is JobStatus.DONE
    assert record.device == "cpu"
    assert record.started_at is not None
    assert record.finished_at is not None
    assert record.started_at <= record.finished_at
    assert record.gpu_seconds > 0
    stored = await list_images(db, handle.job_id)
    assert [Path(image.path) for image in stored] == [i.path.resolve() for i in result.images]


async def test_a_flooding_user_cannot_starve_another(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.02
    pool = await make_pool()
    flood = [await pool.submit(job(f"flood {n} --steps 20"), owner_id=1) for n in range(8)]
    await _running(flood[0])
    lone = await pool.submit(job("lone"), owner_id=2)

    assert await _status(db, lone.job_id) is JobStatus.QUEUED  # recorded before it runs
    status = lone.queue_status()
    assert status is not None
    assert status.position == 1
    await lone.result()
    for handle in flood:
        handle.cancel()
    order = await _start_order(db)
    assert order.index(lone.job_id) == 1  # right after the job that was already running


async def test_priority_lane_jobs_start_before_standard_ones(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.02
    pool = await make_pool()
    first = await _started(pool, job("first --steps 20"), owner_id=1)
    standard = [await pool.submit(job(f"standard {n}"), owner_id=n) for n in (2, 3, 4)]
    backer = await pool.submit(job("backer"), owner_id=5, lane=Lane.PRIORITY)
    await asyncio.gather(*(handle.result() for handle in [first, *standard, backer]))
    order = await _start_order(db)
    assert order == [first.job_id, backer.job_id, *(h.job_id for h in standard)]
    record = await get_job(db, backer.job_id)
    assert record is not None
    assert record.lane is Lane.PRIORITY


async def test_too_many_waiting_jobs_are_refused_with_a_message_and_not_recorded(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    pool = await make_pool(limits=UserLimits(max_running=1, max_queued=2))
    handles = [await _started(pool, job("mine 0"), owner_id=1)]
    handles += [await pool.submit(job(f"mine {n}"), owner_id=1) for n in (1, 2)]
    with pytest.raises(QueueLimitError) as refused:
        await pool.submit(job("one too many"), owner_id=1)
    assert "2 jobs waiting and 1 running" in str(refused.value)
    assert "limit is 2 waiting and 1 running" in str(refused.value)
    rows = await db.fetchall("SELECT prompt FROM jobs")
    assert [row["prompt"] for row in rows] == ["mine 0", "mine 1", "mine 2"]
    other = await pool.submit(job("someone else"), owner_id=2)  # others are not limited
    for handle in handles:
        handle.cancel()
    await other.result()


async def test_unknown_model_is_refused_before_anything_is_recorded(
    make_pool: PoolMaker, db: Database
) -> None:
    pool = await make_pool()
    with pytest.raises(ParamError, match="unknown model"):
        await pool.submit(job("a fox", model="nope"), owner_id=1)
    assert await db.fetchall("SELECT id FROM jobs") == []


async def test_cancelling_a_waiting_job_ends_it_at_once(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    pool = await make_pool()
    running = await _started(pool, job("running --steps 20"), owner_id=1)
    waiting = await pool.submit(job("waiting"), owner_id=2)

    assert waiting.cancel() is True
    assert await asyncio.wait_for(_events(waiting), timeout=1) == [Cancelled()]
    with pytest.raises(JobCancelledError):
        await waiting.result()
    assert waiting.cancel() is False  # already over
    assert running.status is JobStatus.RUNNING  # the running job carries on
    assert await _status(db, waiting.job_id) is JobStatus.CANCELLED
    assert await list_images(db, waiting.job_id) == []
    assert waiting.job.request.prompt not in [p for b in script.batches for p in b]
    running.cancel()


async def test_cancelling_a_running_job_stops_it_at_the_next_step_and_frees_the_worker(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    pool = await make_pool()
    long = await pool.submit(job("long --steps 40"), owner_id=1)
    after = await pool.submit(job("after"), owner_id=2)
    seen: list[JobEvent] = []
    reached_when_asked = 0
    async for event in long.events():
        seen.append(event)
        if isinstance(event, Progress) and event.step == 2:
            reached_when_asked = script.last_step  # the worker may be ahead of the loop
            assert long.cancel() is True
    assert seen[-1] == Cancelled()
    last_step = max(event.step for event in seen if isinstance(event, Progress))
    assert last_step <= reached_when_asked  # the step under way when asked was the last
    assert last_step < 40
    await asyncio.wait_for(after.result(), timeout=10)  # the worker moved on
    record = await get_job(db, long.job_id)
    assert record is not None
    assert record.status is JobStatus.CANCELLED
    assert record.gpu_seconds > 0
    assert not any(path.exists() for path in long.entry.outputs.images)


async def test_batched_jobs_make_the_same_pixels_as_alone(
    make_pool: PoolMaker, script: Script, tiny_backend: DiffusersBackend
) -> None:
    script.step_delay = 0.05
    pool = await make_pool(max_batch_images=12)
    blocker = await _started(pool, job("blocker --steps 20"), owner_id=1)
    jobs = [
        job("a red car --seed 11"),
        job("a blue boat --seed 12 --chaos 40 --no fog --s 600"),
        job("red:: car::2 --seed 13"),
    ]
    handles = [await pool.submit(j, owner_id=n) for n, j in enumerate(jobs, start=2)]
    results = [await handle.result() for handle in handles]

    assert [j.request.prompt for j in jobs] in script.batches  # they did share one call
    for planned, result in zip(jobs, results, strict=True):
        alone = tiny_backend.generate(planned)
        with_company = [_pixels(image.path) for image in result.images]
        assert with_company == [image.convert("RGB").tobytes() for image in alone]
    await blocker.result()


def _pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


def _out_of_memory_for(poisoned: str) -> Callable[[Sequence[GenerationJob]], None]:
    """A fault like CUDA's: any batch of several jobs, or any batch with ``poisoned``."""

    def fault(jobs: Sequence[GenerationJob]) -> None:
        if len(jobs) > 1 or any(poisoned in j.request.prompt for j in jobs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    return fault


async def test_a_failed_batch_is_retried_job_by_job_and_only_the_bad_job_fails(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    pool = await make_pool(max_batch_images=12)
    await _started(pool, job("blocker --steps 20"), owner_id=1)
    script.fault = _out_of_memory_for("poison")
    good_1 = await pool.submit(job("good one"), owner_id=2)
    poison = await pool.submit(job("poison"), owner_id=3)
    good_2 = await pool.submit(job("good two"), owner_id=4)

    assert len((await good_1.result()).images) == 4
    assert len((await good_2.result()).images) == 4
    with pytest.raises(JobFailedError, match="ran out of memory") as failed:
        await poison.result()
    assert "Traceback" not in str(failed.value)
    together, *alone = script.batches[1:]
    assert together == ["good one", "poison", "good two"]
    assert alone == [["good one"], ["poison"], ["good two"]]
    record = await get_job(db, poison.job_id)
    assert record is not None
    assert record.status is JobStatus.FAILED
    assert record.error is not None
    assert "ran out of memory" in record.error
    later = await pool.submit(job("later"), owner_id=2)  # the worker is still alive
    await later.result()
    assert pool.metrics().devices[0].restarts == 0


class _WorkerKilled(BaseException):
    """Escapes every ``except Exception``: the worker thread dies."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_crashed_worker_is_replaced_and_its_job_runs_again(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    crashes = []

    def crash_once(jobs: Sequence[GenerationJob]) -> None:
        if not crashes:
            crashes.append(1)
            raise _WorkerKilled

    script.fault = crash_once
    pool = await make_pool()
    handle = await pool.submit(job("survivor"), owner_id=1)
    result = await asyncio.wait_for(handle.result(), timeout=20)
    assert len(result.images) == 4
    assert pool.metrics().devices[0].restarts == 1
    assert script.batches == [["survivor"], ["survivor"]]
    assert await _status(db, handle.job_id) is JobStatus.DONE


async def test_a_result_reported_just_before_its_worker_is_given_up_on_is_delivered(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    pool = await make_pool()
    handle_message = pool._on_message

    def give_up_first(message: WorkerMessage) -> None:
        # The watchdog gives up on the worker after its thread reported the job's images
        # but before the loop handled that report.
        if isinstance(message, JobSucceeded) and not message.worker.retired:
            pool._replace(message.worker, "the worker on cpu stopped responding")
        handle_message(message)

    pool._on_message = give_up_first  # type: ignore[method-assign]
    handle = await pool.submit(job("just in time"), owner_id=1)

    result = await asyncio.wait_for(handle.result(), timeout=20)
    assert len(result.images) == 4
    assert script.batches == [["just in time"]]  # delivered, not lost nor run twice
    assert await _status(db, handle.job_id) is JobStatus.DONE


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_job_that_crashes_its_worker_twice_fails_and_others_go_on(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    def crash_on_doomed(jobs: Sequence[GenerationJob]) -> None:
        if any("doomed" in j.request.prompt for j in jobs):
            raise _WorkerKilled

    script.fault = crash_on_doomed
    pool = await make_pool()
    doomed = await pool.submit(job("doomed"), owner_id=1)
    fine = await pool.submit(job("fine"), owner_id=2)
    with pytest.raises(JobFailedError, match="crashed while running this job, twice"):
        await asyncio.wait_for(doomed.result(), timeout=20)
    await asyncio.wait_for(fine.result(), timeout=20)
    assert pool.metrics().devices[0].restarts == 2
    assert await _status(db, doomed.job_id) is JobStatus.FAILED


async def test_losing_a_worker_before_the_work_ran_does_not_use_up_the_job_s_retry(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    """As when Ray says a remote worker is unavailable before a batch ran: the job goes back
    to the queue without that counting as its one retry, a few times at most."""
    losses = [WorkerLost("unavailable", ran=False)] * MAX_FREE_RETURNS + [WorkerLost("died")]

    def lose_worker(jobs: Sequence[GenerationJob]) -> None:
        if losses:
            raise losses.pop(0)

    script.fault = lose_worker
    pool = await make_pool()
    handle = await pool.submit(job("patient"), owner_id=1)

    result = await asyncio.wait_for(handle.result(), timeout=30)
    assert len(result.images) == 4  # its one retry was left for the real loss
    assert script.batches == [["patient"]] * (MAX_FREE_RETURNS + 2)
    assert await _status(db, handle.job_id) is JobStatus.DONE


async def test_free_returns_to_the_queue_are_capped(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    def always_unavailable(jobs: Sequence[GenerationJob]) -> None:
        raise WorkerLost("unavailable", ran=False)

    script.fault = always_unavailable
    pool = await make_pool()
    handle = await pool.submit(job("never runs"), owner_id=1)

    with pytest.raises(JobFailedError, match="twice"):
        await asyncio.wait_for(handle.result(), timeout=30)
    assert len(script.batches) == MAX_FREE_RETURNS + 2  # free ones, then the first and retry
    assert await _status(db, handle.job_id) is JobStatus.FAILED


async def test_a_hung_worker_is_replaced_and_its_job_completes_once(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    release = threading.Event()
    hangs = []

    def hang_once(jobs: Sequence[GenerationJob]) -> None:
        if not hangs:
            hangs.append(1)
            release.wait(20)

    script.fault = hang_once
    pool = await make_pool(hang_seconds=3)
    try:
        handle = await pool.submit(job("stuck"), owner_id=1)
        result = await asyncio.wait_for(handle.result(), timeout=20)
        assert pool.metrics().devices[0].restarts == 1
    finally:
        release.set()  # the abandoned thread wakes up, and must not report or write
    await asyncio.sleep(0.5)
    assert await _status(db, handle.job_id) is JobStatus.DONE
    assert len(await list_images(db, handle.job_id)) == 4
    assert all(image.path.is_file() for image in result.images)


async def test_shutdown_lets_the_running_job_finish_and_leaves_the_rest_queued(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    pool = await make_pool()
    running = await pool.submit(job("running --steps 20"), owner_id=1)
    waiting = [await pool.submit(job(f"waiting {n}"), owner_id=2) for n in range(2)]
    await _running(running)
    await pool.shutdown(grace_seconds=20)

    assert len((await running.result()).images) == 4
    for handle in waiting:
        with pytest.raises(JobDeferredError, match="will run after the next start"):
            await handle.result()
        assert await _status(db, handle.job_id) is JobStatus.QUEUED
    with pytest.raises(PoolClosedError, match="not taking new jobs"):
        await pool.submit(job("too late"), owner_id=3)


async def test_shutdown_past_the_grace_period_interrupts_and_a_restart_finishes_everything(
    make_pool: PoolMaker, db: Database, script: Script
) -> None:
    script.step_delay = 0.05
    first = await make_pool()
    long = await first.submit(job("long --steps 40"), owner_id=1)
    waiting = await first.submit(job("waiting"), owner_id=2)
    await _running(long)
    await first.shutdown(grace_seconds=0.1)

    assert (await _events(long))[-1] == Deferred()
    record = await get_job(db, long.job_id)
    assert record is not None
    assert record.status is JobStatus.QUEUED
    assert record.started_at is None
    assert record.device is None

    script.step_delay = 0.0
    second = await make_pool()  # same database: recovers both, in their original order
    assert [h.job_id for h in second.jobs_of(1) + second.jobs_of(2)] == [
        long.job_id,
        waiting.job_id,
    ]
    await _eventually(lambda: not second.jobs_of(1) and not second.jobs_of(2))
    assert await _start_order(db) == [long.job_id, waiting.job_id]
    for job_id in (long.job_id, waiting.job_id):
        assert await _status(db, job_id) is JobStatus.DONE
        assert len(await list_images(db, job_id)) == 4


async def test_queue_position_and_eta_for_waiting_jobs(
    make_pool: PoolMaker, script: Script
) -> None:
    pool = await make_pool()
    await (await pool.submit(job("warm up"), owner_id=1)).result()  # times a batch
    script.step_delay = 0.05
    running = await _started(pool, job("running --steps 20"), owner_id=1)
    waiting = [await pool.submit(job(f"waiting {n}"), owner_id=n) for n in (2, 3, 4)]

    assert running.queue_status() is None
    statuses = [handle.queue_status() for handle in waiting]
    assert [s.position for s in statuses if s] == [1, 2, 3]
    starts = [s.eta_start_seconds for s in statuses if s]
    assert all(eta is not None for eta in starts)
    assert starts == sorted(starts)
    for handle in (running, *waiting):
        handle.cancel()


async def test_metrics_report_queue_throughput_waits_and_devices(
    make_pool: PoolMaker, script: Script
) -> None:
    pool = await make_pool()
    idle = pool.metrics()
    assert idle.queue_depth == {"priority": 0, "standard": 0}
    assert idle.running_jobs == 0
    assert idle.mean_wait_seconds is None
    assert (idle.accepting, idle.images_total, idle.waits_total) == (True, 0, 0)
    assert idle.devices[0].alive is True
    assert idle.devices[0].gpu_seconds == 0

    script.step_delay = 0.05
    await _started(pool, job("running --steps 20"), owner_id=1)
    await pool.submit(job("waiting"), owner_id=2)
    await pool.submit(job("backer"), owner_id=3, lane=Lane.PRIORITY)
    busy = pool.metrics()
    assert busy.queue_depth == {"priority": 1, "standard": 1}
    assert busy.running_jobs == 1
    assert busy.devices[0].busy is True
    assert busy.devices[0].models == ("tiny",)

    script.step_delay = 0.0
    await _eventually(lambda: pool.metrics().queue_depth["standard"] == 0)
    await _eventually(lambda: pool.metrics().running_jobs == 0)
    done = pool.metrics()
    assert done.images_per_second > 0
    assert done.mean_wait_seconds is not None
    assert done.mean_wait_seconds > 0
    assert 0 < done.devices[0].utilisation <= 1
    assert done.images_total == 12  # three jobs of four images
    assert done.waits_total == 3
    assert done.wait_seconds_total >= done.mean_wait_seconds
    assert done.devices[0].gpu_seconds > 0
    await pool.shutdown(grace_seconds=5)
    assert pool.metrics().accepting is False
    assert pool.metrics().devices[0].alive is False


async def test_model_info_loads_a_model_once_and_explains_one_that_cannot_load(
    make_pool: PoolMaker, tiny_model_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    tiny, broken_model = ModelRef("tiny", str(tiny_model_dir)), ModelRef("broken", str(broken))
    make_pool.models = NamedModels(tiny, broken_model)
    pool = await make_pool()
    assert pool.metrics().devices[0].models == ()
    info = await pool.warm_up(tiny)
    assert info.native_size == 64
    assert pool.metrics().devices[0].models == ("tiny",)
    assert await pool.model_info(tiny) == info
    assert await asyncio.wait_for(pool.warm_up(tiny), timeout=10) == info
    assert make_pool.script.loads == ["tiny"]  # loaded once, then kept warm
    with pytest.raises(ModelLoadError, match="broken"):
        await pool.model_info(broken_model)
    with pytest.raises(ModelLoadError, match="broken"):
        await pool.warm_up(broken_model)

    failing = await pool.submit(job("a fox", model="broken"), owner_id=1)
    with pytest.raises(JobFailedError, match="broken"):
        await failing.result()
    await (await pool.submit(job("a fox"), owner_id=1)).result()


async def test_the_least_recently_used_model_is_unloaded_when_the_budget_is_full(
    make_pool: PoolMaker, tiny_model_dir: Path, tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    sources = {"a": str(tiny_model_dir)}
    for name, seed in (("b", 1), ("c", 2)):
        sources[name] = str(save_tiny_model(tmp_path / name, "sd", seed))
    make_pool.models = NamedModels(*(ModelRef(name, source) for name, source in sources.items()))
    room_for_two = 2.5 * tiny_backend.weights_bytes() / 1e9
    pool = await make_pool(vram_budget_gb=room_for_two)

    for model in ("a", "b", "a", "c"):
        await (await pool.submit(job("a fox", model=model), owner_id=1)).result()
    assert pool.metrics().devices[0].models == ("a", "c")  # b was used least recently


async def test_submitting_before_start_is_refused(make_pool: PoolMaker) -> None:
    from inference.pool.config import PoolConfig

    pool = WorkerPool(
        make_pool.db,
        make_pool.models,
        PoolConfig(devices=("cpu",)),
        make_pool.images_dir,
        backend_factory=make_pool.load,
    )
    with pytest.raises(PoolClosedError, match="not been started"):
        await pool.submit(job("a fox"), owner_id=1)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_worker_that_dies_while_loading_a_model_is_replaced_and_the_load_retried(
    make_pool: PoolMaker,
) -> None:
    load = make_pool.load
    deaths = []

    def die_on_first_load(model: ModelRef, device: str, make_room: Callable[[int], None]) -> Any:
        if not deaths:
            deaths.append(model.name)
            raise _WorkerKilled
        return load(model, device, make_room)

    make_pool.load = die_on_first_load  # type: ignore[method-assign]
    pool = await make_pool()
    info = await asyncio.wait_for(pool.model_info(make_pool.models["tiny"]), timeout=20)
    assert info.native_size == 64
    assert pool.metrics().devices[0].restarts == 1


async def test_a_recovered_job_whose_model_is_unknown_fails_with_the_reason(
    make_pool: PoolMaker, db: Database, script: Script, tiny_model_dir: Path
) -> None:
    tiny = ModelRef("tiny", str(tiny_model_dir))
    make_pool.models = NamedModels(tiny, ModelRef("gone", str(tiny_model_dir)))
    script.step_delay = 0.05
    first = await make_pool()
    await _started(first, job("running --steps 20"), owner_id=1)
    orphan = await first.submit(job("orphan", model="gone"), owner_id=2)
    await first.shutdown(grace_seconds=20)

    make_pool.models = NamedModels(tiny)  # nothing tells the new pool what "gone" is
    script.step_delay = 0.0
    second = await make_pool()
    assert second.handle(orphan.job_id) is None
    record = await get_job(db, orphan.job_id)
    assert record is not None
    assert record.status is JobStatus.FAILED
    assert record.error is not None
    assert "gone" in record.error
    assert "after the restart" in record.error


async def test_jobs_from_the_command_line_are_not_taken_over_by_the_bot(
    make_pool: PoolMaker, db: Database
) -> None:
    """A command-line run may still be running in another process: its jobs are its own."""
    from db.jobs import LOCAL_OWNER_ID, insert_job

    async with db.transaction() as conn:
        local = await insert_job(
            conn,
            kind=job("a fox").kind,
            owner_id=LOCAL_OWNER_ID,
            prompt="a fox",
            params=job("a fox").to_params(),
            model="tiny",
            created_at=datetime.now(UTC),
        )
    pool = await make_pool()
    assert pool.handle(local) is None
    assert await _status(db, local) is JobStatus.QUEUED
