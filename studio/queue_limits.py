"""Which per-member queue limits are in force: the one place that says so.

The operator sets them with ``ATELIER_MAX_RUNNING_PER_USER`` and
``ATELIER_MAX_QUEUED_PER_USER``; a server's admin may change them for the whole bot with
``/admin limits``, which stores them in the database. Stored limits win, from the moment
they are set and after every restart; until an admin sets any, the environment's apply.
Start-up (``bot/app.py``) and ``/admin limits`` both ask :func:`queue_limits_in_force`.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.database import Database
from db.guilds import get_queue_limits
from inference.pool.config import UserLimits


@dataclass(frozen=True)
class QueueLimits:
    limits: UserLimits
    #: The member who set them with /admin limits; None: the operator's settings.
    set_by: int | None = None


async def queue_limits_in_force(db: Database, configured: UserLimits) -> QueueLimits:
    """The limits stored by ``/admin limits`` if there are any, else ``configured`` (the
    operator's settings)."""
    stored = await get_queue_limits(db)
    if stored is None:
        return QueueLimits(configured)
    return QueueLimits(
        UserLimits(max_running=stored.max_running, max_queued=stored.max_queued),
        set_by=stored.updated_by,
    )
