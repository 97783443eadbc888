"""Which queue limits are in force: the operator's until an admin stores some, then those."""

from __future__ import annotations

from datetime import UTC, datetime

from db.database import Database
from db.guilds import set_queue_limits
from inference.pool.config import UserLimits
from studio.queue_limits import QueueLimits, queue_limits_in_force

CONFIGURED = UserLimits(max_running=3, max_queued=10)


async def test_the_operators_limits_apply_until_an_admin_sets_some(db: Database) -> None:
    assert await queue_limits_in_force(db, CONFIGURED) == QueueLimits(CONFIGURED, set_by=None)


async def test_limits_an_admin_stored_win_over_the_operators(db: Database) -> None:
    at = datetime(2026, 11, 22, tzinfo=UTC)
    await set_queue_limits(db, max_running=1, max_queued=4, updated_by=42, at=at)
    assert await queue_limits_in_force(db, CONFIGURED) == QueueLimits(
        UserLimits(max_running=1, max_queued=4), set_by=42
    )
