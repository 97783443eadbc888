"""Moves contests through their phases and posts what each change announces.

This is the contests' ``PhaseSource`` (``cogs/phases.py``): the timer calls ``advance`` at
each due time and at start-up (catch-up). The domain performs the changes and queues their
announcements in the same transactions; ``flush`` posts the queue in order and marks each
posted. Posting uses REST only (partial messageables), which works before the gateway is
ready. A channel that is gone or closed to the bot is logged and skipped, and the moderators
are told once per contest; any other failure (Discord unreachable) leaves the rest queued
for the next wake-up.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import discord

from cogs.contests import render
from cogs.contests.buttons import vote_view
from cogs.contests.posting import tell_moderators_once
from cogs.resources import Resources
from cogs.uploads import DEFAULT_UPLOAD_LIMIT, Upload, result_upload
from cogs.web_links import server_page
from contests import announcements, lifecycle, results
from contests.leaderboards import hidden_members
from contests.model import Announcement, AnnouncementKind, Contest, ContestState, Entry, Standing
from contests.rules import get_rules
from contests.store import entries, get_contest, set_vote_message
from db.jobs import list_images

log = logging.getLogger(__name__)

#: While announcements wait to be posted (Discord unreachable), try again this often.
RETRY_AFTER = timedelta(seconds=30)


class Announcer:
    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self._client = client
        self._resources = resources
        self._lock = asyncio.Lock()

    async def advance(self, now: datetime) -> None:
        await lifecycle.advance(self._resources.db, now)
        await self.flush()

    async def next_due(self, now: datetime) -> datetime | None:
        if await announcements.pending(self._resources.db):
            return now + RETRY_AFTER
        return await lifecycle.next_due(self._resources.db)

    async def flush(self) -> None:
        """Post every queued announcement, oldest first (one flush at a time)."""
        db = self._resources.db
        async with self._lock:
            for announcement in await announcements.pending(db):
                contest = await get_contest(db, announcement.contest_id)
                assert contest is not None  # announcements reference their contest
                try:
                    await self._post(announcement, contest)
                except (discord.Forbidden, discord.NotFound) as error:
                    log.error(
                        "contest %d: cannot post its %s announcement in channel %d: %s",
                        contest.id,
                        announcement.kind.value,
                        contest.channel_id,
                        error,
                    )
                    await tell_moderators_once(self._client, self._resources, contest, error)
                except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
                    log.warning(
                        "contest %d: posting its %s announcement failed (%s); will retry",
                        contest.id,
                        announcement.kind.value,
                        error,
                    )
                    return
                await announcements.mark_posted(db, announcement.id, self._resources.clock())

    async def _post(self, announcement: Announcement, contest: Contest) -> None:
        channel = self._client.get_partial_messageable(
            contest.channel_id, guild_id=contest.guild_id
        )
        kind = announcement.kind
        if kind is AnnouncementKind.OPENING:
            rules = await get_rules(self._resources.db, contest.guild_id)
            await channel.send(embed=render.opening(contest, rules))
        elif kind is AnnouncementKind.SUBMIT_REMINDER:
            await channel.send(render.submit_reminder(contest))
        elif kind is AnnouncementKind.VOTE_REMINDER:
            await channel.send(render.vote_reminder(contest))
        elif kind is AnnouncementKind.EXTENDED:
            await channel.send(render.extended(contest))
        elif kind is AnnouncementKind.CANCELLED:
            await channel.send(render.cancelled(contest))
            await self._cancel_posts(channel, contest)
        elif kind is AnnouncementKind.VOTING:
            await self._post_voting(channel, contest)
        else:
            await self._post_results(channel, contest)

    async def _post_voting(self, channel: discord.PartialMessageable, contest: Contest) -> None:
        """The header, then each entry as its own message with a Vote button. Entries already
        posted (a retry after a failure) are skipped."""
        db = self._resources.db
        shown = [e for e in await entries(db, contest.id) if e.number is not None]
        open_for_votes = contest.state is ContestState.VOTING
        if all(entry.vote_message_id is None for entry in shown):
            if contest.state is ContestState.CLOSED:  # caught up after voting ended too
                await channel.send(render.voting_missed_header(contest, len(shown)))
            else:
                rules = await get_rules(db, contest.guild_id)
                await channel.send(render.voting_header(contest, len(shown), rules))
        for entry in shown:
            if entry.vote_message_id is not None:
                continue
            assert entry.number is not None
            upload = await self._entry_upload(entry, f"entry-{entry.number}")
            message = await channel.send(
                render.entry_post(contest, entry.number),
                file=upload.file() if upload else discord.utils.MISSING,
                view=vote_view(entry.id) if open_for_votes else discord.utils.MISSING,
            )
            await set_vote_message(db, entry.id, message.id)

    async def _post_results(self, channel: discord.PartialMessageable, contest: Contest) -> None:
        standings = await results.standings(self._resources.db, contest.id)
        hidden = await hidden_members(self._resources.db, (s.user_id for s in standings))
        embed = render.results(contest, standings, hidden)
        embed.url = await server_page(
            self._resources.db,
            self._resources.settings.public_url,
            contest.guild_id,
            f"/contests/{contest.id}",
        )
        winner = next((s for s in standings if s.place == 1), None)
        upload = None
        if winner is not None:
            for entry in await entries(self._resources.db, contest.id):
                if entry.id == winner.entry_id:
                    upload = await self._entry_upload(entry, "winner")
        if upload is not None:
            embed.set_image(url=f"attachment://{upload.filename}")
            await channel.send(embed=embed, file=upload.file())
        else:
            await channel.send(embed=embed)
        await self._close_posts(channel, contest, {s.entry_id: s for s in standings}, hidden)

    async def _close_posts(
        self,
        channel: discord.PartialMessageable,
        contest: Contest,
        by_entry: dict[int, Standing],
        hidden: set[int],
    ) -> None:
        """Voting is over: each entry's post loses its Vote button and shows its result."""
        for entry in await entries(self._resources.db, contest.id):
            standing = by_entry.get(entry.id)
            if entry.vote_message_id is None or entry.number is None or standing is None:
                continue
            try:
                await channel.get_partial_message(entry.vote_message_id).edit(
                    content=render.entry_result(contest, standing, hidden), view=None
                )
            except discord.HTTPException as error:
                log.warning(
                    "contest %d: could not close the post of entry %d: %s",
                    contest.id,
                    entry.id,
                    error,
                )

    async def _cancel_posts(self, channel: discord.PartialMessageable, contest: Contest) -> None:
        """Cancelled during voting: each entry's post loses its Vote button (a disqualified
        entry's post lost it already)."""
        for entry in await entries(self._resources.db, contest.id):
            if entry.vote_message_id is None or entry.number is None:
                continue
            try:
                await channel.get_partial_message(entry.vote_message_id).edit(
                    content=render.entry_cancelled(contest, entry.number), view=None
                )
            except discord.HTTPException as error:
                log.warning(
                    "contest %d: could not close the post of entry %d: %s",
                    contest.id,
                    entry.id,
                    error,
                )

    async def _entry_upload(self, entry: Entry, name: str) -> Upload | None:
        """The entry's image under a neutral name (no job id, no author); None if its file
        is gone."""
        images = await list_images(self._resources.db, entry.job_id)
        found = [i for i in images if i.index == entry.image_index]
        path = Path(found[0].path) if found else None
        if path is None or not path.is_file():
            log.warning("entry %d: its image file is missing", entry.id)
            return None
        upload = await asyncio.to_thread(result_upload, path, DEFAULT_UPLOAD_LIMIT)
        return Upload(name + Path(upload.filename).suffix, upload.data)
