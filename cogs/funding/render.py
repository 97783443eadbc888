"""How a campaign looks in Discord: the progress bar image, the embed, the short lines.

The bar is linear and honest: its filled width is exactly pledged / goal of the track
(capped at a full track), and the percentage printed on it is the real one, so 250% reads
250% on a full bar. No logarithmic or "head start" scales.
"""

from __future__ import annotations

import io

import discord
from PIL import Image, ImageDraw, ImageFont

from cogs.fitting import Embed
from cogs.timestamps import discord_time
from funding.campaigns import Campaign, CampaignState, Progress

BAR_FILE = "progress.png"
BAR_SIZE = (600, 48)
_PAD = 4
_TRACK = (54, 57, 63)
_FILL = {
    CampaignState.OPEN: (88, 101, 242),
    CampaignState.FUNDED: (59, 165, 93),
    CampaignState.FAILED: (150, 150, 150),
    CampaignState.CANCELLED: (150, 150, 150),
}
_COLOUR = {
    CampaignState.OPEN: discord.Colour.blurple(),
    CampaignState.FUNDED: discord.Colour.green(),
    CampaignState.FAILED: discord.Colour.dark_grey(),
    CampaignState.CANCELLED: discord.Colour.dark_grey(),
}


def filled_width(pledged_minor: int, goal_minor: int, track_width: int) -> int:
    """Pixels of the track to fill: proportional to pledged / goal, never past the track."""
    if pledged_minor <= 0:
        return 0
    return min(track_width, pledged_minor * track_width // goal_minor)


def progress_png(shown: Progress) -> bytes:
    """The bar as PNG bytes (CPU work: call it off the event loop)."""
    width, height = BAR_SIZE
    image = Image.new("RGB", BAR_SIZE, (47, 49, 54))
    draw = ImageDraw.Draw(image)
    track = (_PAD, _PAD, width - _PAD - 1, height - _PAD - 1)
    draw.rectangle(track, fill=_TRACK)
    inner = track[2] - track[0] + 1
    fill = filled_width(shown.shown_total_minor, shown.campaign.goal_minor, inner)
    if fill:
        draw.rectangle(
            (track[0], track[1], track[0] + fill - 1, track[3]), fill=_FILL[shown.campaign.state]
        )
    font = ImageFont.load_default(size=22)
    label = f"{shown.percent}%"
    box = draw.textbbox((0, 0), label, font=font)
    x = (width - (box[2] - box[0])) // 2
    y = (height - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), label, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def status_line(shown: Progress) -> str:
    """ "42.00 USD of 100.00 USD (42%) · 3 backers": what every view of a campaign says."""
    campaign = shown.campaign
    backers = shown.backers if campaign.settled_total_minor is None else None
    who = "" if backers is None else f" · {backers} backer{'' if backers == 1 else 's'}"
    return (
        f"{campaign.money(shown.shown_total_minor)} of {campaign.money(campaign.goal_minor)} "
        f"({shown.percent}%){who}"
    )


def when_line(campaign: Campaign) -> str:
    if campaign.state is CampaignState.OPEN:
        if campaign.starts_at > campaign.created_at:
            opens, ends = discord_time(campaign.starts_at), discord_time(campaign.deadline)
            return f"Opens {opens}, ends {ends}"
        return f"Ends {discord_time(campaign.deadline)}"
    assert campaign.settled_at is not None
    verb = {
        CampaignState.FUNDED: "Funded",
        CampaignState.FAILED: "Did not reach its goal",
        CampaignState.CANCELLED: "Cancelled",
    }[campaign.state]
    return f"{verb} {discord_time(campaign.settled_at)}"


def campaign_embed(shown: Progress) -> discord.Embed:
    """The campaign message's embed; the bar is the attachment ``BAR_FILE``."""
    campaign = shown.campaign
    embed = Embed(
        title=campaign.title,
        description=campaign.description or None,
        colour=_COLOUR[campaign.state],
    )
    embed.add_field(name="Pledged", value=status_line(shown), inline=False)
    embed.add_field(
        name="Deadline" if campaign.state is CampaignState.OPEN else "Result",
        value=when_line(campaign),
        inline=False,
    )
    embed.add_field(name="Model", value=f"`{campaign.model_key}`")
    embed.add_field(name="Minimum pledge", value=campaign.money(campaign.min_pledge_minor))
    perks = f"{campaign.early_access_days} days of early access"
    if campaign.backer_role_id is not None:
        perks += f" and <@&{campaign.backer_role_id}>"
    embed.add_field(name="Backers get", value=perks)
    if campaign.state is not CampaignState.OPEN and campaign.state_reason:
        embed.add_field(name="Why", value=campaign.state_reason, inline=False)
    embed.set_image(url=f"attachment://{BAR_FILE}")
    embed.set_footer(
        text=f"Campaign #{campaign.id} · Atelier records pledges; payment happens outside it"
    )
    return embed


def bar_file(png: bytes) -> discord.File:
    return discord.File(io.BytesIO(png), filename=BAR_FILE)
