"""What a start-up does for the jobs the previous process left behind.

A process can be killed at any moment of a job's life. What it recorded says what is
left to do: a job still queued or running is followed again (its pool recovered it); a
job that ended but was never delivered is delivered now. Two moments leave a message in
Discord that the database does not know of — posted, then killed before its id was
saved — so before posting anything, the job's channel is searched (from the interaction
that made the job on) for the bot's messages carrying the job's buttons: a status message
found is adopted, a result found means the job was delivered. Only what is missing is
posted, so every job is delivered once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord

from cogs.imagine import render
from cogs.imagine.buttons import Action, cancel_view, parse_custom_id
from cogs.imagine.delivery import Deliveries, Shown, StatusMessage, owner_only
from cogs.resources import Resources
from cogs.uploads import DEFAULT_UPLOAD_LIMIT
from db.job_messages import (
    JobMessage,
    get_job_message,
    link_job_message,
    reply_target,
    undelivered,
)
from db.jobs import JobStatus, get_job
from inference.pool.handle import JobHandle
from studio.errors import StudioError

log = logging.getLogger(__name__)

#: How many of a channel's messages after the job's interaction are searched for the job's
#: own (a job's messages follow its interaction closely; a busy channel may push them on).
SEARCH_LIMIT = 500
#: How many times a delivery Discord refused is tried again while the bot runs.
MAX_RETRIES = 5


@dataclass(frozen=True)
class Posted:
    """The job's messages found in its channel: the status message, and the one carrying
    its result buttons (the status message itself when the result went in place)."""

    status_id: int | None
    result_id: int | None


async def find_posted(
    client: discord.Client, where: JobMessage, reply_to: int | None = None
) -> Posted:
    """Look for the job's messages that may have been posted without being recorded (a
    job made on the web, without an interaction, has them after the message it replies to)."""
    status_id, result_id = where.message_id, where.result_message_id
    start = where.message_id or where.interaction_id or reply_to
    if result_id is not None or start is None or client.user is None:
        return Posted(status_id, result_id)
    channel = client.get_partial_messageable(where.channel_id, guild_id=where.guild_id)
    try:
        async for message in channel.history(
            limit=SEARCH_LIMIT, after=discord.Object(start - 1), oldest_first=True
        ):
            if message.author.id != client.user.id:
                continue
            actions = _job_actions(message, where.job_id)
            if not actions:
                continue
            if status_id is None:
                status_id = message.id
            if actions - {Action.CANCEL}:
                return Posted(status_id, message.id)
    except discord.HTTPException as error:
        log.warning("job %d: could not search its channel: %s", where.job_id, error)
    return Posted(status_id, None)


def _job_actions(message: discord.Message, job_id: int) -> set[Action]:
    """The actions of ``message``'s buttons that name ``job_id``."""
    actions = set()
    for row in message.components:
        for item in getattr(row, "children", [row]):
            press = parse_custom_id(getattr(item, "custom_id", None) or "")
            if press is not None and press.target_id == job_id:
                actions.add(press.action)
    return actions


