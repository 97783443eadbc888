"""The one road from an error to the member: ``cogs.errors`` answers ephemerally whatever
state the interaction is in, shows a refusal with its moments as Discord timestamps, and
apologises for (and logs) anything else; slash commands and buttons reach it.

The refusals injected here (``monkeypatch`` on ``Studio``) stand for any domain refusal:
what is tested is the road, not the rule that refuses.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any

import discord
import pytest

import bot.app  # noqa: F401  (loads every cog, so every DynamicItem class exists)
from cogs.errors import APOLOGY, HINT_TEXT, AnswersErrors, handle_error
from contests.errors import ContestHint
from core.errors import UserFacingError
from funding.errors import FundingHint
from inference.loading import ModelLoadError
from registry.errors import RegistryHint
from studio.service import Studio
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots

BACK = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
SHOWN = f"<t:{int(BACK.timestamp())}:R>"


def _resting() -> UserFacingError:
    return UserFacingError("Atelier is resting until {back}; try again then.", back=BACK)


# --- the handler on its own ---------------------------------------------------------------


class _Response:
    def __init__(self, done: bool) -> None:
        self.done = done
        self.sent: list[tuple[str, bool]] = []
        # Answered with a message (a public defer's placeholder is tested through the bot).
        self.type = discord.InteractionResponseType.channel_message if done else None

    def is_done(self) -> bool:
        return self.done

    async def send_message(self, text: str, *, ephemeral: bool, view: Any, files: Any) -> None:
        self.sent.append((text, ephemeral))
        self.done = True


class _Followup:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.sent: list[tuple[str, bool]] = []

    async def send(self, text: str, *, ephemeral: bool, view: Any, files: Any) -> None:
        if self.fails:
            raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "expired")
        self.sent.append((text, ephemeral))


def _interaction(*, answered: bool, followup_fails: bool = False) -> Any:
    return SimpleNamespace(
        response=_Response(answered),
        followup=_Followup(followup_fails),
        command=None,
        type=discord.InteractionType.component,
        data={"custom_id": "atelier:fav:7:0"},
        user=SimpleNamespace(id=42),
        token="the-interaction-token",
    )


async def test_a_refusal_not_yet_answered_is_the_ephemeral_response() -> None:
    interaction = _interaction(answered=False)
    await handle_error(interaction, _resting())
    expected = f"⚠️ Atelier is resting until {SHOWN}; try again then."
    assert interaction.response.sent == [(expected, True)]
    assert interaction.followup.sent == []


async def test_a_refusal_after_a_defer_or_an_answer_is_an_ephemeral_followup() -> None:
    interaction = _interaction(answered=True)
    await handle_error(interaction, _resting())
    expected = f"⚠️ Atelier is resting until {SHOWN}; try again then."
    assert interaction.followup.sent == [(expected, True)]
    assert interaction.response.sent == []


@pytest.mark.parametrize("hint", [*ContestHint, *FundingHint, *RegistryHint])
async def test_a_refusals_hint_names_the_command_that_helps(hint: Enum) -> None:
    """Domains say where to look (a hint); the member reads which command shows it."""
    interaction = _interaction(answered=False)
    await handle_error(interaction, UserFacingError("There is no such thing.", hint=hint))
    [(text, ephemeral)] = interaction.response.sent
    assert ephemeral
    assert text.startswith("⚠️ There is no such thing. ")
    assert re.search(r"`/[a-z]+( [a-z]+)*`", text), text  # a command to run
    assert text == f"⚠️ There is no such thing. {HINT_TEXT[hint]}"


async def test_an_unexpected_error_is_logged_with_its_traceback_and_apologised_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = _interaction(answered=False)
    try:
        raise KeyError("a bug")
    except KeyError as error:
        await handle_error(interaction, error)
    assert interaction.response.sent == [(APOLOGY, True)]
    [record] = [r for r in caplog.records if r.name == "cogs.errors"]
    assert record.levelno == logging.ERROR
    assert "component atelier:fav:7:0 by user 42 failed" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], KeyError)
    assert "Traceback" in caplog.text
    assert "a bug" in caplog.text
    assert "the-interaction-token" not in caplog.text


async def test_an_expired_interaction_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = _interaction(answered=True, followup_fails=True)
    await handle_error(interaction, _resting())
    assert "could not tell the member" in caplog.text


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_atelier_button_sends_its_errors_down_the_one_road() -> None:
    """discord.py only logs what a DynamicItem's callback raises: each of Atelier's must
    take its callback from AnswersErrors."""
    items = [c for c in _subclasses(discord.ui.DynamicItem) if c.__module__.startswith("cogs.")]
    assert len(items) >= 6
    for item in items:
        assert item.callback is AnswersErrors.callback, item


# --- through the bot -----------------------------------------------------------------------


async def test_a_refusal_from_a_slash_command_reaches_the_member_with_its_moment(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: Studio, user_id: int, prompt: str, **options: Any) -> None:
        raise _resting()

    monkeypatch.setattr(Studio, "requests_for", refuse)
    await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a fox"}, user=alice)
    answer = await rec.wait_original()
    assert rec.ephemeral
    assert answer.content == f"⚠️ Atelier is resting until {SHOWN}; try again then."


async def test_a_refusal_after_a_defer_fills_in_the_thinking_placeholder(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    rec = await fake.slash(
        "campaign create",
        {"model": "nosuch:1", "goal": "50", "currency": "USD", "deadline": "3"},
        user=alice,
    )
    answer = await rec.wait_original(lambda m: not m.loading)
    assert rec.ephemeral
    assert answer.content.startswith("⚠️ "), answer.content
    assert "nosuch" in answer.content
    assert rec.followups == [answer]  # the placeholder itself, not a second message


async def test_a_refusal_after_an_answer_follows_it_and_what_was_done_stays(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second job of a permutation fails to load its model: the first job, already
    shown, goes on; the member is told why the second was not made."""
    real_submit = Studio.submit_imagine
    submitted: list[object] = []

    async def second_fails(self: Studio, user_id: int, request: Any, **kwargs: Any) -> Any:
        submitted.append(request)
        if len(submitted) == 2:
            raise ModelLoadError("Model 'tiny' could not be loaded: the file is damaged.")
        return await real_submit(self, user_id, request, **kwargs)

    monkeypatch.setattr(Studio, "submit_imagine", second_fails)
    await bots.start()
    rec = await fake.slash("imagine", {"prompt": "{red, blue} kite --steps 4"}, user=alice)
    first = await rec.wait_original(lambda m: "red kite" in m.content and not m.loading)
    refusal = await rec.wait_followup(lambda m: m.content.startswith("⚠️"))
    assert refusal.content == "⚠️ Model 'tiny' could not be loaded: the file is damaged."
    assert refusal.ephemeral
    assert not first.ephemeral


