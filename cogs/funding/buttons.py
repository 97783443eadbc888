"""The Pledge and Withdraw buttons under a campaign message.

The buttons are a ``DynamicItem`` whose custom_id carries only the campaign id
(``campaign:pledge:<id>``), so they work on messages posted before a restart; the cog
named ``HANDLER_COG`` handles a press. (The form Pledge opens is ``pledge_form``'s.)
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Protocol

import discord

from cogs.errors import AnswersErrors
from cogs.handlers import handling_cog
from funding.campaigns import Campaign


class CampaignAction(StrEnum):
    PLEDGE = "pledge"
    WITHDRAW = "withdraw"


#: The cog that handles presses, found by name (cogs do not import each other).
HANDLER_COG = "Funding"


class CampaignHandler(Protocol):
    async def on_campaign_press(
        self, interaction: discord.Interaction[Any], action: CampaignAction, campaign_id: int
    ) -> None: ...


class CampaignButton(
    AnswersErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"campaign:(?P<action>pledge|withdraw):(?P<id>[1-9]\d{0,18})",
):
    def __init__(self, action: CampaignAction, campaign_id: int) -> None:
        pledge = action is CampaignAction.PLEDGE
        super().__init__(
            discord.ui.Button(
                custom_id=f"campaign:{action.value}:{campaign_id}",
                label="Pledge" if pledge else "Withdraw",
                emoji="💰" if pledge else None,
                style=discord.ButtonStyle.success if pledge else discord.ButtonStyle.secondary,
            )
        )
        self.action = action
        self.campaign_id = campaign_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CampaignButton:
        return cls(CampaignAction(match["action"]), int(match["id"]))

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        handler: CampaignHandler | None = await handling_cog(interaction, HANDLER_COG)
        if handler is not None:
            await handler.on_campaign_press(interaction, self.action, self.campaign_id)


def campaign_view(campaign: Campaign) -> discord.ui.View:
    """Pledge and Withdraw, for an open campaign."""
    view = discord.ui.View(timeout=None)
    view.add_item(CampaignButton(CampaignAction.PLEDGE, campaign.id))
    view.add_item(CampaignButton(CampaignAction.WITHDRAW, campaign.id))
    return view
