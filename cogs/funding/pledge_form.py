"""The pledge form (a modal) and reading what a member submitted in it.

discord.py keeps every modal it sends in memory and hands its submission to that object.
Memory does not survive a restart, and Discord keeps a form open on the member's screen
for as long as they like, so a form opened before a restart would be submitted into the
void. The pledge form therefore never lives in memory: it is stopped before it is sent
(``send_modal`` stores only modals that are not finished), its custom_id carries the
campaign (``campaign:pledge-form:<id>``), and the funding cog's ``on_interaction``
listener reads every submission from the interaction's data. One path for every form,
however old, so none is handled twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from cogs.custom_ids import StaleCustomId, check_custom_id
from cogs.forms import submitted_values
from funding.campaigns import Campaign

AMOUNT_INPUT = "amount"
SHOWN_AS_INPUT = "shown_as"
#: Every custom_id starting so is the pledge form's (a malformed one is answered as stale).
FORM_PREFIX = "campaign:pledge-form:"
_FORM_ID = re.compile(re.escape(FORM_PREFIX) + r"(?P<id>[1-9][0-9]{0,18})")


def pledge_form(campaign: Campaign, current_minor: int, anonymous: bool) -> discord.ui.Modal:
    """The form asking for the amount and how to show the backer, pre-filled with their
    current pledge and choice, if any. Send it with ``interaction.response.send_modal``."""
    form = discord.ui.Modal(
        title=f"Pledge to {campaign.title}"[:45],
        custom_id=f"{FORM_PREFIX}{campaign.id}",
        timeout=None,
    )
    amount: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=AMOUNT_INPUT,
        placeholder=f"at least {campaign.money(campaign.min_pledge_minor)}",
        default=_plain(campaign, current_minor) if current_minor else None,
        max_length=32,
    )
    shown_as: discord.ui.Select[discord.ui.Modal] = discord.ui.Select(
        custom_id=SHOWN_AS_INPUT,
        options=[
            discord.SelectOption(label="My name", value="public", default=not anonymous),
            discord.SelectOption(label="Anonymous backer", value="anonymous", default=anonymous),
        ],
    )
    form.add_item(discord.ui.Label(text=f"Amount in {campaign.currency.code}", component=amount))
    form.add_item(
        discord.ui.Label(
            text="Show me as",
            description="how you appear on leaderboards and announcements",
            component=shown_as,
        )
    )
    form.stop()  # see the module docstring: the listener, not this object, takes the submit
    return form


@dataclass(frozen=True)
class PledgeSubmission:
    campaign_id: int
    amount: str
    anonymous: bool | None  # None: the form had no choice (keep the backer's earlier one)


def read_submission(interaction: discord.Interaction[Any]) -> PledgeSubmission | None:
    """The pledge form's answers, if ``interaction`` submits one; None for anything else.
    Raises ``StaleCustomId`` for a pledge form's custom_id that names no campaign."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return None
    data: Mapping[str, Any] = interaction.data
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith(FORM_PREFIX):
        return None
    match = _FORM_ID.fullmatch(custom_id)
    if match is None:
        raise StaleCustomId
    check_custom_id(custom_id)
    values = submitted_values(data.get("components", []))
    amount = values.get(AMOUNT_INPUT)
    shown_as = values.get(SHOWN_AS_INPUT)
    return PledgeSubmission(
        campaign_id=int(match["id"]),
        amount=amount if isinstance(amount, str) else "",
        anonymous=None if not isinstance(shown_as, list) else shown_as == ["anonymous"],
    )


def _plain(campaign: Campaign, amount_minor: int) -> str:
    """``12.50``: the amount as the member would type it."""
    return campaign.money(amount_minor).split(" ")[0].replace(",", "")
