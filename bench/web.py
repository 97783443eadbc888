"""How fast the web studio answers on a busy server's year of data, and what it costs the
bot's event loop.

Builds the year-sized database of ``bench.community`` (``bench.community_data``: 5,000
members, 250,000 jobs, 834,316 images, 150,000 ❤, 51 contests, 30 campaigns) with the
schema the community features shipped with, migrates it to the newest schema as an
upgrade would, turns the server's gallery on and gives every member a name. Then, in this
process, serves the studio as the bot does (``create_web_app`` with ``/healthz``,
``/metrics`` and the request-counting middleware, on this loop, next to an idle worker
pool) on 127.0.0.1, while a coroutine sleeps 10 ms over and over and records how late it
wakes (the loop's lag). An HTTP client in a process of its own (``bench.web_client``)
requests each kind of page: ``--rounds`` times one request at a time (each kind's
latency), then ``--load-requests`` requests of every kind in turn, ``--concurrency`` at a
time (the throughput, and the loop's lag under that load).

    python -m bench.web
    python -m bench.web --scale 0.1 --rounds 30 --load-requests 300    # a quick look

Targets (the 2-core machine): every kind's p99 ≤ 50 ms, the loop's lag p99 ≤ 20 ms under
load. To measure another page, add it to :func:`pages`. Human-readable figures first; the
last line of stdout is one JSON object.
"""

# ruff: noqa: E402 -- the libraries' logging is quieted before diffusers is first imported

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inference.library_logs import quiet_library_logs

quiet_library_logs()

from bench.community_data import Fixture, build
from bench.community_writer import GUILD_ID, Sizes
from bot.objects import freeze_start_up_objects
from db import Database, Migrations
from db.guilds import set_gallery
from db.times import to_db_time
from inference.models import ModelRef
from inference.pool.config import PoolConfig
from inference.pool.pool import WorkerPool
from inference.pool.worker import Backend
from studio.public_work import public_condition
from web.app import create_web_app
from web.context import WebContext
from web.operations import HealthSources, operations
from web.pages.members import PER_PAGE
from web.server import WebServer

#: The schema the year of data is written in (as ``bench.community``), then migrated.
SHIPPED_VERSION = 7
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PAGE_P99_TARGET_MS = 50.0
LAG_P99_TARGET_MS = 20.0
LAG_PROBE_S = 0.01
#: Different job pages requested in turn.
JOB_PAGES = 50
#: The deep page of the busiest member's gallery.
GALLERY_PAGE = 50


