"""Remote workers on a local Ray (CPU actors, the tiny model, loopback only): the same
pixels, progress, cancelling, fairness and crash safety as the worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from db.database import Database
from db.jobs import JobKind, JobStatus, get_job, list_images
from inference.jobs import GenerationJob, ImagePrompt, InpaintCheckpoint, plan_rework
from inference.models import ModelRef, ip_adapter_ref
from inference.pool.config import RayConfig
from inference.pool.events import Cancelled, Deferred, Finished, JobEvent, Progress, Started
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.rework import region_placement, zoom_placement
from inference.tiny import TINY_NATIVE_SIZE
from tests.helpers.cluster import local_ray, ray  # first: before anything imports Ray
from tests.helpers.inference import FAST
from tests.helpers.pool import PoolMaker, RemoteTiny, Script, job

pytestmark = pytest.mark.cluster

from inference.pool.remote import RemoteWorker  # noqa: E402 (needs Ray)

__all__ = ["local_ray"]  # a fixture


def _remote(**changes: Any) -> dict[str, Any]:
    """Pool settings for remote CPU workers on the test's Ray (and no local device)."""
    settings: dict[str, Any] = {
        "devices": (),
        "ray": RayConfig("auto", max_workers=1, worker_device="cpu", check_seconds=0.2),
        "remote_factory": RemoteTiny(),
    }
    return settings | changes


async def _events(handle: JobHandle) -> list[JobEvent]:
    async with asyncio.timeout(120):  # a job that never ends fails the test, not hangs it
        return [event async for event in handle.events()]


async def _eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(120):
        while not condition():  # noqa: ASYNC110 (threads change it: nothing to await)
            await asyncio.sleep(0.05)


def _pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


def _text(path: Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as image:
        return dict(image.text)  # type: ignore[attr-defined]


def _remote_workers(pool: WorkerPool) -> list[RemoteWorker]:
    return [w for w in pool._workers if isinstance(w, RemoteWorker)]


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch on one CPU thread in the test's process, as in a remote CPU worker (Ray runs an
    actor that reserves one CPU on one thread): how CPU sums are split over threads moves a
    pixel value by one here and there, so only the same thread count makes the same pixels."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("local_ray", "one_thread")
async def test_a_remote_worker_makes_the_pixels_a_local_one_makes_with_progress_in_order(
    make_pool: PoolMaker, db: Database
) -> None:
    planned = job("a lighthouse --seed 3 --steps 6")
    local = await make_pool(preview_every=2)
    local_result = await (await local.submit(planned, owner_id=1))
    await local.shutdown()

    pool = await make_pool(preview_every=2, **_remote())
    handle = await pool.submit(planned, owner_id=1)
    events = await _events(handle)

    assert events[0] == Started("ray-1")
    steps = [event for event in events if isinstance(event, Progress)]
    assert [(event.step, event.total) for event in steps] == [(n, 6) for n in range(1, 7)]
    assert [event.preview is not None for event in steps] == [False, True] * 3
    assert steps[1].preview is not None
    assert steps[1].preview.size == (64, 64)
    assert isinstance(events[-1], Finished)
    result = events[-1].result
    assert result.device == "ray-1"
    assert [_pixels(image.path) for image in result.images] == [
        _pixels(image.path) for image in local_result.images
    ]
    assert [_text(image.path) for image in result.images] == [  # the generation data too
        _text(image.path) for image in local_result.images
    ]
    assert result.grid is not None
    assert result.grid.is_file()  # written by the bot, from the PNGs the worker sent
    record = await get_job(db, handle.job_id)
    assert record is not None
    assert record.status is JobStatus.DONE
    assert record.device == "ray-1"
    assert len(await list_images(db, handle.job_id)) == 4
    (shown,) = pool.metrics().devices  # /info and /metrics count the remote worker's work
    assert shown.device == "ray-1"
    assert shown.gpu_seconds > 0


def _reworks(folder: Path, inpaint_dir: Path) -> list[GenerationJob]:
    """A zoom (outpainting), a region (a member's mask) and a zoom on a dedicated inpainting
    checkpoint, of a 128×128 image; their input files in ``folder``."""
    from PIL import Image, ImageDraw

    folder.mkdir()
    down = Image.linear_gradient("L").resize((128, 128))
    across = down.transpose(Image.Transpose.ROTATE_90)
    Image.merge("RGB", (down, across, down.transpose(Image.Transpose.FLIP_TOP_BOTTOM))).save(
        folder / "source.png"
    )
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).rectangle((0, 64, 127, 127), fill=255)  # the lower half
    mask.save(folder / "mask.png")
    parent = job("a lighthouse --seed 7")
    zoom = plan_rework(
        parent,
        kind=JobKind.ZOOM,
        image_path=str(folder / "source.png"),
        placement=zoom_placement((128, 128), 64, 2.0),
        defaults=FAST,
    )
    region = plan_rework(
        parent,
        kind=JobKind.REGION,
        image_path=str(folder / "source.png"),
        placement=region_placement((128, 128), 64),
        mask=(str(folder / "mask.png"), "0" * 64),
        defaults=FAST,
    )
    assert zoom.rework is not None
    checkpoint = InpaintCheckpoint("tiny", str(inpaint_dir))
    dedicated = replace(zoom, rework=replace(zoom.rework, checkpoint=checkpoint))
    return [replace(rework, seed=7) for rework in (zoom, region, dedicated)]


