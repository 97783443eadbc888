"""Which roles a campaign may hand to its backers.

A funded campaign gives its backer role to everyone who pledged, automatically, with the
bot's permissions. Anyone can pledge the minimum (from an alt account, too), so the role
must be one that is harmless in anybody's hands and that the bot can actually give.
``funding.campaigns`` lets only moderators set one at all; this module checks the role,
when it is chosen and again when it is given (it may have changed in between).
"""

from __future__ import annotations

import discord

#: Permissions a role must not carry to be handed out for a pledge, with the names
#: Discord's role settings show.
DANGEROUS_PERMISSIONS = {
    "administrator": "Administrator",
    "manage_guild": "Manage Server",
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "manage_messages": "Manage Messages",
    "kick_members": "Kick Members",
    "ban_members": "Ban Members",
    "moderate_members": "Timeout Members",
    "mention_everyone": "Mention @everyone, @here and All Roles",
    "manage_webhooks": "Manage Webhooks",
}


def backer_role_refusal(
    role: discord.Role,
    *,
    moderator_role_id: int | None,
    everyone: discord.Permissions,
    my_top_role: discord.Role,
    chosen_by: discord.Member | None,
) -> str | None:
    """Why ``role`` can't be a backer role, or None if it can.

    ``moderator_role_id`` is the server's moderator role (``/admin moderator-role``);
    ``everyone`` what @everyone may do on the server: a permission every member has already
    comes with no role (and Discord gives new roles @everyone's permissions, Mention
    @everyone included, so only what a role adds counts). ``my_top_role`` is the bot's
    highest role. ``chosen_by`` is the moderator picking the role, or None when it is
    checked again before it is given: without Manage Roles they may not pick a role at or
    above their own highest one, as Discord would not let them give it themselves.
    """
    if role.is_default():
        return "@everyone can't be the backer role: every member has it already."
    if role.managed:
        return (
            f"{role.mention} is managed by an integration (a bot's role, a server booster "
            "or subscriber role); nobody can give it by hand. Pick a role of your own."
        )
    if role.id == moderator_role_id:
        return (
            f"{role.mention} is this server's moderator role: every backer would become a "
            "moderator. Pick a role without special powers."
        )
    added = discord.Permissions(role.permissions.value & ~everyone.value)
    dangerous = [name for flag, name in DANGEROUS_PERMISSIONS.items() if getattr(added, flag)]
    if dangerous:
        return (
            f"{role.mention} carries permissions that must not come with a pledge "
            f"({', '.join(dangerous)}). Pick a role without them."
        )
    if chosen_by is not None and not chosen_by.guild_permissions.manage_roles:
        their_top = chosen_by.top_role  # guild_permissions has every flag for admins, owner
        if their_top.is_default():  # no roles at all (a Manage Server moderator): none below
            return (
                "You have no role of your own and don't have the Manage Roles permission, "
                f"so Discord wouldn't let you give {role.mention} yourself. Ask a moderator "
                "with Manage Roles to choose it, or leave `backer_role` out."
            )
        if role.position >= their_top.position:
            return (
                f"{role.mention} is at or above your highest role ({their_top.mention}) and "
                "you don't have the Manage Roles permission, so Discord wouldn't let you give "
                "it yourself. Pick a role below yours, or ask someone with Manage Roles."
            )
    if role.position >= my_top_role.position:
        return (
            f"{role.mention} is at or above my highest role ({my_top_role.mention}), so "
            "Discord won't let me give it. Move my role above it (Server Settings → Roles) "
            "or pick a lower role."
        )
    return None
