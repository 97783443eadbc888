"""How fast the community features answer on a busy server's database.

Builds a temporary SQLite database the size of a busy server after a year (see
``bench.community_data``: 5,000 members, 200,000 grid jobs with 800,000 images, 50,000
upscales, 150,000 ❤, 50 closed weekly contests, 30 campaigns with ~5,000 ledger events),
then times the queries behind the leaderboards, the hall of fame, the campaign buttons and
export, a Vote press, a ❤ press and /info, each ``--runs`` times after one untimed warm-up.

The same data is measured under three schemas: as the community features shipped it
(migrations 0001–0007), just before the boards' running counts (migration
``board_counts``; the creators, models and trending boards scan there, as they did:
``bench.community_scans``) and the newest, each a copy migrated from the one before; each
round times an operation once on each, so the machine's slower moments fall on all alike,
and the table gives the ratio of each older schema's median to the newest's. Write
operations (a pledge, a vote, a ❤) are made by a different member in every run, so every
run does the same work. ``--plans`` first prints every full table scan in the query plans
of the statements each operation runs (recorded as SQLite runs them).

Then, on the newest schema, ``--presses`` ❤ presses made while the all-time creators board
is being computed, once with one reader connection and once with the read pool
(``bench.community_contention``): how long a press waits for a slow board.

    python -m bench.community
    python -m bench.community --scale 0.1 --runs 3     # a quick look
    python -m bench.community --plans                  # where the full scans are

Human-readable figures first; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.community_contention import Samples, heart_while_board
from bench.community_data import Fixture, build
from bench.community_scans import (
    creators_board_by_scan,
    models_board_by_scan,
    trending_board_by_scan,
)
from bench.community_writer import GUILD_ID, Sizes
from contests.boards.hall_of_fame import count_famed, hall_of_fame
from contests.boards.trending import trending_board
from contests.leaderboards import Window, creators_board, hidden_members, models_board
from contests.voting import press_vote
from db import Database, Migrations
from db.users import add_favorite, count_favorites, usage
from funding.backers import backer_board, has_priority
from funding.campaigns import get_campaign, progress
from funding.export import backers_csv, ledger_csv
from funding.ledger import backer_pledge, pledge

#: The schema as the community features shipped it: migrations 0001–0007.
SHIPPED_VERSION = 7
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

Operation = Callable[[Database, Fixture, int], Awaitable[object]]


@dataclass(frozen=True)
class Timed:
    name: str
    interactive: bool  # a button press or command waits on it before answering
    run: Operation


async def _leaderboard(
    db: Database, f: Fixture, board: str, window: Window, *, counts: bool
) -> object:
    if board == "creators":
        creators = creators_board if counts else creators_board_by_scan
        return await creators(db, guild_id=GUILD_ID, window=window, now=f.now)
    if board == "models":
        models = models_board if counts else models_board_by_scan
        return await models(db, guild_id=GUILD_ID, window=window, now=f.now)
    if board == "trending":
        trending = trending_board if counts else trending_board_by_scan
        return await trending(db, guild_id=GUILD_ID, now=f.now)
    totals = await backer_board(db, since=window.since(f.now), guild_id=GUILD_ID)
    return await hidden_members(db, (t.user_id for t in totals))


def _board(board: str, window: Window, *, counts: bool) -> Timed:
    async def run(db: Database, f: Fixture, _: int) -> object:
        return await _leaderboard(db, f, board, window, counts=counts)

    label = "" if board == "trending" else f" {window.value}"  # trending is always 7 days
    return Timed(f"/leaderboard {board}{label}", False, run)


async def _hall_of_fame(db: Database, f: Fixture, _: int) -> object:
    return await count_famed(db, GUILD_ID), await hall_of_fame(db, GUILD_ID, offset=0, limit=3)


async def _pledge_button(db: Database, f: Fixture, i: int) -> object:
    """Pledge press: the campaign and the member's pledge, to fill the modal."""
    campaign = await get_campaign(db, f.big_campaign)
    return await backer_pledge(db, campaign.id, f.idle_members[i])


