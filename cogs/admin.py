"""/admin: banned words, queue limits, the moderation channel, who may press buttons and
whether the server's work appears on the web.

Guarded twice: ``default_permissions`` hides the commands from members without Manage
Server, and every command checks the permission again on the server's side (server owners
can change who sees a command).
"""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import tell
from cogs.resources import Resources
from db.guilds import (
    add_banned_words,
    banned_words,
    get_guild_settings,
    remove_banned_words,
    set_buttons_for_everyone,
    set_gallery,
    set_moderation_channel,
    set_moderator_role,
    set_queue_limits,
)
from inference.pool.config import UserLimits
from studio.moderation import normalise_words
from studio.queue_limits import queue_limits_in_force


class AdminCog(commands.Cog, name="Admin"):
    admin = app_commands.Group(
        name="admin",
        description="Server settings for Atelier (Manage Server)",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    words = app_commands.Group(
        name="banned-words", description="Words refused in prompts", parent=admin
    )
    channel = app_commands.Group(name="channel", description="Atelier's channels", parent=admin)

    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await interaction.response.send_message(
                "🔒 /admin needs the Manage Server permission.", ephemeral=True
            )
            return False
        return True

    @words.command(name="add", description="Refuse prompts with these words")
    @app_commands.describe(words="comma separated, e.g. gore, blood")
    async def words_add(self, interaction: discord.Interaction[Any], words: str) -> None:
        assert interaction.guild_id is not None
        wanted = normalise_words(words)
        added = await add_banned_words(
            self.resources.db,
            interaction.guild_id,
            wanted,
            added_by=interaction.user.id,
            at=self.resources.clock(),
        )
        already = [word for word in wanted if word not in added]
        text = f"✅ Banned: {', '.join(added)}." if added else "Nothing new."
        if already:
            text += f" Already banned: {', '.join(already)}."
        await tell(interaction, text)

    @words.command(name="remove", description="Allow these words again")
    @app_commands.describe(words="comma separated")
    async def words_remove(self, interaction: discord.Interaction[Any], words: str) -> None:
        assert interaction.guild_id is not None
        wanted = normalise_words(words)
        removed = await remove_banned_words(self.resources.db, interaction.guild_id, wanted)
        missing = [word for word in wanted if word not in removed]
        text = f"✅ Allowed again: {', '.join(removed)}." if removed else "Nothing removed."
        if missing:
            text += f" Not on the list: {', '.join(missing)}."
        await tell(interaction, text)

    @words.command(name="list", description="The banned words")
    async def words_list(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        listed = await banned_words(self.resources.db, interaction.guild_id)
        await tell(
            interaction,
            f"Banned words ({len(listed)}): {', '.join(listed)}" if listed else "No banned words.",
        )

    @admin.command(name="limits", description="Jobs each member may have running and waiting")
    @app_commands.describe(
        running="jobs running at once per member", queued="jobs waiting per member"
    )
    async def limits(
        self,
        interaction: discord.Interaction[Any],
        running: app_commands.Range[int, 1, 100] | None = None,
        queued: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        in_force = await queue_limits_in_force(
            self.resources.db, self.resources.settings.queue_limits
        )
        current = in_force.limits
        if running is None and queued is None:
            origin = (
                f"set by <@{in_force.set_by}>"
                if in_force.set_by is not None
                else "the operator's settings"
            )
            await tell(
                interaction,
                f"Each member may have {current.max_running} jobs running and "
                f"{current.max_queued} waiting ({origin}; they apply to the whole bot).",
            )
            return
        limits = UserLimits(
            max_running=running if running is not None else current.max_running,
            max_queued=queued if queued is not None else current.max_queued,
        )
        await set_queue_limits(
            self.resources.db,
            max_running=limits.max_running,
            max_queued=limits.max_queued,
            updated_by=interaction.user.id,
            at=self.resources.clock(),
        )
        self.resources.pool.set_limits(limits)
        await tell(
            interaction,
            f"✅ Each member may now have {limits.max_running} jobs running and "
            f"{limits.max_queued} waiting.",
        )

    @channel.command(name="moderation", description="Where appeals of blocked prompts go")
    @app_commands.describe(channel="the moderators' channel")
    async def moderation(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        assert interaction.guild_id is not None
        await set_moderation_channel(self.resources.db, interaction.guild_id, channel.id)
        await tell(interaction, f"✅ Appeals will be posted in {channel.mention}.")

    @admin.command(name="buttons", description="Who may press U/V/🔄 on someone's images")
    @app_commands.describe(everyone="true: every member; false: only the job's owner")
    async def buttons(self, interaction: discord.Interaction[Any], everyone: bool) -> None:
        assert interaction.guild_id is not None
        await set_buttons_for_everyone(self.resources.db, interaction.guild_id, everyone)
        who = "every member" if everyone else "only the member who made the job"
        await tell(interaction, f"✅ Generation buttons can now be pressed by {who}.")

    @admin.command(
        name="moderator-role", description="Members with this role run contests and models"
    )
    @app_commands.describe(
        role="the moderators' role; leave out to see the current one",
        clear="true: no moderator role any more (Manage Server only)",
    )
    async def moderator_role(
        self,
        interaction: discord.Interaction[Any],
        role: discord.Role | None = None,
        clear: bool = False,
    ) -> None:
        assert interaction.guild_id is not None
        if clear:
            await set_moderator_role(self.resources.db, interaction.guild_id, None)
            await tell(interaction, "✅ Moderator role cleared: only Manage Server moderates.")
            return
        if role is None:
            current = await get_guild_settings(self.resources.db, interaction.guild_id)
            text = (
                f"Moderators: Manage Server and <@&{current.moderator_role_id}>."
                if current.moderator_role_id is not None
                else "Moderators: members with Manage Server (no moderator role set)."
            )
            await tell(interaction, text)
            return
        if role.is_default():
            await tell(interaction, "⚠️ @everyone cannot be the moderator role; pick a role.")
            return
        await set_moderator_role(self.resources.db, interaction.guild_id, role.id)
        await tell(interaction, f"✅ Members with {role.mention} can now moderate Atelier.")

    @admin.command(name="gallery", description="Whether this server's work appears on the web")
    @app_commands.describe(state="on: show members' work on the web pages; off: show nothing")
    async def gallery(
        self, interaction: discord.Interaction[Any], state: Literal["on", "off"] | None = None
    ) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        where = self.resources.settings.public_url
        if state is None:
            current = await get_guild_settings(self.resources.db, guild.id)
            await tell(interaction, _gallery_text(current.gallery, where, changed=False))
            return
        on = state == "on"
        await set_gallery(self.resources.db, guild.id, on, name=guild.name if on else None)
        await tell(interaction, _gallery_text(on, where, changed=True))


def _gallery_text(on: bool, public_url: str | None, *, changed: bool) -> str:
    if not on:
        return (
            "✅ The web gallery is off: nothing of this server is on the web."
            if changed
            else "The web gallery is off (the default): nothing of this server is on the web. "
            "`/admin gallery on` shows members' work, contests, campaigns and boards there."
        )
    where = f" at {public_url}" if public_url is not None else ""
    return (
        f"{'✅ ' if changed else ''}The web gallery is on: work posted here, this server's "
        f"contests, campaigns and boards are on the web{where}. Members who keep their results "
        "private (`/settings`) stay off it; `/admin gallery off` takes everything off at once."
    )