@pytest.mark.usefixtures("local_ray", "one_thread")
async def test_reworks_through_a_remote_worker_make_the_pixels_a_local_one_makes(
    make_pool: PoolMaker, tmp_path: Path, tiny_inpaint_dir: Path
) -> None:
    """Its input files (image, mask) reach the worker as bytes: its node is refused any path
    in the bot's folder. The dedicated inpainting checkpoint loads on the actor too."""
    reworks = _reworks(tmp_path / "inputs", tiny_inpaint_dir)
    local = await make_pool()
    expected = [await (await local.submit(rework, owner_id=1)) for rework in reworks]
    await local.shutdown()

    pool = await make_pool(**_remote(remote_factory=RemoteTiny(unseen=str(tmp_path))))
    handles = [await pool.submit(rework, owner_id=1) for rework in reworks]
    results = [await asyncio.wait_for(handle.result(), timeout=120) for handle in handles]

    for result, local_result in zip(results, expected, strict=True):
        assert result.device == "ray-1"
        assert [_pixels(image.path) for image in result.images] == [
            _pixels(image.path) for image in local_result.images
        ]
        assert [_text(image.path) for image in result.images] == [
            _text(image.path) for image in local_result.images
        ]


@pytest.mark.usefixtures("local_ray", "one_thread")
async def test_image_prompts_through_a_remote_worker_make_the_pixels_a_local_one_makes(
    make_pool: PoolMaker, tmp_path: Path, tiny_ip_adapter: Path
) -> None:
    """The images reach the worker as bytes (its node is refused any path in the bot's
    folder); the IP-Adapter comes with the backend factory."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    prompts = []
    for name, colour in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        Image.new("RGB", (32, 32), colour).save(inputs / f"{name}.png")
        prompts.append(ImagePrompt(str(inputs / f"{name}.png"), name * 8, f"attachment:{name}"))
    prompted = job("a fox --seed 3", image_prompts=tuple(prompts))
    adapter = ip_adapter_ref(str(tiny_ip_adapter))
    make_pool.ip_adapter = adapter
    local = await make_pool()
    expected = await (await local.submit(prompted, owner_id=1))
    await local.shutdown()

    remote = RemoteTiny(unseen=str(tmp_path), ip_adapter=adapter)
    pool = await make_pool(**_remote(remote_factory=remote))
    result = await asyncio.wait_for((await pool.submit(prompted, owner_id=1)).result(), 120)
    assert result.device == "ray-1"
    assert [_pixels(image.path) for image in result.images] == [
        _pixels(image.path) for image in expected.images
    ]
    assert [_text(image.path) for image in result.images] == [
        _text(image.path) for image in expected.images
    ]


@pytest.mark.usefixtures("local_ray")
async def test_cancelling_a_remote_job_stops_it_at_the_next_step(
    make_pool: PoolMaker, db: Database
) -> None:
    pool = await make_pool(**_remote(remote_factory=RemoteTiny(step_delay=0.2)))
    long = await pool.submit(job("long --steps 40"), owner_id=1)
    seen: list[JobEvent] = []
    async for event in long.events():
        seen.append(event)
        if isinstance(event, Progress) and event.step == 2:
            assert long.cancel() is True
    assert seen[-1] == Cancelled()
    last_step = max(event.step for event in seen if isinstance(event, Progress))
    assert last_step < 10  # a few steps in flight at most, not the 40
    record = await get_job(db, long.job_id)
    assert record is not None
    assert record.status is JobStatus.CANCELLED
    assert not any(path.exists() for path in long.entry.outputs.images)
    after = await pool.submit(job("after"), owner_id=2)
    await asyncio.wait_for(after.result(), timeout=60)  # the worker moved on


@pytest.mark.usefixtures("local_ray")
async def test_a_killed_remote_worker_s_job_runs_again_elsewhere_and_is_delivered_once(
    make_pool: PoolMaker, db: Database
) -> None:
    ray_config = RayConfig("auto", max_workers=2, worker_device="cpu", check_seconds=0.2)
    pool = await make_pool(**_remote(ray=ray_config, remote_factory=RemoteTiny(step_delay=0.2)))
    await _eventually(lambda: sum(w.up for w in _remote_workers(pool)) == 2)
    handle = await pool.submit(job("survivor --steps 12"), owner_id=1)
    events: list[JobEvent] = []
    async for event in handle.events():
        events.append(event)
        if isinstance(event, Progress) and event.step == 2 and len(events) == 3:
            (first,) = [w for w in _remote_workers(pool) if w.current is not None]
            ray.kill(first.actor)
            killed = first.device

    started = [event.device for event in events if isinstance(event, Started)]
    assert started[0] == killed
    assert isinstance(events[-1], Finished)
    assert events[-1].result.device != killed
    assert [e for e in events if isinstance(e, Finished)] == [events[-1]]
    record = await get_job(db, handle.job_id)
    assert record is not None
    assert record.status is JobStatus.DONE
    assert len(await list_images(db, handle.job_id)) == 4
    metrics = {device.device: device for device in pool.metrics().devices}
    assert killed not in metrics  # its GPU went to a new worker
    await _eventually(lambda: len(_remote_workers(pool)) == 2)


@pytest.mark.usefixtures("local_ray")
async def test_with_no_gpu_in_the_cluster_jobs_wait_and_the_pool_says_why(
    make_pool: PoolMaker, db: Database
) -> None:
    no_gpus = RayConfig("auto", max_workers=2, worker_device="cuda", check_seconds=0.2)
    pool = await make_pool(**_remote(ray=no_gpus))
    handle = await pool.submit(job("patient"), owner_id=1)
    await _eventually(lambda: pool.capacity_note() != "no GPU worker has joined yet")

    assert pool.capacity_note() == "the Ray cluster has no free GPU for a worker"
    status = handle.queue_status()
    assert status is not None
    assert status.position == 1
    assert await _status(db, handle.job_id) is JobStatus.QUEUED
    assert pool.metrics().devices == ()


@pytest.mark.usefixtures("local_ray")
async def test_with_no_worker_at_all_a_model_s_size_is_read_from_its_config_and_jobs_queue(
    make_pool: PoolMaker, db: Database, tiny_model_dir: Path
) -> None:
    no_gpus = RayConfig("auto", max_workers=2, worker_device="cuda", check_seconds=0.2)
    pool = await make_pool(**_remote(ray=no_gpus))
    tiny = ModelRef("tiny", str(tiny_model_dir))

    async with asyncio.timeout(30):  # it used to wait for a worker that never comes
        info = await pool.model_info(tiny)
    handle = await pool.submit(job("patient"), owner_id=1)

    assert info.native_size == TINY_NATIVE_SIZE
    assert pool.ready_workers() == 0
    assert await _status(db, handle.job_id) is JobStatus.QUEUED


@pytest.mark.usefixtures("local_ray")
async def test_a_restart_finishes_the_job_a_remote_worker_was_running(
    make_pool: PoolMaker, db: Database
) -> None:
    first = await make_pool(**_remote(remote_factory=RemoteTiny(step_delay=0.2)))
    long = await first.submit(job("long --steps 30"), owner_id=1)
    await _eventually(lambda: long.status is JobStatus.RUNNING)
    await first.shutdown(grace_seconds=0.1)
    assert (await _events(long))[-1] == Deferred()
    assert await _status(db, long.job_id) is JobStatus.QUEUED

    second = await make_pool(**_remote())
    (recovered,) = second.jobs_of(1)
    result = await recovered.result()
    assert result.device == "ray-1"
    assert await _status(db, long.job_id) is JobStatus.DONE
    assert len(await list_images(db, long.job_id)) == 4


@pytest.mark.usefixtures("local_ray")
async def test_a_flooding_user_cannot_starve_another_across_local_and_remote_workers(
    make_pool: PoolMaker, db: Database, script: Script, tiny_model_dir: Path
) -> None:
    script.step_delay = 0.1
    pool = await make_pool(**_remote(devices=("cpu",), remote_factory=RemoteTiny(step_delay=0.1)))
    await _eventually(lambda: any(w.up for w in _remote_workers(pool)))
    await pool.warm_up(ModelRef("tiny", str(tiny_model_dir)))  # both workers ready to go
    flood = [await pool.submit(job(f"flood {n} --steps 8"), owner_id=1) for n in range(8)]
    await _eventually(lambda: sum(h.status is JobStatus.RUNNING for h in flood) == 2)
    lone = await pool.submit(job("lone"), owner_id=2)
    started_before = sum(h.status is not JobStatus.QUEUED for h in flood)
    await lone.result()
    for handle in flood:
        handle.cancel()
    rows = await db.fetchall(
        "SELECT id, device FROM jobs WHERE started_at IS NOT NULL ORDER BY started_at"
    )
    order = [row["id"] for row in rows]
    # next, or after the one job the other worker may have taken already
    assert order.index(lone.job_id) <= started_before + 1
    assert {row["device"] for row in rows} == {"cpu", "ray-1"}  # both kinds took work


async def _status(db: Database, job_id: int) -> JobStatus:
    record = await get_job(db, job_id)
    assert record is not None
    return record.status
