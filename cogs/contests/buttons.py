"""The contest buttons: Submit to contest (under upscaled images), Replace my entry (the
confirmation), and Vote (under each anonymous entry).

Each is a ``DynamicItem`` whose custom_id carries only ids, so buttons posted before a
restart still work: ``contest:submit:<job>:<index>``, ``contest:replace:<entry>:<job>:<index>``
and ``contest:vote:<entry>``. Presses go to the contests cog, found by name on the bot.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from cogs.errors import AnswersErrors
from cogs.handlers import handling_cog

#: The cog that handles presses (cogs do not import each other).
HANDLER_COG = "Contests"


class PressHandler(Protocol):
    async def on_submit(
        self, interaction: discord.Interaction[Any], job_id: int, index: int, replace: int | None
    ) -> None: ...

    async def on_vote(self, interaction: discord.Interaction[Any], entry_id: int) -> None: ...


def submit_custom_id(job_id: int, index: int) -> str:
    return f"contest:submit:{job_id}:{index}"


class SubmitButton(
    AnswersErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"contest:(?P<action>submit|replace):(?:(?P<entry>\d{1,19}):)?(?P<job>\d{1,19}):(?P<index>\d)",
):
    """**Submit to contest** under an upscaled image, and **Replace my entry** after it."""

    def __init__(self, job_id: int, index: int, replace: int | None = None) -> None:
        if replace is None:
            button: discord.ui.Button[Any] = discord.ui.Button(
                custom_id=submit_custom_id(job_id, index),
                label="Submit to contest",
                emoji="🏆",
                style=discord.ButtonStyle.secondary,
            )
        else:
            button = discord.ui.Button(
                custom_id=f"contest:replace:{replace}:{job_id}:{index}",
                label="Replace my entry",
                style=discord.ButtonStyle.danger,
            )
        super().__init__(button)
        self.job_id, self.index, self.replace = job_id, index, replace

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SubmitButton:
        replace = int(match["entry"]) if match["action"] == "replace" and match["entry"] else None
        return cls(int(match["job"]), int(match["index"]), replace)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        handler: PressHandler | None = await handling_cog(interaction, HANDLER_COG)
        if handler is not None:
            await handler.on_submit(interaction, self.job_id, self.index, self.replace)


class VoteButton(
    AnswersErrors,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"contest:vote:(?P<entry>\d{1,19})",
):
    """**Vote** under an anonymous entry; pressing again withdraws the vote."""

    def __init__(self, entry_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=f"contest:vote:{entry_id}",
                label="Vote",
                emoji="🗳️",
                style=discord.ButtonStyle.primary,
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(int(match["entry"]))

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        handler: PressHandler | None = await handling_cog(interaction, HANDLER_COG)
        if handler is not None:
            await handler.on_vote(interaction, self.entry_id)


def vote_view(entry_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(entry_id))
    return view


def replace_view(entry_id: int, job_id: int, index: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SubmitButton(job_id, index, replace=entry_id))
    return view
