"""How fast the bot acknowledges interactions while its queue is full.

Discord gives a bot 3 seconds to acknowledge an interaction, and members feel anything past
a few hundred milliseconds. This starts the whole bot (``create_bot``: database, worker
pool on a tiny random model, every cog) against the loopback Discord stand-in from the
tests, and measures, from the moment the stand-in sends INTERACTION_CREATE over the gateway
to the moment the bot's callback arrives:

1. a baseline with nothing queued, then
2. the same interactions with ``--queued`` jobs (default 100) waiting while the CPU worker
   renders (so the event loop shares the machine with inference, as on a busy host).

Each round sends ``--rounds`` of each kind: ``/imagine`` (acknowledged with a defer),
``/info`` (walks the queue for positions and ETAs), U1 (plans and queues an upscale before
answering) and ❤ Favorite (a database write). Interactions are sent one after another, each
acknowledged before the next, as a steady trickle of members would.

    python -m bench.discord_ack
    python -m bench.discord_ack --queued 200 --rounds 50

Human-readable figures first; the last line of stdout is one JSON object.
"""

# ruff: noqa: E402 -- the libraries' logging is quieted before diffusers is first imported

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from inference.library_logs import quiet_library_logs

quiet_library_logs()

import discord

from bot.app import AtelierBot, create_bot
from bot.settings import load_settings
from cogs.resources import Tuning
from inference.tiny import save_tiny_model
from tests.discord_standin import FakeDiscord, FakeUser, InteractionRecord, RecordedMessage

KINDS = ("imagine", "info", "upscale", "favorite")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p99_ms": round(_percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


async def _ack(record: Awaitable[InteractionRecord]) -> float:
    rec = await record
    await rec.wait_acknowledged(timeout=10)
    assert rec.acknowledged_at is not None
    return rec.acknowledged_at - rec.created_at


async def _round(
    fake: FakeDiscord,
    members: list[FakeUser],
    upscaled: RecordedMessage,
    grid: RecordedMessage,
    rounds: int,
) -> dict[str, list[float]]:
    owner = members[0]
    grid_job = grid.custom_ids[0].split(":")[2]
    up_job = next(c for c in upscaled.custom_ids if c.startswith("atelier:fav:")).split(":")[2]
    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    senders: dict[str, Callable[[int], Awaitable[InteractionRecord]]] = {
        "imagine": lambda i: fake.slash(
            "imagine", {"prompt": f"bench {i} --steps 1"}, user=members[1 + i % (len(members) - 1)]
        ),
        "info": lambda i: fake.slash("info", {}, user=owner),
        "upscale": lambda i: fake.press(grid.id, f"atelier:u:{grid_job}:{i % 4}", user=owner),
        "favorite": lambda i: fake.press(upscaled.id, f"atelier:fav:{up_job}:0", user=owner),
    }
    for i in range(rounds):
        for kind in KINDS:
            latencies[kind].append(await _ack(senders[kind](i)))
    return latencies


async def _measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    model_dir = save_tiny_model(workdir / "tiny", "sd")
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        settings = load_settings(
            discord_token=fake.bot_token,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
            data_dir=workdir / "data",
            model=str(model_dir),
            devices="cpu",
            web_port=0,
            default_steps=4,
            max_queued_per_user=1000,
            max_running_per_user=100,
            shutdown_grace_seconds=0,
        )
        bot: AtelierBot = create_bot(settings, tuning=Tuning())
        runner = asyncio.create_task(bot.start(fake.bot_token))
        try:
            await fake.wait_until_ready(timeout=60)
            await fake.wait_for(lambda: bot.get_guild(fake.guild_id) is not None, timeout=30)
            pool = bot.pool
            assert pool is not None  # set up at login
            members = [fake.add_user(f"member{i}") for i in range(21)]
            first = await fake.slash("imagine", {"prompt": "a grid to press"}, user=members[0])
            grid = await first.wait_original(
                lambda m: any(c.startswith("atelier:u:") for c in m.custom_ids), timeout=60
            )
            up = await fake.press(grid.id, grid.custom_ids[0], user=members[0])
            upscaled = await up.wait_original(
                lambda m: any(c.startswith("atelier:fav:") for c in m.custom_ids), timeout=60
            )
            await fake.wait_for(lambda: not pool.jobs_of(members[0].id), timeout=60)

            baseline = await _round(fake, members, upscaled, grid, args.rounds)
            await fake.wait_for(lambda: pool.metrics().queue_depth["standard"] == 0, timeout=300)

            for i in range(args.queued):
                rec = await fake.slash(
                    "imagine",
                    {"prompt": f"queued {i} --steps {args.queued_steps}"},
                    user=members[1 + i % 20],
                )
                await rec.wait_original(lambda m: not m.loading, timeout=30)
            depth_before = pool.metrics().queue_depth["standard"]
            loaded = await _round(fake, members, upscaled, grid, args.rounds)
            depth_after = pool.metrics().queue_depth["standard"]
        finally:
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
    every_base = [v for values in baseline.values() for v in values]
    every_loaded = [v for values in loaded.values() for v in values]
    return {
        "rounds": args.rounds,
        "queued_before": depth_before,
        "queued_after": depth_after,
        "baseline": {kind: _summary(values) for kind, values in baseline.items()}
        | {"all": _summary(every_base)},
        "queued": {kind: _summary(values) for kind, values in loaded.items()}
        | {"all": _summary(every_loaded)},
        "p99_ratio": round(_percentile(every_loaded, 0.99) / _percentile(every_base, 0.99), 2),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discord_ack", description=__doc__)
    parser.add_argument("--queued", type=int, default=100, help="jobs waiting while measuring")
    parser.add_argument("--rounds", type=int, default=30, help="interactions of each kind")
    parser.add_argument(
        "--queued-steps", type=int, default=60, help="steps of each queued job (keeps it busy)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
        result = asyncio.run(_measure(args, Path(tmp)))
    print(f"machine: {result['machine']}")
    print(
        f"jobs waiting: {result['queued_before']} at the start, {result['queued_after']} at the end"
    )
    for phase in ("baseline", "queued"):
        print(f"{phase}:")
        for kind, figures in result[phase].items():
            print(
                f"  {kind:9} p50 {figures['p50_ms']:7.1f} ms   p99 {figures['p99_ms']:7.1f} ms"
                f"   max {figures['max_ms']:7.1f} ms"
            )
    print(f"p99 with the queue full / baseline: {result['p99_ratio']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
