"""The /campaign and /pledge commands, the Pledge and Withdraw buttons, and deadlines."""

from __future__ import annotations

import discord
from discord.ext import commands

from cogs.resources import Resources


class FundingCog(commands.Cog, name="Funding"):
    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
