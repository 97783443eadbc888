"""The read pool: quick reads do not wait for a slow one, every reader sees each commit and
refuses writes, at most ``readers`` reads run at once, and closing waits for reads.

A "slow read" here is a query calling ``gate()``, an SQL function (registered on every
reader) that blocks its connection's thread until the test opens the gate: what a read
waits for is decided by events, not by how long anything takes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from db import Database
from db.readers import Readers

#: Long enough never to matter when the code is right; it only turns a read that would wait
#: for ever (the code being wrong) into a failed assertion instead of a hung test.
_GATE_FALLBACK_SECONDS = 10.0


class Gate:
    """``SELECT gate()`` blocks until :meth:`open`; ``entered`` counts reads inside it."""

    def __init__(self) -> None:
        self._opened = threading.Event()
        self._entered = threading.Semaphore(0)

    async def install(self, db: Database) -> None:
        for conn in db._readers.connections:
            await conn.create_function("gate", 0, self._wait)

    def _wait(self) -> int:
        self._entered.release()
        self._opened.wait(_GATE_FALLBACK_SECONDS)
        return 1

    async def entered(self) -> None:
        """Wait until one more read is inside the gate."""
        assert await asyncio.to_thread(self._entered.acquire, True, _GATE_FALLBACK_SECONDS)

    def open(self) -> None:
        self._opened.set()


async def _insert_job(db: Database, prompt: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
            " VALUES ('imagine', 0, ?, '{}', 'm', '2026-01-01T00:00:00.000000Z')",
            (prompt,),
        )


async def test_a_quick_read_does_not_wait_for_a_slow_one(db: Database) -> None:
    gate = Gate()
    await gate.install(db)
    finished: list[str] = []

    async def read(name: str, sql: str) -> None:
        await db.fetchone(sql)
        finished.append(name)

    slow = asyncio.create_task(read("slow board", "SELECT gate()"))
    await gate.entered()
    await read("❤ count", "SELECT count(*) FROM jobs")
    gate.open()
    await slow

    # With one reader the count would have waited for the gate (and finished second).
    assert finished == ["❤ count", "slow board"]


async def test_every_reader_sees_each_commit(db: Database) -> None:
    readers = len(db._readers.connections)
    prompts: list[str] = []
    for prompt in ("first", "second"):
        await _insert_job(db, prompt)
        prompts.append(prompt)
        # As many reads as readers, each holding its reader until all are inside the
        # barrier: every reader has to read the new row.
        barrier = threading.Barrier(readers, timeout=_GATE_FALLBACK_SECONDS)
        for conn in db._readers.connections:
            await conn.create_function("together", 0, barrier.wait)
        seen = await asyncio.gather(
            *(
                db.fetchone(
                    "SELECT together(), (SELECT group_concat(prompt, ',') FROM "
                    "(SELECT prompt FROM jobs ORDER BY id)) AS prompts"
                )
                for _ in range(readers)
            )
        )
        assert [row["prompts"] if row else None for row in seen] == [",".join(prompts)] * readers


async def test_every_reader_refuses_writes(db: Database) -> None:
    # All at once, so every reader gets one of them.
    attempts = await asyncio.gather(
        *(db.fetchall("DELETE FROM jobs") for _ in db._readers.connections),
        return_exceptions=True,
    )
    assert all(
        isinstance(error, sqlite3.OperationalError) and "readonly" in str(error)
        for error in attempts
    ), attempts


async def test_a_read_waits_while_every_reader_is_busy(tmp_path: Path) -> None:
    connections = [await aiosqlite.connect(tmp_path / "x.db") for _ in range(2)]
    readers = Readers(connections)
    async with readers.borrow() as first, readers.borrow() as second:
        third = asyncio.create_task(_borrowed(readers))
        for _ in range(5):
            await asyncio.sleep(0)  # let the third borrower run as far as it can
        assert not third.done()
    assert await third in (first, second)
    await readers.close()


async def test_a_waiting_read_goes_before_one_that_asks_again_at_once(tmp_path: Path) -> None:
    """A board's next query must not take the connection from a ❤ count already waiting."""
    readers = Readers([await aiosqlite.connect(tmp_path / "x.db")])
    order: list[str] = []
    async with readers.borrow():  # the board's first query
        counting = asyncio.create_task(_note(readers, "❤ count", order))
        await asyncio.sleep(0)  # the count is waiting now
    await _note(readers, "board's next query", order)  # asks at once, in the same step
    await counting
    assert order == ["❤ count", "board's next query"]
    await readers.close()


async def test_a_cancelled_wait_loses_no_connection(tmp_path: Path) -> None:
    readers = Readers([await aiosqlite.connect(tmp_path / "x.db")])
    async with readers.borrow():
        waiting = asyncio.create_task(_borrowed(readers))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert await _borrowed(readers) is readers.connections[0]
    await readers.close()


async def _note(readers: Readers, name: str, order: list[str]) -> None:
    async with readers.borrow():
        order.append(name)


async def _borrowed(readers: Readers) -> aiosqlite.Connection:
    async with readers.borrow() as conn:
        return conn


async def test_close_waits_for_the_reads_in_progress_then_closes_every_reader(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "atelier.db", readers=2)
    gate = Gate()
    await gate.install(db)
    slow = [asyncio.create_task(db.fetchone("SELECT gate() AS passed")) for _ in range(2)]
    for _ in slow:
        await gate.entered()  # both readers are busy
    closing = asyncio.create_task(db.close())
    for _ in range(5):
        await asyncio.sleep(0)  # let close() go as far as it can while the reads are inside
    assert not closing.done()
    gate.open()
    await closing

    # They finished instead of failing on a closed connection.
    assert [row["passed"] if row else None for row in await asyncio.gather(*slow)] == [1, 1]
    for conn in db._readers.connections:
        with pytest.raises(ValueError, match="no active connection"):
            await conn.execute("SELECT 1")
    with pytest.raises(RuntimeError, match="closed"):
        await db.fetchone("SELECT 1")


async def test_a_database_needs_a_reader(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one reader"):
        await Database.open(tmp_path / "atelier.db", readers=0)
