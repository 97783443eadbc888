"""The SQLite database: one locked writer, a few read-only readers, migrations and backups."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeAlias

import aiosqlite

from db.migrate import Migrations
from db.readers import Readers

Params: TypeAlias = Sequence[Any] | Mapping[str, Any]
"""Query parameters: positional (``?``) or named (``:name``)."""

#: Read-only connections per database: a slow read (an all-time board) and a few quick ones
#: run at once; more would only add threads and page caches on a small machine.
DEFAULT_READERS = 4


class Database:
    """An Atelier database file, opened in WAL mode: one writer and a few readers.

    All writes go through :meth:`transaction`, which serialises them behind one
    ``asyncio.Lock``. aiosqlite runs every statement of a connection on one thread but lets
    any number of coroutines issue statements on it, so without the lock two coroutines can
    interleave inside one transaction (and one's ROLLBACK discards the other's INSERT).

    Reads (:meth:`fetchone`, :meth:`fetchall`) go through read-only connections of their own
    (``readers`` of them, lent one read at a time by :class:`~db.readers.Readers`): in WAL
    mode they never wait for the writer or for each other, so a quick read waits for a slow
    one only while every reader is busy. They see committed data only: a read that must see
    what the open transaction has written so far runs on the connection
    :meth:`transaction` yields, as every read inside a transaction here does.
    """

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        readers: Readers,
        busy_timeout_ms: int,
    ) -> None:
        """Use :meth:`open`; this only stores already configured connections."""
        self._path = path
        self._writer = writer
        self._readers = readers
        self._busy_timeout_ms = busy_timeout_ms
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        migrations: Migrations | None = None,
        readers: int = DEFAULT_READERS,
    ) -> Database:
        """Open (creating if needed) the database at ``path`` and migrate it to the newest schema.

        ``migrations`` defaults to the ones packaged in ``db/migrations/``. ``readers`` is how
        many reads may run at once (1: every read waits for the one before it, as before
        the read pool; ``bench.community`` compares the two). Raises
        :class:`~db.migrate.MigrationError` if the file's schema is newer than the code.
        """
        path = Path(path)
        if str(path) == ":memory:":
            raise ValueError("Database needs a file: WAL and a second connection need one")
        if readers < 1:
            raise ValueError(f"a database needs at least one reader connection, not {readers}")
        path.parent.mkdir(parents=True, exist_ok=True)
        migrations = migrations if migrations is not None else Migrations.packaged()

        opened: list[aiosqlite.Connection] = []
        try:
            writer = await _connect(path, busy_timeout_ms)
            opened.append(writer)
            for _ in range(readers):
                reader = await _connect(path, busy_timeout_ms)
                opened.append(reader)
                # A guard rail, not a security boundary: a write on a reader would bypass
                # the lock.
                await _execute(reader, "PRAGMA query_only=ON")
            await migrations.apply(writer)
        except BaseException:
            for conn in reversed(opened):
                await conn.close()
            raise
        return cls(path, writer, Readers(opened[1:]), busy_timeout_ms)

    @property
    def path(self) -> Path:
        return self._path

    async def close(self) -> None:
        """Wait for the write and the reads in progress (if any) to finish, then close every
        connection. Reads and writes asked for afterwards raise RuntimeError.

        Must not be called from inside :meth:`transaction` (that would wait for itself).
        """
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:
            try:
                await self._readers.close()
            finally:
                await self._writer.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"database {self._path} is closed")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the write lock for a ``BEGIN IMMEDIATE`` ... ``COMMIT`` on the writer connection.

        Yields the writer connection. Any exception (cancellation included) rolls back and is
        re-raised; so does a failing COMMIT. The lock is released in every case. Not
        re-entrant: do not open a transaction inside another one.
        """
        self._check_open()
        async with self._write_lock:
            conn = self._writer
            try:
                await _execute(conn, "BEGIN IMMEDIATE")
                yield conn
                await _execute(conn, "COMMIT")
            except BaseException:
                await _rollback_if_open(conn)
                raise

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run a query on an idle reader connection and return its first row, if any."""
        self._check_open()
        # Closing the cursor resets the statement; an unfinished statement would keep its
        # read transaction (and so an old snapshot) open for later reads on this connection.
        async with self._readers.borrow() as reader, reader.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a query on an idle reader connection and return all its rows."""
        self._check_open()
        async with self._readers.borrow() as reader, reader.execute(sql, params) as cursor:
            rows: list[sqlite3.Row] = list(await cursor.fetchall())
        return rows

    @contextlib.asynccontextmanager
    async def tracing(self, record: Callable[[str], object]) -> AsyncIterator[None]:
        """Pass every statement any connection runs meanwhile to ``record``, as SQLite runs
        it (for reading query plans: ``bench.community --plans``, the index tests)."""
        connections = (self._writer, *self._readers.connections)
        for conn in connections:
            await conn.set_trace_callback(record)
        try:
            yield
        finally:
            for conn in connections:
                # None turns tracing off (sqlite3's API); aiosqlite's annotation leaves it out.
                await conn.set_trace_callback(None)  # type: ignore[arg-type]

    async def schema_version(self) -> int:
        """The number of the last migration applied (``PRAGMA user_version``)."""
        row = await self.fetchone("PRAGMA user_version")
        assert row is not None  # PRAGMA user_version always returns one row
        return int(row[0])

    async def backup(self, dest: str | Path) -> None:
        """Write a consistent copy of the database to ``dest``, which must not exist yet.

        Uses the SQLite online backup API in a single step, from a connection of its own: the
        copy is one read snapshot, so it holds every committed transaction up to that moment
        and nothing of one still open on the writer, and neither writes nor reads wait for it.
        The copy is written to a temporary file next to ``dest`` and only then linked to its
        final name, so ``dest`` is always either absent or complete.
        """
        self._check_open()
        dest = Path(dest)
        if dest.exists():
            raise FileExistsError(f"backup destination {dest} already exists; not overwriting it")
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            source = await _connect(self._path, self._busy_timeout_ms, configure=False)
            try:
                async with aiosqlite.connect(tmp, isolation_level=None) as target:
                    await source.backup(target)
                    # The copied header says WAL; a backup is better as one self-contained file.
                    await _execute(target, "PRAGMA journal_mode=DELETE")
            finally:
                await source.close()
            _link_without_overwriting(tmp, dest)
        finally:
            for leftover in (tmp, *(Path(f"{tmp}{s}") for s in ("-journal", "-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        _fsync_directory(dest.parent)


async def _connect(
    path: Path, busy_timeout_ms: int, *, configure: bool = True
) -> aiosqlite.Connection:
    """Open a connection in autocommit mode (so our explicit BEGIN is the only transaction).

    With ``configure``, set the pragmas every Atelier connection needs. ``journal_mode`` is
    persistent in the file, the others are per connection.
    """
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await _execute(conn, f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if configure:
            async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
                row = await cursor.fetchone()
            if row is None or str(row[0]).lower() != "wal":
                raise sqlite3.OperationalError(
                    f"could not switch {path} to WAL mode (got {row[0] if row else None!r})"
                )
            await _execute(conn, "PRAGMA foreign_keys=ON")
            await _execute(conn, "PRAGMA synchronous=NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _execute(conn: aiosqlite.Connection, sql: str) -> None:
    """Run one statement that returns no rows, closing its cursor."""
    async with conn.execute(sql):
        pass


async def _rollback_if_open(conn: aiosqlite.Connection) -> None:
    """Roll back the writer's transaction, if one is open.

    ROLLBACK is queued behind whatever the connection is still running (aiosqlite runs its
    statements in order on one thread), so this also works when a cancelled coroutine left a
    BEGIN or INSERT in flight: asking ``in_transaction`` first could answer too early.
    """
    try:
        await _execute(conn, "ROLLBACK")
    except sqlite3.OperationalError:
        # "cannot rollback - no transaction is active": BEGIN failed, or SQLite already
        # rolled back by itself (some errors do). Anything else is a real problem.
        if conn.in_transaction:
            raise


def _link_without_overwriting(src: Path, dest: Path) -> None:
    """Give ``src`` the name ``dest`` atomically, failing if ``dest`` appeared meanwhile.

    ``os.replace`` would silently overwrite; a hard link fails with FileExistsError instead.
    Where hard links are unsupported, fall back to check-then-rename.
    """
    try:
        os.link(src, dest)
    except FileExistsError:
        raise FileExistsError(
            f"backup destination {dest} already exists; not overwriting it"
        ) from None
    except OSError:
        if dest.exists():
            raise FileExistsError(
                f"backup destination {dest} already exists; not overwriting it"
            ) from None
        os.replace(src, dest)


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable (POSIX only; best effort elsewhere)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
