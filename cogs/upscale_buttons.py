"""Buttons other features add under an upscaled image.

The imagine cog draws the buttons under an upscale; a feature that offers something for
such an image (the contests cog's **Submit to contest**) registers a provider here when
its cog is built, so the imagine cog never imports another feature's cog. ``bot/`` builds
one registry and hands it to every cog in ``Resources``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

#: Given the upscale's job id and the server it is shown in (None in a DM), the buttons
#: to add under it; usually none.
UpscaleButtonProvider = Callable[[int, int | None], Awaitable[list[discord.ui.Item[Any]]]]


class UpscaleButtons:
    def __init__(self) -> None:
        self._providers: list[UpscaleButtonProvider] = []

    def add(self, provider: UpscaleButtonProvider) -> None:
        self._providers.append(provider)

    async def for_upscale(self, job_id: int, guild_id: int | None) -> list[discord.ui.Item[Any]]:
        """Every registered provider's buttons for this upscale, in registration order."""
        items: list[discord.ui.Item[Any]] = []
        for provider in self._providers:
            items.extend(await provider(job_id, guild_id))
        return items
