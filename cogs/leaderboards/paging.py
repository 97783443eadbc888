"""The ◀ ▶ buttons under a leaderboard: a ``DynamicItem`` whose custom_id names the board,
the window and the page to show (``board:<board>:<window>:<page>``), so a leaderboard
posted before a restart still turns pages. The board is computed afresh on every press.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from cogs.errors import AnswersErrors
from cogs.handlers import handling_cog
from contests.leaderboards import Board, Window

#: Rows on one page of a board.
ROWS_PER_PAGE = 10

_CUSTOM_ID = re.compile(r"board:(?P<board>[a-z]+):(?P<window>[a-z]+):(?P<page>[1-9]\d{0,3})")


@dataclass(frozen=True)
class PageRequest:
    """Which page of which board a button asks for (1-based)."""

    board: Board
    window: Window
    page: int

    @property
    def custom_id(self) -> str:
        return f"board:{self.board.value}:{self.window.value}:{self.page}"


def parse_custom_id(text: str) -> PageRequest | None:
    """The page a custom_id asks for; None if it is malformed or names no board or window."""
    match = _CUSTOM_ID.fullmatch(text)
    if match is None:
        return None
    try:
        return PageRequest(Board(match["board"]), Window(match["window"]), int(match["page"]))
    except ValueError:
        return None


def page_count(rows: int) -> int:
    """Pages needed for ``rows`` rows; an empty board still has its one (empty) page."""
    return max(1, -(-rows // ROWS_PER_PAGE))


class PageHandler(Protocol):
    async def on_page(
        self, interaction: discord.Interaction[Any], request: PageRequest | None
    ) -> None: ...


#: The cog that turns pages, found by name on the bot.
HANDLER_COG = "Leaderboards"


class PageButton(
    AnswersErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"board:.*"
):
    """◀ or ▶ under a leaderboard (malformed ``board:`` ids get a polite refusal)."""

    def __init__(self, custom_id: str, *, emoji: str | None = None, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=custom_id,
                emoji=emoji,
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.request = parse_custom_id(custom_id)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PageButton:
        return cls(match.string)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        handler: PageHandler | None = await handling_cog(interaction, HANDLER_COG)
        if handler is not None:
            await handler.on_page(interaction, self.request)


def pager_view(board: Board, window: Window, page: int, pages: int) -> discord.ui.View | None:
    """◀ ▶ for a board with more than one page (◀ disabled on the first, ▶ on the last);
    None when everything fits on one page."""
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    back = PageRequest(board, window, max(1, page - 1))
    forward = PageRequest(board, window, min(pages, page + 1))
    view.add_item(PageButton(back.custom_id, emoji="◀️", disabled=page <= 1))
    view.add_item(PageButton(forward.custom_id, emoji="▶️", disabled=page >= pages))
    return view
