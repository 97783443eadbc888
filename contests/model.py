"""Plain records of contests, entries, rules and results, read from their tables."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.times import from_db_time


class ContestState(StrEnum):
    SCHEDULED = "scheduled"
    SUBMISSIONS = "submissions"
    VOTING = "voting"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (ContestState.CLOSED, ContestState.CANCELLED)


class EntryStatus(StrEnum):
    ACTIVE = "active"
    REPLACED = "replaced"
    DISQUALIFIED = "disqualified"


class AnnouncementKind(StrEnum):
    OPENING = "opening"
    SUBMIT_REMINDER = "submit_reminder"
    VOTING = "voting"
    VOTE_REMINDER = "vote_reminder"
    RESULTS = "results"
    CANCELLED = "cancelled"
    EXTENDED = "extended"


@dataclass(frozen=True)
class Rules:
    """A server's contest rules (``/contest rules``)."""

    max_entries: int = 1
    min_member_days: int = 7
    votes_per_member: int = 3


@dataclass(frozen=True)
class Contest:
    id: int
    guild_id: int
    channel_id: int
    theme: str | None
    state: ContestState
    scheduled: bool
    created_by: int | None
    opens_at: datetime
    voting_at: datetime
    closes_at: datetime
    shuffle_seed: int | None
    ballot_sha256: str | None
    voter_count: int | None
    cancel_reason: str | None

    @property
    def title(self) -> str:
        return f"Contest #{self.id}" + (f" — “{self.theme}”" if self.theme else "")


@dataclass(frozen=True)
class Entry:
    id: int
    contest_id: int
    user_id: int
    job_id: int
    image_index: int
    status: EntryStatus
    created_at: datetime
    number: int | None
    vote_message_id: int | None
    disqualify_reason: str | None


@dataclass(frozen=True)
class Standing:
    """One valid entry's final result."""

    entry_id: int
    number: int | None
    user_id: int
    job_id: int
    image_index: int
    rank: int
    place: int | None
    votes: int
    points: int


@dataclass(frozen=True)
class Announcement:
    id: int
    contest_id: int
    kind: AnnouncementKind


def contest_from_row(row: sqlite3.Row) -> Contest:
    return Contest(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        theme=row["theme"],
        state=ContestState(row["state"]),
        scheduled=bool(row["scheduled"]),
        created_by=row["created_by"],
        opens_at=from_db_time(row["opens_at"]),
        voting_at=from_db_time(row["voting_at"]),
        closes_at=from_db_time(row["closes_at"]),
        shuffle_seed=row["shuffle_seed"],
        ballot_sha256=row["ballot_sha256"],
        voter_count=row["voter_count"],
        cancel_reason=row["cancel_reason"],
    )


def entry_from_row(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        contest_id=row["contest_id"],
        user_id=row["user_id"],
        job_id=row["job_id"],
        image_index=row["image_index"],
        status=EntryStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        number=row["number"],
        vote_message_id=row["vote_message_id"],
        disqualify_reason=row["disqualify_reason"],
    )
