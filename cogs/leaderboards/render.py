"""Leaderboard embeds: one page of a board, with ranks, names and figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import discord

from cogs.fitting import Embed
from cogs.leaderboards.paging import ROWS_PER_PAGE
from cogs.timestamps import discord_time
from contests.boards.trending import TRENDING_DAYS, TrendingImage
from contests.leaderboards import (
    BackerTotalLike,
    Board,
    CreatorStanding,
    ModelStanding,
    Placed,
    Window,
)
from funding.money import format_minor

_T = TypeVar("_T")
_Backer = TypeVar("_Backer", bound=BackerTotalLike)

_MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
_COLOUR = discord.Colour.gold()
_TITLES = {
    Board.CREATORS: "🏆 Top creators",
    Board.BACKERS: "💎 Top backers",
    Board.MODELS: "🧪 Models",
    Board.TRENDING: "🔥 Trending images",
}
_EXPLAINED = {
    Board.CREATORS: "Contest points (10 / 6 / 3 for 1st / 2nd / 3rd, +1 per entry) "
    "plus ❤ received on upscaled images of yours, whoever upscaled them (your own ❤ do "
    "not count).",
    Board.BACKERS: "Totals pledged to this server's campaigns that reached their goal, "
    "per currency.",
    Board.MODELS: "Images generated in this server with each model (all its versions), "
    "and contest wins with its images.",
    Board.TRENDING: f"Upscaled images posted here, made in the last {TRENDING_DAYS} days, one "
    f"per creator: ❤ received, fading to nothing over {TRENDING_DAYS} days. Post one with /show.",
}
_EMPTY = {
    Board.CREATORS: "Nobody is on this board yet. Enter contests with /contest submit, and "
    "upscale images others can ❤ with the Favorite button.",
    Board.BACKERS: "No backers yet. Backers get on this board by pledging to a model "
    "campaign (/campaign list, then /pledge) that reaches its goal.",
    Board.MODELS: "No images were generated in this period. Start with /imagine.",
    Board.TRENDING: f"Nothing is trending: no upscaled image of the last {TRENDING_DAYS} days "
    "has a ❤ from anyone but its creator. Press ❤ Favorite under images you like.",
}
_PRIVACY = "Members who hide their results (/settings) are not listed."


def page_rows(rows: Sequence[_T], page: int) -> Sequence[_T]:
    """The rows on ``page`` (1-based)."""
    start = (page - 1) * ROWS_PER_PAGE
    return rows[start : start + ROWS_PER_PAGE]


def board_embed(
    board: Board, window: Window, lines: Sequence[str], *, page: int, pages: int
) -> discord.Embed:
    """The page's ``lines`` under the board's title; the empty text when there are none."""
    period = f"last {TRENDING_DAYS} days" if board is Board.TRENDING else window.label
    embed = Embed(title=f"{_TITLES[board]} · {period}", colour=_COLOUR)
    embed.description = "\n".join(lines) if lines else _EMPTY[board]
    note = f"Page {page}/{pages} · {_EXPLAINED[board]} {_PRIVACY}"
    if board is Board.TRENDING and window is not Window.WEEK:
        note += (
            f" Trending always covers the last {TRENDING_DAYS} days; the window you chose "
            f"({window.label}) does not apply to it."
        )
    embed.set_footer(text=note)
    return embed


def place_label(place: int) -> str:
    return _MEDALS.get(place, f"**{place}.**")


def creator_lines(rows: Sequence[Placed[CreatorStanding]]) -> list[str]:
    return [
        f"{place_label(p.place)} <@{p.row.user_id}> — **{p.row.score}** "
        f"({_plural(p.row.points, 'contest point')} · {p.row.favorites} ❤)"
        for p in rows
    ]


def model_lines(rows: Sequence[Placed[ModelStanding]]) -> list[str]:
    """One row per model, all its versions together; the versions used are listed."""
    return [
        f"{place_label(p.place)} `{p.row.model}` — **{_plural(p.row.images, 'image')}** · "
        f"{_plural(p.row.wins, 'contest win')}{_versions(p.row.versions)}"
        for p in rows
    ]


def _versions(versions: Sequence[str]) -> str:
    if not versions:
        return ""
    label = "version" if len(versions) == 1 else "versions"
    return f" · {label} {', '.join(f'`{v}`' for v in versions)}"


def trending_lines(rows: Sequence[Placed[TrendingImage]]) -> list[str]:
    return [
        f"{place_label(p.place)} <@{p.row.owner_id}> — job **#{p.row.job_id}**"
        f"{'' if p.row.index == 0 else f' image {p.row.index + 1}'} · {p.row.favorites} ❤ · "
        f"score {p.row.score:.2f} · made {discord_time(p.row.made_at)}"
        for p in rows
    ]


def backer_lines(rows: Sequence[tuple[str, Placed[_Backer]]]) -> list[str]:
    """Backers ranked within their currency; a currency's heading starts its group."""
    lines: list[str] = []
    current: str | None = None
    for code, placed in rows:
        if code != current:
            lines.append(f"__**{code}**__")
            current = code
        who = "anonymous backer" if placed.row.anonymous else f"<@{placed.row.user_id}>"
        amount = format_minor(placed.row.amount_minor, code)
        lines.append(f"{place_label(placed.place)} {who} — **{amount}**")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
