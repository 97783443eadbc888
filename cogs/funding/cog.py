"""The /campaign, /pledge and /unpledge commands, the Pledge and Withdraw buttons, and deadlines.

Rules live in ``funding`` (campaigns, ledger, settlement); this cog parses, checks who is
asking, replies, and keeps the campaign message current.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import handle_error, tell
from cogs.funding.backer_role import backer_role_refusal
from cogs.funding.buttons import CampaignAction, CampaignButton
from cogs.funding.deadlines import CampaignDeadlines
from cogs.funding.messages import CampaignMessages, message_parts
from cogs.funding.pledge_form import read_submission
from cogs.funding.pledging import Pledging
from cogs.funding.render import status_line, when_line
from cogs.funding.replies import message_link
from cogs.moderators import in_home_guild, is_moderator, is_registry_moderator
from cogs.resources import Resources
from db.guilds import get_guild_settings
from funding.campaigns import (
    CampaignEdit,
    CampaignRequest,
    CampaignState,
    campaign_of_guild,
    check_owner,
    create_campaign,
    edit_campaign,
    get_campaign,
    list_campaigns,
    progress,
)
from funding.export import backers_csv, ledger_csv
from funding.ledger import backer_amount
from funding.settlement import cancel_campaign
from registry.versions import VersionStatus, all_versions

log = logging.getLogger(__name__)

_CAMPAIGN_HELP = "the campaign's number (#) — start typing to pick one"
#: Room for the listing in one message (Discord allows 2000 characters).
_LIST_CHARS = 1850
_ALL_STATES = (
    CampaignState.OPEN,
    CampaignState.FUNDED,
    CampaignState.FAILED,
    CampaignState.CANCELLED,
)


class FundingCog(commands.Cog, name="Funding"):
    campaign = app_commands.Group(
        name="campaign",
        description="Crowdfunding for upcoming model versions",
        guild_only=True,
    )

    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
        self.messages = CampaignMessages(
            client,
            resources.db,
            resources.tuning.progress_edit_seconds,
            resources.settings.public_url,
        )
        self.deadlines = CampaignDeadlines(client, resources.db, self.messages)
        self.pledging = Pledging(resources.db, resources.clock, self.messages)
        resources.phases.add(self.deadlines)

    async def cog_load(self) -> None:
        self.client.add_dynamic_items(CampaignButton)

    async def cog_unload(self) -> None:
        await self.messages.flush()

    # --- /campaign ---------------------------------------------------------------------------

    @campaign.command(name="create", description="Raise pledges for an upcoming model version")
    @app_commands.describe(
        model="the upcoming version, name:version",
        goal="the amount to raise, e.g. 500 or 1,250.50",
        currency="ISO 4217 code, e.g. USD, EUR, JPY",
        deadline="a date (YYYY-MM-DD, UTC) or a number of days, e.g. 14",
        description="what backers support (shown on the campaign)",
        title="the campaign's title (default: the model version)",
        min_pledge="the smallest pledge accepted (default: 1 unit)",
        early_access_days="days only backers may use the version after release (default 7)",
        backer_role="moderators only: a role given to every backer if the campaign is funded",
        start="when pledges open: a date or days from now (default: now)",
    )
    async def create(
        self,
        interaction: discord.Interaction[Any],
        model: str,
        goal: str,
        currency: str,
        deadline: str,
        description: str = "",
        title: str | None = None,
        min_pledge: str | None = None,
        early_access_days: app_commands.Range[int, 0, 90] | None = None,
        backer_role: discord.Role | None = None,
        start: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        assert interaction.channel_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Campaigns decide early access for a version every server shares, so only the
        # version's creator or a moderator of a home server may start one; a backer role
        # belongs to this server, so this server's moderators may name one.
        db = self.resources.db
        home_guild_ids = self.resources.settings.home_guild_ids
        may_start_for_others = await is_registry_moderator(db, interaction, home_guild_ids)
        other_starters = (
            "a moderator"
            if in_home_guild(interaction.guild_id, home_guild_ids)
            else "a moderator of Atelier's home server (from there)"
        )
        may_set_role = await is_moderator(db, interaction)
        if backer_role is not None and may_set_role:  # for others, create_campaign refuses any
            refusal = await self._backer_role_refusal(interaction, backer_role)
            if refusal is not None:
                await tell(interaction, f"⚠️ {refusal}")
                return
        request = CampaignRequest(
            model=model,
            goal=goal,
            currency=currency,
            deadline=deadline,
            title=title,
            description=description,
            min_pledge=min_pledge,
            early_access_days=early_access_days,
            backer_role_id=None if backer_role is None else backer_role.id,
            start=start,
        )
        created = await create_campaign(
            db,
            request,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            owner_id=interaction.user.id,
            may_start_for_others=may_start_for_others,
            may_set_backer_role=may_set_role,
            other_starters=other_starters,
            interaction_id=interaction.id,
            now=self.resources.clock(),
        )
        await self.resources.phases.poke()
        if created.message_id is None:
            try:
                await self.messages.post(created)
            except discord.HTTPException as error:
                log.warning("posting the message of campaign %s failed: %s", created.id, error)
                await tell(
                    interaction,
                    f"⚠️ Campaign #{created.id} is created, but I could not post its message "
                    "in this channel (do I have Send Messages and Attach Files here?). "
                    "Members can still use `/pledge` and `/campaign show`.",
                )
                return
            created = await get_campaign(self.resources.db, created.id)
        await tell(
            interaction,
            f"✅ Campaign #{created.id} for `{created.model_key}` is open: goal "
            f"{created.money(created.goal_minor)}. {when_line(created)}.{message_link(created)}",
        )

    @campaign.command(name="show", description="A campaign's progress")
    @app_commands.describe(campaign=_CAMPAIGN_HELP)
    async def show(self, interaction: discord.Interaction[Any], campaign: int) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        parts = await message_parts(self.resources.db, found, self.resources.settings.public_url)
        mine = await backer_amount(self.resources.db, found.id, interaction.user.id)
        text = f"Your pledge: {found.money(mine)}." if mine else ""
        await interaction.response.send_message(
            text + message_link(found), embed=parts["embed"], file=parts["file"], ephemeral=True
        )

    @campaign.command(name="list", description="This server's campaigns")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild_id is not None
        db = self.resources.db
        campaigns = await list_campaigns(db, interaction.guild_id, states=_ALL_STATES)
        if not campaigns:
            await tell(
                interaction,
                "No campaigns yet. A model's creator starts one with `/campaign create`.",
            )
            return
        open_first = sorted(campaigns, key=lambda c: c.state is not CampaignState.OPEN)
        lines: list[str] = []
        for n, found in enumerate(open_first):
            shown = await progress(db, found)
            line = (
                f"**#{found.id} {found.title}** ({found.state.value}) — {status_line(shown)} — "
                f"{when_line(found)}"
            )
            if sum(len(x) + 1 for x in lines) + len(line) > _LIST_CHARS:
                lines.append(f"…and {len(open_first) - n} more; `/campaign show` shows any.")
                break
            lines.append(line)
        await tell(interaction, "\n".join(lines))

    @campaign.command(name="edit", description="Change a campaign's goal, title or description")
    @app_commands.describe(
        campaign=_CAMPAIGN_HELP,
        goal="the new goal (it can't be lowered below what is already pledged)",
        title="the new title",
        description="the new description",
    )
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        campaign: int,
        goal: str | None = None,
        title: str | None = None,
        description: str | None = None,
    ) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        edited = await edit_campaign(
            self.resources.db,
            found.id,
            CampaignEdit(goal=goal, title=title, description=description),
            editor_id=interaction.user.id,
            editor_is_moderator=await is_moderator(self.resources.db, interaction),
            now=self.resources.clock(),
        )
        self.messages.refresh(edited.id)
        shown = await progress(self.resources.db, edited)
        await tell(interaction, f"✅ Campaign #{edited.id} updated: {status_line(shown)}.")

    @campaign.command(name="cancel", description="Cancel an open campaign; every pledge is voided")
    @app_commands.describe(campaign=_CAMPAIGN_HELP, reason="told to backers and the channel")
    async def cancel(
        self, interaction: discord.Interaction[Any], campaign: int, reason: str = ""
    ) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        now = self.resources.clock()
        cancelled = await cancel_campaign(
            self.resources.db,
            found.id,
            by=interaction.user.id,
            by_moderator=await is_moderator(self.resources.db, interaction),
            reason=reason,
            now=now,
        )
        await tell(
            interaction,
            f"✅ Campaign #{cancelled.id} is cancelled; every pledge is void and backers are "
            "being told.",
        )
        await self.deadlines.deliver(now)
        await self.resources.phases.poke()

    @campaign.command(name="export", description="CSV of the ledger and of what each backer owes")
    @app_commands.describe(campaign=_CAMPAIGN_HELP)
    async def export(self, interaction: discord.Interaction[Any], campaign: int) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        check_owner(
            found,
            interaction.user.id,
            await is_moderator(self.resources.db, interaction),
            "export",
        )
        db = self.resources.db
        files = [
            discord.File(io.BytesIO(text.encode()), filename=f"campaign-{found.id}-{name}.csv")
            for name, text in (
                ("ledger", await ledger_csv(db, found)),
                ("backers", await backers_csv(db, found)),
            )
        ]
        await interaction.response.send_message(
            f"Campaign #{found.id} ({found.state.value}): the ledger, and the final amount "
            "per backer (`amount_minor` is exact; both files add up to the same total).",
            files=files,
            ephemeral=True,
        )

    # --- /pledge, /unpledge ------------------------------------------------------------------

    @app_commands.command(name="pledge", description="Pledge to a campaign, or change your pledge")
    @app_commands.describe(
        campaign=_CAMPAIGN_HELP,
        amount="in the campaign's currency, e.g. 25 or 12.50",
        anonymous="show you as “anonymous backer” everywhere public (default: as before)",
    )
    @app_commands.guild_only()
    async def pledge_command(
        self,
        interaction: discord.Interaction[Any],
        campaign: int,
        amount: str,
        anonymous: bool | None = None,
    ) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        await self.pledging.pledge(interaction, found.id, amount, anonymous)

    @app_commands.command(name="unpledge", description="Withdraw your pledge to a campaign")
    @app_commands.describe(campaign=_CAMPAIGN_HELP)
    @app_commands.guild_only()
    async def unpledge(self, interaction: discord.Interaction[Any], campaign: int) -> None:
        found = await campaign_of_guild(self.resources.db, campaign, interaction.guild_id)
        await self.pledging.withdraw(interaction, found.id)

    # --- buttons and the pledge form --------------------------------------------------------

    async def on_campaign_press(
        self, interaction: discord.Interaction[Any], action: CampaignAction, campaign_id: int
    ) -> None:
        await self.pledging.press(interaction, action, campaign_id)

    @commands.Cog.listener("on_interaction")
    async def _on_pledge_form(self, interaction: discord.Interaction[Any]) -> None:
        """Every pledge form submission (see ``pledge_form``: none is held in memory, so no
        ``Modal.on_error`` runs; a listener's errors would only be logged, so they are
        answered here)."""
        submission = read_submission(interaction)
        if submission is None:
            return
        try:
            await self.pledging.submit(interaction, submission)
        except Exception as error:
            await handle_error(interaction, error)

    # --- shared ------------------------------------------------------------------------------

    async def _backer_role_refusal(
        self, interaction: discord.Interaction[Any], role: discord.Role
    ) -> str | None:
        assert interaction.guild_id is not None
        settings = await get_guild_settings(self.resources.db, interaction.guild_id)
        guild = interaction.guild  # None until the gateway has sent the server
        member = interaction.user
        if guild is None or guild.me is None or not isinstance(member, discord.Member):
            return "I can't see this server's roles yet; try again in a moment."
        return backer_role_refusal(
            role,
            moderator_role_id=settings.moderator_role_id,
            everyone=guild.default_role.permissions,
            my_top_role=guild.me.top_role,
            chosen_by=member,
        )

    @create.autocomplete("model")
    async def _upcoming_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        keys = [
            version.key
            for version in await all_versions(self.resources.db)
            if version.status is VersionStatus.UPCOMING and typed in version.key
        ]
        return [app_commands.Choice(name=key, value=key) for key in keys[:25]]

    @show.autocomplete("campaign")
    @edit.autocomplete("campaign")
    @cancel.autocomplete("campaign")
    @export.autocomplete("campaign")
    @pledge_command.autocomplete("campaign")
    @unpledge.autocomplete("campaign")
    async def _campaign_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        campaigns = await list_campaigns(
            self.resources.db, interaction.guild_id, states=_ALL_STATES
        )
        typed = current.strip().lstrip("#").lower()
        choices = []
        for found in sorted(campaigns, key=lambda c: c.state is not CampaignState.OPEN):
            label = f"#{found.id} {found.title} ({found.state.value})"
            if typed in label.lower():
                choices.append(app_commands.Choice(name=label[:100], value=found.id))
        return choices[:25]
