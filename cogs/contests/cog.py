"""The /contest commands, the Submit and Vote buttons, and the phase announcements.

The rules live in ``contests/``; this cog parses, checks who may do what (moderators:
``cogs.moderators``), answers, and after every change posts the queued announcements and
re-arms the phase timer. Refusals (``ContestError``) reach the member through
``cogs.errors``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.contests import moderation, render
from cogs.contests.announcer import Announcer
from cogs.contests.buttons import HANDLER_COG, SubmitButton, VoteButton
from cogs.contests.entering import enter_image
from cogs.contests.hall_of_fame import HallOfFame, HallOfFamePage
from cogs.contests.posting import refuse_unpostable
from cogs.contests.themes import ThemeCommands
from cogs.errors import tell
from cogs.moderators import ensure_moderator
from cogs.resources import Resources
from cogs.timestamps import discord_time
from contests import lifecycle, schedule
from contests.entries import could_enter
from contests.rules import get_rules, set_rules
from contests.store import guild_contests
from contests.themes import list_themes
from contests.voting import press_vote

WEEKDAY_CHOICES = [
    app_commands.Choice(name=name, value=number) for number, name in enumerate(schedule.WEEKDAYS)
]


class ContestsCog(commands.Cog, name=HANDLER_COG):
    contest = app_commands.Group(
        name="contest", description="Weekly image contests with blind voting", guild_only=True
    )

    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
        self.announcer = Announcer(client, resources)
        resources.phases.add(self.announcer)
        resources.upscale_buttons.add(self._submit_button)
        self.contest.add_command(ThemeCommands(resources))
        self.hall_of_fame = HallOfFame(resources)
        self.contest.add_command(self.hall_of_fame.command)

    async def cog_load(self) -> None:
        self.client.add_dynamic_items(SubmitButton, VoteButton, HallOfFamePage)

    async def cog_unload(self) -> None:
        self.client.remove_dynamic_items(SubmitButton, VoteButton, HallOfFamePage)

    async def _submit_button(self, job_id: int, guild_id: int | None) -> list[discord.ui.Item[Any]]:
        """**Submit to contest** under an upscale, while the server's contest takes entries
        and the image was made for it."""
        if guild_id is None or not await could_enter(self.resources.db, guild_id, job_id):
            return []
        return [SubmitButton(job_id, 0)]

    async def _announcing_channel(
        self,
        interaction: discord.Interaction[Any],
        channel: discord.TextChannel | None,
        what: str,
    ) -> int | None:
        """The channel a contest will be announced in (``channel``, or this one), or None
        after telling the member why not: they are no moderator, or the bot cannot post there."""
        if not await ensure_moderator(self.resources.db, interaction, what):
            return None
        assert interaction.channel_id is not None
        target = channel.id if channel else interaction.channel_id
        if await refuse_unpostable(interaction, target):
            return None
        return target

    async def _changed(self) -> None:
        """Post what the change announced, and re-arm the timer for the new phase times."""
        await self.announcer.flush()
        await self.resources.phases.poke()

    # --- running contests (moderators) ------------------------------------------------------

    @contest.command(name="open", description="Open a contest now (moderators)")
    @app_commands.describe(
        theme="what entries should show",
        submit_days="days to take entries (1–14, default 3)",
        vote_days="days of voting after that (1–14, default 2)",
        channel="where to announce it and vote (default: here)",
    )
    async def open(
        self,
        interaction: discord.Interaction[Any],
        theme: app_commands.Range[str, 1, 200],
        submit_days: app_commands.Range[int, 1, 14] = 3,
        vote_days: app_commands.Range[int, 1, 14] = 2,
        channel: discord.TextChannel | None = None,
    ) -> None:
        target = await self._announcing_channel(interaction, channel, "open contests")
        if target is None:
            return
        assert interaction.guild_id is not None
        contest = await lifecycle.open_contest(
            self.resources.db,
            guild_id=interaction.guild_id,
            channel_id=target,
            theme=theme,
            submit_days=submit_days,
            vote_days=vote_days,
            opened_by=interaction.user.id,
            now=self.resources.clock(),
        )
        await tell(
            interaction,
            f"✅ Contest #{contest.id} “{contest.theme}” is open in <#{contest.channel_id}>; "
            f"submissions close {discord_time(contest.voting_at)}.",
        )
        await self._changed()

    @contest.command(name="extend", description="Give a running contest more time (moderators)")
    @app_commands.describe(contest="the contest's number", days="days to add", hours="hours to add")
    async def extend(
        self,
        interaction: discord.Interaction[Any],
        contest: int,
        days: app_commands.Range[int, 0, 14] = 0,
        hours: app_commands.Range[int, 0, 23] = 0,
    ) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "extend contests"):
            return
        assert interaction.guild_id is not None
        extended = await lifecycle.extend(
            self.resources.db,
            contest,
            guild_id=interaction.guild_id,
            by=timedelta(days=days, hours=hours),
            extended_by=interaction.user.id,
            interaction_id=interaction.id,
            now=self.resources.clock(),
        )
        await tell(interaction, f"✅ {render.extended(extended)}")
        await self._changed()

    @contest.command(name="cancel", description="Cancel a contest, with a reason (moderators)")
    @app_commands.describe(contest="the contest's number", reason="shown to members")
    async def cancel(
        self,
        interaction: discord.Interaction[Any],
        contest: int,
        reason: app_commands.Range[str, 1, 300],
    ) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "cancel contests"):
            return
        assert interaction.guild_id is not None
        cancelled = await lifecycle.cancel(
            self.resources.db,
            contest,
            guild_id=interaction.guild_id,
            reason=reason,
            by=interaction.user.id,
            now=self.resources.clock(),
        )
        await tell(interaction, f"✅ {render.cancelled(cancelled)}")
        await self._changed()

    @contest.command(name="disqualify", description="Disqualify an entry (moderators)")
    @app_commands.describe(
        reason="the entrant is told this",
        entry="the entry's number, as on its voting post (#3 → 3)",
        contest="the contest that number is in (default: the one being voted on)",
        entry_id="or the entry's id from /contest entries (entries have no number before voting)",
    )
    async def disqualify(
        self,
        interaction: discord.Interaction[Any],
        reason: app_commands.Range[str, 1, 300],
        entry: app_commands.Range[int, 1] | None = None,
        contest: int | None = None,
        entry_id: int | None = None,
    ) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "disqualify entries"):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await moderation.disqualify_entry(
            self.client,
            self.resources,
            interaction,
            reason,
            number=entry,
            contest_id=contest,
            entry_id=entry_id,
        )
        await interaction.followup.send(text, ephemeral=True)

    @contest.command(name="entries", description="Every entry of a contest (moderators)")
    @app_commands.describe(contest="the contest's number")
    async def entries(self, interaction: discord.Interaction[Any], contest: int) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "see who entered"):
            return
        assert interaction.guild_id is not None
        messages = await moderation.entry_lines(self.resources, interaction.guild_id, contest)
        await tell(interaction, messages[0])
        for more in messages[1:]:
            await interaction.followup.send(more, ephemeral=True)

    @contest.command(name="ballots", description="A closed contest's ballots as CSV (moderators)")
    @app_commands.describe(contest="the contest's number")
    async def ballots(self, interaction: discord.Interaction[Any], contest: int) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "download ballots"):
            return
        assert interaction.guild_id is not None
        text, file = await moderation.ballot_file(self.resources, interaction.guild_id, contest)
        await interaction.response.send_message(text, file=file, ephemeral=True)

    @contest.command(name="rules", description="See the contest rules, or change them (moderators)")
    @app_commands.describe(
        max_entries="entries per member and contest (1–10; default 1)",
        min_member_days="days in the server before entering or voting (0–365; default 7)",
        votes_per_member="votes per member and contest (1–25; default 3)",
    )
    async def rules(
        self,
        interaction: discord.Interaction[Any],
        max_entries: int | None = None,
        min_member_days: int | None = None,
        votes_per_member: int | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        changes = (max_entries, min_member_days, votes_per_member)
        if all(value is None for value in changes):
            current = await get_rules(self.resources.db, interaction.guild_id)
            await tell(interaction, f"Contest rules in this server:\n{render.rules_text(current)}")
            return
        if not await ensure_moderator(self.resources.db, interaction, "change contest rules"):
            return
        new = await set_rules(
            self.resources.db,
            interaction.guild_id,
            max_entries=max_entries,
            min_member_days=min_member_days,
            votes_per_member=votes_per_member,
            updated_by=interaction.user.id,
            now=self.resources.clock(),
        )
        await tell(interaction, f"✅ Contest rules now:\n{render.rules_text(new)}")

    # --- weekly contests and themes (moderators) --------------------------------------------

    @contest.command(name="schedule", description="Open a contest every week (moderators)")
    @app_commands.describe(
        weekday="the day it opens",
        hour="the hour it opens, 0–23 UTC",
        submit_days="days to take entries (1–7)",
        vote_days="days of voting (1–14)",
        channel="where to announce and vote (default: here)",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    async def schedule(
        self,
        interaction: discord.Interaction[Any],
        weekday: app_commands.Choice[int],
        hour: app_commands.Range[int, 0, 23],
        submit_days: app_commands.Range[int, 1, 7] = 3,
        vote_days: app_commands.Range[int, 1, 14] = 2,
        channel: discord.TextChannel | None = None,
    ) -> None:
        target = await self._announcing_channel(interaction, channel, "schedule contests")
        if target is None:
            return
        assert interaction.guild_id is not None
        first = await schedule.set_schedule(
            self.resources.db,
            guild_id=interaction.guild_id,
            channel_id=target,
            weekday=weekday.value,
            hour=hour,
            submit_days=submit_days,
            vote_days=vote_days,
            set_by=interaction.user.id,
            now=self.resources.clock(),
        )
        queued = await list_themes(self.resources.db, interaction.guild_id)
        warning = (
            "" if queued else "\n⚠️ The theme queue is empty: add themes with /contest theme add."
        )
        await tell(
            interaction,
            f"✅ Weekly contests {weekday.name}s at {hour:02d}:00 UTC; the first opens "
            f"{discord_time(first)} with the next theme from the queue.{warning}",
        )
        await self._changed()

    @contest.command(name="unschedule", description="Stop the weekly contests (moderators)")
    async def unschedule(self, interaction: discord.Interaction[Any]) -> None:
        if not await ensure_moderator(self.resources.db, interaction, "schedule contests"):
            return
        assert interaction.guild_id is not None
        removed = await schedule.clear_schedule(self.resources.db, interaction.guild_id)
        await tell(
            interaction,
            "✅ No more weekly contests; contests already open run to their end."
            if removed
            else "There was no weekly schedule.",
        )
        await self._changed()

    # --- members ----------------------------------------------------------------------------

    @contest.command(name="list", description="This server's contests: running, upcoming, past")
    async def list(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        found = await guild_contests(self.resources.db, interaction.guild_id)
        weekly = await schedule.get_schedule(self.resources.db, interaction.guild_id)
        lines = [f"Weekly contests: {weekly.describe}."] if weekly else []
        lines += [render.contest_line(c) for c in found] or ["No contests yet in this server."]
        await tell(interaction, "\n".join(lines))

    @contest.command(name="submit", description="Enter one of your images in the open contest")
    @app_commands.describe(
        job_id="the job number shown under the image", index="which image of the job (1–4)"
    )
    async def submit(
        self,
        interaction: discord.Interaction[Any],
        job_id: app_commands.Range[int, 1],
        index: app_commands.Range[int, 1, 4] = 1,
    ) -> None:
        await self.on_submit(interaction, job_id, index - 1, None)

    async def on_submit(
        self, interaction: discord.Interaction[Any], job_id: int, index: int, replace: int | None
    ) -> None:
        """/contest submit, Submit to contest, and Replace my entry (``replace`` set)."""
        await enter_image(self.resources, interaction, job_id, index, replace)

    async def on_vote(self, interaction: discord.Interaction[Any], entry_id: int) -> None:
        user = interaction.user
        receipt = await press_vote(
            self.resources.db,
            entry_id=entry_id,
            voter_id=user.id,
            interaction_id=interaction.id,
            member_since=user.joined_at if isinstance(user, discord.Member) else None,
            now=self.resources.clock(),
        )
        await tell(interaction, f"🗳️ {receipt.render(discord_time)}")