async def pages(db: Database, fixture: Fixture) -> dict[str, list[str]]:
    """Each kind of page and the paths requested for it."""
    jobs = await db.fetchall(
        f"SELECT j.public_id FROM jobs j WHERE {public_condition()} ORDER BY random() LIMIT ?",
        (JOB_PAGES,),
    )
    creator = await db.fetchone(
        "SELECT j.owner_id, count(*) FROM jobs j WHERE "
        f"{public_condition()} GROUP BY j.owner_id ORDER BY count(*) DESC LIMIT 1"
    )
    closed = await db.fetchone(
        "SELECT id FROM contests WHERE guild_id = ? AND state = 'closed'"
        " ORDER BY closed_at DESC LIMIT 1",
        (GUILD_ID,),
    )
    assert creator is not None
    assert closed is not None
    boards = f"/s/{GUILD_ID}/boards"
    deep = min(GALLERY_PAGE, -(-int(creator[1]) // PER_PAGE))  # a smaller --scale has fewer
    return {
        "home": ["/"],
        "job": [f"/j/{row[0]}" for row in jobs],
        "gallery page 1": [f"/m/{creator[0]}"],
        f"gallery page {deep}": [f"/m/{creator[0]}?page={deep}"],
        "contest voting": [f"/contests/{fixture.live_contest}"],
        "contest results": [f"/contests/{closed[0]}"],
        "contests of the server": [f"/s/{GUILD_ID}/contests"],
        "campaign": [f"/campaigns/{fixture.big_campaign}"],
        "board creators (month)": [f"{boards}/creators"],
        "board creators (all)": [f"{boards}/creators?window=all"],
        "board models (all)": [f"{boards}/models"],
        "board models (week)": [f"{boards}/models?window=week"],
        "board backers (all)": [f"{boards}/backers"],
        "board trending": [f"{boards}/trending"],
        "models": ["/models"],
    }


class _NoModels:
    """The idle pool is never asked for a model."""

    async def find(self, name: str) -> ModelRef | None:
        return None


def _no_backend(model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
    raise RuntimeError("the benchmark's pool runs no job")


async def _prepare(db: Database, fixture: Fixture) -> None:
    """The server's gallery on, and a name for every member (as the bot records them)."""
    await set_gallery(db, GUILD_ID, True, name="Bench server")
    members = await db.fetchall("SELECT DISTINCT owner_id FROM jobs")
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO member_names (user_id, name, updated_at) VALUES (?, ?, ?)",
            [(int(r[0]), f"Member {r[0]}", to_db_time(fixture.now)) for r in members],
        )


async def _lag_probe(stop: asyncio.Event, into: list[tuple[float, float]]) -> None:
    """Sleep 10 ms again and again; record (wall time, how late it woke in ms)."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(LAG_PROBE_S)
        into.append((time.time(), (time.perf_counter() - asked - LAG_PROBE_S) * 1000))


async def measure(path: Path, fixture: Fixture, plan: dict[str, Any]) -> dict[str, Any]:
    async with await Database.open(path) as db:
        await _prepare(db, fixture)
        kinds = await pages(db, fixture)
        pool = WorkerPool(
            db,
            _NoModels(),
            PoolConfig(devices=("cpu",)),
            path.parent / "images",
            backend_factory=_no_backend,
        )
        await pool.start(recover=False)
        routes, middlewares = operations(HealthSources(db, pool), metrics=True)
        app = create_web_app(
            WebContext(db, path.parent / "images", lambda: fixture.now),
            routes=routes,
            middlewares=middlewares,
        )
        server = WebServer(app, host="127.0.0.1", port=0)
        await server.start()
        freeze_start_up_objects()  # as the bot's entry point does
        lags: list[tuple[float, float]] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(_lag_probe(stop, lags))
        try:
            client = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.web_client",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await client.communicate(
                json.dumps({**plan, "base": server.url, "pages": kinds}).encode()
            )
            if client.returncode != 0:
                raise SystemExit(f"the client failed (exit {client.returncode})")
        finally:
            stop.set()
            await probe
            await server.stop()
            await pool.shutdown(grace_seconds=1)
    timings: dict[str, Any] = json.loads(out)
    began, ended = timings["load_began"], timings["load_ended"]
    timings["lag_loaded"] = [lag for at, lag in lags if began <= at <= ended]
    timings["lag_alone"] = [lag for at, lag in lags if at < began]
    return timings


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(_percentile(samples, 0.99), 2),
    }


def report(timings: dict[str, Any], concurrency: int) -> dict[str, Any]:
    """Print each kind's figures alone and under load; return the summary."""
    alone: dict[str, list[float]] = timings["alone"]
    loaded: dict[str, list[float]] = timings["loaded"]
    print(f"\n{'page':<26} | {'alone p50':>9} {'p99':>7} | {'loaded p50':>10} {'p99':>7}   (ms)")
    kinds: dict[str, Any] = {}
    for kind in alone:
        kinds[kind] = {"alone": _figures(alone[kind]), "loaded": _figures(loaded[kind])}
        a, b = kinds[kind]["alone"], kinds[kind]["loaded"]
        print(
            f"{kind:<26} | {a['p50_ms']:>9.1f} {a['p99_ms']:>7.1f} |"
            f" {b['p50_ms']:>10.1f} {b['p99_ms']:>7.1f}"
        )
    worst = max(kinds, key=lambda kind: kinds[kind]["alone"]["p99_ms"])
    requests = sum(len(v) for v in loaded.values())
    summary = {
        "pages_p99_ms": kinds[worst]["alone"]["p99_ms"],
        "worst_page": worst,
        "rps": round(requests / timings["load_seconds"], 1),
        "concurrency": concurrency,
        "loop_lag_p99_ms": round(_percentile(timings["lag_loaded"], 0.99), 2),
        "loop_lag_p50_ms": round(statistics.median(timings["lag_loaded"]), 2),
        "loop_lag_alone_p99_ms": round(_percentile(timings["lag_alone"], 0.99), 2),
        "loaded_pages_p99_ms": max(k["loaded"]["p99_ms"] for k in kinds.values()),
        "pages": kinds,
    }
    print(
        f"\nworst page p99 (one request at a time): {summary['pages_p99_ms']:.1f} ms ({worst});"
        f" target ≤ {PAGE_P99_TARGET_MS:g}: {_met(summary['pages_p99_ms'], PAGE_P99_TARGET_MS)}"
    )
    print(
        f"{requests} requests at concurrency {concurrency}: {summary['rps']:.0f} requests/s;"
        f" loop lag p50 {summary['loop_lag_p50_ms']:.1f} ms, p99"
        f" {summary['loop_lag_p99_ms']:.1f} ms; target ≤ {LAG_P99_TARGET_MS:g}:"
        f" {_met(summary['loop_lag_p99_ms'], LAG_P99_TARGET_MS)}"
    )
    return summary


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


async def _open_and_close(path: Path, migrations: Migrations) -> None:
    await (await Database.open(path, migrations=migrations)).close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every data size")
    parser.add_argument("--rounds", type=int, default=100, help="requests per kind, one at a time")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at once under load")
    parser.add_argument("--load-requests", type=int, default=3000, help="requests under load")
    args = parser.parse_args(argv)
    sizes = Sizes().scaled(args.scale) if args.scale != 1.0 else Sizes()
    with tempfile.TemporaryDirectory(prefix="atelier-web-") as tmp:
        path = Path(tmp) / "atelier.db"
        asyncio.run(
            _open_and_close(path, Migrations(Migrations.packaged().migrations[:SHIPPED_VERSION]))
        )
        started = time.perf_counter()
        fixture = build(path, sizes, NOW)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        asyncio.run(_open_and_close(path, Migrations.packaged()))
        migrate_s = time.perf_counter() - started
        print(
            f"built in {build_s:.1f} s, migrated to v{Migrations.packaged().latest} in"
            f" {migrate_s:.1f} s: {path.stat().st_size / 2**20:.0f} MiB, "
            + ", ".join(f"{table} {n:,}" for table, n in fixture.rows.items() if n > 1000)
        )
        plan = {
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "load_requests": args.load_requests,
        }
        timings = asyncio.run(measure(path, fixture, plan))
    summary = report(timings, args.concurrency)
    print(
        json.dumps(
            {
                **summary,
                "rounds": args.rounds,
                "load_requests": args.load_requests,
                "build_s": round(build_s, 1),
                "migrate_s": round(migrate_s, 1),
                "rows": fixture.rows,
                "sqlite": sqlite3.sqlite_version,
                "python": platform.python_version(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
