"""The trending board: a server's upscaled images of the last 7 days, by decayed ❤.

Why not a Wilson lower bound: it needs a denominator (how many people saw the image), and
Atelier has no honest one: Discord does not tell a bot how often a message was viewed, and
counting button presses or /show calls would only count the already interested. So the
score is the ❤ count with a quadratic age decay (see :func:`decayed_score`). The board
always covers the last 7 days; a longer window would only add images whose score has
decayed to zero.

An image is its origin (``contests.provenance``): every upscale of it, by anyone, at any
depth, shows the same pixels. So the board groups ❤ by the origin image, counting each
member's ❤ once however many of its upscales they liked, and shows it once, by the upscale
that collected the most ❤.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contests.boards.sql_fragments import HIDDEN_MEMBERS
from db.database import Database
from db.jobs import JobKind, JobStatus
from db.times import from_db_time, to_db_time

#: How far back trending looks, and the age at which an image's score has decayed to zero.
TRENDING_DAYS = 7

# Per upscale of each liked origin image: the ❤ it got and the ❤ its origin got over all
# its upscales (one per member). ``hearts`` is every counted ❤: given up to ``now`` on an
# upscale posted in the server and finished in the window, on an image whose creator shows
# their results. ``favorite_credits`` (migration ``board_counts``) already holds each ❤'s
# origin image and creator, and only the ❤ that count (not the creator's own).
_TRENDING_SQL = f"""
WITH recent (job_id) AS (
    SELECT j.id FROM jobs j JOIN job_messages m ON m.job_id = j.id
    WHERE j.status = :done AND coalesce(j.finished_at, j.created_at) > :start
    AND coalesce(j.finished_at, j.created_at) <= :end AND j.kind = :upscale
    AND m.guild_id = :guild
),
hearts (origin_id, origin_idx, owner_id, made_at, job_id, idx, fan) AS (
    SELECT c.origin_job_id, c.origin_idx, c.owner_id, coalesce(o.finished_at, o.created_at),
           c.job_id, c.idx, c.fan_id
    FROM recent r JOIN favorite_credits c ON c.job_id = r.job_id
    JOIN jobs o ON o.id = c.origin_job_id
    JOIN images i ON i.job_id = c.job_id AND i.idx = c.idx
    WHERE c.created_at <= :end
    AND c.owner_id NOT IN ({HIDDEN_MEMBERS})
),
-- n: the distinct fans of each origin image (a window can't count DISTINCT: each fan's
-- first ❤ on the image counts 1). Joining a per-image count back instead made SQLite
-- compare every ❤ with every image.
marked AS (
    SELECT *, row_number() OVER (PARTITION BY origin_id, origin_idx, fan) = 1 AS first_of_fan
    FROM hearts
),
counted AS (
    SELECT *, sum(first_of_fan) OVER (PARTITION BY origin_id, origin_idx) AS n FROM marked
)
SELECT origin_id, origin_idx, owner_id, made_at, job_id, idx, count(*) AS on_upscale, n
FROM counted GROUP BY origin_id, origin_idx, job_id, idx
"""


@dataclass(frozen=True)
class TrendingImage:
    """An image on the board: shown by its upscale ``job_id`` (image ``index``), with the
    figures of its origin image."""

    job_id: int
    index: int
    owner_id: int
    favorites: int
    made_at: datetime
    score: float


def decayed_score(favorites: int, age: timedelta) -> float:
    """favorites × max(0, 1 − (age_days / 7)²): fresh favorites count fully, a week-old
    image counts for nothing."""
    age_days = max(age.total_seconds(), 0.0) / 86400
    return favorites * max(0.0, 1 - (age_days / TRENDING_DAYS) ** 2)


async def trending_board(db: Database, *, guild_id: int, now: datetime) -> list[TrendingImage]:
    """Upscaled images posted in the server in the last 7 days, each creator's best one,
    by decayed favorites (given up to ``now``).

    The creator is the owner of the image's origin (an upscale's presser only enlarged
    it), whose own ❤ do not count, and the image's age runs from when the origin was
    made: upscaling an old image does not make it new.

    Order: score, then more favorites, then the newer image, then the lower job id.
    """
    return trending_from_rows(
        await db.fetchall(_TRENDING_SQL, trending_parameters(guild_id, now)), now
    )


def trending_parameters(guild_id: int, now: datetime) -> dict[str, object]:
    """What the trending query binds."""
    return {
        "done": JobStatus.DONE.value,
        "upscale": JobKind.UPSCALE.value,
        "start": to_db_time(now - timedelta(days=TRENDING_DAYS)),
        "end": to_db_time(now),
        "guild": guild_id,
    }


def trending_from_rows(rows: Iterable[sqlite3.Row], now: datetime) -> list[TrendingImage]:
    """The board from the query's rows: one per (origin image, upscale of it) with the ❤
    the upscale got (``on_upscale``) and the origin got over all its upscales (``n``)."""
    # Each origin image once, shown by its upscale with the most ❤ (the first made on a tie).
    shown: dict[tuple[int, int], tuple[tuple[int, int, int], TrendingImage]] = {}
    for row in rows:
        made_at = from_db_time(row["made_at"])
        image = TrendingImage(
            job_id=int(row["job_id"]),
            index=int(row["idx"]),
            owner_id=int(row["owner_id"]),
            favorites=int(row["n"]),
            made_at=made_at,
            score=decayed_score(int(row["n"]), now - made_at),
        )
        origin = (int(row["origin_id"]), int(row["origin_idx"]))
        preference = (-int(row["on_upscale"]), image.job_id, image.index)
        if origin not in shown or preference < shown[origin][0]:
            shown[origin] = (preference, image)
    best: dict[int, TrendingImage] = {}
    for _, image in shown.values():
        if image.score <= 0:
            continue
        current = best.get(image.owner_id)
        if current is None or _trending_key(image) < _trending_key(current):
            best[image.owner_id] = image
    return sorted(best.values(), key=_trending_key)


def _trending_key(image: TrendingImage) -> tuple[float, int, float, int, int]:
    return (-image.score, -image.favorites, -image.made_at.timestamp(), image.job_id, image.index)
