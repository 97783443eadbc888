"""Which role a moderator may pick as a backer role, for a moderator Discord gives no role
to compare with: one with Manage Server through @everyone, holding no role at all.

The stand-in gives every Manage Server member its Moderator role, so this case is built
from discord.py's own Guild and Member objects, as the gateway payloads would make them.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.state import ConnectionState

from cogs.funding.backer_role import backer_role_refusal

GUILD, BACKERS, STAFF, BOT_ROLE, MEMBER = 100, 200, 250, 300, 400


def _role(role_id: int, name: str, permissions: discord.Permissions, position: int) -> Any:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }


def _server_and_member(*member_roles: int) -> tuple[discord.Guild, discord.Member]:
    """A server whose @everyone has Manage Server, and a member with ``member_roles``."""
    state = ConnectionState(
        dispatch=lambda *_: None,
        handlers={},
        hooks={},
        http=None,  # type: ignore[arg-type]  # nothing here talks to Discord
        intents=discord.Intents.default(),
    )
    everyone = discord.Permissions(view_channel=True, send_messages=True, manage_guild=True)
    roles = [
        _role(GUILD, "@everyone", everyone, 0),
        _role(BACKERS, "Backers", discord.Permissions.none(), 1),
        _role(STAFF, "Staff", discord.Permissions.none(), 2),
        _role(BOT_ROLE, "Atelier", discord.Permissions(manage_roles=True), 3),
    ]
    data: Any = {"id": str(GUILD), "name": "A server", "owner_id": "1", "roles": roles}
    guild = discord.Guild(data=data, state=state)
    user = {"id": str(MEMBER), "username": "mod", "discriminator": "0", "avatar": None}
    member_data: Any = {
        "user": user,
        "roles": [str(r) for r in member_roles],
        "joined_at": None,
        "flags": 0,
    }
    return guild, discord.Member(data=member_data, guild=guild, state=state)


def _refusal(guild: discord.Guild, chosen_by: discord.Member) -> str | None:
    role = guild.get_role(BACKERS)
    bot_role = guild.get_role(BOT_ROLE)
    assert role is not None
    assert bot_role is not None
    return backer_role_refusal(
        role,
        moderator_role_id=None,
        everyone=guild.default_role.permissions,
        my_top_role=bot_role,
        chosen_by=chosen_by,
    )


def test_a_moderator_with_no_role_is_not_told_to_pick_a_role_below_theirs() -> None:
    guild, member = _server_and_member()
    assert member.guild_permissions.manage_guild
    assert not member.guild_permissions.manage_roles
    assert member.top_role.is_default()
    refusal = _refusal(guild, member)
    assert refusal is not None
    assert "Pick a role below yours" not in refusal  # they have none: no role is below it
    assert "@everyone" not in refusal
    assert "You have no role of your own and don't have the Manage Roles permission" in refusal
    assert "Ask a moderator with Manage Roles to choose it, or leave `backer_role` out" in refusal


def test_a_moderator_whose_highest_role_is_above_the_role_may_pick_it() -> None:
    guild, member = _server_and_member(STAFF)  # no Manage Roles, but Staff is above Backers
    assert not member.guild_permissions.manage_roles
    assert _refusal(guild, member) is None
