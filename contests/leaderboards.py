"""The public leaderboards: creators, models and trending images of one server, over a
time window.

Every board belongs to a server and shows only what happened there: contest points from
its contests, ❤ and images on jobs posted in it (``job_messages.guild_id``). Boards are
computed from the database at a given ``now`` (never the wall clock), so a test can move
time freely. Members who chose to hide their results from public listings
(``user_settings.public = 0``) are left out of every board: neither their name nor their
figures appear, and their images do not count towards a model's figures either. A ❤ they
give still counts for the image's creator: it is the creator's figure and names nobody.

An upscale only enlarges pixels another job generated, so a ❤ on it is credited to the
creator of the image's origin (``contests.provenance``): the image of the first job up the
parent links that is not an upscale. The creators and models boards read running counts
kept by the database as ❤, images and jobs are written (``contests.boards.counts``).

The trending board lives in ``contests.boards.trending``.

The backers board lives with funding's data (``funding.backers``); this package may not
import it, so :func:`rank_backers` ranks whatever totals the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from contests.boards.counts import hearts_received, images_by_model
from contests.boards.sql_fragments import CREDITS, HIDDEN_MEMBERS

# Re-exported: the cogs take every board from this module.
from db.database import Database
from db.jobs import JobStatus
from db.times import to_db_time


class Board(StrEnum):
    CREATORS = "creators"
    BACKERS = "backers"
    MODELS = "models"
    TRENDING = "trending"

    @property
    def default_window(self) -> Window:
        """The window shown when none is asked for: a month of creators (about four
        weekly contests, so one week without a contest does not empty it), backers and
        models over all time (campaigns are funded rarely; a model's figures add up), and
        trending's own fixed 7 days."""
        return {
            Board.CREATORS: Window.MONTH,
            Board.BACKERS: Window.ALL,
            Board.MODELS: Window.ALL,
            Board.TRENDING: Window.WEEK,
        }[self]


class Window(StrEnum):
    """The period a board covers, ending at ``now``."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"

    def since(self, now: datetime) -> datetime | None:
        """The window's start: 7 or 30 days before ``now``; None for all time."""
        days = {Window.WEEK: 7, Window.MONTH: 30}.get(self)
        return None if days is None else now - timedelta(days=days)

    @property
    def label(self) -> str:
        return {
            Window.WEEK: "last 7 days",
            Window.MONTH: "last 30 days",
            Window.ALL: "all time",
        }[self]


_Row = TypeVar("_Row")


@dataclass(frozen=True)
class Placed(Generic[_Row]):
    """A row with its place; rows with equal figures share a place (1, 2, 2, 4)."""

    place: int
    row: _Row


def ranked(rows: Iterable[_Row], key: Callable[[_Row], tuple[int, ...]]) -> list[Placed[_Row]]:
    """``rows`` (already in order, best first) with places: a row whose ``key`` equals the
    previous row's shares its place, the next distinct figure takes its position."""
    placed: list[Placed[_Row]] = []
    previous: tuple[int, ...] | None = None
    for position, row in enumerate(rows, start=1):
        figures = key(row)
        place = placed[-1].place if placed and figures == previous else position
        placed.append(Placed(place, row))
        previous = figures
    return placed


def time_range(window: Window, now: datetime) -> tuple[str, str]:
    """The window as database times: (start, end], with the start of time for ``all``."""
    since = window.since(now)
    return ("" if since is None else to_db_time(since)), to_db_time(now)


# --- creators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatorStanding:
    """A member's figures on the creators board: contest points plus favorites received."""

    user_id: int
    points: int
    favorites: int

    @property
    def score(self) -> int:
        return self.points + self.favorites


async def creators_board(
    db: Database, *, guild_id: int, window: Window, now: datetime
) -> list[CreatorStanding]:
    """The server's creators by contest points (from its contests, awarded in the window)
    plus ❤ favorites received (given in the window) on upscaled images posted in it.

    A ❤ credits the creator of the image's origin, not whoever pressed Upscale; the
    creator's own ❤ does not count, and a member's ❤ on several upscales of one image
    counts once. Best first; equal scores by more points, then by user id (so the order is
    stable)."""
    start, end = time_range(window, now)
    favorites = await hearts_received(db, guild_id=guild_id, since=window.since(now), now=now)
    points = await creator_points(db, guild_id=guild_id, start=start, end=end)
    return creator_standings(points, favorites)


def creator_standings(points: dict[int, int], favorites: dict[int, int]) -> list[CreatorStanding]:
    """The creators board from contest points and ❤ received per member, best first."""
    totals: dict[int, list[int]] = {}
    for user_id, earned in points.items():
        totals.setdefault(user_id, [0, 0])[0] += earned
    for user_id, received in favorites.items():
        totals.setdefault(user_id, [0, 0])[1] += received
    standings = [CreatorStanding(user_id, p, f) for user_id, (p, f) in totals.items() if p or f]
    standings.sort(key=lambda s: (-s.score, -s.points, s.user_id))
    return standings


async def creator_points(db: Database, *, guild_id: int, start: str, end: str) -> dict[int, int]:
    """Contest points per visible member from the server's contests, for results awarded
    in (start, end]."""
    rows = await db.fetchall(
        "SELECT r.user_id AS user_id, sum(r.points) AS points FROM contest_results r"
        " JOIN contests c ON c.id = r.contest_id"
        " WHERE c.guild_id = ? AND r.awarded_at > ? AND r.awarded_at <= ?"
        f" AND r.user_id NOT IN ({HIDDEN_MEMBERS})"
        " GROUP BY r.user_id",
        (guild_id, start, end),
    )
    return {int(row["user_id"]): int(row["points"]) for row in rows}


# --- models --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelStanding:
    """A model's figures, all its versions together (jobs store ``name:version``; jobs
    from before the registry the bare name, which counts for the model only). A LoRA is a
    model too: an image made with a checkpoint and a LoRA counts for both."""

    model: str
    images: int
    wins: int
    #: The versions with images or wins in the window, in version order.
    versions: tuple[str, ...] = ()


async def models_board(
    db: Database, *, guild_id: int, window: Window, now: datetime
) -> list[ModelStanding]:
    """Per model name: images of finished jobs posted in the server and made in the window
    (a job counts at the time it finished), and wins in the server's contests (1st places
    awarded in the window, shared 1st places each counting). A job credits its checkpoint
    and each LoRA version it ran with. Most images first, then most wins, then by name."""
    start, end = time_range(window, now)
    made = await images_by_model(db, guild_id=guild_id, since=window.since(now), now=now)
    for model, images in (await lora_images(db, guild_id=guild_id, start=start, end=end)).items():
        made[model] = made.get(model, 0) + images
    won = await model_wins(db, guild_id=guild_id, start=start, end=end)
    return model_standings(made, won)


async def lora_images(db: Database, *, guild_id: int, start: str, end: str) -> dict[str, int]:
    """Images per LoRA version key of the server's finished jobs made in (start, end], of
    members who show their results. Read job by job from ``job_loras``, which holds LoRA
    jobs only (the checkpoints' figures come from the running counts)."""
    rows = await db.fetchall(
        "SELECT l.version_key AS model, count(*) AS n FROM job_loras l"
        " JOIN jobs j ON j.id = l.job_id JOIN images i ON i.job_id = j.id"
        " JOIN job_messages m ON m.job_id = j.id"
        " WHERE j.status = ? AND coalesce(j.finished_at, j.created_at) > ?"
        " AND coalesce(j.finished_at, j.created_at) <= ? AND m.guild_id = ?"
        f" AND j.owner_id NOT IN ({HIDDEN_MEMBERS})"
        " GROUP BY l.version_key",
        (JobStatus.DONE.value, start, end, guild_id),
    )
    return {str(row["model"]): int(row["n"]) for row in rows}


async def model_wins(db: Database, *, guild_id: int, start: str, end: str) -> dict[str, int]:
    """1st places per model string in the server's contests, awarded in (start, end], of
    members who show their results; a win credits the entry's checkpoint and each LoRA
    version it ran with."""
    wins: dict[str, int] = {}
    for credited, join in CREDITS:
        rows = await db.fetchall(
            f"SELECT {credited} AS model, count(*) AS n FROM contest_results r"
            f" JOIN contests c ON c.id = r.contest_id JOIN jobs j ON j.id = r.job_id{join}"
            " WHERE r.place = 1 AND r.awarded_at > ? AND r.awarded_at <= ? AND c.guild_id = ?"
            f" AND r.user_id NOT IN ({HIDDEN_MEMBERS})"
            f" GROUP BY {credited}",
            (start, end, guild_id),
        )
        for row in rows:
            model = str(row["model"])
            wins[model] = wins.get(model, 0) + int(row["n"])
    return wins


def model_standings(made: dict[str, int], won: dict[str, int]) -> list[ModelStanding]:
    """The models board from images and wins per model string as jobs store it
    (``name:version`` or a bare name): one standing per name, best first."""
    images: dict[str, int] = {}
    wins: dict[str, int] = {}
    versions: dict[str, set[str]] = {}
    for counted, figures in ((made, images), (won, wins)):
        for model, n in counted.items():
            name, colon, version = model.lower().partition(":")
            figures[name] = figures.get(name, 0) + n
            found = versions.setdefault(name, set())
            if colon:
                found.add(version)
    standings = [
        ModelStanding(
            name,
            images.get(name, 0),
            wins.get(name, 0),
            tuple(sorted(versions[name], key=_version_order)),
        )
        for name in images.keys() | wins.keys()
    ]
    standings.sort(key=lambda s: (-s.images, -s.wins, s.model))
    return standings


_VERSION_PARTS = re.compile(r"[0-9]+|[^0-9]+")


def _version_order(version: str) -> list[tuple[int, str]]:
    """Versions in natural order: 2 before 10, 1.2 before 1.10."""
    return [
        (int(part), "") if part.isdigit() else (-1, part)
        for part in _VERSION_PARTS.findall(version)
    ]


# --- backers -------------------------------------------------------------------------------


class BackerTotalLike(Protocol):
    """What funding's backer totals carry (this package may not import ``funding``)."""

    @property
    def user_id(self) -> int: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


_Total = TypeVar("_Total", bound=BackerTotalLike)


def rank_backers(totals: Sequence[_Total], hidden: set[int]) -> dict[str, list[Placed[_Total]]]:
    """Backer totals ranked within each currency (amounts in different currencies are not
    comparable), currencies in alphabetical order; members in ``hidden`` are left out."""
    by_currency: dict[str, list[_Total]] = {}
    for total in totals:
        if total.user_id in hidden or total.amount_minor <= 0:
            continue
        by_currency.setdefault(total.currency, []).append(total)
    return {
        currency: ranked(
            sorted(rows, key=lambda t: (-t.amount_minor, t.user_id)),
            key=lambda t: (t.amount_minor,),
        )
        for currency, rows in sorted(by_currency.items())
    }


async def hidden_members(db: Database, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` chose to hide their results from public listings."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return set()
    marks = ", ".join("?" * len(wanted))
    rows = await db.fetchall(
        f"SELECT user_id FROM user_settings WHERE public = 0 AND user_id IN ({marks})", wanted
    )
    return {int(row["user_id"]) for row in rows}
