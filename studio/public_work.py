"""What of the studio's work may be shown on the web: the one rule every web page and
listing goes through.

A job is public on the web when all of these hold, checked on every request (nothing is
cached, so turning the gallery off, a member going private or a job's removal takes effect
at the next page view):

- it finished (``done``) and still exists — a deleted job, or one that failed or was
  cancelled, is not there;
- it was posted in a server whose moderators turned the web gallery on (``/admin gallery
  on``; the default is off) — a job made from the command line, or in a DM, never is;
- its owner has not chosen to keep their results private (``/settings``).

The rule is written once, as the SQL condition :func:`public_condition`, and every query
here uses it. The web names a job by its random ``public_id`` (migration 0009), never by
its number, so a job that is not public cannot be found by counting.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from db.jobs import JobKind, JobStatus
from db.times import from_db_time


def public_condition(job: str = "j") -> str:
    """The SQL condition, on the ``jobs`` row aliased ``job``, that the job is public."""
    return f"{job}.status = '{JobStatus.DONE.value}' AND {_shown_condition(job)}"


def _shown_condition(job: str) -> str:
    """All of the rule but the job's being done: where and by whom it was made."""
    return (
        "EXISTS (SELECT 1 FROM job_messages pm JOIN guild_settings pg"
        f"  ON pg.guild_id = pm.guild_id WHERE pm.job_id = {job}.id AND pg.gallery = 1)"
        " AND NOT EXISTS (SELECT 1 FROM user_settings ps"
        f"  WHERE ps.user_id = {job}.owner_id AND ps.public = 0)"
    )


@dataclass(frozen=True)
class PublicJob:
    """A public job as the web lists it (``id`` is for lineage and joins, never shown)."""

    id: int
    public_id: str
    kind: JobKind
    owner_id: int
    prompt: str
    model: str
    made_at: datetime
    images: int
    guild_id: int | None
    #: How many images it was made from (image prompts, a /blend's images).
    inputs: int = 0


_SELECT = (
    "SELECT j.id, j.public_id, j.kind, j.owner_id, j.prompt, j.model,"
    " coalesce(j.finished_at, j.created_at) AS made_at,"
    " (SELECT count(*) FROM images i WHERE i.job_id = j.id) AS images,"
    " (SELECT m.guild_id FROM job_messages m WHERE m.job_id = j.id) AS guild_id,"
    " coalesce(json_array_length(j.params, '$.image_prompts'), 0) AS inputs"
    " FROM jobs j"
)


def _public_job(row: sqlite3.Row) -> PublicJob:
    return PublicJob(
        id=int(row["id"]),
        public_id=str(row["public_id"]),
        kind=JobKind(row["kind"]),
        owner_id=int(row["owner_id"]),
        prompt=str(row["prompt"]),
        model=str(row["model"]),
        made_at=from_db_time(row["made_at"]),
        images=int(row["images"]),
        guild_id=row["guild_id"],
        inputs=int(row["inputs"]),
    )


async def public_job(db: Database, public_id: str) -> PublicJob | None:
    """The job with this public id, if it is public; None alike when it does not exist."""
    row = await db.fetchone(
        f"{_SELECT} WHERE j.public_id = ? AND {public_condition()}", (public_id,)
    )
    return None if row is None else _public_job(row)


async def recent_public_jobs(
    db: Database, *, owner_id: int | None = None, limit: int, offset: int = 0
) -> list[PublicJob]:
    """Public jobs with images, newest first: everyone's, or one member's."""
    owner = "" if owner_id is None else " AND j.owner_id = :owner"
    rows = await db.fetchall(
        f"{_SELECT} WHERE {public_condition()}{owner}"
        " AND EXISTS (SELECT 1 FROM images i WHERE i.job_id = j.id)"
        " ORDER BY j.id DESC LIMIT :limit OFFSET :offset",
        {"owner": owner_id, "limit": limit, "offset": offset},
    )
    return [_public_job(row) for row in rows]


async def public_children(db: Database, job_id: int) -> list[PublicJob]:
    """The public jobs made from this one (re-rolls, variations, upscales), oldest first."""
    rows = await db.fetchall(
        f"{_SELECT} WHERE j.parent_job_id = ? AND {public_condition()} ORDER BY j.id", (job_id,)
    )
    return [_public_job(row) for row in rows]


async def public_id_once_done(db: Database, job_id: int) -> str | None:
    """The public id job ``job_id`` will be shown under once it is done, if it will be
    public then (as things stand now); None otherwise."""
    row = await db.fetchone(
        f"SELECT j.public_id FROM jobs j WHERE j.id = ? AND {_shown_condition('j')}", (job_id,)
    )
    return None if row is None else str(row[0])


async def public_ids(db: Database, job_ids: Iterable[int]) -> dict[int, str]:
    """Of ``job_ids``, those that are public, with their public ids: what a page may link
    to (a contest entry, a board's image, a job's parent)."""
    wanted = sorted(set(job_ids))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetchall(
        f"SELECT j.id, j.public_id FROM jobs j WHERE j.id IN ({marks}) AND {public_condition()}",
        wanted,
    )
    return {int(row["id"]): str(row["public_id"]) for row in rows}


@dataclass(frozen=True)
class Gallery:
    """A server whose work is on the web."""

    guild_id: int
    name: str


async def galleries(db: Database) -> list[Gallery]:
    """The servers whose gallery is on, by name."""
    rows = await db.fetchall(
        "SELECT guild_id, gallery_name FROM guild_settings WHERE gallery = 1"
        " ORDER BY gallery_name, guild_id"
    )
    return [Gallery(int(row["guild_id"]), _gallery_name(row)) for row in rows]


async def gallery(db: Database, guild_id: int) -> Gallery | None:
    """The server, if its gallery is on: its contests, campaigns and boards are on the
    web only then."""
    row = await db.fetchone(
        "SELECT guild_id, gallery_name FROM guild_settings WHERE guild_id = ? AND gallery = 1",
        (guild_id,),
    )
    return None if row is None else Gallery(int(row["guild_id"]), _gallery_name(row))


def _gallery_name(row: sqlite3.Row) -> str:
    return str(row["gallery_name"] or f"Server {row['guild_id']}")


async def member_is_public(db: Database, user_id: int) -> bool:
    """Whether the member shows their results (the /settings default)."""
    row = await db.fetchone(
        "SELECT 1 FROM user_settings WHERE user_id = ? AND public = 0", (user_id,)
    )
    return row is None
