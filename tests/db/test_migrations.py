"""Migrations: discovery and numbering, atomic application, refusing a too-new schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from db import Database, MigrationError, Migrations


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


def _inspect(path: Path) -> tuple[int, set[str]]:
    """(user_version, names of tables and indexes), read with plain sqlite3."""
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type IN ('table', 'index')"
                " AND name NOT LIKE 'sqlite_%'"
            )
        }
    conn.close()
    return version, names


def test_packaged_migrations_are_numbered_from_one() -> None:
    migrations = Migrations.packaged()
    assert [m.number for m in migrations.migrations] == list(range(1, migrations.latest + 1))
    assert migrations.migrations[0].name == "jobs_and_images"
    assert "CREATE TABLE jobs" in migrations.migrations[0].sql


async def test_fresh_database_is_migrated_to_the_newest_version(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    async with await Database.open(path) as db:
        assert await db.schema_version() == Migrations.packaged().latest
    version, names = _inspect(path)
    assert version == Migrations.packaged().latest
    assert {"jobs", "images", "jobs_status_id", "jobs_owner_created", "jobs_parent"} <= names


async def test_reopening_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    async with await Database.open(path) as db, db.transaction() as conn:
        await conn.execute(
            "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
            " VALUES ('imagine', 0, 'kept', '{}', 'm', '2026-01-01T00:00:00.000000Z')"
        )
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        assert await Migrations.packaged().apply(conn) == 0
    async with await Database.open(path) as db:
        assert await db.schema_version() == Migrations.packaged().latest
        assert [r["prompt"] for r in await db.fetchall("SELECT prompt FROM jobs")] == ["kept"]


async def test_apply_returns_how_many_ran(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "m",
        {"0001_a.sql": "CREATE TABLE a (x);", "0002_b.sql": "CREATE TABLE b (x);"},
    )
    async with aiosqlite.connect(tmp_path / "x.db", isolation_level=None) as conn:
        assert await Migrations.from_directory(folder).apply(conn) == 2
        assert await Migrations.from_directory(folder).apply(conn) == 0
    assert _inspect(tmp_path / "x.db") == (2, {"a", "b"})


async def test_broken_migration_is_not_half_applied(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "m",
        {
            "0001_first.sql": "CREATE TABLE first (x);",
            # Creates a table, then fails: the table must not survive.
            "0002_broken.sql": "CREATE TABLE second (x);\nINSERT INTO missing VALUES (1);",
        },
    )
    path = tmp_path / "atelier.db"
    with pytest.raises(MigrationError, match="0002_broken"):
        await Database.open(path, migrations=Migrations.from_directory(folder))
    assert _inspect(path) == (1, {"first"})

    # Once fixed, the next start applies it.
    _write(folder, {"0002_broken.sql": "CREATE TABLE second (x);"})
    async with await Database.open(path, migrations=Migrations.from_directory(folder)) as db:
        assert await db.schema_version() == 2
    assert _inspect(path) == (2, {"first", "second"})


async def test_migration_ending_in_a_comment_still_records_its_version(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x); -- no newline at end"})
    async with aiosqlite.connect(tmp_path / "x.db", isolation_level=None) as conn:
        assert await Migrations.from_directory(folder).apply(conn) == 1
    assert _inspect(tmp_path / "x.db") == (1, {"a"})


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"0001_a.sql": "", "0003_c.sql": ""}, "without gaps: expected 0002, found 0003_c"),
        ({"0002_b.sql": ""}, "without gaps: expected 0001"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "duplicate migration number 0001"),
        ({"0001_a.sql": "", "2_b.sql": ""}, "'2_b.sql' is not named NNNN_short_name.sql"),
    ],
    ids=["gap", "not-from-one", "duplicate", "misnamed"],
)
def test_bad_numbering_is_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    folder = _write(tmp_path / "m", files)
    with pytest.raises(MigrationError, match=message):
        Migrations.from_directory(folder)


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m", {"0001_a.sql": "", "README.md": "", "__init__.py": ""})
    assert Migrations.from_directory(folder).latest == 1
    assert Migrations.from_directory(_write(tmp_path / "empty", {})).latest == 0


async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    known = Migrations.packaged().latest
    newer = known + 1
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    with pytest.raises(
        MigrationError,
        match=rf"database schema version {newer} is newer than this Atelier \(knows {known}\); "
        "upgrade Atelier",
    ):
        await Database.open(path)
    assert _inspect(path) == (newer, set())  # left untouched


async def test_jobs_queued_before_lanes_existed_wait_in_the_standard_lane(tmp_path: Path) -> None:
    """A database from before migration 0002 keeps its queue: old jobs become standard."""
    path = tmp_path / "old.db"
    first_only = Migrations(Migrations.packaged().migrations[:1])
    old = await Database.open(path, migrations=first_only)
    async with old.transaction() as conn:
        await conn.execute(
            "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
            " VALUES ('imagine', 7, 'a fox', '{}', 'tiny', '2026-11-21T00:00:00.000000Z')"
        )
    await old.close()
    async with await Database.open(path) as upgraded:
        assert await upgraded.schema_version() == Migrations.packaged().latest
        row = await upgraded.fetchone("SELECT lane, status FROM jobs")
        assert row is not None
        assert (row["lane"], row["status"]) == ("standard", "queued")


async def test_jobs_from_before_the_web_studio_get_their_own_public_ids(tmp_path: Path) -> None:
    """Migration 0009 gives every existing job a random public id; new jobs get one too."""
    path = tmp_path / "old.db"
    before_web = Migrations(Migrations.packaged().migrations[:8])
    old = await Database.open(path, migrations=before_web)
    async with old.transaction() as conn:
        for owner in (7, 8, 9):
            await conn.execute(
                "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
                " VALUES ('imagine', ?, 'a fox', '{}', 'tiny', '2026-11-21T00:00:00.000000Z')",
                (owner,),
            )
    await old.close()
    async with await Database.open(path) as upgraded:
        async with upgraded.transaction() as conn:
            await conn.execute(
                "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
                " VALUES ('imagine', 10, 'a fox', '{}', 'tiny', '2026-11-22T00:00:00.000000Z')"
            )
        ids = [row[0] for row in await upgraded.fetchall("SELECT public_id FROM jobs")]
    assert len(ids) == 4
    assert len(set(ids)) == 4
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def _up_to(name: str) -> Migrations:
    """The packaged migrations up to, not including, the one called ``name``."""
    migrations = Migrations.packaged().migrations
    number = next(m.number for m in migrations if m.name == name)
    return Migrations(migrations[: number - 1])


async def test_rebuilding_jobs_for_the_rework_kinds_keeps_every_row_and_rule(
    tmp_path: Path,
) -> None:
    """Migration ``rework_kinds`` rebuilds ``jobs`` with foreign keys off: nothing that
    refers to a job is lost (a cascade would have emptied images and messages), the job
    keeps its public id, and the constraints, indexes and triggers are all back."""
    path = tmp_path / "old.db"
    async with await Database.open(path, migrations=_up_to("rework_kinds")) as old:
        async with old.transaction() as conn:
            await conn.execute(
                "INSERT INTO jobs (id, kind, owner_id, prompt, params, model, created_at,"
                " status, finished_at) VALUES (1, 'imagine', 7, 'a fox', '{}', 'tiny',"
                " '2026-11-21T00:00:00.000000Z', 'done', '2026-11-21T00:01:00.000000Z')"
            )
            await conn.execute(
                "INSERT INTO images (job_id, idx, path, seed, width, height)"
                " VALUES (1, 0, '/1-1.png', 5, 64, 64)"
            )
            await conn.execute(
                "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
                " VALUES (1, 900, 1, 2)"
            )
            await conn.execute(
                "INSERT INTO favorites (user_id, job_id, idx, created_at)"
                " VALUES (8, 1, 0, '2026-11-21T00:02:00.000000Z')"
            )
        before = await old.fetchone("SELECT public_id FROM jobs WHERE id = 1")
        assert before is not None
    async with await Database.open(path) as db:
        assert await db.schema_version() == Migrations.packaged().latest
        row = await db.fetchone("SELECT public_id, lane, prompt FROM jobs WHERE id = 1")
        assert row is not None
        assert (row["public_id"], row["lane"], row["prompt"]) == (before[0], "standard", "a fox")
        for table in ("images", "job_messages", "favorites", "board_job_images", "model_images"):
            count = await db.fetchone(f"SELECT count(*) FROM {table}")
            assert count is not None
            assert count[0] == 1, table
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at,"
                " parent_job_id, parent_index)"
                " VALUES ('zoom', 7, 'a fox', '{}', 'tiny', '2026-11-22T00:00:00.000000Z', 1, 0)"
            )
        zoom = await db.fetchone("SELECT id, public_id FROM jobs WHERE kind = 'zoom'")
        assert zoom is not None
        assert len(zoom["public_id"]) == 32
        with pytest.raises(sqlite3.IntegrityError):  # the kind is still checked
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO jobs (kind, owner_id, prompt, params, model, created_at)"
                    " VALUES ('warp', 7, 'p', '{}', 'tiny', '2026-11-22T00:00:00.000000Z')"
                )
        with pytest.raises(sqlite3.IntegrityError):  # references to jobs are still enforced
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO images (job_id, idx, path, seed, width, height)"
                    " VALUES (99, 0, '/x.png', 1, 8, 8)"
                )
        with pytest.raises(sqlite3.IntegrityError, match="never change"):
            async with db.transaction() as conn:
                await conn.execute("UPDATE jobs SET owner_id = 9 WHERE id = 1")
        names = {
            row[0]
            for row in await db.fetchall(
                "SELECT name FROM sqlite_schema WHERE tbl_name = 'jobs' AND type != 'table'"
            )
        }
        assert names >= {
            "jobs_status_id",
            "jobs_owner_created",
            "jobs_parent",
            "jobs_done_made_at",
            "jobs_public_id",
            "jobs_public_id_on_insert",
            "jobs_lineage_is_fixed",
            "upscale_origins_on_insert",
            "jobs_changed_recount",
            "jobs_removed_model_count",
            "jobs_model_changed_count",
        }


async def test_a_migration_that_would_break_references_is_not_applied(tmp_path: Path) -> None:
    """A migration run with foreign keys off is checked before it commits."""
    folder = _write(
        tmp_path / "m",
        {
            "0001_a.sql": "CREATE TABLE p (id INTEGER PRIMARY KEY);"
            " CREATE TABLE c (p_id INTEGER REFERENCES p (id));",
            "0002_b.sql": "-- atelier: foreign keys off\nINSERT INTO c VALUES (5);",
        },
    )
    both = Migrations.from_directory(folder)
    async with await Database.open(tmp_path / "x.db", migrations=Migrations(both.migrations[:1])):
        pass
    with pytest.raises(MigrationError, match="broken reference"):
        await Database.open(tmp_path / "x.db", migrations=both)
    version, _ = _inspect(tmp_path / "x.db")
    assert version == 1
