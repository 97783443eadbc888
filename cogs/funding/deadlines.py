"""Campaign deadlines as a ``PhaseSource``: settle, announce, tell backers, grant roles.

``funding.settlement`` records each settlement with what it owes members (the
announcement, a DM per voided backer, a role per funded backer) in one transaction; this
module delivers what is owed and marks it delivered. A crash between posting and marking
may repeat one post; nothing owed is ever dropped. Delivery uses REST only
(``get_partial_messageable``, ``client.http``), so it works at start-up before READY.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord

from cogs.funding.messages import CampaignMessages
from cogs.funding.replies import message_link
from db.database import Database
from db.guilds import get_guild_settings
from funding.campaigns import Campaign, CampaignState, get_campaign, progress
from funding.settlement import (
    Notice,
    mark_announced,
    mark_notice_done,
    mark_role_warned,
    next_deadline,
    pending_notices,
    settle_due,
    unannounced,
)

log = logging.getLogger(__name__)

#: When a delivery failed (Discord down), try again after this long.
RETRY_AFTER = timedelta(seconds=30)


class CampaignDeadlines:
    def __init__(self, client: discord.Client, db: Database, messages: CampaignMessages) -> None:
        self._client = client
        self._db = db
        self._messages = messages
        self._lock = asyncio.Lock()  # the timer and /campaign cancel both deliver

    def __repr__(self) -> str:
        return "campaign deadlines"

    async def advance(self, now: datetime) -> None:
        await settle_due(self._db, now)
        await self.deliver(now)

    async def next_due(self, now: datetime) -> datetime | None:
        if await unannounced(self._db) or await pending_notices(self._db):
            return now + RETRY_AFTER
        return await next_deadline(self._db)

    async def deliver(self, now: datetime) -> None:
        """Post due announcements, then DMs and roles; each marked once done."""
        async with self._lock:
            for campaign in await unannounced(self._db):
                try:
                    await self._announce(campaign)
                except (discord.Forbidden, discord.NotFound) as error:
                    # The channel is gone or closed to the bot: retrying cannot help.
                    log.warning("cannot announce campaign %s: %s", campaign.id, error)
                await mark_announced(self._db, campaign.id, now)
                self._messages.refresh(campaign.id)
            for notice in await pending_notices(self._db):
                campaign = await get_campaign(self._db, notice.campaign_id)
                if notice.kind == "void":
                    outcome = await self._tell_voided(campaign, notice)
                else:
                    outcome = await self._grant_role(campaign, notice, now)
                await mark_notice_done(self._db, notice, outcome=outcome, at=now)

    async def _announce(self, campaign: Campaign) -> None:
        shown = await progress(self._db, campaign)
        total = campaign.money(shown.shown_total_minor)
        goal = campaign.money(campaign.goal_minor)
        link = message_link(campaign)
        if campaign.state is CampaignState.FUNDED:
            text = (
                f"🎉 **{campaign.title}** is funded: {total} pledged of a {goal} goal "
                f"({shown.percent}%) by {shown.backers} backer"
                f"{'' if shown.backers == 1 else 's'}. When `{campaign.model_key}` is "
                f"released, backers get {campaign.early_access_days} days of early access. "
                f"Thank you!{link}"
            )
        elif campaign.state is CampaignState.FAILED:
            text = (
                f"**{campaign.title}** did not reach its goal: {total} pledged of {goal} "
                f"({shown.percent}%). Every pledge is void — nobody owes anything; backers "
                f"are being told.{link}"
            )
        else:
            text = (
                f"**{campaign.title}** was cancelled ({campaign.state_reason}). Every pledge "
                f"is void — nobody owes anything; backers are being told.{link}"
            )
        channel = self._client.get_partial_messageable(campaign.channel_id)
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())

    async def _tell_voided(self, campaign: Campaign, notice: Notice) -> str:
        why = (
            "did not reach its goal"
            if campaign.state is CampaignState.FAILED
            else f"was cancelled ({campaign.state_reason})"
        )
        text = (
            f"The campaign **{campaign.title}** (#{campaign.id}) {why}. Your pledge of "
            f"{campaign.money(notice.amount_minor)} is void: you owe nothing."
        )
        try:
            dm = await self._client.create_dm(discord.Object(notice.backer_id))
            await dm.send(text)
        except discord.Forbidden:
            return "dm closed"
        except discord.NotFound:
            return "unknown user"
        return "sent"

    async def _grant_role(self, campaign: Campaign, notice: Notice, now: datetime) -> str:
        role_id = campaign.backer_role_id
        if role_id is None:
            return "no role"
        try:
            await self._client.http.add_role(
                campaign.guild_id,
                notice.backer_id,
                role_id,
                reason=f"Backer of funded campaign #{campaign.id} ({campaign.model_key})",
            )
        except discord.NotFound:
            return "member or role gone"
        except discord.Forbidden:
            if campaign.role_warning_at is None:
                try:
                    await self._warn_moderators(campaign)
                except (discord.Forbidden, discord.NotFound) as error:
                    # Nowhere to tell them: retrying cannot help, so the log must do.
                    log.warning(
                        "cannot give the backer role of campaign %s, nor tell the moderators: %s",
                        campaign.id,
                        error,
                    )
                await mark_role_warned(self._db, campaign.id, now)
            return "no permission"
        return "granted"

    async def _warn_moderators(self, campaign: Campaign) -> None:
        settings = await get_guild_settings(self._db, campaign.guild_id)
        channel_id = settings.moderation_channel_id or campaign.channel_id
        text = (
            f"⚠️ I could not give the backer role <@&{campaign.backer_role_id}> to the backers "
            f"of **{campaign.title}** (#{campaign.id}): I need the **Manage Roles** permission, "
            "and my highest role must be above that role. `/campaign export` lists the "
            "backers, if you want to give it by hand."
        )
        channel = self._client.get_partial_messageable(channel_id)
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
