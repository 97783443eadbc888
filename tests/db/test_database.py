"""Database: connection pragmas, the writer lock, transactions and read isolation."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from db import Database


async def _insert_job(conn: aiosqlite.Connection, prompt: str) -> None:
    """A minimal valid job row, written with raw SQL so these tests don't depend on db.jobs."""
    await conn.execute(
        "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
        " VALUES ('imagine', 0, ?, '{}', 'm', '2026-01-01T00:00:00.000000Z')",
        (prompt,),
    )


async def _prompts(db: Database) -> list[str]:
    return [row["prompt"] for row in await db.fetchall("SELECT prompt FROM jobs ORDER BY id")]


async def test_open_creates_parent_directory_and_closes(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "atelier.db"
    async with await Database.open(path) as db:
        assert db.path == path
        assert path.is_file()
    with pytest.raises(RuntimeError, match="closed"):
        await db.fetchall("SELECT 1")
    await db.close()  # closing twice is harmless


async def test_memory_database_is_refused() -> None:
    with pytest.raises(ValueError, match="file"):
        await Database.open(":memory:")


async def test_every_connection_has_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "a.db", busy_timeout_ms=1234) as db:
        async with db.transaction() as writer:
            writer_pragmas = {}
            for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
                async with writer.execute(f"PRAGMA {pragma}") as cursor:
                    row = await cursor.fetchone()
                    assert row is not None
                    writer_pragmas[pragma] = row[0]
        reader_pragmas = {}
        for pragma in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"):
            row = await db.fetchone(f"PRAGMA {pragma}")
            assert row is not None
            reader_pragmas[pragma] = row[0]
        query_only = await db.fetchone("PRAGMA query_only")

    expected = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 1234, "synchronous": 1}
    assert writer_pragmas == expected
    assert reader_pragmas == expected
    assert query_only is not None
    assert query_only[0] == 1


async def test_reader_connection_cannot_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.fetchall("DELETE FROM jobs")


async def test_transaction_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "kept")

    async def insert_then_fail() -> None:
        async with db.transaction() as conn:
            await _insert_job(conn, "lost")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        await insert_then_fail()
    assert await _prompts(db) == ["kept"]


async def test_writer_lock_keeps_concurrent_transactions_apart(db: Database) -> None:
    """A's insert is rolled back, B's insert (begun during A's transaction) survives.

    Without the lock, B's BEGIN would run on the shared connection inside A's open
    transaction and fail, and B's rollback (or A's, later) would take the other's row with it.
    """
    a_inserted = asyncio.Event()
    order: list[str] = []

    async def a_fails() -> None:
        async with db.transaction() as conn:
            await _insert_job(conn, "from A")
            order.append("A inserted")
            a_inserted.set()
            await asyncio.sleep(0.05)  # B tries to write now
            order.append("A raises")
            raise RuntimeError("A fails")

    async def a() -> None:
        with pytest.raises(RuntimeError, match="A fails"):
            await a_fails()

    async def b() -> None:
        await a_inserted.wait()
        order.append("B begins")
        async with db.transaction() as conn:
            order.append("B in transaction")
            await _insert_job(conn, "from B")

    await asyncio.wait_for(asyncio.gather(a(), b()), timeout=5)

    assert order == ["A inserted", "B begins", "A raises", "B in transaction"]
    assert await _prompts(db) == ["from B"]


async def test_cancelled_transaction_rolls_back_and_releases_the_lock(db: Database) -> None:
    inside = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await _insert_job(conn, "cancelled")
            inside.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(writer())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with asyncio.timeout(5), db.transaction() as conn:
        await _insert_job(conn, "after")
    assert await _prompts(db) == ["after"]


