"""The public leaderboards: creators, models and trending images, over a time window.

Every board is computed from the database at a given ``now`` (never the wall clock), so a
test can move time freely. Members who chose to hide their results from public listings
(``user_settings.public = 0``) are left out of every board: neither their name nor their
figures appear, and their images do not count towards a model's figures either. A ❤ they
give still counts for the image's creator: it is the creator's figure and names nobody.

The backers board lives with funding's data (``funding.backers``); this package may not
import it, so :func:`rank_backers` ranks whatever totals the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from db.database import Database
from db.jobs import JobKind, JobStatus, from_db_time, to_db_time

#: How far back trending looks, and the age at which an image's score has decayed to zero.
TRENDING_DAYS = 7

#: Members who chose to hide their results from public listings.
_HIDDEN = "SELECT user_id FROM user_settings WHERE public = 0"


class Board(StrEnum):
    CREATORS = "creators"
    BACKERS = "backers"
    MODELS = "models"
    TRENDING = "trending"


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


def _time_range(window: Window, now: datetime) -> tuple[str, str]:
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


async def creators_board(db: Database, *, window: Window, now: datetime) -> list[CreatorStanding]:
    """Creators by contest points (awarded in the window) plus ❤ favorites received (given in
    the window) on their upscaled images; a member's ❤ on their own image does not count.
    Best first; equal scores by more points, then by user id (so the order is stable)."""
    start, end = _time_range(window, now)
    favorites = await db.fetchall(
        "SELECT j.owner_id AS user_id, count(*) AS n FROM favorites f"
        " JOIN jobs j ON j.id = f.job_id"
        " WHERE j.kind = ? AND f.user_id != j.owner_id AND j.owner_id != 0"
        " AND f.created_at > ? AND f.created_at <= ?"
        f" AND j.owner_id NOT IN ({_HIDDEN})"
        " GROUP BY j.owner_id",
        (JobKind.UPSCALE.value, start, end),
    )
    points = await creator_points(db, start=start, end=end)
    totals: dict[int, list[int]] = {}
    for user_id, earned in points.items():
        totals.setdefault(user_id, [0, 0])[0] += earned
    for row in favorites:
        totals.setdefault(int(row["user_id"]), [0, 0])[1] += int(row["n"])
    standings = [CreatorStanding(user_id, p, f) for user_id, (p, f) in totals.items() if p or f]
    standings.sort(key=lambda s: (-s.score, -s.points, s.user_id))
    return standings


async def creator_points(db: Database, *, start: str, end: str) -> dict[int, int]:
    """Contest points per visible member, for results awarded in (start, end]."""
    rows = await db.fetchall(
        "SELECT r.user_id AS user_id, sum(r.points) AS points FROM contest_results r"
        " WHERE r.awarded_at > ? AND r.awarded_at <= ?"
        f" AND r.user_id NOT IN ({_HIDDEN})"
        " GROUP BY r.user_id",
        (start, end),
    )
    return {int(row["user_id"]): int(row["points"]) for row in rows}


# --- models --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelStanding:
    model: str
    images: int
    wins: int


async def models_board(db: Database, *, window: Window, now: datetime) -> list[ModelStanding]:
    """Per model: images of finished jobs made in the window (a job counts at the time it
    finished) and contest wins (1st places awarded in the window, shared 1st places each
    counting). Most images first, then most wins, then by name."""
    start, end = _time_range(window, now)
    made = await db.fetchall(
        "SELECT j.model AS model, count(*) AS n FROM images i JOIN jobs j ON j.id = i.job_id"
        " WHERE j.status = ? AND coalesce(j.finished_at, j.created_at) > ?"
        " AND coalesce(j.finished_at, j.created_at) <= ?"
        f" AND j.owner_id NOT IN ({_HIDDEN})"
        " GROUP BY j.model",
        (JobStatus.DONE.value, start, end),
    )
    won = await db.fetchall(
        "SELECT j.model AS model, count(*) AS n FROM contest_results r"
        " JOIN jobs j ON j.id = r.job_id"
        " WHERE r.place = 1 AND r.awarded_at > ? AND r.awarded_at <= ?"
        f" AND r.user_id NOT IN ({_HIDDEN})"
        " GROUP BY j.model",
        (start, end),
    )
    images = {str(row["model"]): int(row["n"]) for row in made}
    wins = {str(row["model"]): int(row["n"]) for row in won}
    standings = [
        ModelStanding(model, images.get(model, 0), wins.get(model, 0))
        for model in images.keys() | wins.keys()
    ]
    standings.sort(key=lambda s: (-s.images, -s.wins, s.model))
    return standings


# --- trending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendingImage:
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


async def trending_board(db: Database, *, now: datetime) -> list[TrendingImage]:
    """Upscaled images of the last 7 days, each creator's best one, by decayed favorites.

    Why not a Wilson lower bound: it needs a denominator (how many people saw the image),
    and Atelier has no honest one: Discord does not tell a bot how often a message was
    viewed, and counting button presses or /show calls would only count the already
    interested. So the score is the ❤ count (own ❤ excluded, given up to ``now``) with a
    quadratic age decay (see :func:`decayed_score`). The board always covers the last
    7 days; a longer window would only add images whose score has decayed to zero.

    Order: score, then more favorites, then the newer image, then the lower job id.
    """
    start = to_db_time(now - timedelta(days=TRENDING_DAYS))
    end = to_db_time(now)
    rows = await db.fetchall(
        "SELECT j.id AS job_id, f.idx AS idx, j.owner_id AS owner_id,"
        " coalesce(j.finished_at, j.created_at) AS made_at, count(*) AS n"
        " FROM favorites f JOIN jobs j ON j.id = f.job_id"
        " JOIN images i ON i.job_id = f.job_id AND i.idx = f.idx"
        " WHERE j.kind = ? AND j.status = ? AND f.user_id != j.owner_id AND j.owner_id != 0"
        " AND coalesce(j.finished_at, j.created_at) > ?"
        " AND coalesce(j.finished_at, j.created_at) <= ? AND f.created_at <= ?"
        f" AND j.owner_id NOT IN ({_HIDDEN})"
        " GROUP BY j.id, f.idx",
        (JobKind.UPSCALE.value, JobStatus.DONE.value, start, end, end),
    )
    best: dict[int, TrendingImage] = {}
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
        if image.score <= 0:
            continue
        current = best.get(image.owner_id)
        if current is None or _trending_key(image) < _trending_key(current):
            best[image.owner_id] = image
    return sorted(best.values(), key=_trending_key)


def _trending_key(image: TrendingImage) -> tuple[float, int, float, int, int]:
    return (-image.score, -image.favorites, -image.made_at.timestamp(), image.job_id, image.index)


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
