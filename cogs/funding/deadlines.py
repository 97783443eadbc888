"""Campaign deadlines as a ``PhaseSource``: settle, announce, tell backers, grant roles.

``funding.settlement`` records each settlement with what it owes members (the
announcement, a DM per voided backer, a role per funded backer) in one transaction; this
module delivers what is owed and marks it delivered. A crash between posting and marking
may repeat one post; nothing owed is ever dropped. Delivery uses REST only
(``get_partial_messageable``, ``client.http``, ``fetch_guild``), so it works at start-up
before READY.

The backer role was checked when the campaign was made, but the server may have changed
since (the role gained Kick Members, became the moderator role, moved above the bot or was
deleted): it is checked again, against the server as it is now, before anyone gets it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import aiohttp
import discord

from cogs.funding.backer_role import backer_role_refusal
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
            refusals: dict[int, str | None] = {}  # the role checked once per campaign
            unreachable: set[int] = set()  # campaigns whose server Discord failed to give
            for notice in await pending_notices(self._db):
                campaign = await get_campaign(self._db, notice.campaign_id)
                if notice.kind == "void":
                    outcome = await self._tell_voided(campaign, notice)
                elif campaign.id in unreachable:
                    continue  # left pending: tried again at the next wake-up
                else:
                    if campaign.id not in refusals:
                        try:
                            refusals[campaign.id] = await self._role_refusal(campaign)
                        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
                            # Discord failing (5xx) or the network: not a refusal. Only this
                            # campaign's roles wait; the other campaigns' notices go out.
                            log.warning(
                                "cannot check the backer role of campaign %s now (%s); "
                                "trying again later",
                                campaign.id,
                                error,
                            )
                            unreachable.add(campaign.id)
                            continue
                    outcome = await self._grant_role(
                        campaign, notice, now, refused=refusals[campaign.id]
                    )
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

    async def _role_refusal(self, campaign: Campaign) -> str | None:
        """Why the campaign's backer role may not be given now, or None if it may (or
        there is none), from the server as Discord has it now."""
        role_id = campaign.backer_role_id
        if role_id is None:
            return None
        assert self._client.user is not None  # logged in before anything is delivered
        try:
            guild = await self._client.fetch_guild(campaign.guild_id, with_counts=False)
            me = await guild.fetch_member(self._client.user.id)
        except (discord.Forbidden, discord.NotFound):
            return "I am no longer in this server."
        role = guild.get_role(role_id)
        if role is None:
            # Not <@&id>: Discord shows a deleted role's mention as "@deleted-role".
            return f"The backer role (id {role_id}) no longer exists on this server."
        settings = await get_guild_settings(self._db, campaign.guild_id)
        return backer_role_refusal(
            role,
            moderator_role_id=settings.moderator_role_id,
            everyone=guild.default_role.permissions,
            my_top_role=me.top_role,
            chosen_by=None,
        )

    async def _grant_role(
        self, campaign: Campaign, notice: Notice, now: datetime, *, refused: str | None
    ) -> str:
        role_id = campaign.backer_role_id
        if role_id is None:
            return "no role"
        if refused is not None:
            await self._warn_once(
                campaign,
                now,
                f"⚠️ I did not give the backer role to the backers of **{campaign.title}** "
                f"(#{campaign.id}), and won't try again: the server has changed since the "
                f"campaign was made. {refused} `/campaign export` lists "
                "the backers, if you want to give them a suitable role by hand.",
            )
            return "role refused"
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
            await self._warn_once(
                campaign,
                now,
                f"⚠️ I could not give the backer role <@&{role_id}> to the backers of "
                f"**{campaign.title}** (#{campaign.id}): I need the **Manage Roles** "
                "permission, and my highest role must be above that role. `/campaign export` "
                "lists the backers, if you want to give it by hand.",
            )
            return "no permission"
        return "granted"

    async def _warn_once(self, campaign: Campaign, now: datetime, text: str) -> None:
        """Tell the moderators why the backer role isn't being given, once per campaign:
        in the moderation channel, else the campaign's channel."""
        if campaign.role_warning_at is not None:
            return
        settings = await get_guild_settings(self._db, campaign.guild_id)
        channel_id = settings.moderation_channel_id or campaign.channel_id
        try:
            channel = self._client.get_partial_messageable(channel_id)
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except (discord.Forbidden, discord.NotFound) as error:
            # Nowhere to tell them: retrying cannot help, so the log must do.
            log.warning(
                "cannot give the backer role of campaign %s, nor tell the moderators: %s",
                campaign.id,
                error,
            )
        await mark_role_warned(self._db, campaign.id, now)
