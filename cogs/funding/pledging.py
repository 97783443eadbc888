"""Pledging and withdrawing from Discord: ``/pledge``, ``/unpledge``, the Pledge and
Withdraw buttons and the pledge form all come through here, so each way in gives the same
answers. The rules are ``funding.ledger``'s; this module finds the campaign, asks, replies,
and refreshes the campaign message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord

from cogs.errors import tell
from cogs.funding.buttons import CampaignAction
from cogs.funding.messages import CampaignMessages
from cogs.funding.pledge_form import PledgeSubmission, pledge_form
from cogs.funding.replies import pledge_text
from db.database import Database
from funding.campaigns import campaign_of_guild
from funding.ledger import (
    PledgeChange,
    backer_pledge,
    check_may_pledge,
    pledge,
    withdraw,
)


class Pledging:
    def __init__(
        self, db: Database, clock: Callable[[], datetime], messages: CampaignMessages
    ) -> None:
        self._db = db
        self._clock = clock
        self._messages = messages

    async def press(
        self, interaction: discord.Interaction[Any], action: CampaignAction, campaign_id: int
    ) -> None:
        """A Pledge or Withdraw button. Pledge opens the form only for a member who may
        pledge now, so nobody types an amount just to be told no."""
        found = await campaign_of_guild(self._db, campaign_id, interaction.guild_id)
        if action is CampaignAction.WITHDRAW:
            await self.withdraw(interaction, found.id)
            return
        check_may_pledge(found, interaction.user.id, self._clock())
        current = await backer_pledge(self._db, found.id, interaction.user.id)
        form = pledge_form(found, current.amount_minor, current.anonymous)
        await interaction.response.send_modal(form)

    async def submit(
        self, interaction: discord.Interaction[Any], submission: PledgeSubmission
    ) -> None:
        """A pledge form, however long ago it was opened (before a restart included)."""
        found = await campaign_of_guild(self._db, submission.campaign_id, interaction.guild_id)
        await self.pledge(interaction, found.id, submission.amount, submission.anonymous)

    async def pledge(
        self,
        interaction: discord.Interaction[Any],
        campaign_id: int,
        amount: str,
        anonymous: bool | None,
    ) -> None:
        result = await pledge(
            self._db,
            campaign_id,
            interaction.user.id,
            amount,
            anonymous=anonymous,
            interaction_id=interaction.id,
            now=self._clock(),
        )
        await tell(interaction, pledge_text(result))
        if result.change is not PledgeChange.UNCHANGED and not result.replayed:
            self._messages.refresh(campaign_id)

    async def withdraw(self, interaction: discord.Interaction[Any], campaign_id: int) -> None:
        result = await withdraw(
            self._db,
            campaign_id,
            interaction.user.id,
            interaction_id=interaction.id,
            now=self._clock(),
        )
        await tell(interaction, pledge_text(result))
        if not result.replayed:
            self._messages.refresh(campaign_id)
