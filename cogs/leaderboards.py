"""/leaderboard: creators, backers, models and trending images."""

from __future__ import annotations

from discord.ext import commands

from cogs.resources import Resources


class LeaderboardsCog(commands.Cog, name="Leaderboards"):
    def __init__(self, resources: Resources) -> None:
        self.resources = resources
