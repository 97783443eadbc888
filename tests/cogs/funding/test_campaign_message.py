"""The campaign message: an honest, linear progress bar, and throttled edits."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from cogs.funding.messages import CampaignMessages
from cogs.funding.render import BAR_SIZE, filled_width, progress_png, status_line
from db.database import Database
from funding.campaigns import Campaign, CampaignState, Progress, set_message
from funding.ledger import pledge
from tests.helpers.campaigns import ALICE, T0, interaction, open_campaign, upcoming_version


@pytest.fixture(autouse=True)
async def upcoming(db: Database) -> None:
    """An upcoming ``dreamy:v2`` for the campaigns to fund."""
    await upcoming_version(db)


def test_the_bar_is_proportional_and_capped_at_the_track() -> None:
    assert filled_width(0, 10000, 592) == 0
    assert filled_width(2500, 10000, 592) == 148  # a quarter is a quarter of the track
    assert filled_width(5000, 10000, 592) == 296
    assert filled_width(10000, 10000, 592) == 592
    assert filled_width(25000, 10000, 592) == 592  # 250% fills the bar, no more


def _fill_colour_at(png: bytes, fraction: float) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x = 4 + int((BAR_SIZE[0] - 8) * fraction)
    colour: tuple[int, int, int] = image.getpixel((x, 8))  # type: ignore[assignment]
    return colour


async def test_the_image_fills_exactly_the_pledged_share(db: Database) -> None:
    campaign = await open_campaign(db, goal="100")
    png = progress_png(Progress(campaign, pledged_minor=4000, backers=2))
    track = _fill_colour_at(png, 0.99)
    assert _fill_colour_at(png, 0.38) != track  # filled up to 40%
    assert _fill_colour_at(png, 0.42) == track  # and not beyond


def test_the_text_shows_the_real_percentage_over_the_goal(campaign_stub: Campaign) -> None:
    shown = Progress(campaign_stub, pledged_minor=25000, backers=3)
    assert shown.percent == 250
    assert status_line(shown) == "250.00 USD of 100.00 USD (250%) · 3 backers"


def test_a_failed_campaign_shows_what_it_had_raised(campaign_stub: Campaign) -> None:
    failed = replace(campaign_stub, state=CampaignState.FAILED, settled_total_minor=4000)
    shown = Progress(failed, pledged_minor=0, backers=0)  # the voids zeroed the ledger
    assert status_line(shown) == "40.00 USD of 100.00 USD (40%)"


@pytest.fixture
async def campaign_stub(db: Database) -> Campaign:
    return await open_campaign(db, goal="100")


class _Channel:
    """Records edits of the campaign message (the cog's Discord side)."""

    def __init__(self) -> None:
        self.edits: list[dict[str, Any]] = []
        self.edited = asyncio.Event()

    def get_partial_message(self, message_id: int) -> _Channel:
        return self

    async def edit(self, **parts: Any) -> None:
        self.edits.append(parts)
        self.edited.set()


class _Client:
    def __init__(self) -> None:
        self.channel = _Channel()

    def get_partial_messageable(self, channel_id: int) -> _Channel:
        return self.channel


async def test_changes_while_an_edit_is_pending_are_folded_into_it(db: Database) -> None:
    campaign = await open_campaign(db, goal="100")
    await set_message(db, campaign.id, 4242)
    client = _Client()
    messages = CampaignMessages(client, db, interval=3600)  # type: ignore[arg-type]
    messages.refresh(campaign.id)  # nothing edited lately: edits at once
    await asyncio.wait_for(client.channel.edited.wait(), timeout=5)
    assert len(client.channel.edits) == 1
    for amount in ("10", "20", "30"):
        await pledge(
            db, campaign.id, ALICE, amount, anonymous=None, interaction_id=interaction(), now=T0
        )
        messages.refresh(campaign.id)
    # Within the interval: no more edits; one edit waits, for all three changes.
    assert len(client.channel.edits) == 1
    assert messages.pending == [campaign.id]
    await messages.flush()
    assert len(client.channel.edits) == 2
    assert "30.00 USD of 100.00 USD (30%)" in str(client.channel.edits[-1]["embed"].fields[0])
    assert messages.pending == []
