"""Image-prompted jobs through the worker pool: the workers load the IP-Adapter the
settings name, and a job with images on workers without one fails with a reason to read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from db.database import Database
from db.jobs import JobStatus, get_job
from inference.jobs import ImagePrompt
from inference.models import ip_adapter_ref
from inference.pool.events import JobFailedError
from tests.helpers.pool import PoolMaker, job


def stored_image(folder: Path, colour: tuple[int, int, int]) -> ImagePrompt:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{colour[0]}-{colour[1]}-{colour[2]}.png"
    Image.new("RGB", (32, 32), colour).save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ImagePrompt(str(path), digest, "attachment:photo.png")


def _pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


async def test_a_pool_with_an_adapter_runs_image_prompts_and_blends(
    make_pool: PoolMaker, tiny_ip_adapter: Path, tmp_path: Path
) -> None:
    make_pool.ip_adapter = ip_adapter_ref(str(tiny_ip_adapter))
    pool = await make_pool()
    red = stored_image(tmp_path / "inputs", (220, 20, 20))
    blue = stored_image(tmp_path / "inputs", (20, 20, 220))
    text = await (await pool.submit(job("a fox --seed 5"), owner_id=1))
    prompted = await (await pool.submit(job("a fox --seed 5", image_prompts=(red,)), owner_id=1))
    blend = await (await pool.submit(job("x --seed 5", image_prompts=(red, blue)), owner_id=2))
    assert len(blend.images) == 4
    assert _pixels(prompted.images[0].path) != _pixels(text.images[0].path)


async def test_image_prompts_on_workers_without_an_adapter_fail_saying_what_to_set(
    make_pool: PoolMaker, db: Database, tmp_path: Path
) -> None:
    pool = await make_pool()
    red = stored_image(tmp_path / "inputs", (220, 20, 20))
    handle = await pool.submit(job("a fox", image_prompts=(red,)), owner_id=1)
    with pytest.raises(JobFailedError, match="ATELIER_IP_ADAPTER") as failed:
        await handle.result()
    assert "Traceback" not in str(failed.value)
    record = await get_job(db, handle.job_id)
    assert record is not None
    assert record.status is JobStatus.FAILED
    await (await pool.submit(job("a fox"), owner_id=1))  # the worker keeps serving
