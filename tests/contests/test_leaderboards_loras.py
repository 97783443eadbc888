"""The models board credits LoRAs: an image made with a checkpoint and a LoRA counts for
both (the creators board, by points and ❤, does not look at models)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contests.leaderboards import ModelStanding, Window, models_board
from db.database import Database
from tests.helpers.boards import GUILD, posted_job

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ALICE, BOB = 101, 102


async def _with_loras(db: Database, job_id: int, *keys: str) -> None:
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO job_loras (job_id, position, version_key, weight) VALUES (?, ?, ?, 1)",
            [(job_id, n, key) for n, key in enumerate(keys)],
        )


async def test_images_made_with_a_lora_count_for_it_and_for_the_checkpoint(
    db: Database,
) -> None:
    at = NOW - timedelta(hours=1)
    both = await posted_job(db, ALICE, at=at, model="sd15:1", images=4)
    await _with_loras(db, both, "pixelart:1", "ink:2")
    await posted_job(db, BOB, at=at, model="sd15:1", images=1)
    again = await posted_job(db, BOB, at=at, model="sd15:1", images=1)
    await _with_loras(db, again, "pixelart:2")

    board = await models_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)
    assert board == [
        ModelStanding("sd15", 6, 0, ("1",)),
        ModelStanding("pixelart", 5, 0, ("1", "2")),
        ModelStanding("ink", 4, 0, ("2",)),
    ]
