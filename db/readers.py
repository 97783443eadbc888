"""A fixed set of read-only connections, lent out one read at a time, first come first served.

One reader connection runs its statements one after another on its own thread, so a slow
read (an all-time leaderboard) made every read queued behind it wait: a ❤ press's count,
``/imagine``'s model lookup. With several, a read waits only when all of them are busy.
In WAL mode readers never wait for the writer or for each other; each statement (in
autocommit mode) reads the newest committed snapshot.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Sequence

import aiosqlite


class Readers:
    """Lends each read an idle connection; while every one is busy, reads wait in line.

    A returned connection goes straight to the read that has waited longest, never back
    on the shelf for whoever asks next: an ``asyncio.Queue`` would let a task that reads
    again at once (a leaderboard's next query) take it before the waiting read wakes up,
    and with one connection starve it for ever.
    """

    def __init__(self, connections: Sequence[aiosqlite.Connection]) -> None:
        if not connections:
            raise ValueError("a database needs at least one reader connection")
        self.connections = tuple(connections)
        self._idle = list(connections)
        self._waiting: collections.deque[asyncio.Future[aiosqlite.Connection]] = collections.deque()

    @contextlib.asynccontextmanager
    async def borrow(self) -> AsyncIterator[aiosqlite.Connection]:
        """An idle connection for one read; it goes back when the read is done (or failed,
        or was cancelled: aiosqlite runs the next borrower's statements after whatever the
        connection's thread is still finishing)."""
        conn = await self._take()
        try:
            yield conn
        finally:
            self._give_back(conn)

    async def close(self) -> None:
        """Wait for every read already waiting or running to finish, then close them all.

        This takes the connections back in line, behind the reads already waiting, so
        none of them fails with "connection closed".
        """
        for _ in self.connections:
            await self._take()
        async with contextlib.AsyncExitStack() as closing:  # closes every one, even if one fails
            for conn in self.connections:
                closing.push_async_callback(conn.close)

    async def _take(self) -> aiosqlite.Connection:
        if self._idle and not self._waiting:
            return self._idle.pop()
        handed: asyncio.Future[aiosqlite.Connection] = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        try:
            return await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._give_back(handed.result())  # handed over just as it was cancelled
            elif handed in self._waiting:  # not yet skipped by _give_back
                self._waiting.remove(handed)
            raise

    def _give_back(self, conn: aiosqlite.Connection) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)