async def test_a_refusal_from_a_button_reaches_the_presser_with_its_moment(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: Studio, *args: Any) -> None:
        raise _resting()

    monkeypatch.setattr(Studio, "visible_job", refuse)
    bot = await bots.start()
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="❤", custom_id="atelier:fav:1:0"))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    message = await channel.send("a job", view=view)
    press = await fake.press(message.id, "atelier:fav:1:0", user=alice)
    answer = await press.wait_original()
    assert press.ephemeral
    assert answer.content == f"⚠️ Atelier is resting until {SHOWN}; try again then."


async def test_an_unexpected_error_gets_the_apology_and_a_logged_traceback(
    bots: Bots,
    fake: FakeDiscord,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(self: Studio, *args: Any, **options: Any) -> None:
        raise ZeroDivisionError("the bug")

    monkeypatch.setattr(Studio, "requests_for", broken)
    monkeypatch.setattr(Studio, "visible_job", broken)
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a fox"}, user=alice)
    assert (await rec.wait_original()).content == APOLOGY
    assert rec.ephemeral

    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="❤", custom_id="atelier:fav:1:0"))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    message = await channel.send("a job", view=view)
    press = await fake.press(message.id, "atelier:fav:1:0", user=alice)
    assert (await press.wait_original()).content == APOLOGY
    assert press.ephemeral

    logged = [r for r in caplog.records if r.name == "cogs.errors"]
    assert [r.getMessage() for r in logged] == [
        f"/imagine by user {alice.id} failed",
        f"component atelier:fav:1:0 by user {alice.id} failed",
    ]
    for record in logged:
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], ZeroDivisionError)
    assert fake.bot_token not in caplog.text
