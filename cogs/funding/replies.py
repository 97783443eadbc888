"""The ephemeral answers of the funding commands, and links to campaign messages."""

from __future__ import annotations

from funding.campaigns import Campaign
from funding.ledger import PledgeChange, PledgeResult


def pledge_text(result: PledgeResult) -> str:
    """The ephemeral answer to a pledge, change or withdrawal."""
    campaign = result.campaign
    money = campaign.money
    total = (
        f"The campaign now has {money(result.total_minor)} of "
        f"{money(campaign.goal_minor)} ({result.total_minor * 100 // campaign.goal_minor}%)."
    )
    shown_as = " You are shown as an anonymous backer." if result.anonymous else ""
    if result.change is PledgeChange.PLEDGED:
        head = f"✅ You pledged {money(result.amount_minor)} to **{campaign.title}**."
        tail = (
            " Atelier only records pledges: if the campaign is funded, its owner tells "
            "backers how to pay. Change it with the Pledge button or `/pledge`; withdraw "
            "with Withdraw or `/unpledge`."
        )
        return f"{head} {total}{shown_as}{tail}"
    if result.change is PledgeChange.CHANGED:
        head = (
            f"✅ Your pledge to **{campaign.title}** is now {money(result.amount_minor)} "
            f"(was {money(result.previous_minor)})."
        )
        return f"{head} {total}{shown_as}"
    if result.change is PledgeChange.WITHDRAWN:
        return (
            f"✅ You withdrew your pledge of {money(result.previous_minor)} from "
            f"**{campaign.title}**; you owe nothing. {total}"
        )
    return f"Your pledge to **{campaign.title}** is already {money(result.amount_minor)}; " + (
        "nothing changed."
    )


def message_link(campaign: Campaign) -> str:
    """A new line with a jump link to the campaign message (empty before it is posted)."""
    if campaign.message_id is None:
        return ""
    return (
        f"\nhttps://discord.com/channels/{campaign.guild_id}/{campaign.channel_id}/"
        f"{campaign.message_id}"
    )