async def test_failed_commit_rolls_back_and_releases_the_lock(db: Database) -> None:
    # A deferred foreign key is only checked at COMMIT, so COMMIT itself fails.
    async def write_dangling_image() -> None:
        async with db.transaction() as conn:
            await conn.execute("PRAGMA defer_foreign_keys=ON")
            await _insert_job(conn, "with a bad image")
            await conn.execute(
                "INSERT INTO images (job_id, idx, path, seed, width, height)"
                " VALUES (999, 0, 'x.png', 1, 64, 64)"
            )

    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await write_dangling_image()

    async with asyncio.timeout(5), db.transaction() as conn:
        # Getting here means BEGIN succeeded: the failed transaction was not left open.
        await _insert_job(conn, "after")
    assert await _prompts(db) == ["after"]


async def test_reads_see_only_committed_data(db: Database) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "pending")
        assert await db.fetchall("SELECT * FROM jobs") == []
        assert await db.fetchone("SELECT * FROM jobs") is None
    row = await db.fetchone("SELECT prompt FROM jobs")
    assert row is not None
    assert row["prompt"] == "pending"


async def test_fetchone_does_not_pin_an_old_snapshot(db: Database) -> None:
    async with db.transaction() as conn:
        for n in range(3):
            await _insert_job(conn, f"job {n}")
    # Reads only the first of three rows; the statement must still be finished afterwards.
    assert await db.fetchone("SELECT id FROM jobs ORDER BY id") is not None
    async with db.transaction() as conn:
        await _insert_job(conn, "later")
    assert len(await db.fetchall("SELECT id FROM jobs")) == 4


async def test_close_waits_for_the_transaction_in_progress(db: Database) -> None:
    inside = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            inside.set()
            await asyncio.sleep(0.05)
            await _insert_job(conn, "finished before close")

    task = asyncio.create_task(writer())
    await inside.wait()
    await db.close()
    await task  # did not fail with "Connection closed"

    async with await Database.open(db.path) as reopened:
        assert await _prompts(reopened) == ["finished before close"]


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO images (job_id, idx, path, seed, width, height)"
                " VALUES (42, 0, 'x.png', 1, 64, 64)"
            )


async def test_deleting_a_job_deletes_its_images(db: Database) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "p")
        await conn.execute(
            "INSERT INTO images (job_id, idx, path, seed, width, height)"
            " VALUES (1, 0, 'x.png', 1, 64, 64)"
        )
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM jobs")
    assert await db.fetchall("SELECT * FROM images") == []


_GOOD_JOB = {
    "kind": "imagine",
    "owner_id": 0,
    "prompt": "p",
    "params": "{}",
    "model": "m",
    "created_at": "2026-01-01T00:00:00.000000Z",
    "status": "queued",
    "parent_job_id": None,
    "parent_index": None,
    "gpu_seconds": 0,
}


@pytest.mark.parametrize(
    "override",
    [
        {"status": "paused"},
        {"kind": "inpaint"},
        {"params": "not json"},
        {"params": "[1, 2]"},
        {"gpu_seconds": -1.0},
        {"parent_job_id": 1, "parent_index": None},
        {"parent_job_id": None, "parent_index": 0},
        {"parent_job_id": 1, "parent_index": 4},
    ],
    ids=str,
)
async def test_job_check_constraints(db: Database, override: dict[str, object]) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "parent")  # id 1, so parent references are valid
    row = {**_GOOD_JOB, **override}
    columns = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({marks})", row)


@pytest.mark.parametrize(
    ("seed", "width", "idx"),
    [(-1, 64, 0), (2**32, 64, 0), (0, 0, 0), (0, 64, -1)],
)
async def test_image_check_constraints(db: Database, seed: int, width: int, idx: int) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "p")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO images (job_id, idx, path, seed, width, height)"
                " VALUES (1, ?, 'x.png', ?, ?, 64)",
                (idx, seed, width),
            )


async def test_seed_range_ends_are_accepted(db: Database) -> None:
    async with db.transaction() as conn:
        await _insert_job(conn, "p")
        await conn.executemany(
            "INSERT INTO images (job_id, idx, path, seed, width, height)"
            " VALUES (1, ?, 'x.png', ?, 64, 64)",
            [(0, 0), (1, 2**32 - 1)],
        )
    rows = await db.fetchall("SELECT seed FROM images ORDER BY idx")
    assert [r["seed"] for r in rows] == [0, 2**32 - 1]
