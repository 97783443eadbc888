"""``atelier run`` as operators start it: a real process, stopped with SIGTERM, or killed
(SIGKILL) at any moment of a job's life and started again."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from db.database import Database
from db.jobs import JobStatus
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import button, is_result, job_id_of

#: The interaction webhook's original response, and a followup.
ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"


#: This checkout: the bot process imports its code from here, not from wherever the
#: package happens to be installed.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def _environment(
    fake: FakeDiscord, data_dir: Path, model_dir: Path, *, steps: int = 4
) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join(
            [str(SOURCE_ROOT), *filter(None, [inherited.get("PYTHONPATH")])]
        ),
        "ATELIER_DISCORD_TOKEN": fake.bot_token,
        "ATELIER_DISCORD_API_BASE": fake.api_base,
        "ATELIER_DISCORD_GATEWAY_URL": fake.gateway_url,
        "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_MODEL": str(model_dir),
        "ATELIER_DEVICES": "cpu",
        "ATELIER_DEFAULT_STEPS": str(steps),
        "ATELIER_WEB_PORT": "0",
        "ATELIER_DEV_GUILD_ID": str(fake.guild_id),
    }


async def _run_bot(env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    """``python -m bot run``, its output in ``log`` (a pipe nobody reads could fill up)."""
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=cwd, env=env, stdout=out, stderr=out
        )


async def test_atelier_run_serves_imagine_and_stops_gracefully_on_sigterm(
    fake: FakeDiscord, alice: FakeUser, tmp_path: Path, tiny_model_dir: Path
) -> None:
    env = _environment(fake, tmp_path / "data", tiny_model_dir)
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


def _says(*words: str) -> Callable[[Any], bool]:
    """A request payload that contains every one of ``words`` (text or button ids)."""
    return lambda payload: all(word in json.dumps(payload) for word in words)


def _statuses(database: Path) -> dict[int, str]:
    """job id → status, read beside the running bot."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT id, status FROM jobs ORDER BY id").fetchall()
    conn.close()
    return dict(rows)


