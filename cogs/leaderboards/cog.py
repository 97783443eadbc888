"""The /leaderboard command and its ◀ ▶ page buttons."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.leaderboards import render
from cogs.leaderboards.paging import PageButton, PageRequest, page_count, pager_view
from cogs.resources import Resources
from cogs.uploads import DEFAULT_UPLOAD_LIMIT, Upload, result_upload
from cogs.web_links import server_page
from contests.boards.trending import TrendingImage, trending_board
from contests.leaderboards import (
    Board,
    Placed,
    Window,
    creators_board,
    hidden_members,
    models_board,
    rank_backers,
    ranked,
)
from db.jobs import list_images
from funding.backers import BackerTotal, backer_board

_BOARD_CHOICES = [
    app_commands.Choice(name="creators: contest points and ❤ received", value="creators"),
    app_commands.Choice(name="backers: pledged to funded campaigns", value="backers"),
    app_commands.Choice(name="models: images generated and contest wins", value="models"),
    app_commands.Choice(name="trending: the last 7 days' most ❤ images", value="trending"),
]
_WINDOW_CHOICES = [
    app_commands.Choice(name="week (last 7 days)", value="week"),
    app_commands.Choice(name="month (last 30 days)", value="month"),
    app_commands.Choice(name="all time", value="all"),
]


@dataclass(frozen=True)
class ShownPage:
    """One page of a board as it is sent: the embed, its image (trending) and buttons."""

    embed: discord.Embed
    upload: Upload | None
    view: discord.ui.View | None


class LeaderboardsCog(commands.Cog, name="Leaderboards"):
    """/leaderboard: creators, backers, models and trending images, paged."""

    def __init__(
        self, client: commands.Bot | commands.AutoShardedBot, resources: Resources
    ) -> None:
        self.client = client
        self.resources = resources

    async def cog_load(self) -> None:
        self.client.add_dynamic_items(PageButton)

    async def cog_unload(self) -> None:
        self.client.remove_dynamic_items(PageButton)

    @app_commands.command(
        name="leaderboard", description="This server's top creators, backers, models and images"
    )
    @app_commands.guild_only()
    @app_commands.describe(
        board="which board to show",
        window="default: a month of creators, all time for backers and models; trending is "
        "always 7 days",
    )
    @app_commands.choices(board=_BOARD_CHOICES, window=_WINDOW_CHOICES)
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        board: app_commands.Choice[str],
        window: app_commands.Choice[str] | None = None,
    ) -> None:
        assert interaction.guild_id is not None  # guild_only
        chosen = Board(board.value)
        request = PageRequest(chosen, Window(window.value) if window else chosen.default_window, 1)
        # Deferred: a big board or the trending image's upload may take past Discord's 3 s.
        await interaction.response.defer(thinking=True)
        shown = await self.page(request, interaction.guild_id, _upload_limit(interaction))
        await interaction.followup.send(
            embed=shown.embed,
            files=[shown.upload.file()] if shown.upload else discord.utils.MISSING,
            view=shown.view or discord.utils.MISSING,
        )

    async def on_page(
        self, interaction: discord.Interaction[Any], request: PageRequest | None
    ) -> None:
        """◀ / ▶: show the requested page of the board, as it stands now, in place."""
        if request is None:
            await interaction.response.send_message(
                "⚠️ This button is not one Atelier understands (it may come from an older "
                "version). Run /leaderboard again for a fresh board.",
                ephemeral=True,
            )
            return
        if interaction.guild_id is None:  # a DM board from a version before boards per server
            await interaction.response.send_message(
                "⚠️ Leaderboards belong to a server; run /leaderboard there.", ephemeral=True
            )
            return
        await interaction.response.defer()
        shown = await self.page(request, interaction.guild_id, _upload_limit(interaction))
        await interaction.edit_original_response(
            embed=shown.embed,
            attachments=[shown.upload.file()] if shown.upload else [],
            view=shown.view,
        )

    async def page(self, request: PageRequest, guild_id: int, upload_limit: int) -> ShownPage:
        """Page ``request.page`` of server ``guild_id``'s board (the last page if the board
        has shrunk)."""
        board, window = request.board, request.window
        db, now = self.resources.db, self.resources.clock()
        lines: list[str]
        upload: Upload | None = None
        if board is Board.CREATORS:
            creators = ranked(
                await creators_board(db, guild_id=guild_id, window=window, now=now),
                key=lambda s: (s.score,),
            )
            pages, page = _clamp(len(creators), request.page)
            lines = render.creator_lines(render.page_rows(creators, page))
        elif board is Board.MODELS:
            models = ranked(
                await models_board(db, guild_id=guild_id, window=window, now=now),
                key=lambda s: (s.images, s.wins),
            )
            pages, page = _clamp(len(models), request.page)
            lines = render.model_lines(render.page_rows(models, page))
        elif board is Board.TRENDING:
            trending = ranked(
                await trending_board(db, guild_id=guild_id, now=now), key=_trending_figures
            )
            pages, page = _clamp(len(trending), request.page)
            shown = render.page_rows(trending, page)
            lines = render.trending_lines(shown)
            upload = await self._top_image(shown, upload_limit)
        else:
            backers = await self._backers(guild_id, window)
            pages, page = _clamp(len(backers), request.page)
            lines = render.backer_lines(render.page_rows(backers, page))
        embed = render.board_embed(board, window, lines, page=page, pages=pages)
        embed.url = await server_page(
            db,
            self.resources.settings.public_url,
            guild_id,
            f"/s/{guild_id}/boards/{board.value}?window={window.value}",
        )
        if upload is not None:
            embed.set_image(url=f"attachment://{upload.filename}")
        return ShownPage(embed, upload, pager_view(board, window, page, pages))

    async def _backers(
        self, guild_id: int, window: Window
    ) -> list[tuple[str, Placed[BackerTotal]]]:
        """Every backer row of the server's campaigns, ranked within its currency,
        currencies in alphabetical order."""
        now = self.resources.clock()
        totals = await backer_board(self.resources.db, since=window.since(now), guild_id=guild_id)
        hidden = await hidden_members(self.resources.db, (t.user_id for t in totals))
        return [
            (code, placed) for code, rows in rank_backers(totals, hidden).items() for placed in rows
        ]

    async def _top_image(
        self, shown: Sequence[Placed[TrendingImage]], upload_limit: int
    ) -> Upload | None:
        """The page's first image as an upload (within the upload limit), if its file is
        still stored."""
        if not shown:
            return None
        top = shown[0].row
        images = await list_images(self.resources.db, top.job_id)
        path = next((Path(i.path) for i in images if i.index == top.index), None)
        if path is None or not path.is_file():
            return None
        return await asyncio.to_thread(result_upload, path, upload_limit)


def _trending_figures(image: TrendingImage) -> tuple[int, ...]:
    """Images share a place only when their scores are equal to the displayed precision."""
    return (round(image.score * 100),)


def _clamp(rows: int, page: int) -> tuple[int, int]:
    """(pages, page) with ``page`` limited to the pages there are."""
    pages = page_count(rows)
    return pages, min(page, pages)


def _upload_limit(interaction: discord.Interaction[Any]) -> int:
    """What this interaction may upload (Discord sends it with every interaction)."""
    return interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT
