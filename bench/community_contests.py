"""Weekly contests for ``bench.community``: closed ones with their results, one voting now."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bench.community_writer import CHANNEL_ID, DAY, FIRST_MEMBER, GUILD_ID, WEEK, YEAR, RowWriter
from contests.results import Candidate, rank
from db.times import to_db_time


@dataclass(frozen=True)
class _Entry:
    id: int
    user: int
    job: int
    number: int


def contests(w: RowWriter) -> tuple[int, list[int], int]:
    """Weekly contests closed over the last year, then one in its voting phase."""
    w.insert_into(
        "contest_rules",
        "guild_id, max_entries, min_member_days, votes_per_member, updated_by, updated_at",
        [(GUILD_ID, 1, 7, 3, FIRST_MEMBER, to_db_time(w.now - YEAR))],
    )
    upscales_of: dict[int, list[int]] = {}
    for job in w.upscales:
        upscales_of.setdefault(job.owner, []).append(job.id)
    entrants_pool = sorted(upscales_of)
    count = w.sizes.contests + 1
    entries: list[_Entry] = []
    ballots: list[tuple[int, int]] = []
    for n in range(1, count + 1):
        live = n == count
        closes = w.now - WEEK * (count - n) + 2 * DAY
        voting, opens = closes - 3 * DAY, closes - 7 * DAY
        w.insert_into(
            "contests",
            "id, guild_id, channel_id, theme, state, scheduled, created_at, opens_at, voting_at,"
            " closes_at, shuffle_seed, closed_at",
            [
                (
                    n,
                    GUILD_ID,
                    CHANNEL_ID,
                    f"theme {n}",
                    "voting" if live else "closed",
                    1,
                    *(to_db_time(t) for t in (opens, opens, voting, closes)),
                    n,
                    None if live else to_db_time(closes),
                )
            ],
        )
        first = w.rows.get("contest_entries", 0) + 1
        entrants = w.rng.sample(entrants_pool, min(len(entrants_pool), w.sizes.entries_per_contest))
        entries = [
            _Entry(first + i, user, w.rng.choice(upscales_of[user]), i + 1)
            for i, user in enumerate(entrants)
        ]
        w.insert_into(
            "contest_entries",
            "id, contest_id, user_id, job_id, image_index, origin_job_id, origin_index, status,"
            " created_at, interaction_id, number, vote_message_id",
            [
                (
                    e.id,
                    n,
                    e.user,
                    e.job,
                    0,
                    *_origin(w, e.job),
                    "active",
                    to_db_time(opens + DAY),
                    next(w.interaction),
                    e.number,
                    500_000 + e.id,
                )
                for e in entries
            ],
        )
        voters = w.sizes.live_voters if live else w.sizes.voters_per_contest
        ballots = _votes(
            w, n, entries, w.rng.sample(w.members, min(voters, len(w.members))), voting
        )
        if not live:
            _results(w, n, entries, ballots, closes)
    return count, [e.id for e in entries], len(ballots)


def _origin(w: RowWriter, upscale: int) -> tuple[int, int]:
    """The grid image an upscale enlarged (every generated upscale is of a grid)."""
    parent, index = w.conn.execute(
        "SELECT parent_job_id, parent_index FROM jobs WHERE id = ?", (upscale,)
    ).fetchone()
    return int(parent), int(index)


def _votes(
    w: RowWriter, contest: int, entries: list[_Entry], voters: list[int], voting: datetime
) -> list[tuple[int, int]]:
    """Three votes per voter on entries not their own, each with the press that cast it;
    returns the ballots as (voter, entry id)."""
    votes, presses, ballots = [], [], []
    for voter in voters:
        chosen = [e for e in w.rng.sample(entries, min(4, len(entries))) if e.user != voter][:3]
        for entry in chosen:
            at = to_db_time(min(w.now, voting + 3 * DAY * w.rng.random()))
            votes.append((contest, entry.id, voter, at))
            receipt = f"Vote counted for entry #{entry.number}."
            presses.append((next(w.interaction), contest, entry.id, voter, "cast", receipt, at))
            ballots.append((voter, entry.id))
    w.insert("contest_votes", votes)
    w.insert("contest_vote_presses", presses)
    return ballots


def _results(
    w: RowWriter,
    contest: int,
    entries: list[_Entry],
    ballots: list[tuple[int, int]],
    closes: datetime,
) -> None:
    """The standings as the contest's closing writes them, ranked by the real tally."""
    votes: dict[int, int] = {}
    for _, entry_id in ballots:
        votes[entry_id] = votes.get(entry_id, 0) + 1
    standings = rank([Candidate(e.id, e.number, e.user, e.job, 0) for e in entries], votes)
    w.insert(
        "contest_results",
        [
            (
                contest,
                s.entry_id,
                s.user_id,
                s.job_id,
                0,
                s.rank,
                s.place,
                s.votes,
                s.points,
                to_db_time(closes),
            )
            for s in standings
        ],
    )
    digest = hashlib.sha256(repr(sorted(ballots)).encode()).hexdigest()
    w.conn.execute(
        "UPDATE contests SET ballot_sha256 = ?, voter_count = ? WHERE id = ?",
        (digest, len({voter for voter, _ in ballots}), contest),
    )
