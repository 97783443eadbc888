"""The tally: ranking, places, points, and the published ballot list.

Ranking is by votes, most first; equal votes share a rank ("1, 1, 3"). Places 1–3 earn
10 / 6 / 3 points, and every valid entry earns 1 more. No places are awarded in a contest
with fewer than three valid entries, nor to an entry nobody voted for.

The ballot list is a CSV, ``voter_id,entry_number``, one line per counted vote, sorted,
with LF line ends. Its SHA-256 is published with the results, so ``sha256sum`` over the
file that ``/contest ballots`` hands to moderators reproduces the published hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from contests import announcements
from contests.model import AnnouncementKind, Contest, ContestState, Standing
from contests.store import rows
from db.database import Database
from db.times import to_db_time

PLACE_POINTS = {1: 10, 2: 6, 3: 3}
ENTRY_POINTS = 1
MIN_ENTRIES_FOR_PLACES = 3
BALLOT_HEADER = "voter_id,entry_number"


@dataclass(frozen=True)
class Candidate:
    """A valid entry at closing time."""

    entry_id: int
    number: int | None
    user_id: int
    job_id: int
    image_index: int


def rank(candidates: Sequence[Candidate], votes: dict[int, int]) -> list[Standing]:
    """Every candidate's standing, best first (ties in entry-number order)."""
    ordered = sorted(
        candidates,
        key=lambda c: (
            -votes.get(c.entry_id, 0),
            c.number if c.number is not None else 0,
            c.entry_id,
        ),
    )
    places_awarded = len(candidates) >= MIN_ENTRIES_FOR_PLACES
    standings = []
    current_rank = 0
    previous_votes: int | None = None
    for position, candidate in enumerate(ordered, start=1):
        count = votes.get(candidate.entry_id, 0)
        if count != previous_votes:
            current_rank, previous_votes = position, count
        place = current_rank if places_awarded and count > 0 and current_rank <= 3 else None
        standings.append(
            Standing(
                entry_id=candidate.entry_id,
                number=candidate.number,
                user_id=candidate.user_id,
                job_id=candidate.job_id,
                image_index=candidate.image_index,
                rank=current_rank,
                place=place,
                votes=count,
                points=ENTRY_POINTS + (PLACE_POINTS[place] if place is not None else 0),
            )
        )
    return standings


def ballot_csv(ballots: Sequence[tuple[int, int]]) -> str:
    """The ballot list as published: header, then ``voter_id,entry_number`` lines, sorted."""
    lines = [BALLOT_HEADER, *(f"{voter},{number}" for voter, number in sorted(ballots))]
    return "\n".join(lines) + "\n"


def ballot_sha256(csv_text: str) -> str:
    return hashlib.sha256(csv_text.encode("utf-8")).hexdigest()


async def counted_ballots(db: Database, contest_id: int) -> list[tuple[int, int]]:
    """The votes that count: on entries still valid, as (voter, entry number)."""
    found = await db.fetchall(_BALLOTS_SQL, (contest_id,))
    return [(row["voter_id"], row["number"]) for row in found]


async def standings(db: Database, contest_id: int) -> list[Standing]:
    """The final results of a closed contest, best first."""
    found = await db.fetchall(
        "SELECT r.*, e.number FROM contest_results r JOIN contest_entries e ON e.id = r.entry_id"
        " WHERE r.contest_id = ? ORDER BY r.rank, e.number, r.entry_id",
        (contest_id,),
    )
    return [
        Standing(
            entry_id=row["entry_id"],
            number=row["number"],
            user_id=row["user_id"],
            job_id=row["job_id"],
            image_index=row["image_index"],
            rank=row["rank"],
            place=row["place"],
            votes=row["votes"],
            points=row["points"],
        )
        for row in found
    ]


async def close(conn: aiosqlite.Connection, contest: Contest, now: datetime) -> None:
    """Inside a transaction: tally a contest in voting (or one without entries), record its
    results and points, and queue the results announcement."""
    candidates = [
        Candidate(row["id"], row["number"], row["user_id"], row["job_id"], row["image_index"])
        for row in await rows(
            conn,
            "SELECT * FROM contest_entries WHERE contest_id = ? AND status = 'active'",
            (contest.id,),
        )
    ]
    ballots = [
        (row["voter_id"], row["number"]) for row in await rows(conn, _BALLOTS_SQL, (contest.id,))
    ]
    by_number = {c.number: c.entry_id for c in candidates}
    votes: dict[int, int] = {}
    for _, number in ballots:
        votes[by_number[number]] = votes.get(by_number[number], 0) + 1
    for standing in rank(candidates, votes):
        await conn.execute(
            "INSERT INTO contest_results (contest_id, entry_id, user_id, job_id, image_index,"
            " rank, place, votes, points, awarded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                contest.id,
                standing.entry_id,
                standing.user_id,
                standing.job_id,
                standing.image_index,
                standing.rank,
                standing.place,
                standing.votes,
                standing.points,
                to_db_time(now),
            ),
        )
    await conn.execute(
        "UPDATE contests SET state = ?, closed_at = ?, ballot_sha256 = ?, voter_count = ?"
        " WHERE id = ?",
        (
            ContestState.CLOSED.value,
            to_db_time(now),
            ballot_sha256(ballot_csv(ballots)),
            len({voter for voter, _ in ballots}),
            contest.id,
        ),
    )
    await announcements.queue(conn, contest.id, AnnouncementKind.RESULTS, now)


_BALLOTS_SQL = (
    "SELECT v.voter_id, e.number FROM contest_votes v"
    " JOIN contest_entries e ON e.id = v.entry_id"
    " WHERE v.contest_id = ? AND e.status = 'active' ORDER BY v.voter_id, e.number"
)
