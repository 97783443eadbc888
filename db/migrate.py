"""Numbered SQL migrations, tracked by ``PRAGMA user_version`` and applied atomically."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import aiosqlite

# ``0001_jobs_and_images.sql``: four digits, an underscore, a short lowercase name.
_FILENAME = re.compile(r"^(?P<number>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)\.sql$")

#: A migration's first line that makes it run with foreign keys off: one that rebuilds a
#: table other tables refer to (SQLite's documented way to change a table's constraints).
FOREIGN_KEYS_OFF = "-- atelier: foreign keys off"


class MigrationError(Exception):
    """The migration files, or the database's schema version, cannot be used."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL script; ``number`` becomes ``PRAGMA user_version`` once it is applied."""

    number: int
    name: str
    sql: str


class Migrations:
    """An ordered, gap-free list of migrations numbered 1..N.

    A migration file must not contain its own ``BEGIN``/``COMMIT``: :meth:`apply` wraps each
    one in a transaction together with its ``PRAGMA user_version``, so a migration is either
    fully applied and recorded, or not at all.
    """

    def __init__(self, migrations: Iterable[Migration]) -> None:
        ordered = sorted(migrations, key=lambda m: m.number)
        seen: dict[int, str] = {}
        for migration in ordered:
            if migration.number in seen:
                raise MigrationError(
                    f"duplicate migration number {migration.number:04d}: "
                    f"{seen[migration.number]!r} and {migration.name!r}"
                )
            seen[migration.number] = migration.name
        for expected, migration in enumerate(ordered, start=1):
            if migration.number != expected:
                raise MigrationError(
                    f"migrations must be numbered 1..N without gaps: expected {expected:04d}, "
                    f"found {migration.number:04d}_{migration.name}"
                )
        self._migrations: tuple[Migration, ...] = tuple(ordered)

    @classmethod
    def from_directory(cls, directory: Traversable | Path) -> Migrations:
        """Read every ``NNNN_name.sql`` file in ``directory``; other files are ignored.

        A ``.sql`` file whose name does not follow the pattern is an error rather than being
        skipped, so a misnamed migration cannot silently go unapplied.
        """
        found: list[Migration] = []
        for entry in directory.iterdir():
            if not entry.is_file() or not entry.name.endswith(".sql"):
                continue
            match = _FILENAME.match(entry.name)
            if match is None:
                raise MigrationError(
                    f"migration file {entry.name!r} is not named NNNN_short_name.sql"
                )
            found.append(
                Migration(
                    number=int(match["number"]),
                    name=match["name"],
                    sql=entry.read_text(encoding="utf-8"),
                )
            )
        return cls(found)

    @classmethod
    def packaged(cls) -> Migrations:
        """The migrations shipped in ``db/migrations/`` (works from an installed wheel too)."""
        return cls.from_directory(resources.files("db") / "migrations")

    @property
    def migrations(self) -> Sequence[Migration]:
        return self._migrations

    @property
    def latest(self) -> int:
        """The schema version a fully migrated database has (0 when there are none)."""
        return self._migrations[-1].number if self._migrations else 0

    async def apply(self, conn: aiosqlite.Connection) -> int:
        """Bring the database up to :attr:`latest`; return how many migrations were applied.

        ``conn`` must be in autocommit mode (``isolation_level=None``) and not inside a
        transaction. Each migration runs in ONE ``executescript`` call, because
        ``executescript`` commits any transaction that is already open before it starts:
        ``BEGIN IMMEDIATE; <sql>; PRAGMA user_version = N; COMMIT;``.
        """
        current = await _user_version(conn)
        if current > self.latest:
            raise MigrationError(
                f"database schema version {current} is newer than this Atelier "
                f"(knows {self.latest}); upgrade Atelier"
            )
        applied = 0
        for migration in self._migrations[current:]:
            if migration.sql.startswith(FOREIGN_KEYS_OFF):
                await _apply_without_foreign_keys(conn, migration)
            else:
                await _run(conn, migration, _script(migration, commit=True))
            applied += 1
        return applied


def _script(migration: Migration, *, commit: bool) -> str:
    # Newlines matter: a migration ending in a ``--`` comment would otherwise comment out
    # the version bump.
    return (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql}\n;\n"
        f"PRAGMA user_version = {migration.number};\n"
        f"{'COMMIT;' if commit else ''}\n"
    )


async def _run(conn: aiosqlite.Connection, migration: Migration, script: str) -> None:
    try:
        await conn.executescript(script)
    except BaseException as exc:
        await _undo(conn, migration, exc)
        raise


async def _undo(conn: aiosqlite.Connection, migration: Migration, exc: BaseException) -> None:
    """Roll back a failed migration; an SQLite error becomes a MigrationError naming it."""
    if conn.in_transaction:
        await conn.rollback()
    if isinstance(exc, sqlite3.Error):
        raise MigrationError(
            f"migration {migration.number:04d}_{migration.name} failed: {exc}"
        ) from exc


async def _apply_without_foreign_keys(conn: aiosqlite.Connection, migration: Migration) -> None:
    """Run ``migration`` with foreign keys off, as a table rebuild needs; before it commits,
    ``PRAGMA foreign_key_check`` must find every reference intact, or nothing is kept.

    ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is switched outside, and
    the transaction is left open by the script to be checked and committed here.
    """
    async with conn.execute("PRAGMA foreign_keys") as cursor:
        row = await cursor.fetchone()
    was_on = bool(row and row[0])
    await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        await _run(conn, migration, _script(migration, commit=False))
        try:
            async with conn.execute("PRAGMA foreign_key_check") as cursor:
                broken = list(await cursor.fetchall())
            if broken:
                tables = sorted({str(row[0]) for row in broken})
                raise MigrationError(
                    f"migration {migration.number:04d}_{migration.name} would leave "
                    f"{len(broken)} broken reference(s) in {', '.join(tables)}"
                )
            await conn.execute("COMMIT")
        except BaseException as exc:
            await _undo(conn, migration, exc)
            raise
    finally:
        if was_on:
            await conn.execute("PRAGMA foreign_keys = ON")


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None  # PRAGMA user_version always returns one row
    return int(row[0])
