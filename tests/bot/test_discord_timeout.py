"""``atelier run`` against an address that accepts connections and never answers: a clear
line and exit 1 after ``ATELIER_DISCORD_TIMEOUT_SECONDS``, and Ctrl-C stops it at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import bot.app
from bot.app import create_bot, start_within_limits
from bot.settings import load_settings
from tests.discord_standin import FakeDiscord
from tests.helpers.discord_bots import Bots

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """An http:// address on 127.0.0.1 that accepts connections and never answers."""

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(), timeout=60)  # until the client gives up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/v10"
    server.close()


async def _start_run(
    tmp_path: Path, api_base: str, model: Path, limit: float
) -> asyncio.subprocess.Process:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("ATELIER_")},
        "PYTHONPATH": str(REPO),
        "ATELIER_DISCORD_TOKEN": "MTIz.fake-token-value-xyz",
        "ATELIER_DISCORD_API_BASE": api_base,
        "ATELIER_DISCORD_TIMEOUT_SECONDS": str(limit),
        "ATELIER_DATA_DIR": str(tmp_path / "data"),
        "ATELIER_MODEL": str(model),
        "ATELIER_DEVICES": "cpu",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_login_that_never_answers_times_out_with_one_line_and_exit_1(
    tmp_path: Path, silent_server: str, tiny_model_dir: Path
) -> None:
    process = await _start_run(tmp_path, silent_server, tiny_model_dir, limit=1)
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=90)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1, err.decode()
    lines = err.decode().splitlines()
    assert lines[-1] == (
        f"atelier: Discord did not answer within 1s when logging in at {silent_server}; check "
        "the network, or raise ATELIER_DISCORD_TIMEOUT_SECONDS"
    )
    assert "Traceback" not in err.decode()


async def test_ctrl_c_while_logging_in_stops_at_once(
    tmp_path: Path, silent_server: str, tiny_model_dir: Path
) -> None:
    process = await _start_run(tmp_path, silent_server, tiny_model_dir, limit=300)
    try:
        assert process.stderr is not None
        while b"logging in" not in await asyncio.wait_for(process.stderr.readline(), 90):
            pass
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        took = time.monotonic() - interrupted
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert "could not reach Discord" not in err.decode()
    assert took < 15  # not the 300 s login timeout


async def test_a_set_up_slower_than_the_login_limit_still_starts(
    bots: Bots, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is on Discord's answer: entering the configured models (which hashes new
    weights files) may take longer once Discord accepted the login."""
    enter_configured = bot.app.enter_configured

    async def slow_enter_configured(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(6)  # longer than the limit
        await enter_configured(*args, **kwargs)

    monkeypatch.setattr(bot.app, "enter_configured", slow_enter_configured)
    settings = load_settings(
        discord_token=fake.bot_token,
        discord_api_base=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        discord_timeout_seconds=4,  # the gateway, once connected, must be ready within it
        data_dir=bots.data_dir,
        model=str(bots.model_dir),
        devices="cpu",
        web_port=0,
    )
    started = create_bot(settings, backend_factory=bots.load)
    running = asyncio.create_task(start_within_limits(started, fake.bot_token, settings))
    try:
        await fake.wait_until_ready(timeout=20)
        assert not running.done()
    finally:
        await started.close()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    running.result()  # no DiscordTimeoutError


async def test_an_address_answering_404_is_one_line_and_exit_1(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    """A wrong path in ATELIER_DISCORD_API_BASE: a server that answers, but not Discord."""
    runner = web.AppRunner(web.Application())  # no routes: 404 for everything
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    api_base = f"http://127.0.0.1:{port}/wrong/v10"
    try:
        process = await _start_run(tmp_path, api_base, tiny_model_dir, limit=30)
        try:
            _, err = await asyncio.wait_for(process.communicate(), timeout=90)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    finally:
        await runner.cleanup()
    assert process.returncode == 1, err.decode()
    assert "Traceback" not in err.decode()
    assert err.decode().splitlines()[-1] == (
        f"atelier: Discord at {api_base} answered 404 when logging in; check "
        "ATELIER_DISCORD_API_BASE"
    )
