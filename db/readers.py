"""A fixed set of read-only connections, lent out one read at a time.

One reader connection runs its statements one after another on its own thread, so a slow
read (an all-time leaderboard) made every read queued behind it wait: a ❤ press's count,
``/imagine``'s model lookup. With several, a read waits only when all of them are busy.
In WAL mode readers never wait for the writer or for each other; each statement (in
autocommit mode) reads the newest committed snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import aiosqlite


class Readers:
    """Lends each read an idle connection; a read waits (first come, first served) only
    while every connection is busy."""

    def __init__(self, connections: Sequence[aiosqlite.Connection]) -> None:
        if not connections:
            raise ValueError("a database needs at least one reader connection")
        self.connections = tuple(connections)
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in self.connections:
            self._idle.put_nowait(conn)

    @contextlib.asynccontextmanager
    async def borrow(self) -> AsyncIterator[aiosqlite.Connection]:
        """An idle connection for one read; it goes back when the read is done (or failed,
        or was cancelled: aiosqlite runs the next borrower's statements after whatever the
        connection's thread is still finishing)."""
        conn = await self._idle.get()
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        """Wait for every read already waiting or running to finish, then close them all.

        Reads waiting for a connection are served before this takes it back (the queue is
        first come, first served), so none of them fails with "connection closed".
        """
        for _ in self.connections:
            await self._idle.get()
        async with contextlib.AsyncExitStack() as closing:  # closes every one, even if one fails
            for conn in self.connections:
                closing.push_async_callback(conn.close)
