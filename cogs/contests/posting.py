"""Whether the bot can post a contest in a channel, and telling moderators when it cannot.

A contest posts its announcements, entry images and results in its channel, so opening or
scheduling one where the bot may not post would fail silently later. The check needs the
bot's own permissions in the chosen channel: ``interaction.app_permissions`` gives them for
the channel the command ran in; for another channel they come from the guild cache (the
resolved channel option carries the *member's* permissions, not the bot's).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs.errors import tell
from cogs.resources import Resources
from contests.model import Contest
from contests.store import mark_post_refused
from db.guilds import get_guild_settings

log = logging.getLogger(__name__)

#: What a contest channel needs, by discord.py attribute, with the name Discord shows.
NEEDED = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("attach_files", "Attach Files"),
    ("embed_links", "Embed Links"),
)


def missing_permissions(interaction: discord.Interaction[Any], channel_id: int) -> list[str]:
    """The permissions the bot lacks in ``channel_id`` (empty: it can post, or the cache
    cannot tell, in which case a later refusal reaches the moderators instead)."""
    if channel_id == interaction.channel_id:
        permissions = interaction.app_permissions
    else:
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild is not None else None
        if guild is None or channel is None or guild.me is None:
            return []
        permissions = channel.permissions_for(guild.me)
    return [name for attribute, name in NEEDED if not getattr(permissions, attribute)]


async def refuse_unpostable(interaction: discord.Interaction[Any], channel_id: int) -> bool:
    """For /contest open and /contest schedule: refuse, naming what is missing, if the bot
    may not post in the contest channel; True if it refused."""
    missing = missing_permissions(interaction, channel_id)
    if missing:
        await tell(interaction, cannot_post(channel_id, missing))
    return bool(missing)


def cannot_post(channel_id: int, missing: list[str]) -> str:
    """The refusal, naming every missing permission."""
    bold = [f"**{name}**" for name in missing]
    names = bold[0] if len(bold) == 1 else ", ".join(bold[:-1]) + " and " + bold[-1]
    permission = "permission" if len(missing) == 1 else "permissions"
    return (
        f"⚠️ I can't run a contest in <#{channel_id}>: I need the {names} {permission} there "
        "to post the announcements, entries and results. Allow them for me in that channel's "
        "settings, or choose another channel. Nothing was changed."
    )


async def tell_moderators_once(
    client: discord.Client, resources: Resources, contest: Contest, error: discord.HTTPException
) -> None:
    """A contest post was refused: say so once per contest in the moderation channel (if the
    server set one; otherwise the log is all there is)."""
    if not await mark_post_refused(resources.db, contest.id, resources.clock()):
        return
    settings = await get_guild_settings(resources.db, contest.guild_id)
    if settings.moderation_channel_id is None:
        log.warning("contest %d: no moderation channel to report the refusal to", contest.id)
        return
    text = (
        f"⚠️ I can't post {contest.title} in <#{contest.channel_id}> (Discord said: "
        f"{error.text or error.status}). Its announcements, entries and results are missing "
        "there. I need **View Channel**, **Send Messages**, **Attach Files** and **Embed "
        f"Links** in that channel; `/contest cancel contest:{contest.id}` ends it if it "
        "cannot run."
    )
    channel = client.get_partial_messageable(
        settings.moderation_channel_id, guild_id=contest.guild_id
    )
    try:
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as failed:
        log.error("contest %d: could not tell the moderators either: %s", contest.id, failed)