class Recovery:
    """Follows and delivers, after a restart, what the previous process left."""

    def __init__(
        self, client: discord.Client, resources: Resources, deliveries: Deliveries
    ) -> None:
        self._client = client
        self._resources = resources
        self._deliveries = deliveries

    def retry(self, job_id: int, attempt: int = 0) -> None:
        """Deliver the job again later: Discord refused to show how it ended."""
        self._deliveries.spawn(self._retry(job_id, attempt), f"redeliver-job-{job_id}")

    async def _retry(self, job_id: int, attempt: int) -> None:
        await asyncio.sleep(self._resources.tuning.redeliver_seconds * 2**attempt)
        where = await get_job_message(self._resources.db, job_id)
        if where is None or where.delivered_at is not None:
            return
        await self._deliver(where)
        where = await get_job_message(self._resources.db, job_id)
        if where is not None and where.delivered_at is None:
            if attempt + 1 < MAX_RETRIES:
                self.retry(job_id, attempt + 1)
            else:
                log.warning("job %d: still not delivered; the next start tries again", job_id)

    async def start(self, handles: list[JobHandle]) -> None:
        """Follow the recovered (queued and running) jobs and deliver the ended ones that
        were not delivered; the Discord work runs in tasks, so start-up goes on."""
        db = self._resources.db
        for handle in handles:
            where = await get_job_message(db, handle.job_id)
            if where is None:
                log.info("job %d has no place to be shown; it runs silently", handle.job_id)
                continue
            self._deliveries.spawn(self._follow(handle, where), f"resume-job-{handle.job_id}")
        # A recovered job may already have ended (its follower delivers it), so only the
        # others are delivered here.
        following = {handle.job_id for handle in handles}
        pending = [where for where in await undelivered(db) if where.job_id not in following]
        if pending:
            log.info("delivering %d job(s) that ended without being delivered", len(pending))
        for where in pending:
            self._deliveries.spawn(self._deliver(where), f"deliver-late-{where.job_id}")

    def follow_elsewhere(self, handle: JobHandle) -> None:
        """A job queued outside Discord (the web editor): post its status message, as a
        reply to its parent's, and follow it like a job recovered without a message."""
        self._deliveries.spawn(self._follow_new(handle), f"follow-job-{handle.job_id}")

    async def _follow_new(self, handle: JobHandle) -> None:
        where = await get_job_message(self._resources.db, handle.job_id)
        if where is None:
            log.info("job %d has no place to be shown; it runs silently", handle.job_id)
            return
        await self._follow(handle, where)

    def _message(
        self, where: JobMessage, message_id: int | None, owner_id: int, reply_to: int | None
    ) -> StatusMessage:
        guild = self._client.get_guild(where.guild_id) if where.guild_id else None
        return StatusMessage(
            self._client,
            channel_id=where.channel_id,
            guild_id=where.guild_id,
            message_id=message_id,
            upload_limit=guild.filesize_limit if guild else DEFAULT_UPLOAD_LIMIT,
            owner_id=owner_id,
            reply_to=reply_to,
        )

    async def _follow(self, handle: JobHandle, where: JobMessage) -> None:
        """A job that will run (again): edit its message, posting one if it never was."""
        record = await get_job(self._resources.db, handle.job_id)
        head = render.header(
            handle.job,
            handle.owner_id,
            None if record is None else record.parent_index,
            self._resources.settings.engine_defaults,
        )
        reply_to = await reply_target(self._resources.db, handle.job_id)
        status_id = where.message_id or (await find_posted(self._client, where, reply_to)).status_id
        message = self._message(where, status_id, handle.owner_id, reply_to)
        if status_id is None:
            channel = self._client.get_partial_messageable(
                where.channel_id, guild_id=where.guild_id
            )
            try:
                posted = await channel.send(
                    content=render.waiting(head, None),
                    view=cancel_view(handle.job_id),
                    reference=message.reference(reply_to),
                    allowed_mentions=owner_only(handle.owner_id),
                )
            except discord.HTTPException as error:
                log.warning("job %d: could not post its message: %s", handle.job_id, error)
                return
            status_id = message.message_id = posted.id
        if status_id != where.message_id:
            await link_job_message(self._resources.db, handle.job_id, status_id)
        self._deliveries.follow(Shown(handle, message, head))

    async def _deliver(self, where: JobMessage) -> None:
        """A job that ended but was not delivered: deliver what is missing."""
        try:
            source = await self._resources.studio.stored_job(where.job_id)
        except StudioError as error:
            log.warning("job %d cannot be delivered: %s", where.job_id, error)
            return
        record = source.record
        if not record.status.is_final:
            return  # its follower delivers it when it ends
        head = render.header(
            source.job,
            record.owner_id,
            record.parent_index,
            self._resources.settings.engine_defaults,
        )
        reply_to = await reply_target(self._resources.db, where.job_id)
        posted = await find_posted(self._client, where, reply_to)
        message = self._message(where, posted.status_id, record.owner_id, reply_to)
        try:
            if record.status is not JobStatus.DONE:
                text = (
                    render.cancelled(head)
                    if record.status is JobStatus.CANCELLED
                    else render.failed(head, record.error or "unknown reason")
                )
                new = await message.show_final(text)
                await self._deliveries.delivered(
                    where.job_id, message_id=new if new is not None else posted.status_id
                )
            elif posted.result_id is not None:
                await self._adopt(where.job_id, message, posted, head)
            else:
                await self._deliveries.deliver_result(where.job_id, message, head)
        except discord.HTTPException as error:
            log.warning("job %d: could not be delivered: %s", where.job_id, error)

    async def _adopt(self, job_id: int, message: StatusMessage, posted: Posted, head: str) -> None:
        """The result was posted by the previous process: record it, and finish the status
        message's last edit if the process died before making it."""
        separate = posted.result_id != posted.status_id
        if separate and message.message_id is not None:
            await message.edit(content=render.result_below(head), view=None)
        await self._deliveries.delivered(
            job_id,
            message_id=posted.status_id,
            result_message_id=posted.result_id if separate else None,
        )
