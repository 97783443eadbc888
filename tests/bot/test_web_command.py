"""``atelier web``: the web studio alone on an existing data folder, without Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from db.database import Database
from tests.helpers.web import open_gallery, public_id_of, shown_job

#: Every wait on the server is bounded by this.
SECONDS = 30


def test_web_without_a_database_says_so(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(clean_env / "nothing"))
    assert main(["web"]) == 2
    assert "there is no database at" in capsys.readouterr().err


def test_web_serves_the_pages_until_stopped(clean_env: Path) -> None:
    data = clean_env / "data"

    async def prepare() -> str:
        async with await Database.open(data / "atelier.db") as db:
            await open_gallery(db)
            return await public_id_of(db, await shown_job(db, data / "images"))

    public_id = asyncio.run(prepare())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
        "ATELIER_DATA_DIR": str(data),
        "ATELIER_WEB_PORT": "0",
        # This checkout's code, whatever the environment has installed.
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"],
        cwd=clean_env,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the process prints it once listening
        assert line.startswith("Serving on http://127.0.0.1:"), line
        url = line.split()[-1]
        with urllib.request.urlopen(f"{url}/j/{public_id}", timeout=SECONDS) as page:
            assert page.status == 200
            assert "a lighthouse at dusk" in page.read().decode()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=SECONDS)
