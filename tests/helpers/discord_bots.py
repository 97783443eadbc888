"""The whole bot, started in-process against the loopback Discord stand-in.

``bots.start()`` builds the bot with ``create_bot`` from real settings (tiny model, CPU,
few steps, a data folder of the test's own) and connects it over real sockets; a test can
stop it and start another on the same database to see what survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import AtelierBot, create_bot
from bot.settings import load_settings
from cogs.resources import Tuning
from core.clock import utc_now
from inference.backend import DiffusersBackend
from inference.models import IpAdapterRef, ModelRef
from inference.pool.worker import Backend
from intake.fetch import ImageIntake
from tests.discord_standin import FakeDiscord, FakeUser, InteractionRecord, RecordedMessage
from tests.helpers.pool import Script, ScriptedBackend

#: A fast progress cadence so a short job still shows progress edits.
FAST_TUNING = Tuning(progress_edit_seconds=0.05)

#: The longest a test may hold a model load (``Script.loading``) before it goes ahead.
LOAD_HOLD_SECONDS = 30


@dataclass
class Bots:
    """Starts bots against ``fake``; stops every one of them when the test ends."""

    fake: FakeDiscord
    data_dir: Path
    model_dir: Path
    script: Script
    running: list[tuple[AtelierBot, asyncio.Task[None]]] = field(default_factory=list)
    #: The IP-Adapter the latest bot's settings configure (``start(ip_adapter=...)``),
    #: which its workers load next to the model, as ``atelier run`` does.
    ip_adapter: IpAdapterRef | None = None

    async def start(
        self,
        *,
        tuning: Tuning = FAST_TUNING,
        clock: Callable[[], datetime] = utc_now,
        intake: ImageIntake | None = None,
        **overrides: Any,
    ) -> AtelierBot:
        """A bot on settings made of the test's ones and ``overrides``; ``intake``: how it
        fetches members' images (one that trusts a test's HTTPS server; the bot closes it)."""
        values: dict[str, Any] = {
            "discord_token": self.fake.bot_token,
            "discord_api_base": self.fake.api_base,
            "discord_gateway_url": self.fake.gateway_url,
            "data_dir": self.data_dir,
            "model": str(self.model_dir),
            "models": {"tiny": str(self.model_dir)},
            "devices": "cpu",
            "web_port": 0,
            "default_steps": 4,
            "preview_every_steps": 1,
            "shutdown_grace_seconds": 5,
        }
        settings = load_settings(**{**values, **overrides})
        self.ip_adapter = settings.ip_adapter_ref()
        bot = create_bot(
            settings, backend_factory=self.load, tuning=tuning, clock=clock, intake=intake
        )
        task = asyncio.create_task(bot.start(self.fake.bot_token))
        self.running.append((bot, task))
        await self.fake.wait_until_ready(timeout=20)
        # Not bot.is_ready(): discord.py waits guild_ready_timeout (2 s) for more servers
        # before that; interactions are handled as soon as the server itself is known.
        guild_id = self.fake.guild_id
        await self.fake.wait_for(
            lambda: bot.get_guild(guild_id) is not None or task.done(), timeout=20
        )
        if task.done():
            task.result()  # raise what stopped it
        return bot

    async def stop(self, bot: AtelierBot) -> None:
        for entry in list(self.running):
            if entry[0] is bot:
                self.running.remove(entry)
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await entry[1]
        await self.fake.disconnect_clients()

    async def stop_all(self) -> None:
        for bot, _ in list(self.running):
            await self.stop(bot)

    def load(self, model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        # On the worker's thread: a test that clears script.loading holds the load there.
        self.script.loading.wait(timeout=LOAD_HOLD_SECONDS)
        inner = DiffusersBackend.load(model, device, "auto", make_room, self.ip_adapter)
        return ScriptedBackend(inner, self.script)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    # Discord's rule: an interaction not acknowledged within 3 seconds has failed.
    async with FakeDiscord(callback_deadline_seconds=3.0) as running:
        try:
            yield running
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def bots(
    fake: FakeDiscord, tmp_path: Path, tiny_model_dir: Path, clean_env: Path
) -> AsyncIterator[Bots]:
    runner = Bots(fake, tmp_path / "data", tiny_model_dir, Script())
    try:
        yield runner
    finally:
        runner.script.step_delay = 0.0
        runner.script.loading.set()
        await runner.stop_all()


@pytest.fixture
def alice(fake: FakeDiscord) -> FakeUser:
    return fake.add_user("alice")


@pytest.fixture
def bob(fake: FakeDiscord) -> FakeUser:
    return fake.add_user("bob")


def is_result(message: RecordedMessage) -> bool:
    """A finished job's message: an image attached and the U/V buttons."""
    return bool(message.attachments) and any(
        custom_id.startswith("atelier:u:") for custom_id in message.custom_ids
    )


def job_id_of(message: RecordedMessage) -> int:
    """The job whose buttons are under ``message``."""
    for custom_id in message.custom_ids:
        match = re.fullmatch(r"atelier:\w+:(\d+):\d", custom_id)
        if match:
            return int(match[1])
    raise AssertionError(f"no job button on {message.content!r}")


def button(message: RecordedMessage, action: str, index: int = 0) -> str:
    """The custom_id of ``message``'s ``action`` button for image ``index`` (it must be there)."""
    wanted = f"atelier:{action}:{job_id_of(message)}:{index}"
    assert wanted in message.custom_ids, (wanted, message.custom_ids)
    return wanted


async def member_answer(fake: FakeDiscord, rec: InteractionRecord) -> RecordedMessage:
    """What the member sees in answer to ``rec``: the response, or the followup that
    replaced a "thinking…" placeholder."""

    def seen() -> RecordedMessage | None:
        shown = [m for m in (rec.original, *rec.followups) if m is not None and not m.deleted]
        return next((m for m in shown if not m.loading), None)

    await fake.wait_for(lambda: seen() is not None, timeout=30)
    answer = seen()
    assert answer is not None
    return answer
