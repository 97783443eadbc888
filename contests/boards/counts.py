"""The creators' and models' figures read from the running counts that the triggers of
migration ``board_counts`` keep (``db/migrations/NNNN_board_counts.sql``), so that no board
scans every ❤ or every image.

- ❤ received: ``favorite_credits`` holds one row per ❤ that counts (on an upscale posted in
  a server, credited to the creator of its origin image, not their own); a window's figure
  is the number of distinct (fan, origin image) pairs among its rows, read from a range of
  the server's rows. All time reads ``creator_hearts``, those pairs counted per creator.
- images per model: ``model_image_days`` holds a server's images per UTC day and model.
  A window is the whole days inside it from there, plus the part-days at its two ends from
  ``board_job_images`` (one row per finished job); what members who hide their results
  made is taken out, from the same per-job rows.

The boards read at a ``now`` of their caller's choosing. Whole-day totals and the all-time
pair counts hold everything written so far, so a ``now`` earlier than some of the data is
answered from the per-row tables instead (the same figures, read the slow way).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from contests.boards.sql_fragments import HIDDEN_MEMBERS
from db.database import Database
from db.times import to_db_time


async def hearts_received(
    db: Database, *, guild_id: int, since: datetime | None, now: datetime
) -> dict[int, int]:
    """Per visible creator: the distinct (fan, origin image) pairs among the ❤ given in
    (since, now] on the server's upscales."""
    end = to_db_time(now)
    if since is None and not await _credited_after(db, guild_id, end):
        rows = await db.fetchall(
            "SELECT owner_id, hearts AS n FROM creator_hearts WHERE guild_id = ? AND hearts > 0"
            f" AND owner_id NOT IN ({HIDDEN_MEMBERS})",
            (guild_id,),
        )
    else:
        rows = await db.fetchall(
            "SELECT owner_id, count(*) AS n FROM ("
            "  SELECT DISTINCT owner_id, fan_id, origin_job_id, origin_idx FROM favorite_credits"
            "  WHERE guild_id = ? AND created_at > ? AND created_at <= ?"
            f" AND owner_id NOT IN ({HIDDEN_MEMBERS})"
            ") GROUP BY owner_id",
            (guild_id, "" if since is None else to_db_time(since), end),
        )
    return {int(row["owner_id"]): int(row["n"]) for row in rows}


async def _credited_after(db: Database, guild_id: int, end: str) -> bool:
    row = await db.fetchone(
        "SELECT EXISTS (SELECT 1 FROM favorite_credits WHERE guild_id = ? AND created_at > ?)",
        (guild_id, end),
    )
    return row is not None and bool(row[0])


async def images_by_model(
    db: Database, *, guild_id: int, since: datetime | None, now: datetime
) -> dict[str, int]:
    """Per model string (as jobs store it): images of the server's finished jobs made in
    (since, now], by members who show their results."""
    start, end = ("" if since is None else to_db_time(since)), to_db_time(now)
    last_day = _midnight(now)
    figures: dict[str, int] = {}

    async def add(sql: str, params: tuple[object, ...], sign: int = 1) -> None:
        for row in await db.fetchall(sql, (guild_id, *params)):
            model = str(row["model"])
            figures[model] = figures.get(model, 0) + sign * int(row["n"])

    jobs_between = (
        "SELECT model, sum(images) AS n FROM board_job_images WHERE guild_id = ?"
        " AND made_at {} ? AND made_at {} ?"
        f" AND owner_id NOT IN ({HIDDEN_MEMBERS}) GROUP BY model"
    )
    if since is not None and _midnight(since) == last_day:
        await add(jobs_between.format(">", "<="), (start, end))
        return {model: n for model, n in figures.items() if n > 0}
    # Whole days [first_day, last_day) from the day totals, less what hidden members made
    # in them; the part-days (since, first_day) and [last_day, now] job by job.
    first_day = "" if since is None else to_db_time(_midnight(since) + timedelta(days=1))
    whole = (first_day, to_db_time(last_day))
    await add(
        "SELECT model, sum(images) AS n FROM model_image_days"
        " WHERE guild_id = ? AND day >= ? AND day < ? GROUP BY model",
        (whole[0][:10], whole[1][:10]),
    )
    await add(
        "SELECT model, sum(images) AS n FROM board_job_images"
        f" WHERE guild_id = ? AND owner_id IN ({HIDDEN_MEMBERS})"
        " AND made_at >= ? AND made_at < ? GROUP BY model",
        whole,
        sign=-1,
    )
    if since is not None:
        await add(jobs_between.format(">", "<"), (start, first_day))
    await add(jobs_between.format(">=", "<="), (whole[1], end))
    return {model: n for model, n in figures.items() if n > 0}


def _midnight(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC day (the days of ``model_image_days``)."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)
