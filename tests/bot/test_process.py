"""``atelier run`` as operators start it: a real process, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from db.database import Database
from db.jobs import JobStatus
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import is_result


async def test_atelier_run_serves_imagine_and_stops_gracefully_on_sigterm(
    fake: FakeDiscord, alice: FakeUser, tmp_path: Path, tiny_model_dir: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")},
        "ATELIER_DISCORD_TOKEN": fake.bot_token,
        "ATELIER_DISCORD_API_BASE": fake.api_base,
        "ATELIER_DISCORD_GATEWAY_URL": fake.gateway_url,
        "ATELIER_DATA_DIR": str(tmp_path / "data"),
        "ATELIER_MODEL": str(tiny_model_dir),
        "ATELIER_DEVICES": "cpu",
        "ATELIER_WEB_PORT": "0",
        "ATELIER_DEFAULT_STEPS": "4",
        "ATELIER_DEV_GUILD_ID": str(fake.guild_id),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_until_ready(timeout=60)
        await fake.wait_for_commands(timeout=30)
        names = {command["name"] for command in fake.commands}
        assert {"imagine", "show", "info", "settings", "prefer", "models", "admin"} <= names
        rec = await fake.slash("imagine", {"prompt": "a quiet street"}, user=alice)
        await rec.wait_original(is_result, timeout=60)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert fake.bot_token not in (out + err).decode()
    async with await Database.open(tmp_path / "data" / "atelier.db") as db:
        row = await db.fetchone("SELECT status FROM jobs")
    assert row is not None
    assert row["status"] == JobStatus.DONE.value
