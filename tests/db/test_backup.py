"""Online backups: consistent under concurrent writes, restorable, never overwriting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from db import Database, ImageRecord, JobKind, insert_images, insert_job

T0 = datetime(2026, 11, 21, 23, 8, 25, tzinfo=UTC)


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    """A folder of its own for the backups, so a listing of it shows only what they wrote."""
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def _write_job_with_images(conn: aiosqlite.Connection, n: int) -> None:
    """One job and its four images: a backup must hold all five rows or none."""
    job_id = await insert_job(
        conn,
        kind=JobKind.IMAGINE,
        owner_id=n,
        prompt=f"prompt {n}",
        params={"n": n},
        model="tiny",
        created_at=T0,
    )
    await insert_images(
        conn,
        [
            ImageRecord(
                job_id=job_id, index=i, path=f"{job_id}_{i}.png", seed=i, width=64, height=64
            )
            for i in range(4)
        ],
    )


async def _assert_consistent_prefix(db: Database) -> int:
    """Jobs 1..k, each with exactly its four images; return k."""
    jobs = [row["id"] for row in await db.fetchall("SELECT id FROM jobs ORDER BY id")]
    assert jobs == list(range(1, len(jobs) + 1))
    counts = await db.fetchall("SELECT job_id, count(*) AS n FROM images GROUP BY job_id")
    assert {row["job_id"]: row["n"] for row in counts} == dict.fromkeys(jobs, 4)
    return len(jobs)


async def test_backup_during_writes_restores_a_consistent_prefix(
    db: Database, tmp_path: Path
) -> None:
    for n in range(20):
        async with db.transaction() as conn:
            await _write_job_with_images(conn, n)

    stop = asyncio.Event()
    written = 20

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            async with db.transaction() as conn:
                await _write_job_with_images(conn, written)
            written += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.01)  # let the writer get going
    dest = tmp_path / "nightly" / "nightly.db"  # a folder the backup creates
    await db.backup(dest)
    during = written
    stop.set()
    await writer

    assert _listing(dest.parent) == ["nightly.db"]  # no temp files
    async with await Database.open(dest) as restored:
        assert await restored.schema_version() == await db.schema_version()
        restored_jobs = await _assert_consistent_prefix(restored)
    assert 20 <= restored_jobs <= during
    assert await _assert_consistent_prefix(db) == written


async def test_backup_leaves_out_an_open_transaction(db: Database, backups: Path) -> None:
    async with db.transaction() as conn:
        await _write_job_with_images(conn, 1)
    dest = backups / "b.db"
    async with db.transaction() as conn:
        await _write_job_with_images(conn, 2)
        await db.backup(dest)  # must neither wait for this transaction nor include it
    async with await Database.open(dest) as restored:
        assert await _assert_consistent_prefix(restored) == 1


async def test_backup_is_one_self_contained_file(db: Database, backups: Path) -> None:
    async with db.transaction() as conn:
        await _write_job_with_images(conn, 1)
    dest = backups / "b.db"
    await db.backup(dest)
    assert _listing(backups) == ["b.db"]
    # Rollback-journal mode in the header: no -wal file is needed to read it.
    header = dest.read_bytes()[:20]
    assert header.startswith(b"SQLite format 3\x00")
    assert (header[18], header[19]) == (1, 1)


async def test_backup_refuses_an_existing_destination(db: Database, backups: Path) -> None:
    dest = backups / "existing.db"
    dest.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="already exists"):
        await db.backup(dest)
    assert dest.read_bytes() == b"precious"
    assert _listing(backups) == ["existing.db"]


async def test_backup_does_not_replace_a_file_that_appears_meanwhile(
    db: Database, backups: Path
) -> None:
    """The final rename must not overwrite a destination created while the backup ran."""
    dest = backups / "race.db"
    backup = asyncio.create_task(db.backup(dest))
    await asyncio.sleep(0)  # the backup checks ``dest`` and starts copying
    dest.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError, match="already exists"):
        await backup
    assert dest.read_bytes() == b"someone else's"
    assert _listing(backups) == ["race.db"]
