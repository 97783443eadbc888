"""Ephemeral replies shared by the contest commands."""

from __future__ import annotations

from typing import Any

import discord

from cogs.timestamps import discord_time
from contests.errors import ContestError


async def reply(
    interaction: discord.Interaction[Any],
    text: str,
    *,
    view: discord.ui.View = discord.utils.MISSING,
) -> None:
    await interaction.response.send_message(text, ephemeral=True, view=view)


async def refuse(interaction: discord.Interaction[Any], error: ContestError) -> None:
    """Say why the request was refused (the domain's message says what would work)."""
    await reply(interaction, f"⚠️ {error.render(discord_time)}")
