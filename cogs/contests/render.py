"""How contests read in Discord: announcements, lists and receipts.

Times are Discord timestamps (:func:`cogs.timestamps.discord_time`), so nobody converts
from UTC by hand.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import discord

from cogs.fitting import Embed
from cogs.timestamps import discord_time
from contests.lifecycle import EMPTY_THEME_QUEUE
from contests.model import Contest, ContestState, Entry, Rules, Standing

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
#: How many entries the results announcement lists.
RESULTS_SHOWN = 10
COLOUR = discord.Colour.gold()
PRIVATE_AUTHOR = "a member who keeps their results private"


def rules_text(rules: Rules) -> str:
    entries = "one entry" if rules.max_entries == 1 else f"up to {rules.max_entries} entries"
    age = (
        "any member"
        if rules.min_member_days == 0
        else f"members of at least {rules.min_member_days} days"
    )
    return (
        f"• {entries} per member (entering again replaces your entry, until submissions close)\n"
        "• only images you made with Atelier after the contest opened\n"
        f"• {age} may enter and vote\n"
        f"• {rules.votes_per_member} votes per member, at most one per entry, "
        "never on your own; votes are anonymous and counts stay hidden until the results"
    )


def opening(contest: Contest, rules: Rules) -> discord.Embed:
    embed = Embed(
        title=f"🏆 Contest #{contest.id} is open: “{contest.theme}”",
        description=(
            "Make an image on the theme with /imagine, upscale it, and press "
            "**Submit to contest** under it (or use `/contest submit`)."
        ),
        colour=COLOUR,
    )
    embed.add_field(name="Submissions close", value=discord_time(contest.voting_at), inline=True)
    embed.add_field(name="Voting ends", value=discord_time(contest.closes_at), inline=True)
    embed.add_field(name="Rules", value=rules_text(rules), inline=False)
    return embed


def submit_reminder(contest: Contest) -> str:
    return (
        f"⏰ Last day to enter **Contest #{contest.id}: “{contest.theme}”** — submissions close "
        f"{discord_time(contest.voting_at)}."
    )


def voting_header(contest: Contest, entries: int, rules: Rules) -> str:
    return (
        f"🗳️ **Voting is open for Contest #{contest.id}: “{contest.theme}”** — {entries} "
        f"{'entry' if entries == 1 else 'entries'} below, in random order and without names. "
        f"You have {rules.votes_per_member} "
        "votes: press **Vote** under the ones you like best (press again to take a vote back). "
        f"Voting ends {discord_time(contest.closes_at)}."
    )


def voting_missed_header(contest: Contest, entries: int) -> str:
    """The voting header posted on catch-up, when the voting time had passed too."""
    listed = f"{entries} {'entry' if entries == 1 else 'entries'}"
    return (
        f"🗳️ **Contest #{contest.id}: “{contest.theme}”** — Atelier was offline while its "
        f"voting was due (it ended {discord_time(contest.closes_at)}), so the {listed} below "
        "could not be voted on. The results follow."
    )


def entry_post(contest: Contest, number: int) -> str:
    return f"**Entry #{number}** · Contest #{contest.id}: “{contest.theme}”"


def author(user_id: int, hidden: Collection[int]) -> str:
    """An entrant as results show them: a mention, unless they keep their results private
    (``user_settings.public`` off), worded as the hall of fame words it."""
    return PRIVATE_AUTHOR if user_id in hidden else f"<@{user_id}>"


def entry_result(contest: Contest, standing: Standing, hidden: Collection[int]) -> str:
    """An entry's voting post once the results are out."""
    votes = f"{standing.votes} vote{'s' if standing.votes != 1 else ''}"
    medal = f"{MEDALS[standing.place]} " if standing.place else ""
    return (
        f"{medal}**Entry #{standing.number}** by {author(standing.user_id, hidden)} — {votes} · "
        f"Contest #{contest.id}: “{contest.theme}” (voting closed)"
    )


def entry_cancelled(contest: Contest, number: int) -> str:
    """An entry's voting post once its contest was cancelled."""
    return (
        f"**Entry #{number}** · Contest #{contest.id}: “{contest.theme}” "
        "(contest cancelled; no votes counted)"
    )


def vote_reminder(contest: Contest) -> str:
    return (
        f"⏰ Last day to vote in **Contest #{contest.id}: “{contest.theme}”** — voting ends "
        f"{discord_time(contest.closes_at)}."
    )


def extended(contest: Contest) -> str:
    if contest.state is ContestState.SUBMISSIONS:
        return (
            f"⏳ **Contest #{contest.id}: “{contest.theme}”** has more time: submissions now "
            f"close {discord_time(contest.voting_at)}, voting ends "
            f"{discord_time(contest.closes_at)}."
        )
    return (
        f"⏳ **Contest #{contest.id}: “{contest.theme}”** has more time: voting now ends "
        f"{discord_time(contest.closes_at)}."
    )


def cancelled(contest: Contest) -> str:
    name = f"Contest #{contest.id}" + (f": “{contest.theme}”" if contest.theme else "")
    if contest.scheduled and contest.theme is None:
        name = f"This week's contest (#{contest.id})"
    hint = " (moderators: /contest theme add)" if contest.cancel_reason == EMPTY_THEME_QUEUE else ""
    return f"❌ {name} was cancelled: {contest.cancel_reason}{hint}."


def results(
    contest: Contest, standings: Sequence[Standing], hidden: Collection[int]
) -> discord.Embed:
    embed = Embed(title=f"🏁 Results of Contest #{contest.id}: “{contest.theme}”", colour=COLOUR)
    if not standings:
        embed.description = "Nobody entered this contest."
        return embed
    lines = []
    for standing in standings[:RESULTS_SHOWN]:
        medal = MEDALS.get(standing.place or 0, f"{standing.rank}.")
        votes = f"{standing.votes} vote{'s' if standing.votes != 1 else ''}"
        lines.append(
            f"{medal} Entry #{standing.number} by {author(standing.user_id, hidden)} — {votes} "
            f"(+{standing.points} point{'s' if standing.points != 1 else ''})"
        )
    if len(standings) > RESULTS_SHOWN:
        lines.append(f"… and {len(standings) - RESULTS_SHOWN} more entries (+1 point each)")
    if all(s.place is None for s in standings):
        lines.append("\nNo places this time: places need at least 3 entries and at least one vote.")
    embed.description = "\n".join(lines)
    voters = contest.voter_count or 0
    embed.add_field(name="Voters", value=str(voters), inline=True)
    embed.add_field(name="Entries", value=str(len(standings)), inline=True)
    embed.add_field(
        name="Ballot list SHA-256",
        value=f"`{contest.ballot_sha256}`\nModerators get the list with "
        f"`/contest ballots contest:{contest.id}`; `sha256sum` of that file gives this hash.",
        inline=False,
    )
    return embed


def contest_line(contest: Contest) -> str:
    theme = f"“{contest.theme}”" if contest.theme else "theme picked at opening"
    head = f"**#{contest.id}** {theme} — in <#{contest.channel_id}>"
    if contest.state is ContestState.SCHEDULED:
        return f"{head}: opens {discord_time(contest.opens_at)}"
    if contest.state is ContestState.SUBMISSIONS:
        return f"{head}: taking entries until {discord_time(contest.voting_at)}"
    if contest.state is ContestState.VOTING:
        return f"{head}: voting until {discord_time(contest.closes_at)}"
    if contest.state is ContestState.CANCELLED:
        return f"{head}: cancelled ({contest.cancel_reason})"
    return f"{head}: closed {discord_time(contest.closes_at)}"


def entry_line(entry: Entry) -> str:
    number = f"#{entry.number}" if entry.number is not None else "not numbered yet"
    status = "" if entry.status.value == "active" else f" — **{entry.status.value}**"
    if entry.disqualify_reason:
        status += f" ({entry.disqualify_reason})"
    return (
        f"entry **{entry.id}** ({number}) by <@{entry.user_id}>: image {entry.image_index + 1} "
        f"of job #{entry.job_id}{status}"
    )
