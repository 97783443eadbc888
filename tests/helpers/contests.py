"""Contest test data: the members and server of the contest tests, finished jobs to enter,
and a whole contest run through the contests service on a fake clock."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from contests import lifecycle
from contests.entries import submit_entry
from contests.voting import press_vote
from db.database import Database
from db.jobs import ImageRecord, JobKind, JobStatus, insert_images, insert_job, mark_finished
from tests.helpers.clock import FakeClock

GUILD = 1000
CHANNEL = 2000
MOD = 1
ALICE, BOB, CAROL, DAVE, ERIN = 11, 12, 13, 14, 15
#: Joined long ago: old enough to enter and vote under the default 7-day rule.
VETERAN = datetime(2026, 1, 1, tzinfo=UTC)


async def make_job(
    db: Database,
    owner: int,
    at: datetime,
    *,
    images: int = 4,
    status: JobStatus = JobStatus.DONE,
    kind: JobKind = JobKind.IMAGINE,
    parent: tuple[int, int] | None = None,
) -> int:
    """A job by ``owner`` created at ``at`` with ``images`` images, finished as ``status``;
    ``parent`` is the (job, image index) it was made from."""
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=kind,
            owner_id=owner,
            prompt="a lighthouse at dusk",
            params={},
            model="tiny",
            created_at=at,
            parent_job_id=None if parent is None else parent[0],
            parent_index=None if parent is None else parent[1],
        )
        if status is not JobStatus.QUEUED:
            await mark_finished(conn, job_id, status=status, finished_at=at, gpu_seconds=0.1)
        if status is JobStatus.DONE:
            await insert_images(
                conn,
                [
                    ImageRecord(job_id, i, f"/tmp/{job_id}-{i}.png", i, 64, 64)
                    for i in range(images)
                ],
            )
    return job_id


_interactions = itertools.count(70_000)


async def run_contest(
    db: Database,
    clock: FakeClock,
    theme: str,
    votes: dict[int, list[int]],
    *,
    guild_id: int = GUILD,
    channel_id: int = CHANNEL,
) -> dict[int, int]:
    """Open a contest, enter one image for each member in ``votes``, let each voter in
    ``votes[entrant]`` vote for that entrant's entry, close it. Returns entrant → job id."""
    await lifecycle.open_contest(
        db,
        guild_id=guild_id,
        channel_id=channel_id,
        theme=theme,
        submit_days=2,
        vote_days=2,
        opened_by=MOD,
        now=clock.now,
    )
    clock.advance(hours=1)
    jobs: dict[int, int] = {}
    entries: dict[int, int] = {}
    for entrant in votes:
        jobs[entrant] = await make_job(db, entrant, clock.now)
        entered = await submit_entry(
            db,
            guild_id=guild_id,
            user_id=entrant,
            job_id=jobs[entrant],
            image_index=0,
            member_since=VETERAN,
            now=clock.now,
            interaction_id=next(_interactions),
        )
        entries[entrant] = entered.entry.id
    await lifecycle.advance(db, clock.advance(days=2))
    for entrant, voters in votes.items():
        for voter in voters:
            await press_vote(
                db,
                entry_id=entries[entrant],
                voter_id=voter,
                interaction_id=next(_interactions),
                member_since=VETERAN,
                now=clock.advance(minutes=1),
            )
    await lifecycle.advance(db, clock.advance(days=2))
    return jobs
