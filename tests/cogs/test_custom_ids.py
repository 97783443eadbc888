"""Forged or stale custom_ids: numbers beyond what SQLite stores, prefixes nothing handles,
junk. Each press or form submission gets the same ephemeral answer and changes nothing."""

from __future__ import annotations

import logging

import discord
import pytest

from cogs.custom_ids import StaleCustomId
from cogs.errors import refusal_text
from tests.discord_standin import FakeDiscord, FakeUser
from tests.discord_standin.constants import MODAL_SUBMIT
from tests.helpers.discord_bots import Bots

STALE = refusal_text(StaleCustomId())
BEYOND = str(2**63)  # one more than SQLite's largest integer

FORGED = (
    f"atelier:u:{BEYOND}:0",
    f"atelier:appeal:{BEYOND}:0",
    f"atelier:info:{BEYOND}:0",
    f"atelier:zoom2:{BEYOND}:0",
    "contest:vote:9999999999999999999",
    f"contest:submit:{BEYOND}:0",
    f"contest:replace:1:{BEYOND}:0",
    f"campaign:pledge:{BEYOND}",
    f"campaign:withdraw:{BEYOND}",
    "campaign:pledge:0",
    f"board:creators:week:{BEYOND}",
    "settings:public",  # a settings panel's button after a restart: its view is gone
    "x" * 100,
)

TABLES = (
    "jobs",
    "contest_votes",
    "contest_vote_presses",
    "contest_entries",
    "pledge_events",
    "favorites",
    "blocked_prompts",
)


async def _rows(bot: discord.Client) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        row = await bot.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # type: ignore[attr-defined]
        counts[table] = row["n"]
    return counts


async def test_every_forged_or_stale_button_gets_the_same_answer_and_changes_nothing(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await bots.start()
    before = await _rows(bot)
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    messages = []
    for start in range(0, len(FORGED), 5):  # at most five buttons to a row
        view = discord.ui.View(timeout=None)
        for custom_id in FORGED[start : start + 5]:
            view.add_item(discord.ui.Button(label="?", custom_id=custom_id))
        messages.append(await channel.send("an old message", view=view))
        view.stop()  # as after a restart: no view of this process holds the buttons
    caplog.set_level(logging.WARNING)
    for custom_id in FORGED:
        message = next(m for m in messages if custom_id in str(m.components))
        press = await fake.press(message.id, custom_id, user=alice)
        answer = await press.wait_original()
        assert press.ephemeral, custom_id
        assert answer.content == STALE, (custom_id, answer.content)
    assert await _rows(bot) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "custom_id",
    [
        f"campaign:pledge-form:{BEYOND}",
        "campaign:pledge-form:0",
        "y" * 100,
        f"atelier-form:zoom2:{BEYOND}:0",
        "atelier-form:u:1:0",  # U1 opens no form
        "atelier-form:zoom2:1",
    ],
)
async def test_a_forged_form_submission_gets_the_same_answer(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, custom_id: str
) -> None:
    bot = await bots.start()
    data = {
        "custom_id": custom_id,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "amount", "value": "10"}]}
        ],
    }
    submitted = await fake._start_interaction(MODAL_SUBMIT, data, alice, fake.channel_id)
    answer = await submitted.wait_original()
    assert submitted.ephemeral
    assert answer.content == STALE
    assert (await _rows(bot))["pledge_events"] == 0
