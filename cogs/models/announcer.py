"""Release announcements, and the end of early access: a ``PhaseSource`` that makes due
versions available and says so.

``advance`` records each transition with its announcement in one transaction
(``registry.releases.open_due``; ``/models release`` records its own), then posts what is
pending in the funded campaign's channel (or logs it, for a version without one) and marks
it posted. A post Discord refused for a passing reason is tried again a minute later. A
crash between posting and marking may repeat one post; none is lost. Posting uses REST
through a partial channel, so it works at start-up before the gateway is ready.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import discord

from cogs.timestamps import discord_time
from db.database import Database
from funding.backers import funded_campaign
from registry.releases import (
    Announcement,
    AnnouncementEvent,
    mark_announced,
    next_opening,
    open_due,
    pending_announcements,
)
from registry.versions import ModelVersion

log = logging.getLogger(__name__)

#: After Discord refused a post for a passing reason (an outage), try again this much later.
RETRY_POST = timedelta(minutes=1)


def available_text(version: ModelVersion) -> str:
    return (
        f"🎉 **{version.key}** is now available to everyone — its early access has ended. "
        f"Try it with `/imagine … --model {version.key}`."
    )


def released_text(version: ModelVersion) -> str:
    """What ``/models release`` announces: early access for backers, or open to all."""
    if version.early_access_until is None:
        return (
            f"🚀 **{version.key}** is released and available to everyone: "
            f"`/imagine … --model {version.key}`."
        )
    return early_access_text(version)


def early_access_text(version: ModelVersion) -> str:
    assert version.early_access_until is not None
    return (
        f"🚀 **{version.key}** is released! Its backers can use it now with "
        f"`--model {version.key}`, and their jobs go in the priority lane; everyone else "
        f"can use it {discord_time(version.early_access_until)}."
    )


class EarlyAccessEnds:
    """Registered with the bot's ``PhaseTimer``."""

    def __init__(self, client: discord.Client, db: Database) -> None:
        self._client = client
        self._db = db
        self._retry_at: datetime | None = None
        # The timer and /models release both post; one at a time, so none posts twice.
        self._posting = asyncio.Lock()

    async def advance(self, now: datetime) -> None:
        for version in await open_due(self._db, now):
            log.info("%s is now available to everyone (early access ended)", version.key)
        await self.post_pending(now)

    async def next_due(self, now: datetime) -> datetime | None:
        opening = await next_opening(self._db)
        if self._retry_at is not None and (opening is None or self._retry_at < opening):
            return self._retry_at
        return opening

    async def post_pending(self, now: datetime) -> None:
        """Post every recorded announcement not yet posted, oldest first; stop at a passing
        failure and try again later (the rest keep their order)."""
        async with self._posting:
            self._retry_at = None
            for announcement in await pending_announcements(self._db):
                if not await self.post(announcement.version, _text(announcement)):
                    self._retry_at = now + RETRY_POST
                    return
                await mark_announced(self._db, announcement.id, now)

    async def post(self, version: ModelVersion, text: str) -> bool:
        """Post ``text`` in the channel of ``version``'s funded campaign, or log it if it
        has none. False if Discord failed for a reason that may pass; a channel that is
        gone or closed to the bot is logged and counts as done."""
        campaign = await funded_campaign(self._db, version.id)
        if campaign is None:
            log.info("announcement for %s (no campaign channel): %s", version.key, text)
            return True
        channel = self._client.get_partial_messageable(
            campaign.channel_id, guild_id=campaign.guild_id
        )
        try:
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except (discord.NotFound, discord.Forbidden) as error:
            log.warning(
                "could not announce %s in channel %d: %s", version.key, campaign.channel_id, error
            )
        except (discord.HTTPException, OSError) as error:
            log.warning("announcing %s failed, will retry: %s", version.key, error)
            return False
        return True


def _text(announcement: Announcement) -> str:
    if announcement.event is AnnouncementEvent.RELEASED:
        return released_text(announcement.version)
    return available_text(announcement.version)
