"""/models: the models this server can use, with license and status."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.resources import Resources
from inference.model_card import read_model_card


class ModelsCog(commands.Cog, name="Models"):
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @app_commands.command(name="models", description="The models you can use with --model")
    async def models(self, interaction: discord.Interaction[Any]) -> None:
        catalog = self.resources.catalog
        loaded: dict[str, list[str]] = {}
        for device in self.resources.pool.metrics().devices:
            for name in device.models:
                loaded.setdefault(name, []).append(device.device)
        embed = discord.Embed(title="Models", description="Choose one with `--model NAME`.")
        refs = list(catalog)[:25]  # an embed holds 25 fields
        cards = await asyncio.to_thread(lambda: [read_model_card(ref.source) for ref in refs])
        for ref, card in zip(refs, cards, strict=True):
            devices = loaded.get(ref.name)
            status = f"ready on {', '.join(devices)}" if devices else "loads on first use"
            lines = [
                f"version: {card.version or 'not stated'}",
                f"license: {card.license or 'not stated — check the source'}",
                f"status: {status}",
                f"source: {ref.source_kind}",
            ]
            title = f"{ref.name} (default)" if ref == catalog.default else ref.name
            embed.add_field(name=title, value="\n".join(lines), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)
