"""Who counts as a moderator: members with Manage Server, or with the server's moderator
role (``/admin moderator-role``). Contests ask this; /admin itself always needs Manage
Server.

The model registry is one for the whole bot, while being a moderator is decided per
server: anyone can create a server and invite the bot. So registry changes and the
early-access bypass are for moderators of the operator's home servers only
(``ATELIER_HOME_GUILD_IDS``; empty means every server, right for a one-server install).
"""

from __future__ import annotations

from typing import Any

import discord

from cogs.errors import tell
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


def in_home_guild(guild_id: int | None, home_guild_ids: frozenset[int]) -> bool:
    """Whether ``guild_id`` is one of the operator's home servers (any server when none is
    configured; never a DM)."""
    return guild_id is not None and (not home_guild_ids or guild_id in home_guild_ids)


async def is_registry_moderator(
    db: Database, interaction: discord.Interaction[Any], home_guild_ids: frozenset[int]
) -> bool:
    """A moderator of a home server: may change the model registry and use early-access
    versions without backing them."""
    return in_home_guild(interaction.guild_id, home_guild_ids) and await is_moderator(
        db, interaction
    )


async def ensure_registry_moderator(
    db: Database, interaction: discord.Interaction[Any], home_guild_ids: frozenset[int], what: str
) -> bool:
    """True for a moderator of a home server; otherwise the member is told (ephemerally)
    where and by whom the registry is managed."""
    if interaction.guild_id is None or in_home_guild(interaction.guild_id, home_guild_ids):
        return await ensure_moderator(db, interaction, what)
    await tell(
        interaction,
        f"🔒 The model registry is shared by every server Atelier is in and is managed in "
        f"the operator's home server: only its moderators can {what}. Ask there, or ask "
        "Atelier's operator.",
    )
    return False


async def ensure_moderator(db: Database, interaction: discord.Interaction[Any], what: str) -> bool:
    """True for a moderator; otherwise the member is told (ephemerally) who may ``what``."""
    if await is_moderator(db, interaction):
        return True
    await tell(
        interaction,
        f"🔒 Only moderators can {what} (Manage Server, or the server's moderator role).",
    )
    return False
