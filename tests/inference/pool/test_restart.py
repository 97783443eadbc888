"""A process killed mid-run loses nothing: the next one finishes every job, each once."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from db.database import Database
from db.jobs import JobStatus, list_images
from tests.helpers.pool import PoolMaker, Script

ROOT = Path(__file__).resolve().parents[3]
JOBS = 6


async def _run_until_ready_then_kill(db: Database, model_dir: Path, images_dir: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.inference.pool.crashing_run",
        str(db.path),
        str(model_dir),
        str(images_dir),
        str(JOBS),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
        assert line.strip() == b"ready"
        await asyncio.sleep(0.25)  # into the next job
    finally:
        process.kill()
        await process.wait()


def _all_files(paths: list[str]) -> bool:
    return all(Path(path).is_file() for path in paths)


async def _statuses(db: Database) -> dict[int, JobStatus]:
    rows = await db.fetchall("SELECT id, status FROM jobs ORDER BY id")
    return {row["id"]: JobStatus(row["status"]) for row in rows}


async def test_jobs_of_a_killed_process_each_complete_exactly_once(
    make_pool: PoolMaker, db: Database, script: Script, tiny_model_dir: Path
) -> None:
    await _run_until_ready_then_kill(db, tiny_model_dir, make_pool.images_dir)
    before = await _statuses(db)
    assert len(before) == JOBS
    finished_before = {job_id for job_id, status in before.items() if status is JobStatus.DONE}
    assert len(finished_before) >= 2
    assert JobStatus.RUNNING in before.values()  # killed in the middle of one
    left = sorted(set(before) - finished_before)

    pool = await make_pool()
    recovered = sorted(
        (handle for owner in (1, 2) for handle in pool.jobs_of(owner)), key=lambda h: h.job_id
    )
    assert [handle.job_id for handle in recovered] == left
    for handle in recovered:
        await asyncio.wait_for(handle.result(), timeout=60)

    assert set((await _statuses(db)).values()) == {JobStatus.DONE}
    for job_id in before:
        images = await list_images(db, job_id)
        assert [image.index for image in images] == [0, 1, 2, 3]
        assert _all_files([image.path for image in images])
    # Nothing that had finished ran again, and nothing unfinished ran twice.
    ran_again = [prompt for batch in script.batches for prompt in batch]
    assert sorted(ran_again) == sorted(handle.job.request.prompt for handle in recovered)
