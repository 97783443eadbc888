"""Who counts as a moderator: members with Manage Server, or with the server's moderator
role (``/admin moderator-role``). Contests and the model registry ask this; /admin itself
always needs Manage Server."""

from __future__ import annotations

from typing import Any

import discord

from db.database import Database
from db.guilds import get_guild_settings


async def is_moderator(db: Database, interaction: discord.Interaction[Any]) -> bool:
    if interaction.guild_id is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    role_id = (await get_guild_settings(db, interaction.guild_id)).moderator_role_id
    user = interaction.user
    if role_id is None or not isinstance(user, discord.Member):
        return False
    return any(role.id == role_id for role in user.roles)


async def ensure_moderator(db: Database, interaction: discord.Interaction[Any], what: str) -> bool:
    """True for a moderator; otherwise the member is told (ephemerally) who may ``what``."""
    if await is_moderator(db, interaction):
        return True
    text = f"🔒 Only moderators can {what} (Manage Server, or the server's moderator role)."
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)
    return False
