"""The hall of fame: a server's closed contests that had a winner, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from db.times import from_db_time


@dataclass(frozen=True)
class Winner:
    """A 1st place (ties share it, so a contest may have several)."""

    user_id: int
    job_id: int
    image_index: int
    votes: int
    #: The winner chose to hide their results from public listings: show neither name nor image.
    hidden: bool


@dataclass(frozen=True)
class FamedContest:
    contest_id: int
    theme: str
    closed_at: datetime
    voters: int
    entries: int
    winners: list[Winner]


async def count_famed(db: Database, guild_id: int) -> int:
    """How many of the server's closed contests had a winner."""
    row = await db.fetchone(
        "SELECT count(*) FROM contests c WHERE c.guild_id = ? AND c.state = 'closed'"
        " AND EXISTS (SELECT 1 FROM contest_results r WHERE r.contest_id = c.id AND r.place = 1)",
        (guild_id,),
    )
    assert row is not None
    return int(row[0])


async def hall_of_fame(
    db: Database, guild_id: int, *, offset: int = 0, limit: int = 3
) -> list[FamedContest]:
    """Closed contests of ``guild_id`` with at least one 1st place, newest first, from
    ``offset``; contests that awarded no places (fewer than three entries, or no votes)
    are not in it."""
    contests = await db.fetchall(
        "SELECT c.id, c.theme, c.closed_at, coalesce(c.voter_count, 0) AS voters,"
        " (SELECT count(*) FROM contest_results r WHERE r.contest_id = c.id) AS entries"
        " FROM contests c WHERE c.guild_id = ? AND c.state = 'closed' AND c.closed_at IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM contest_results r WHERE r.contest_id = c.id AND r.place = 1)"
        " ORDER BY c.closed_at DESC, c.id DESC LIMIT ? OFFSET ?",
        (guild_id, limit, offset),
    )
    famed: list[FamedContest] = []
    for contest in contests:
        rows = await db.fetchall(
            "SELECT r.user_id, r.job_id, r.image_index, r.votes,"
            " EXISTS (SELECT 1 FROM user_settings s WHERE s.user_id = r.user_id AND s.public = 0)"
            "   AS hidden"
            " FROM contest_results r WHERE r.contest_id = ? AND r.place = 1"
            " ORDER BY r.entry_id",
            (contest["id"],),
        )
        famed.append(
            FamedContest(
                contest_id=int(contest["id"]),
                theme=str(contest["theme"]),
                closed_at=from_db_time(contest["closed_at"]),
                voters=int(contest["voters"]),
                entries=int(contest["entries"]),
                winners=[
                    Winner(
                        user_id=int(row["user_id"]),
                        job_id=int(row["job_id"]),
                        image_index=int(row["image_index"]),
                        votes=int(row["votes"]),
                        hidden=bool(row["hidden"]),
                    )
                    for row in rows
                ],
            )
        )
    return famed
