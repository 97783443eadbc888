"""``atelier health`` against a stand-in of the bot's web server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main


@pytest.fixture
async def web_server(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[web.StreamResponse]]:
    """Answers GET /healthz with the last response the test put in the list it gets."""
    answers: list[web.StreamResponse] = []

    async def healthz(request: web.Request) -> web.StreamResponse:
        if not answers:
            await asyncio.sleep(2)  # a hung bot: past the command's timeout (0.5 s)
        return answers[-1]

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    monkeypatch.setenv("ATELIER_WEB_PORT", str(runner.addresses[0][1]))
    yield answers
    await runner.cleanup()


async def test_healthy_exits_0(
    web_server: list[web.StreamResponse], capsys: pytest.CaptureFixture[str]
) -> None:
    web_server.append(web.Response(text="ok"))
    assert await asyncio.to_thread(main, ["health"]) == 0
    assert capsys.readouterr().out == "healthy\n"


async def test_unhealthy_or_hung_exits_1_with_one_line(
    web_server: list[web.StreamResponse], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["health", "--timeout", "0.5"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("atelier: unhealthy: no answer from http://127.0.0.1:")
    web_server.append(web.Response(status=503, text="starting"))
    assert await asyncio.to_thread(main, ["health"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("/healthz answered 503")


def test_nothing_listening_exits_1(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATELIER_WEB_PORT", "9")  # nothing listens on the discard port
    assert main(["health"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "atelier: unhealthy: no answer from http://127.0.0.1:9/healthz ([Errno 111] Connection "
        "refused); is the bot running (ATELIER_WEB_PORT)?"
    )
