"""The Pledge and Withdraw buttons under a campaign message, and the pledge modal.

The buttons are a ``DynamicItem`` whose custom_id carries only the campaign id
(``campaign:pledge:<id>``), so they work on messages posted before a restart; the cog
named ``HANDLER_COG`` handles a press. The modal asks for the amount; its submission is
recorded with the submit interaction's id, so a repeated delivery changes nothing.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Protocol

import discord

from funding.campaigns import Campaign


class CampaignAction(StrEnum):
    PLEDGE = "pledge"
    WITHDRAW = "withdraw"


#: The cog that handles presses and submissions, found by name (cogs do not import each other).
HANDLER_COG = "Funding"
AMOUNT_INPUT = "amount"
SHOWN_AS_INPUT = "shown_as"
#: A form left open longer is forgotten (Discord tells nobody when one is dismissed).
MODAL_TIMEOUT_SECONDS = 15 * 60


class CampaignHandler(Protocol):
    async def on_campaign_press(
        self, interaction: discord.Interaction[Any], action: CampaignAction, campaign_id: int
    ) -> None: ...

    async def on_pledge_submit(
        self,
        interaction: discord.Interaction[Any],
        campaign_id: int,
        amount: str,
        anonymous: bool,
    ) -> None: ...


def _handler(interaction: discord.Interaction[Any]) -> CampaignHandler | None:
    handler: CampaignHandler | None = interaction.client.get_cog(HANDLER_COG)
    return handler


async def _starting_up(interaction: discord.Interaction[Any]) -> None:
    await interaction.response.send_message(
        "Atelier is starting up; try again in a moment.", ephemeral=True
    )


class CampaignButton(
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

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction)
        if handler is None:
            await _starting_up(interaction)
            return
        await handler.on_campaign_press(interaction, self.action, self.campaign_id)


def campaign_view(campaign: Campaign) -> discord.ui.View:
    """Pledge and Withdraw, for an open campaign."""
    view = discord.ui.View(timeout=None)
    view.add_item(CampaignButton(CampaignAction.PLEDGE, campaign.id))
    view.add_item(CampaignButton(CampaignAction.WITHDRAW, campaign.id))
    return view


class PledgeModal(discord.ui.Modal):
    """Asks for the amount and whether to show the backer's name; pre-filled with the
    member's current pledge and choice, if any."""

    def __init__(
        self, campaign: Campaign, current_minor: int, anonymous: bool, *, opened_by: int
    ) -> None:
        # discord.py keeps open modals by custom_id alone: one per opening (the press's
        # interaction id), so two members filling in the form at once never share one.
        super().__init__(
            title=f"Pledge to {campaign.title}"[:45],
            custom_id=f"campaign:modal:{campaign.id}:{opened_by}",
            timeout=MODAL_TIMEOUT_SECONDS,
        )
        self.campaign_id = campaign.id
        self.amount: discord.ui.TextInput[PledgeModal] = discord.ui.TextInput(
            custom_id=AMOUNT_INPUT,
            placeholder=f"at least {campaign.money(campaign.min_pledge_minor)}",
            default=_plain(campaign, current_minor) if current_minor else None,
            max_length=32,
        )
        self.shown_as: discord.ui.Select[PledgeModal] = discord.ui.Select(
            custom_id=SHOWN_AS_INPUT,
            options=[
                discord.SelectOption(label="My name", value="public", default=not anonymous),
                discord.SelectOption(
                    label="Anonymous backer", value="anonymous", default=anonymous
                ),
            ],
        )
        self.add_item(
            discord.ui.Label(text=f"Amount in {campaign.currency.code}", component=self.amount)
        )
        self.add_item(
            discord.ui.Label(
                text="Show me as",
                description="how you appear on leaderboards and announcements",
                component=self.shown_as,
            )
        )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        handler = _handler(interaction)
        if handler is None:
            await _starting_up(interaction)
            return
        anonymous = self.shown_as.values == ["anonymous"]
        await handler.on_pledge_submit(interaction, self.campaign_id, self.amount.value, anonymous)


def _plain(campaign: Campaign, amount_minor: int) -> str:
    """``12.50``: the amount as the member would type it."""
    return campaign.money(amount_minor).split(" ")[0].replace(",", "")