async def _pledge_submit(db: Database, f: Fixture, i: int) -> object:
    """The modal's submit: a first pledge, checked and appended in one transaction."""
    return await pledge(
        db,
        f.big_campaign,
        f.idle_members[-1 - i],
        "25",
        anonymous=None,
        interaction_id=9 * 10**17 + i,
        now=f.now,
    )


async def _progress(db: Database, f: Fixture, _: int) -> object:
    return await progress(db, await get_campaign(db, f.big_campaign))


async def _export(db: Database, f: Fixture, _: int) -> object:
    campaign = await get_campaign(db, f.big_campaign)
    return await ledger_csv(db, campaign), await backers_csv(db, campaign)


async def _vote(db: Database, f: Fixture, i: int) -> object:
    return await press_vote(
        db,
        entry_id=f.live_entries[i % len(f.live_entries)],
        voter_id=f.idle_members[i],
        interaction_id=8 * 10**17 + i,
        member_since=f.now - timedelta(days=100),
        now=f.now,
    )


async def _favorite(db: Database, f: Fixture, i: int) -> object:
    await add_favorite(db, f.not_fans[i], f.popular_upscale, 0, f.now)
    return await count_favorites(db, f.popular_upscale, 0)


def _today(f: Fixture) -> datetime:
    return f.now.replace(hour=0, minute=0, second=0, microsecond=0)


async def _usage(db: Database, f: Fixture, _: int) -> object:
    return await usage(db, f.heavy_user, since=_today(f))


async def _info(db: Database, f: Fixture, _: int) -> object:
    return await usage(db, f.heavy_user, since=_today(f)), await has_priority(
        db, f.heavy_user, f.now
    )


def operations(*, counts: bool = True) -> list[Timed]:
    """What is timed; the creators and models boards read the running counts (``counts``)
    or, on a schema without them, scan as they did before (``bench.community_scans``)."""
    boards = [
        _board(board, window, counts=counts)
        for board in ("creators", "models", "backers")
        for window in (Window.WEEK, Window.MONTH, Window.ALL)
    ]
    return [
        *boards,
        _board("trending", Window.WEEK, counts=counts),
        Timed("/contest hall-of-fame (first page)", False, _hall_of_fame),
        Timed("Pledge press (campaign + your pledge)", True, _pledge_button),
        Timed("pledge submit (ledger.pledge)", True, _pledge_submit),
        Timed("campaign progress bar", False, _progress),
        Timed("/campaign export (both CSVs)", True, _export),
        Timed("Vote press (press_vote)", True, _vote),
        Timed("❤ press (add + count)", True, _favorite),
        Timed("/info usage (db.users.usage)", True, _usage),
        Timed("/info usage + lane", True, _info),
    ]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _measure(
    schemas: dict[str, tuple[Path, Migrations]], fixture: Fixture, runs: int, *, plans: bool
) -> dict[str, dict[str, list[float]]]:
    """Every operation on every schema's database (seconds): one untimed warm-up each, then
    ``runs`` rounds, each round timing the operation once on every database in turn (the
    order flipping from round to round), so the machine's slower moments fall on both
    alike. With ``plans``, first print the full scans in the query plans of what each
    operation runs."""
    timings: dict[str, dict[str, list[float]]] = {}
    async with contextlib.AsyncExitStack() as stack:
        dbs = {
            schema: await stack.enter_async_context(
                await Database.open(path, migrations=migrations)
            )
            for schema, (path, migrations) in schemas.items()
        }
        ops = {schema: operations(counts=await _has_counts(db)) for schema, db in dbs.items()}
        if plans:
            for schema, db in dbs.items():
                print(f"\nfull scans on schema {schema}:")
                for op in ops[schema]:
                    await _print_scans(db, op, fixture, runs + 1)
        for n, name in enumerate(op.name for op in operations()):
            samples: dict[str, list[float]] = {schema: [] for schema in dbs}
            for schema, db in dbs.items():
                await ops[schema][n].run(db, fixture, runs)  # warm-up, with a member of its own
            for i in range(runs):
                in_turn = list(dbs.items())
                for schema, db in in_turn if i % 2 == 0 else reversed(in_turn):
                    start = time.perf_counter()
                    await ops[schema][n].run(db, fixture, i)
                    samples[schema].append(time.perf_counter() - start)
            timings[name] = samples
        await _same_boards(dbs, fixture)
    return timings


