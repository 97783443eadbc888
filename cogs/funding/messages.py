"""Posting and editing campaign messages, throttled.

A busy campaign can take many pledges a second; Discord rate-limits message edits. So an
edit happens at most once per ``interval`` per campaign, and a change that arrives while an
edit is pending is folded into it: the edit reads the totals when it runs, so the last
change is always shown (a trailing edit is guaranteed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import discord

from cogs.funding.buttons import campaign_view
from cogs.funding.render import bar_file, campaign_embed, progress_png
from cogs.web_links import server_page
from db.database import Database
from funding.campaigns import Campaign, CampaignState, get_campaign, progress, set_message

log = logging.getLogger(__name__)


async def message_parts(db: Database, campaign: Campaign, public_url: str | None) -> dict[str, Any]:
    """The keyword arguments for ``send``/``edit``: embed (its title linking to the
    campaign's web page, when there is one), bar image and buttons."""
    shown = await progress(db, campaign)
    png = await asyncio.to_thread(progress_png, shown)
    view = campaign_view(campaign) if campaign.state is CampaignState.OPEN else None
    embed = campaign_embed(shown)
    embed.url = await server_page(db, public_url, campaign.guild_id, f"/campaigns/{campaign.id}")
    return {"embed": embed, "file": bar_file(png), "view": view}


class CampaignMessages:
    def __init__(
        self,
        client: discord.Client,
        db: Database,
        interval: float,
        public_url: str | None = None,
    ) -> None:
        self._client = client
        self._db = db
        self._interval = interval
        self._public_url = public_url
        self._last_edit: dict[int, float] = {}
        self._pending: dict[int, asyncio.Task[None]] = {}

    async def post(self, campaign: Campaign) -> int:
        """Post the campaign message in its channel and remember it; returns its id."""
        channel = self._client.get_partial_messageable(campaign.channel_id)
        message = await channel.send(**await message_parts(self._db, campaign, self._public_url))
        await set_message(self._db, campaign.id, message.id)
        self._last_edit[campaign.id] = time.monotonic()
        return message.id

    def refresh(self, campaign_id: int) -> None:
        """Show the campaign's current totals soon (now, or once the interval has passed)."""
        if campaign_id in self._pending:
            return  # the pending edit will read the newest totals
        wait = self._last_edit.get(campaign_id, -self._interval) + self._interval
        delay = max(0.0, wait - time.monotonic())
        self._pending[campaign_id] = asyncio.create_task(self._edit_after(campaign_id, delay))

    async def _edit_after(self, campaign_id: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            # From here on a new change schedules another edit, so none is missed.
            self._pending.pop(campaign_id, None)
        self._last_edit[campaign_id] = time.monotonic()
        try:
            await self.edit_now(campaign_id)
        except Exception:
            log.exception("updating the message of campaign %s failed", campaign_id)

    async def edit_now(self, campaign_id: int) -> None:
        campaign = await get_campaign(self._db, campaign_id)
        if campaign.message_id is None:
            return
        parts = await message_parts(self._db, campaign, self._public_url)
        message = self._client.get_partial_messageable(campaign.channel_id).get_partial_message(
            campaign.message_id
        )
        try:
            await message.edit(
                embed=parts["embed"], attachments=[parts["file"]], view=parts["view"]
            )
        except (discord.NotFound, discord.Forbidden) as error:
            log.warning("cannot update the message of campaign %s: %s", campaign_id, error)

    @property
    def pending(self) -> list[int]:
        """Campaigns with an edit waiting for its interval to pass."""
        return sorted(self._pending)

    async def flush(self) -> None:
        """Make every waiting edit now (at shutdown, so the last totals are shown)."""
        while self._pending:
            campaign_id, task = self._pending.popitem()
            task.cancel()
            try:
                await self.edit_now(campaign_id)
            except Exception:
                log.exception("updating the message of campaign %s failed", campaign_id)
