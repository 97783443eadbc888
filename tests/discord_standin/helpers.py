"""Pointing discord.py at the stand-in instead of discord.com (and back), and running a
bot against it for the length of a block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextmanager
def pointing_discord_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Within the block, discord.py's REST routes (webhooks and interaction callbacks
    included: they are built from ``Route.BASE``) and its default gateway are the stand-in's.

    ``AutoShardedBot`` takes the gateway URL from ``GET /gateway/bot``; ``DEFAULT_GATEWAY``
    matters after an INVALID_SESSION, when discord.py forgets the resume URL. Both are
    class attributes, so this affects every client in the process until the block ends.
    """
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    client: ClientT,
    *,
    timeout: float = 10,  # noqa: ASYNC109 - bounds both the start and the shutdown
) -> AsyncIterator[ClientT]:
    """Run ``client.start(fake.bot_token)`` in the background until the stand-in has sent it
    READY and GUILD_CREATE; on leaving, ``client.close()`` and wait for ``start`` to return.

    Use inside :func:`pointing_discord_at`. If the client stops before it is ready (a
    failing ``setup_hook``, say), its exception is raised here.
    """
    if fake.api_base != discord.http.Route.BASE:
        raise RuntimeError(
            "discord.py is not pointed at this FakeDiscord; use pointing_discord_at(fake)"
        )
    task = asyncio.create_task(client.start(fake.bot_token), name="stand-in bot")
    ready = asyncio.create_task(fake.wait_until_ready(timeout), name="stand-in ready")
    try:
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, AssertionError):
                await ready
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        ready.result()
        yield client
    finally:
        if not ready.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError, AssertionError):
                await ready
        await client.close()
        if not task.done():
            await asyncio.wait_for(task, timeout)
        elif not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved
