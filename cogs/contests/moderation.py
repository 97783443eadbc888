"""What moderators' contest commands do once the command is parsed and the member checked:
disqualifying (telling the entrant privately and logging it), the ballot file, and the
lists moderators read. Kept apart from ``cog.py`` so the cog stays a table of commands."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from cogs.contests import render
from cogs.resources import Resources
from contests import results
from contests.entries import disqualify, entry_by_number
from contests.errors import ContestError
from contests.model import Contest, ContestState, Entry
from contests.store import contest_in_guild, entries
from db.guilds import get_guild_settings

log = logging.getLogger(__name__)

#: Discord's limit for a message's text.
MESSAGE_LIMIT = 2000


async def disqualify_entry(
    client: discord.Client,
    resources: Resources,
    interaction: discord.Interaction[Any],
    reason: str,
    *,
    number: int | None,
    contest_id: int | None,
    entry_id: int | None,
) -> str:
    """Disqualify the entry named by its ``number`` (as its voting post shows it, in
    ``contest_id`` or the contest being voted on) or by its ``entry_id``; tell the entrant
    by DM, take the Vote button off its post, log it in the moderation channel. Returns the
    reply for the moderator; ContestError if refused."""
    assert interaction.guild_id is not None
    if (number is None) == (entry_id is None):
        raise ContestError(
            "Say which entry: `entry:` with its number as on its voting post (#3 → 3), or "
            "`entry_id:` with its id from /contest entries — one of the two."
        )
    if number is not None:
        entry_id = await entry_by_number(
            resources.db, guild_id=interaction.guild_id, number=number, contest_id=contest_id
        )
    assert entry_id is not None
    entry, contest = await disqualify(
        resources.db,
        entry_id,
        guild_id=interaction.guild_id,
        moderator_id=interaction.user.id,
        reason=reason,
        now=resources.clock(),
    )
    told = await _tell_entrant(client, entry, contest)
    await _withdraw_post(client, entry, contest)
    await _log(client, resources, interaction, entry, contest, told)
    outcome = "They were told by DM." if told else "⚠️ Their DMs are closed; they were not told."
    named = f"Entry #{entry.number} (id {entry.id})" if entry.number else f"Entry {entry.id}"
    return f"🚫 {named} in Contest #{contest.id} is disqualified. {outcome}"


async def _tell_entrant(client: discord.Client, entry: Entry, contest: Contest) -> bool:
    try:
        dm = await client.create_dm(discord.Object(entry.user_id))
        await dm.send(
            f"Your entry in **Contest #{contest.id}: “{contest.theme}”** (image "
            f"{entry.image_index + 1} of job #{entry.job_id}) was disqualified by the "
            f"moderators: {entry.disqualify_reason}"
            + (
                "\nYou can enter another image until submissions close."
                if contest.state is ContestState.SUBMISSIONS
                else ""
            )
        )
    except discord.HTTPException as error:
        log.warning("could not DM user %d about entry %d: %s", entry.user_id, entry.id, error)
        return False
    return True


async def _withdraw_post(client: discord.Client, entry: Entry, contest: Contest) -> None:
    """During voting, the entry's post loses its image and Vote button."""
    if entry.vote_message_id is None:
        return
    channel = client.get_partial_messageable(contest.channel_id, guild_id=contest.guild_id)
    try:
        await channel.get_partial_message(entry.vote_message_id).edit(
            content=f"**Entry #{entry.number}** was withdrawn by the moderators.",
            attachments=[],
            view=None,
        )
    except discord.HTTPException as error:
        log.warning("could not update the post of entry %d: %s", entry.id, error)


async def _log(
    client: discord.Client,
    resources: Resources,
    interaction: discord.Interaction[Any],
    entry: Entry,
    contest: Contest,
    told: bool,
) -> None:
    assert interaction.guild_id is not None
    channel_id = (
        await get_guild_settings(resources.db, interaction.guild_id)
    ).moderation_channel_id
    log.info(
        "moderator %d disqualified entry %d of contest %d: %s",
        interaction.user.id,
        entry.id,
        contest.id,
        entry.disqualify_reason,
    )
    if channel_id is None:
        return
    text = (
        f"🚫 {interaction.user.mention} disqualified entry {entry.id} (by <@{entry.user_id}>, "
        f"job #{entry.job_id}) in Contest #{contest.id}: {entry.disqualify_reason}"
        + ("" if told else " — the entrant could not be told (DMs closed)")
    )
    try:
        await client.get_partial_messageable(channel_id, guild_id=interaction.guild_id).send(
            text, allowed_mentions=discord.AllowedMentions.none()
        )
    except discord.HTTPException as error:
        log.warning("could not log the disqualification in channel %d: %s", channel_id, error)


async def ballot_file(
    resources: Resources, guild_id: int, contest_id: int
) -> tuple[str, discord.File]:
    """The reply and CSV file for ``/contest ballots``. ContestError if there is none yet."""
    contest = await contest_in_guild(resources.db, contest_id, guild_id)
    if contest.state is not ContestState.CLOSED:
        raise ContestError(
            f"{contest.title} is {contest.state.value}; its ballot list is published with "
            "the results."
        )
    csv_text = results.ballot_csv(await results.counted_ballots(resources.db, contest.id))
    digest = results.ballot_sha256(csv_text)
    file = discord.File(io.BytesIO(csv_text.encode("utf-8")), f"contest-{contest.id}-ballots.csv")
    text = (
        f"Ballots of {contest.title}: one line per counted vote (voter id, entry number). "
        f"`sha256sum` of the file gives `{digest}`"
        + (
            ", as published with the results."
            if digest == contest.ballot_sha256
            else f" — ⚠️ the results published `{contest.ballot_sha256}`."
        )
    )
    return text, file


async def entry_lines(resources: Resources, guild_id: int, contest_id: int) -> list[str]:
    """Messages listing every entry of a contest, each within Discord's length limit."""
    contest = await contest_in_guild(resources.db, contest_id, guild_id)
    found = await entries(resources.db, contest.id, include_all=True)
    lines = [f"**{contest.title}** ({contest.state.value}): {len(found)} entries"]
    lines += [render.entry_line(entry) for entry in found]
    messages = [""]
    for line in lines:
        if len(messages[-1]) + len(line) + 1 > MESSAGE_LIMIT:
            messages.append("")
        messages[-1] += line + "\n"
    return messages
