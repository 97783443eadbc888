"""The HTTP client of ``bench.web``, run in a process of its own (so it does not share the
server's event loop): reads a JSON plan on stdin, requests the pages, prints one JSON
object of timings (milliseconds) on stdout.

Plan: ``{"base": URL, "pages": {kind: [path, ...]}, "rounds": N, "concurrency": C,
"load_requests": M}``. First ``rounds`` rounds, one request at a time, each kind once per
round (its paths in turn): each kind's latency with nothing else in flight. Then
``load_requests`` requests of every kind in turn, ``concurrency`` at a time: the
throughput, and each kind's latency under that load.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

import aiohttp


async def _get(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as response:
        await response.read()
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
    return (time.perf_counter() - started) * 1000


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    base: str = plan["base"]
    pages: dict[str, list[str]] = plan["pages"]
    cycles = {kind: itertools.cycle(paths) for kind, paths in pages.items()}
    alone: dict[str, list[float]] = {kind: [] for kind in pages}
    loaded: dict[str, list[float]] = {kind: [] for kind in pages}
    connector = aiohttp.TCPConnector(limit=plan["concurrency"])
    async with aiohttp.ClientSession(connector=connector) as session:
        for kind in pages:  # one untimed request each: templates compiled, caches warm
            await _get(session, base + next(cycles[kind]))
        for _ in range(plan["rounds"]):
            for kind in pages:
                alone[kind].append(await _get(session, base + next(cycles[kind])))
        kinds = itertools.cycle(list(pages))
        queue: asyncio.Queue[str] = asyncio.Queue()
        for _ in range(plan["load_requests"]):
            queue.put_nowait(next(kinds))

        async def worker() -> None:
            while not queue.empty():
                kind = queue.get_nowait()
                loaded[kind].append(await _get(session, base + next(cycles[kind])))

        began, started = time.time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(plan["concurrency"])))
        seconds = time.perf_counter() - started
    # Wall-clock times of the load, so the server can pick its loop-lag samples from it.
    return {
        "alone": alone,
        "loaded": loaded,
        "load_seconds": seconds,
        "load_began": began,
        "load_ended": began + seconds,
    }


def main() -> None:
    plan = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(run(plan))))


if __name__ == "__main__":
    main()
