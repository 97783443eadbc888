"""Vote presses: casting, withdrawing, and telling a double-click from a withdrawal.

A member has ``votes_per_member`` votes per contest, at most one per entry and never on
their own entry. Pressing Vote on an entry they voted for withdraws that vote — unless the
press comes within ``DOUBLE_PRESS_WINDOW`` of their last change on the same entry: that is
a double-click (or two clients delivering one intent), and it changes nothing. Every press
runs in one write transaction, so two simultaneous presses are decided one after the
other. Each press is stored under its interaction id with its receipt, so a repeated
delivery of the same interaction changes nothing and gets the same receipt (stored with
its ``{results}`` field, which is filled in when it is shown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from contests.errors import ContestError
from contests.model import ContestState, EntryStatus
from contests.rules import check_membership, get_rules
from contests.store import contest_in, entry_in, one
from core.errors import fill_moments, plain_time
from db.database import Database
from db.times import from_db_time, to_db_time

DOUBLE_PRESS_WINDOW = timedelta(seconds=2)


class Outcome(StrEnum):
    CAST = "cast"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Receipt:
    """What a press did, in words for the voter. ``{results}`` in ``text`` stands for
    ``results_at``, when the contest's results come out, which each front end shows its
    own way (:meth:`render`)."""

    outcome: Outcome
    text: str
    results_at: datetime

    def render(self, show_moment: Callable[[datetime], str] = plain_time) -> str:
        return fill_moments(self.text, {"results": self.results_at}, show_moment)


async def press_vote(
    db: Database,
    *,
    entry_id: int,
    voter_id: int,
    interaction_id: int,
    member_since: datetime | None,
    now: datetime,
) -> Receipt:
    """Record one press of an entry's Vote button; ContestError if the press is refused."""
    async with db.transaction() as conn:
        earlier = await one(
            conn,
            "SELECT contest_id, outcome, receipt FROM contest_vote_presses"
            " WHERE interaction_id = ?",
            (interaction_id,),
        )
        if earlier is not None:
            contest = await contest_in(conn, earlier["contest_id"])
            return Receipt(Outcome(earlier["outcome"]), earlier["receipt"], contest.closes_at)
        entry = await entry_in(conn, entry_id)
        contest = await contest_in(conn, entry.contest_id)
        if contest.state is ContestState.SUBMISSIONS:
            raise ContestError(
                f"Voting in {contest.title} starts {{voting}}.", voting=contest.voting_at
            )
        if contest.state is ContestState.CANCELLED:
            raise ContestError(
                f"{contest.title} was cancelled by the moderators: {contest.cancel_reason}. "
                "Votes no longer count and there will be no results."
            )
        if contest.state is not ContestState.VOTING or now >= contest.closes_at:
            raise ContestError(f"Voting in {contest.title} is over; see the results.")
        if entry.status is not EntryStatus.ACTIVE:
            raise ContestError(f"Entry #{entry.number} was disqualified; it takes no votes.")
        if entry.user_id == voter_id:
            raise ContestError("That is your own entry; vote for the others you like best.")
        rules = await get_rules(db, contest.guild_id)
        check_membership(rules, member_since, now, "vote")
        last = await one(
            conn,
            "SELECT pressed_at FROM contest_vote_presses WHERE voter_id = ? AND entry_id = ?"
            " AND outcome != 'duplicate' ORDER BY pressed_at DESC LIMIT 1",
            (voter_id, entry_id),
        )
        has_vote = (
            await one(
                conn,
                "SELECT 1 FROM contest_votes WHERE entry_id = ? AND voter_id = ?",
                (entry_id, voter_id),
            )
            is not None
        )
        used_row = await one(
            conn,
            "SELECT count(*) FROM contest_votes v JOIN contest_entries e ON e.id = v.entry_id"
            " WHERE v.contest_id = ? AND v.voter_id = ? AND e.status = 'active'",
            (contest.id, voter_id),
        )
        assert used_row is not None
        used = int(used_row[0])
        allowed = rules.votes_per_member
        number = entry.number
        if last is not None and now - from_db_time(last["pressed_at"]) < DOUBLE_PRESS_WINDOW:
            outcome = Outcome.DUPLICATE
            state = "has your vote" if has_vote else "does not have your vote"
            text = (
                f"That press came right after your last one, so it was taken as a double-click: "
                f"entry #{number} still {state}. {_left(allowed - used)}"
            )
        elif has_vote:
            outcome = Outcome.WITHDRAWN
            await conn.execute(
                "DELETE FROM contest_votes WHERE entry_id = ? AND voter_id = ?",
                (entry_id, voter_id),
            )
            text = f"Vote for entry #{number} withdrawn. {_left(allowed - used + 1)}"
        elif used >= allowed:
            raise ContestError(
                f"You have used all {allowed} of your votes in {contest.title}. Press Vote on "
                "an entry you voted for to withdraw that vote, then vote again."
            )
        else:
            outcome = Outcome.CAST
            await conn.execute(
                "INSERT INTO contest_votes (contest_id, entry_id, voter_id, cast_at)"
                " VALUES (?, ?, ?, ?)",
                (contest.id, entry_id, voter_id, to_db_time(now)),
            )
            text = (
                f"Vote counted for entry #{number}. {_left(allowed - used - 1)} "
                "Counts stay hidden until the results ({results})."
            )
        await conn.execute(
            "INSERT INTO contest_vote_presses (interaction_id, contest_id, entry_id, voter_id,"
            " outcome, receipt, pressed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (interaction_id, contest.id, entry_id, voter_id, outcome.value, text, to_db_time(now)),
        )
        return Receipt(outcome, text, contest.closes_at)


def _left(votes: int) -> str:
    if votes == 0:
        return "You have no votes left."
    return f"You have {votes} vote{'s' if votes != 1 else ''} left."