async def _has_counts(db: Database) -> bool:
    row = await db.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'creator_hearts'")
    return row is not None


async def _same_boards(dbs: dict[str, Database], fixture: Fixture) -> None:
    """Every creators, models and trending board as the oldest schema scans it and as the newest
    counts it (both databases have had the same writes): they must be equal."""
    oldest, newest = next(iter(dbs.values())), list(dbs.values())[-1]
    if not await _has_counts(newest) or await _has_counts(oldest):
        return
    for board, windows in (("creators", Window), ("models", Window), ("trending", [Window.WEEK])):
        for window in windows:
            scanned = await _leaderboard(oldest, fixture, board, window, counts=False)
            counted = await _leaderboard(newest, fixture, board, window, counts=True)
            if scanned != counted:
                raise SystemExit(f"the {board} board ({window.value}) differs from the scan")
    print("every creators, models and trending board equals the scan on the shipped schema")


async def _print_scans(db: Database, op: Timed, fixture: Fixture, run: int) -> None:
    """Run ``op`` once, recording its statements as SQLite runs them, and print the plan
    lines that read a whole table (``SCAN``) of each."""
    statements: list[str] = []
    async with db.tracing(statements.append):
        await op.run(db, fixture, run)
    for sql in dict.fromkeys(statements):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")):
            continue
        plan = [str(r["detail"]) for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql)]
        scans = [line for line in plan if line.startswith("SCAN ")]
        if scans:
            print(f"{op.name}: {' '.join(sql.split())[:90]}…\n    " + "\n    ".join(scans))


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p90_ms": round(_percentile(samples, 0.9) * 1000, 2),
    }


