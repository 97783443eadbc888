"""/contest theme add|list|remove: the queue weekly contests take their themes from.

A ``Group`` subclass, added under ``/contest`` by the contests cog, so the cog module stays
a manageable size; its commands are bound to the group instance."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from cogs.errors import tell
from cogs.moderators import ensure_moderator
from cogs.resources import Resources
from contests import themes


class ThemeCommands(app_commands.Group):
    def __init__(self, resources: Resources) -> None:
        super().__init__(name="theme", description="The queue of themes for weekly contests")
        self.resources = resources

    @app_commands.command(name="add", description="Queue a theme for weekly contests (moderators)")
    @app_commands.describe(theme="e.g. lighthouses at dusk")
    async def add(
        self, interaction: discord.Interaction[Any], theme: app_commands.Range[str, 1, 200]
    ) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "change the themes"):
            return
        assert interaction.guild_id is not None
        added = await themes.add_theme(
            self.resources.db,
            interaction.guild_id,
            theme,
            added_by=interaction.user.id,
            now=self.resources.clock(),
        )
        await tell(interaction, f"✅ Queued “{added.theme}”.")

    @app_commands.command(name="list", description="The theme queue, next first (moderators)")
    async def list(self, interaction: discord.Interaction[Any]) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "see the themes"):
            return
        assert interaction.guild_id is not None
        queued = await themes.list_themes(self.resources.db, interaction.guild_id)
        if not queued:
            await tell(interaction, "The theme queue is empty; add one with /contest theme add.")
            return
        lines = [
            f"{n}. {t.theme}" + (f" (used {t.uses}×)" if t.uses else "")
            for n, t in enumerate(queued, start=1)
        ]
        await tell(
            interaction, "Themes, in the order weekly contests take them:\n" + "\n".join(lines)
        )

    @app_commands.command(name="remove", description="Take a theme out of the queue (moderators)")
    @app_commands.describe(theme="the theme, as listed")
    async def remove(
        self, interaction: discord.Interaction[Any], theme: app_commands.Range[str, 1, 200]
    ) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "change the themes"):
            return
        assert interaction.guild_id is not None
        removed = await themes.remove_theme(
            self.resources.db, interaction.guild_id, theme, now=self.resources.clock()
        )
        await tell(interaction, f"✅ Removed “{removed}” from the queue.")