async def _until(
    check: Callable[[], bool], what: str, within: float, logs: tuple[Path, ...] = ()
) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() >= deadline:
            tails = "".join(f"\n--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
            raise AssertionError(f"timed out after {within}s waiting until {what}{tails}")
        await asyncio.sleep(0.1)


def _buttons_of(message: RecordedMessage, job_id: int) -> set[str]:
    """The actions of ``message``'s buttons that name ``job_id``."""
    found = set()
    for custom_id in message.custom_ids:
        match = re.fullmatch(r"atelier:([a-z]+):(\d+):\d", custom_id)
        if match and int(match[2]) == job_id:
            found.add(match[1])
    return found


async def test_a_bot_killed_at_any_moment_of_a_job_delivers_every_job_once_after_a_restart(
    fake: FakeDiscord, alice: FakeUser, bob: FakeUser, tmp_path: Path, tiny_model_dir: Path
) -> None:
    """SIGKILL while jobs are queued, running, done but not posted, posted but not linked
    to their job (an /imagine, a button's job, a permutation's second job, a queued one),
    and with a result shown but not recorded as delivered: after the restart each job's
    result is in the channel exactly once, and no status message still waits or runs.

    The stand-in holds the bot at each moment by keeping one request waiting (``hold``):
    not carried out, or carried out but not answered."""
    carol, dave = fake.add_user("carol"), fake.add_user("dave")
    env = _environment(fake, tmp_path / "data", tiny_model_dir, steps=1)
    env["ATELIER_PREVIEW_EVERY_STEPS"] = "0"  # no previews: the long job's steps stay cheap
    database = tmp_path / "data" / "atelier.db"
    first = await _run_bot(env, tmp_path, tmp_path / "first.log")
    second = None
    try:
        await fake.wait_until_ready(timeout=60)
        await fake.wait_for_commands(timeout=30)
        rec = await fake.slash("imagine", {"prompt": "a grid to upscale"}, user=alice)
        grid = await rec.wait_original(is_result, timeout=60)

        # Jobs that end while the bot waits for Discord.
        holds = [
            # /imagine: its status message shown, its id never saved
            fake.hold("PATCH", ORIGINAL, when=_says("pelican", "atelier:cancel:"), applied=True),
            # done, its result never posted
            fake.hold("PATCH", ORIGINAL, when=_says("dolphin", "atelier:u:")),
            # its result shown in place, never recorded as delivered
            fake.hold("PATCH", ORIGINAL, when=_says("walrus", "atelier:u:"), applied=True),
            # U1's job (deferred, like /imagine): its message shown, its id never saved
            fake.hold(
                "PATCH", ORIGINAL, when=_says("grid to upscale", "atelier:cancel:"), applied=True
            ),
            # a permutation's second job: its followup shown, its id never saved
            fake.hold("POST", FOLLOWUP, when=_says("heron", "atelier:cancel:"), applied=True),
        ]
        await fake.slash("imagine", {"prompt": "a pelican"}, user=bob)
        await fake.slash("imagine", {"prompt": "a dolphin"}, user=bob)
        await fake.slash("imagine", {"prompt": "a walrus"}, user=carol)
        await fake.press(grid.id, button(grid, "u", 0), user=alice)
        await fake.slash("imagine", {"prompt": "a {crane, heron}"}, user=carol)
        for held in holds:
            await asyncio.wait_for(held.reached.wait(), timeout=60)
        await _until(
            lambda: list(_statuses(database).values()) == ["done"] * 7,
            "the seven jobs are done",
            60,
            (tmp_path / "first.log",),
        )

        # A job running, and two waiting behind it: one of them shown, its id never saved.
        # The first runs long enough for the other two to be shown waiting.
        owl = fake.hold("PATCH", ORIGINAL, when=_says("owl", "atelier:cancel:"), applied=True)
        running = await fake.slash("imagine", {"prompt": "a slow fox --steps 80"}, user=alice)
        await running.wait_original(lambda m: "(0%)" in m.content, timeout=60)
        await fake.slash("imagine", {"prompt": "an owl"}, user=dave)
        waiting = await fake.slash("imagine", {"prompt": "a yak"}, user=dave)
        await asyncio.wait_for(owl.reached.wait(), timeout=30)
        await waiting.wait_original(lambda m: "Waiting to start" in m.content, timeout=30)
        at_the_kill = ["done"] * 7 + ["running", "queued", "queued"]
        await _until(
            lambda: list(_statuses(database).values()) == at_the_kill,
            "the database says one job runs and two wait",
            30,
            (tmp_path / "first.log",),
        )

        first.kill()
        await asyncio.wait_for(first.wait(), timeout=30)
        assert list(_statuses(database).values()) == at_the_kill, (
            "the kill did not come while one job ran and two waited; slow the running job down"
        )
        fake.release_holds()
        jobs = list(_statuses(database))

        def delivered() -> bool:
            messages = fake.channel_messages(fake.channel_id)
            return all(
                any(_buttons_of(m, job_id) - {"cancel"} for m in messages)
                and not any("cancel" in _buttons_of(m, job_id) for m in messages)
                for job_id in jobs
            )

        second = await _run_bot(env, tmp_path, tmp_path / "second.log")
        await _until(
            delivered,
            "every job's result is shown and none still waits",
            150,
            (tmp_path / "first.log", tmp_path / "second.log"),
        )
        # A graceful stop lets deliveries under way finish: nothing is posted after it.
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=60) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()

    assert list(_statuses(database).values()) == ["done"] * 10
    messages = fake.channel_messages(fake.channel_id)
    for job_id in jobs:
        results = [m for m in messages if _buttons_of(m, job_id) - {"cancel"}]
        assert len(results) == 1, (job_id, [m.content for m in results])
        assert results[0].attachments
    fox = running.original
    assert fox is not None
    assert "%)" not in fox.content
    assert job_id_of(grid) in jobs
    async with await Database.open(database) as db:
        undelivered = await db.fetchall(
            "SELECT job_id FROM job_messages WHERE delivered_at IS NULL"
        )
    assert not undelivered
