"""Persistent buttons find the cog that handles them by name at press time."""

from __future__ import annotations

from typing import Any

import discord


async def handling_cog(interaction: discord.Interaction[Any], name: str) -> Any:
    """The loaded cog ``name``, or None after telling the presser to try again: a button
    pressed in the moment between the gateway connecting and the cogs being added."""
    cog = interaction.client.get_cog(name)
    if cog is None:
        await interaction.response.send_message(
            "Atelier is starting up; try again in a moment.", ephemeral=True
        )
    return cog
