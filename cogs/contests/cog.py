"""The /contest commands, the Submit and Vote buttons, and the phase announcements."""

from __future__ import annotations

import discord
from discord.ext import commands

from cogs.resources import Resources


class ContestsCog(commands.Cog, name="Contests"):
    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
