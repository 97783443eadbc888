"""The creators and models boards as they were computed before the running counts
(migration ``board_counts``): straight from ``favorites`` and ``images``, walking every
liked upscale up to its origin. ``bench.community`` times them on the schema without the
counts, as the baseline of the same run, and checks that both give the same boards.
"""

from __future__ import annotations

from datetime import datetime

from contests.boards.sql_fragments import HIDDEN_MEMBERS, ORIGINS
from contests.leaderboards import (
    CreatorStanding,
    ModelStanding,
    Window,
    creator_points,
    creator_standings,
    model_standings,
    model_wins,
    time_range,
)
from db.database import Database
from db.jobs import JobKind, JobStatus


async def creators_board_by_scan(
    db: Database, *, guild_id: int, window: Window, now: datetime
) -> list[CreatorStanding]:
    start, end = time_range(window, now)
    favorites = await db.fetchall(
        "WITH RECURSIVE given (job_id, idx, fan) AS ("
        "  SELECT f.job_id, f.idx, f.user_id FROM favorites f"
        "  JOIN jobs j ON j.id = f.job_id JOIN job_messages m ON m.job_id = f.job_id"
        "  WHERE f.created_at > :start AND f.created_at <= :end AND j.kind = :upscale"
        "  AND m.guild_id = :guild"
        "), liked (job_id, idx) AS (SELECT DISTINCT job_id, idx FROM given),"
        f"{ORIGINS}"
        "SELECT owner_id AS user_id, count(*) AS n FROM ("
        "  SELECT DISTINCT o.owner_id, g.fan, o.origin_id, o.origin_idx"
        "  FROM given g JOIN origins o ON o.job_id = g.job_id AND o.idx = g.idx"
        "  WHERE g.fan != o.owner_id AND o.owner_id != 0"
        f" AND o.owner_id NOT IN ({HIDDEN_MEMBERS})"
        ") GROUP BY owner_id",
        {"start": start, "end": end, "upscale": JobKind.UPSCALE.value, "guild": guild_id},
    )
    points = await creator_points(db, guild_id=guild_id, start=start, end=end)
    return creator_standings(points, {int(r["user_id"]): int(r["n"]) for r in favorites})


async def models_board_by_scan(
    db: Database, *, guild_id: int, window: Window, now: datetime
) -> list[ModelStanding]:
    start, end = time_range(window, now)
    made = await db.fetchall(
        "SELECT j.model AS model, count(*) AS n FROM images i JOIN jobs j ON j.id = i.job_id"
        " JOIN job_messages m ON m.job_id = j.id"
        " WHERE j.status = ? AND coalesce(j.finished_at, j.created_at) > ?"
        " AND coalesce(j.finished_at, j.created_at) <= ? AND m.guild_id = ?"
        f" AND j.owner_id NOT IN ({HIDDEN_MEMBERS})"
        " GROUP BY j.model",
        (JobStatus.DONE.value, start, end, guild_id),
    )
    won = await model_wins(db, guild_id=guild_id, start=start, end=end)
    return model_standings({str(r["model"]): int(r["n"]) for r in made}, won)
