"""The creators, models and trending boards as they were computed before the running
counts (migration ``board_counts``): straight from ``favorites`` and ``images``, walking
every liked upscale up to its origin. ``bench.community`` times them on the schema without the
counts, as the baseline of the same run, and checks that both give the same boards.
"""

from __future__ import annotations

from datetime import datetime

from contests.boards.sql_fragments import HIDDEN_MEMBERS
from contests.boards.trending import TrendingImage, trending_from_rows, trending_parameters
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

#: CTEs giving the origin of each liked image, for a ``WITH RECURSIVE`` query that defines
#: ``liked (job_id, idx)`` before it: ``walk`` goes up the parent links while the job is an
#: upscale (UNION drops repeats, so even a corrupted cycle ends); the row reached that is
#: not an upscale, or has no parent, is the origin. Binds ``:upscale``.
ORIGINS = """
walk (job_id, idx, at_id, at_idx) AS (
    SELECT job_id, idx, job_id, idx FROM liked
    UNION
    SELECT w.job_id, w.idx, p.parent_job_id, p.parent_index
    FROM walk w JOIN jobs p ON p.id = w.at_id
    WHERE p.kind = :upscale AND p.parent_job_id IS NOT NULL
),
origins (job_id, idx, origin_id, origin_idx, owner_id, made_at) AS (
    SELECT w.job_id, w.idx, o.id, w.at_idx, o.owner_id, coalesce(o.finished_at, o.created_at)
    FROM walk w JOIN jobs o ON o.id = w.at_id
    WHERE o.kind != :upscale OR o.parent_job_id IS NULL
)
"""

_TRENDING_SQL = f"""
WITH RECURSIVE recent (job_id) AS (
    SELECT j.id FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.status = :done AND coalesce(j.finished_at, j.created_at) > :start
    AND coalesce(j.finished_at, j.created_at) <= :end AND j.kind = :upscale
    AND m.guild_id = :guild
),
liked (job_id, idx) AS (
    SELECT DISTINCT f.job_id, f.idx FROM recent r JOIN favorites f ON f.job_id = r.job_id
    WHERE f.created_at <= :end
),
{ORIGINS},
hearts (origin_id, origin_idx, owner_id, made_at, job_id, idx, fan) AS (
    SELECT o.origin_id, o.origin_idx, o.owner_id, o.made_at, o.job_id, o.idx, f.user_id
    FROM origins o JOIN favorites f ON f.job_id = o.job_id AND f.idx = o.idx
    JOIN images i ON i.job_id = o.job_id AND i.idx = o.idx
    WHERE f.user_id != o.owner_id AND f.created_at <= :end AND o.owner_id != 0
    AND o.owner_id NOT IN ({HIDDEN_MEMBERS})
),
per_image (origin_id, origin_idx, n) AS (
    SELECT origin_id, origin_idx, count(DISTINCT fan) FROM hearts GROUP BY origin_id, origin_idx
)
SELECT h.origin_id AS origin_id, h.origin_idx AS origin_idx, h.owner_id AS owner_id,
       h.made_at AS made_at, h.job_id AS job_id, h.idx AS idx, count(*) AS on_upscale,
       p.n AS n
FROM hearts h JOIN per_image p ON p.origin_id = h.origin_id AND p.origin_idx = h.origin_idx
GROUP BY h.origin_id, h.origin_idx, h.job_id, h.idx
"""


async def trending_board_by_scan(
    db: Database, *, guild_id: int, now: datetime
) -> list[TrendingImage]:
    rows = await db.fetchall(_TRENDING_SQL, trending_parameters(guild_id, now))
    return trending_from_rows(rows, now)


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
