"""/contest hall-of-fame: the server's past contest winners with their images, paged.

The contests cog adds :attr:`HallOfFame.command` to its ``/contest`` group. The ◀ ▶
buttons are a ``DynamicItem`` with the custom_id ``hof:<page>``: the server comes from the
interaction, so pages keep turning after a restart.
"""

from __future__ import annotations

import asyncio
import math
import re
from pathlib import Path
from typing import Any, Protocol

import discord
from discord import app_commands

from cogs.contests.buttons import HANDLER_COG
from cogs.custom_ids import StaleCustomId
from cogs.errors import AnswersErrors
from cogs.fitting import Embed
from cogs.handlers import handling_cog
from cogs.resources import Resources
from cogs.timestamps import discord_time
from cogs.uploads import DEFAULT_UPLOAD_LIMIT, Upload, result_upload
from contests.boards.hall_of_fame import FamedContest, Winner, count_famed, hall_of_fame
from db.jobs import list_images

#: Contests on one page; each shows its winning image, so a page stays a few uploads.
CONTESTS_PER_PAGE = 3
COMMAND_NAME = "hall-of-fame"

_CUSTOM_ID = re.compile(r"hof:(?P<page>[1-9]\d{0,3})")


def page_custom_id(page: int) -> str:
    return f"hof:{page}"


class HallOfFameHost(Protocol):
    """The contests cog, which owns the :class:`HallOfFame`; found by name on the bot."""

    hall_of_fame: HallOfFame


class HallOfFamePage(
    AnswersErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"hof:.*"
):
    """◀ or ▶ under the hall of fame."""

    def __init__(self, custom_id: str, *, emoji: str | None = None, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=custom_id,
                emoji=emoji,
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            )
        )
        match = _CUSTOM_ID.fullmatch(custom_id)
        self.page = int(match["page"]) if match else None

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> HallOfFamePage:
        return cls(match.string)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        if self.page is None:
            raise StaleCustomId
        host: HallOfFameHost | None = await handling_cog(interaction, HANDLER_COG)
        if host is None:
            return
        await host.hall_of_fame.show(interaction, self.page, edit=True)


class HallOfFame:
    """The ``/contest hall-of-fame`` subcommand and its pages."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self.command = self._build_command()

    def _build_command(self) -> app_commands.Command[Any, ..., None]:
        async def hall_of_fame_command(interaction: discord.Interaction[Any]) -> None:
            await self.show(interaction, 1, edit=False)

        return app_commands.Command(
            name=COMMAND_NAME,
            description="Past contest winners in this server, with their images",
            callback=hall_of_fame_command,
        )

    async def show(self, interaction: discord.Interaction[Any], page: int, *, edit: bool) -> None:
        """Page ``page`` (the last one if there are fewer), as a new message or in place."""
        guild_id = interaction.guild_id
        assert guild_id is not None  # /contest is guild-only; its buttons are on server messages
        # Deferred: up to three image uploads may take past Discord's 3 s.
        if edit:
            await interaction.response.defer()
        else:
            await interaction.response.defer(thinking=True)
        db = self._resources.db
        pages = max(1, math.ceil(await count_famed(db, guild_id) / CONTESTS_PER_PAGE))
        page = min(page, pages)
        famed = await hall_of_fame(
            db,
            guild_id,
            offset=(page - 1) * CONTESTS_PER_PAGE,
            limit=CONTESTS_PER_PAGE,
        )
        limit = (interaction.filesize_limit or DEFAULT_UPLOAD_LIMIT) // CONTESTS_PER_PAGE
        embeds: list[discord.Embed] = []
        uploads: list[Upload] = []
        for contest in famed:
            embed, upload = await self._contest_embed(contest, limit)
            embeds.append(embed)
            if upload is not None:
                uploads.append(upload)
        content = (
            f"🏛️ **Hall of fame** — past contest winners, newest first (page {page}/{pages})"
            if famed
            else "🏛️ **Hall of fame** — no contest here has a winner yet. A contest with at "
            "least three entries crowns one when it closes; moderators open one with "
            "/contest open."
        )
        view = _pager(page, pages)
        if edit:
            await interaction.edit_original_response(
                content=content,
                embeds=embeds,
                attachments=[u.file() for u in uploads],
                view=view,
            )
        else:
            await interaction.followup.send(
                content=content,
                embeds=embeds,
                files=[u.file() for u in uploads] or discord.utils.MISSING,
                view=view or discord.utils.MISSING,
            )

    async def _contest_embed(
        self, contest: FamedContest, upload_limit: int
    ) -> tuple[discord.Embed, Upload | None]:
        shown = [w for w in contest.winners if not w.hidden]
        names = [f"<@{w.user_id}>" for w in shown]
        hidden = len(contest.winners) - len(shown)
        if hidden:
            names.append(
                "a member who keeps their results private"
                if hidden == 1
                else f"{hidden} members who keep their results private"
            )
        votes = contest.winners[0].votes
        won = "Won by" if len(contest.winners) == 1 else "Shared by"
        embed = Embed(title=f"🏆 {contest.theme}", colour=discord.Colour.gold())
        embed.description = (
            f"{won} {_join(names)} with **{votes} vote{'' if votes == 1 else 's'}**"
            f"{' each' if len(contest.winners) > 1 else ''}\n"
            f"{contest.entries} entries · {contest.voters} voters · "
            f"closed {discord_time(contest.closed_at)}"
        )
        jobs = ", ".join(f"#{w.job_id}" for w in shown)
        if jobs:
            embed.set_footer(text=f"Contest #{contest.contest_id} · /show {jobs}")
        upload = await self._image(contest, shown[0], upload_limit) if shown else None
        if upload is not None:
            embed.set_image(url=f"attachment://{upload.filename}")
        return embed, upload

    async def _image(self, contest: FamedContest, winner: Winner, limit: int) -> Upload | None:
        """The winning image within ``limit`` bytes, named after its contest (so two pages'
        files never share a name); None if its file is no longer stored."""
        images = await list_images(self._resources.db, winner.job_id)
        path = next((Path(i.path) for i in images if i.index == winner.image_index), None)
        if path is None or not path.is_file():
            return None
        upload = await asyncio.to_thread(result_upload, path, limit)
        return Upload(f"contest-{contest.contest_id}{Path(upload.filename).suffix}", upload.data)


def _pager(page: int, pages: int) -> discord.ui.View | None:
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(HallOfFamePage(page_custom_id(max(1, page - 1)), emoji="◀️", disabled=page <= 1))
    view.add_item(
        HallOfFamePage(page_custom_id(min(pages, page + 1)), emoji="▶️", disabled=page >= pages)
    )
    return view


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
