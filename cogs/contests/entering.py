"""What entering an image does once the press or command is parsed: /contest submit,
**Submit to contest** and **Replace my entry** all end here. Kept apart from ``cog.py`` so
the cog stays a table of commands."""

from __future__ import annotations

from typing import Any

import discord

from cogs.contests.buttons import replace_view
from cogs.errors import tell
from cogs.resources import Resources
from cogs.timestamps import discord_time
from contests.entries import Entered, submit_entry
from contests.errors import ReplaceNeeded


async def enter_image(
    resources: Resources,
    interaction: discord.Interaction[Any],
    job_id: int,
    index: int,
    replace: int | None,
) -> None:
    """Enter image ``index`` (0-based) of job ``job_id`` for the member pressing, replacing
    entry ``replace`` when they confirmed that. A member at their entry limit is asked to
    confirm with **Replace my entry**; a refusal says why; the confirmation's message is
    edited into the receipt so its button cannot be pressed again."""
    if interaction.guild_id is None:
        await tell(interaction, "⚠️ Contests run in servers; enter from the server.")
        return
    user = interaction.user
    try:
        entered = await submit_entry(
            resources.db,
            guild_id=interaction.guild_id,
            user_id=user.id,
            job_id=job_id,
            image_index=index,
            member_since=user.joined_at if isinstance(user, discord.Member) else None,
            now=resources.clock(),
            interaction_id=interaction.id,
            replace=replace,
        )
    except ReplaceNeeded as needed:  # not refused: the member is asked to confirm
        await tell(
            interaction,
            f"🔁 {needed.render(discord_time)} Press **Replace my entry** to confirm; "
            "otherwise nothing changes.",
            view=replace_view(needed.entry_id, job_id, index),
        )
        return
    text = _receipt(entered, job_id, index)
    if replace is not None:
        await interaction.response.edit_message(content=text, view=None)
    else:
        await tell(interaction, text)


def _receipt(entered: Entered, job_id: int, index: int) -> str:
    contest = entered.contest
    text = (
        f"🏆 Image {index + 1} of job #{job_id} is entered in Contest #{contest.id} "
        f"“{contest.theme}”."
    )
    if entered.replaced is not None:
        old = entered.replaced
        text += f" It replaces image {old.image_index + 1} of job #{old.job_id}."
    return text + (
        f" You can change it until submissions close {discord_time(contest.voting_at)}; "
        "voting is anonymous."
    )
