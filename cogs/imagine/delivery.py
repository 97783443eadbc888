"""Showing a job in Discord while it waits and runs, and delivering its result.

A job's status message is edited through the interaction's webhook while its token is
fresh (interaction tokens expire after 15 minutes), and with the bot's own token after
that. A result that arrives after the token window is posted as a new channel message
that replies to the status message. Each step is recorded in ``job_messages`` as it
happens (the status message's id, then the delivery), so a restart knows what is left to
do (``cogs.imagine.recovery``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from cogs.fitting import MESSAGE_CHARS, clip
from cogs.imagine import render
from cogs.imagine.buttons import PAN_DIRECTIONS, Reworks, cancel_view, grid_view, upscale_view
from cogs.resources import Resources
from cogs.uploads import DEFAULT_UPLOAD_LIMIT, Upload, preview_upload, result_upload
from cogs.web_links import job_page
from db.job_messages import link_job_message, mark_delivered
from db.jobs import JobKind
from inference.pool.events import Cancelled, Deferred, Failed, Finished, Progress, Started
from inference.pool.handle import JobHandle
from studio.errors import StudioError
from studio.service import StoredJob

log = logging.getLogger(__name__)


def owner_only(owner_id: int) -> discord.AllowedMentions:
    """What a job's message may notify: its owner, whom the bot names in it on purpose; never
    anyone a prompt mentions (the bot's default allows nobody)."""
    return discord.AllowedMentions(users=[discord.Object(owner_id)])


def token_expired(error: discord.HTTPException) -> bool:
    """Whether Discord refused a webhook call because the interaction token is gone."""
    return error.status in (401, 404) or error.code in (50027, 10015)


async def result_view(
    resources: Resources, source: StoredJob, guild_id: int | None
) -> discord.ui.View:
    """The buttons under a finished job: U/V/🔄 under a grid; under an upscaled image, the
    ones that vary, upscale, zoom, pan or square it (those its size allows), ❤ and 🌐 (a
    link to its web page when it is on the web), then what other features add under it
    (Submit to contest)."""
    if source.job.kind is not JobKind.UPSCALE:
        return grid_view(source.id)
    studio = resources.studio
    pans = [action for action, way in PAN_DIRECTIONS.items() if await studio.can_pan(source, way)]
    reworks = Reworks(
        upscale=studio.can_upscale(source), square=studio.can_make_square(source), pans=pans
    )
    return upscale_view(
        source.id,
        reworks,
        page=await job_page(resources.db, resources.settings.public_url, source.id),
        region=resources.region_editor.offered,
        extra=await resources.upscale_buttons.for_upscale(source.id, guild_id),
    )


class StatusMessage:
    """The message that shows one job, and the two ways to edit it."""

    def __init__(
        self,
        client: discord.Client,
        *,
        channel_id: int,
        guild_id: int | None,
        message_id: int | None,
        interaction: discord.Interaction[Any] | None = None,
        webhook_message: discord.WebhookMessage | None = None,
        fresh_for: float = 0.0,
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        owner_id: int,
        reply_to: int | None = None,
    ) -> None:
        """``interaction`` (and ``webhook_message`` for a followup) may be used for
        ``fresh_for`` seconds from now; without them, only the bot's token is used.
        ``message_id`` None: the job has no message (a restart found none); only
        ``post_result`` may be used, and posts the result as a message of its own.
        ``reply_to``: the message a result posted on its own replies to (a job made on the
        web replies to its parent's message), instead of the status message."""
        self._client = client
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.message_id = message_id
        self._interaction = interaction
        self._webhook_message = webhook_message
        self._fresh_until = time.monotonic() + fresh_for
        self.upload_limit = upload_limit
        self.owner_id = owner_id
        self.reply_to = reply_to

    @property
    def token_fresh(self) -> bool:
        return self._interaction is not None and time.monotonic() < self._fresh_until

    async def edit(
        self, *, content: str, uploads: Sequence[Upload] = (), view: discord.ui.View | None
    ) -> None:
        """Show ``content`` (and ``uploads``, ``view``) in this message. Every text of the
        job's message goes through here or :meth:`post_result`/:meth:`show_final`, which
        clip it to a message's size: a failure's reason after a long prompt must still
        show."""
        content = clip(content, MESSAGE_CHARS)
        if self.token_fresh:
            try:
                await self._edit_by_webhook(content=content, uploads=uploads, view=view)
                return
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                log.info("interaction token of message %d expired early", self.message_id)
                self._interaction = None
        await self._channel_message().edit(
            content=content, attachments=[upload.file() for upload in uploads], view=view
        )

    async def post_result(
        self, *, content: str, upload: Upload, view: discord.ui.View, status_after: str
    ) -> int | None:
        """Show the result: in place while the token is fresh; otherwise as a new message
        replying to this one (which then says ``status_after``), or on its own when there is
        no status message. Returns the new message's id, or None when the result went in
        place."""
        content = clip(content, MESSAGE_CHARS)
        if self.token_fresh:
            try:
                await self._edit_by_webhook(content=content, uploads=[upload], view=view)
                return None
            except discord.HTTPException as error:
                if not token_expired(error):
                    raise
                self._interaction = None
        channel = self._client.get_partial_messageable(self.channel_id, guild_id=self.guild_id)
        posted = await channel.send(
            content=content,
            file=upload.file(),
            view=view,
            reference=self.reference(self.reply_to or self.message_id),
            allowed_mentions=owner_only(self.owner_id),
        )
        if self.message_id is None:
            return posted.id
        try:
            await self._channel_message().edit(content=status_after, attachments=[], view=None)
        except discord.HTTPException as error:
            log.warning("could not update message %d: %s", self.message_id, error)
        return posted.id

    async def show_final(self, content: str) -> int | None:
        """Say how the job ended (failed, cancelled), without buttons: in this message, or
        in a new one when there is none. Returns the new message's id, if one was posted."""
        content = clip(content, MESSAGE_CHARS)
        if self.message_id is not None:
            await self.edit(content=content, view=None)
            return None
        channel = self._client.get_partial_messageable(self.channel_id, guild_id=self.guild_id)
        return (await channel.send(content=content, allowed_mentions=owner_only(self.owner_id))).id

    async def _edit_by_webhook(
        self, *, content: str, uploads: Sequence[Upload], view: discord.ui.View | None
    ) -> None:
        files = [upload.file() for upload in uploads]
        if self._webhook_message is not None:
            await self._webhook_message.edit(content=content, attachments=files, view=view)
        else:
            assert self._interaction is not None
            await self._interaction.edit_original_response(
                content=content, attachments=files, view=view
            )

    def reference(self, message_id: int | None) -> discord.MessageReference:
        """A reply to ``message_id`` in this channel, for ``send(reference=…)``; without one,
        discord.py's "not given" (a plain message). A reply whose message was deleted is
        posted as a plain message."""
        if message_id is None:
            not_given: discord.MessageReference = discord.utils.MISSING
            return not_given
        return discord.MessageReference(
            message_id=message_id,
            channel_id=self.channel_id,
            guild_id=self.guild_id,
            fail_if_not_exists=False,
        )

    def _channel_message(self) -> discord.PartialMessage:
        assert self.message_id is not None, "a job without a message can only post its result"
        channel = self._client.get_partial_messageable(self.channel_id, guild_id=self.guild_id)
        return channel.get_partial_message(self.message_id)


@dataclass
class Shown:
    """A job being shown: its handle, its message and the words at the head of it."""

    handle: JobHandle
    message: StatusMessage
    head: str


class Deliveries:
    """One task per shown job, following its events until the result is delivered."""

    def __init__(
        self,
        client: discord.Client,
        resources: Resources,
        *,
        on_undelivered: Callable[[int], None],
    ) -> None:
        """``on_undelivered(job_id)``: Discord refused to show how the job ended."""
        self._client = client
        self._resources = resources
        self._on_undelivered = on_undelivered
        self._tasks: set[asyncio.Task[None]] = set()
        #: job id → (step, total) of the latest progress, for /info.
        self.progress: dict[int, tuple[int, int]] = {}

    async def show(self, shown: Shown) -> None:
        """Record which message shows the job (its place was recorded with the job) and
        follow it."""
        assert shown.message.message_id is not None
        await link_job_message(self._resources.db, shown.handle.job_id, shown.message.message_id)
        self.follow(shown)

    def follow(self, shown: Shown) -> None:
        self.spawn(self._follow(shown), f"deliver-job-{shown.handle.job_id}")

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` (a delivery) as a task that ``wait_idle`` waits for."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self, within: float) -> None:
        """Let deliveries in progress finish (at shutdown, after the pool stopped)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=within)
        for task in list(self._tasks):
            task.cancel()

    async def _follow(self, shown: Shown) -> None:
        handle, message, head = shown.handle, shown.message, shown.head
        lane = handle.lane.value
        last_edit = 0.0
        try:
            async for event in handle.events():
                try:
                    if isinstance(event, Started):
                        await message.edit(
                            content=render.running(head, 0, lane), view=cancel_view(handle.job_id)
                        )
                        last_edit = time.monotonic()
                    elif isinstance(event, Progress):
                        self.progress[handle.job_id] = (event.step, event.total)
                        interval = self._resources.tuning.progress_edit_seconds
                        if time.monotonic() - last_edit >= interval and event.step < event.total:
                            await self._show_progress(shown, event, lane)
                            last_edit = time.monotonic()
                    elif isinstance(event, Finished):
                        await self._deliver(shown)
                    elif isinstance(event, Failed):
                        await message.edit(content=render.failed(head, event.reason), view=None)
                        await self.delivered(handle.job_id)
                    elif isinstance(event, Cancelled):
                        await message.edit(content=render.cancelled(head), view=None)
                        await self.delivered(handle.job_id)
                    elif isinstance(event, Deferred):
                        await message.edit(
                            content=f"{render.waiting(head, None)} — Atelier is restarting; "
                            "this job runs after the restart",
                            view=cancel_view(handle.job_id),
                        )
                except discord.HTTPException as error:
                    log.warning("job %d: could not update its message: %s", handle.job_id, error)
                    if isinstance(event, (Finished, Failed, Cancelled)):
                        self._on_undelivered(handle.job_id)
        except Exception:
            log.exception("job %d: delivery failed", handle.job_id)
        finally:
            self.progress.pop(handle.job_id, None)

    async def _show_progress(self, shown: Shown, event: Progress, lane: str) -> None:
        percent = int(100 * event.step / event.total) if event.total else 0
        uploads = []
        if event.preview is not None:
            uploads.append(await asyncio.to_thread(preview_upload, event.preview))
        await shown.message.edit(
            content=render.running(shown.head, percent, lane),
            uploads=uploads,
            view=cancel_view(shown.handle.job_id),
        )

    async def delivered(
        self, job_id: int, *, message_id: int | None = None, result_message_id: int | None = None
    ) -> None:
        """Record that the job's outcome has been shown (see ``mark_delivered``)."""
        await mark_delivered(
            self._resources.db,
            job_id,
            self._resources.clock(),
            message_id=message_id,
            result_message_id=result_message_id,
        )

    async def deliver_result(self, job_id: int, message: StatusMessage, head: str) -> None:
        """Post a finished job's result (or why it cannot be shown), then record it."""
        studio = self._resources.studio
        try:
            source = await studio.stored_job(job_id)
            path = studio.result_file(source)
        except StudioError as error:
            posted = await message.show_final(render.failed(head, str(error)))
            await self.delivered(job_id, message_id=posted)
            return
        upload = await asyncio.to_thread(result_upload, path, message.upload_limit)
        view = await result_view(self._resources, source, message.guild_id)
        posted = await message.post_result(
            content=render.done(head, source.job),
            upload=upload,
            view=view,
            status_after=render.result_below(head),
        )
        if message.message_id is None:
            await self.delivered(job_id, message_id=posted)
        else:
            await self.delivered(job_id, message_id=message.message_id, result_message_id=posted)

    async def _deliver(self, shown: Shown) -> None:
        await self.deliver_result(shown.handle.job_id, shown.message, shown.head)