def _print_table(timings: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """One line per operation: each schema's median and p90 and the ratio of each older
    schema's median to the newest's (above 1: the newest is faster)."""
    waits = {op.name: op.interactive for op in operations()}
    schemas = list(next(iter(timings.values())))
    newest = schemas[-1]
    head = f"{'operation':<40} {'waits':<5}"
    for schema in schemas:
        head += f" | {schema + ' median':>10} {'p90':>7}"
    for schema in schemas[:-1]:
        head += f" | {schema + '÷' + newest:>8}"
    print(head + "   (ms)")
    results: dict[str, Any] = {}
    for name, samples in timings.items():
        row: dict[str, Any] = {"interactive": waits[name]}
        line = f"{name:<40} {'yes' if waits[name] else 'no':<5}"
        for schema in schemas:
            row[schema] = _summary(samples[schema])
            line += f" | {row[schema]['median_ms']:>10.1f} {row[schema]['p90_ms']:>7.1f}"
        for schema in schemas[:-1]:
            ratio = statistics.median(samples[schema]) / statistics.median(samples[newest])
            row[f"ratio_{schema}"] = round(ratio, 2)
            line += f" | {ratio:>7.1f}×"
        print(line)
        results[name] = row
    print("waits: yes = the member's button press or command waits on it before any answer")
    return results


def _print_contention(samples: dict[int, Samples]) -> dict[str, Any]:
    """Each mode's press median and p99 and the board's median; the ratio of the p99s."""
    print("\n❤ press while the all-time creators board is computed (ms):")
    results: dict[str, Any] = {}
    for readers, mode in samples.items():
        press = {
            "median_ms": round(statistics.median(mode.presses) * 1000, 1),
            "p99_ms": round(_percentile(mode.presses, 0.99) * 1000, 1),
        }
        board_ms = round(statistics.median(mode.boards) * 1000, 1)
        label = "one reader" if readers == 1 else f"{readers} readers"
        print(
            f"  {label:<10}: press median {press['median_ms']:>7.1f}  p99 {press['p99_ms']:>7.1f}"
            f"   (board median {board_ms:.1f}, {len(mode.boards)} boards,"
            f" {len(mode.presses)} presses)"
        )
        results[str(readers)] = {**press, "board_median_ms": board_ms, "boards": len(mode.boards)}
    one, pool = (results[key]["p99_ms"] for key in results)
    results["p99_ratio"] = round(one / pool, 1)
    print(f"  p99 with one reader ÷ p99 with the pool: {results['p99_ratio']}×")
    return results


def _before_counts() -> int:
    """The schema version before the boards' running counts (migration ``board_counts``)."""
    migrations = Migrations.packaged().migrations
    return next(m.number for m in migrations if m.name == "board_counts") - 1


def _shipped() -> Migrations:
    return Migrations(Migrations.packaged().migrations[:SHIPPED_VERSION])


def _build(workdir: Path, sizes: Sizes) -> tuple[Path, Fixture, float]:
    path = workdir / "shipped.db"
    asyncio.run(_open_and_close(path, _shipped()))
    start = time.perf_counter()
    fixture = build(path, sizes, NOW)
    return path, fixture, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per operation")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every data size")
    parser.add_argument(
        "--plans", action="store_true", help="print the full table scans each operation runs"
    )
    parser.add_argument(
        "--presses", type=int, default=20, help="❤ presses during a board, per mode (0: none)"
    )
    args = parser.parse_args(argv)
    sizes = Sizes().scaled(args.scale) if args.scale != 1.0 else Sizes()
    latest = Migrations.packaged().latest
    with tempfile.TemporaryDirectory(prefix="atelier-community-") as tmp:
        shipped, fixture, build_s = _build(Path(tmp), sizes)
        sizes_mib = [shipped.stat().st_size / 2**20]
        print(
            f"built in {build_s:.1f} s: {sizes_mib[0]:.0f} MiB, "
            + ", ".join(f"{table} {n:,}" for table, n in fixture.rows.items())
        )
        print(
            f"heavy user: {fixture.heavy_jobs:,} jobs; live contest: {len(fixture.live_entries)}"
            f" entries, {fixture.live_votes:,} votes; big campaign: "
            f"{fixture.big_campaign_events:,} ledger events"
        )
        schemas = {f"v{SHIPPED_VERSION}": (shipped, _shipped())}
        # The schema just before the running counts (the boards scan there), then the newest,
        # each migrated from a copy of the one before, as an upgrade would.
        migrate_s = 0.0
        source = shipped
        for version in sorted({_before_counts(), latest} - {SHIPPED_VERSION}):
            target = Path(tmp) / f"v{version}.db"
            shutil.copyfile(source, target)
            migrations = Migrations(Migrations.packaged().migrations[:version])
            start = time.perf_counter()
            asyncio.run(_open_and_close(target, migrations))
            migrate_s = time.perf_counter() - start
            sizes_mib.append(target.stat().st_size / 2**20)
            print(
                f"migrating a copy from {source.stem} to v{version} took {migrate_s:.1f} s;"
                f" the file grew to {sizes_mib[-1]:.0f} MiB"
            )
            schemas[f"v{version}"] = (target, migrations)
            source = target
        timings = asyncio.run(_measure(schemas, fixture, args.runs, plans=args.plans))
        print()
        results = _print_table(timings)
        contention: dict[str, Any] = {}
        if args.presses > 0:
            # _measure's ❤ presses used the first runs + 1 of these members.
            members = fixture.not_fans[args.runs + 1 :]
            newest_path = list(schemas.values())[-1][0]
            samples = asyncio.run(
                heart_while_board(newest_path, fixture, presses=args.presses, members=members)
            )
            contention = _print_contention(samples)
    print(
        json.dumps(
            {
                "build_s": round(build_s, 1),
                "migrate_s": round(migrate_s, 2),
                "db_mib": [round(size) for size in sizes_mib],
                "rows": fixture.rows,
                "runs": args.runs,
                "schemas": list(schemas),
                "operations": results,
                "heart_during_all_time_board": contention,
                "sqlite": sqlite3.sqlite_version,
                "python": platform.python_version(),
            },
            ensure_ascii=False,
        )
    )


async def _open_and_close(path: Path, migrations: Migrations) -> None:
    await (await Database.open(path, migrations=migrations)).close()


if __name__ == "__main__":
    main()
