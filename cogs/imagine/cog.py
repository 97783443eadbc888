"""/imagine, /show and /info, and what every job button does when pressed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.custom_ids import StaleCustomId
from cogs.errors import handle_error, tell
from cogs.fitting import Embed
from cogs.imagine import render
from cogs.imagine.buttons import (
    HANDLER_COG,
    PAN_DIRECTIONS,
    Action,
    Press,
    appeal_view,
    cancel_view,
)
from cogs.imagine.delivery import Deliveries, Shown, StatusMessage, owner_only, result_view
from cogs.imagine.image_inputs import check_attachments, read_attachments
from cogs.imagine.prompt_form import REMIXABLE, prompt_form, read_submission
from cogs.imagine.recovery import Recovery
from cogs.moderators import is_registry_moderator
from cogs.resources import Resources
from cogs.uploads import input_uploads, result_upload
from cogs.web_links import editor_page, member_page
from db.guilds import (
    get_guild_settings,
    mark_appealed,
    record_blocked_prompt,
    withdraw_appeal,
)
from db.job_messages import JobPlace
from db.jobs import JobStatus, Lane, get_job
from db.users import VariationStrength, add_favorite, count_favorites, get_user_settings
from inference.params import ImagineRequest
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.rework import UpscaleMode
from studio.moderation import own_blocked_prompt
from studio.service import StoredJob

log = logging.getLogger(__name__)

#: /imagine with neither a prompt nor an image.
NOTHING_TO_IMAGINE = (
    "⚠️ Nothing to imagine: write a `prompt`, attach an `image` to start from, or both."
)


class ImagineCog(commands.Cog, name=HANDLER_COG):
    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
        self.studio = resources.studio
        self.deliveries = Deliveries(client, resources, on_undelivered=self._redeliver)
        self.recovery = Recovery(client, resources, self.deliveries)
        # Jobs the web editor queues are shown and delivered here like the others.
        resources.region_editor.follow_with(self.recovery.follow_elsewhere)

    # --- /imagine --------------------------------------------------------------------------

    @app_commands.command(name="imagine", description="Create four images from a prompt")
    @app_commands.describe(
        prompt="what to imagine, parameters at the end (a fox --ar 3:2); "
        "image URLs first: image prompts",
        image="an image to start from (an image prompt; --iw 0–3 weighs it against the text)",
        image2="another image to start from",
        image3="another image to start from",
    )
    async def imagine(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 2000] | None = None,
        image: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
    ) -> None:
        user_id = interaction.user.id
        attachments = [a for a in (image, image2, image3) if a is not None]
        if prompt is None and not attachments:
            await tell(interaction, NOTHING_TO_IMAGINE)
            return
        prompt = prompt or ""  # images alone, like a /blend of one
        requests = await self.studio.requests_for(user_id, prompt, attached=len(attachments))
        texts = [prompt, *(r.prompt for r in requests), *(r.negative_prompt for r in requests)]
        matched = await self.studio.banned_in(interaction.guild_id, texts)
        if matched and interaction.guild_id is not None:
            await self._refuse_blocked(interaction, prompt, matched)
            return
        await self._start_imagine(interaction, requests, attachments)

    @app_commands.command(name="blend", description="Blend 2 to 5 images into four new ones")
    @app_commands.describe(
        image1="the first image",
        image2="the second image",
        image3="a third image (optional)",
        image4="a fourth image (optional)",
        image5="a fifth image (optional)",
        dimensions="the shape of the new images (square unless chosen)",
    )
    @app_commands.choices(
        dimensions=[
            app_commands.Choice(name="Portrait (2:3)", value="portrait"),
            app_commands.Choice(name="Square (1:1)", value="square"),
            app_commands.Choice(name="Landscape (3:2)", value="landscape"),
        ]
    )
    async def blend(
        self,
        interaction: discord.Interaction[Any],
        image1: discord.Attachment,
        image2: discord.Attachment,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        dimensions: str = "square",
    ) -> None:
        attachments = [a for a in (image1, image2, image3, image4, image5) if a is not None]
        requests = await self.studio.blend_requests(
            interaction.user.id, dimensions, len(attachments)
        )
        await self._start_imagine(interaction, requests, attachments)

    async def _start_imagine(
        self,
        interaction: discord.Interaction[Any],
        requests: list[ImagineRequest],
        attachments: list[discord.Attachment],
    ) -> None:
        """Check, then queue and show ``requests``, all conditioned on the image URLs at
        the prompt's start and the ``attachments``, which are fetched, read and checked
        once the interaction is acknowledged (that may take longer than Discord waits for
        an answer); a refused image ends it there, with nothing queued."""
        user_id = interaction.user.id
        urls = requests[0].image_urls  # the same for every permutation
        self.studio.check_image_prompts(len(urls) + len(attachments))
        check_attachments(self.studio, attachments)
        self.studio.check_limits(user_id, len(requests))
        moderator = await is_registry_moderator(
            self.resources.db, interaction, self.resources.settings.home_guild_ids
        )
        await self.studio.check_model_access(
            user_id, requests, moderator=moderator, images=len(urls) + len(attachments)
        )
        await interaction.response.defer(thinking=True)
        uploads = await read_attachments(self.studio, attachments)
        images = await self.studio.take_images(urls, uploads)
        # A refusal from here on (a model that fails to load, a restart) ends the
        # permutations; the error handler's answer fills in the "thinking…" placeholder, or
        # follows the jobs already shown.
        for number, request in enumerate(requests):
            handle = await self.studio.submit_imagine(
                user_id, request, moderator=moderator, place=_place(interaction), images=images
            )
            await self._show_new(interaction, handle, first=number == 0)

    async def _refuse_blocked(
        self, interaction: discord.Interaction[Any], prompt: str, matched: list[str]
    ) -> None:
        assert interaction.guild_id is not None
        blocked_id = await record_blocked_prompt(
            self.resources.db,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or 0,
            user_id=interaction.user.id,
            prompt=prompt,
            matched=matched,
            at=self.resources.clock(),
        )
        words = ", ".join(f"**{word}**" for word in matched)
        # The words go last: however many matched, the reason and the Appeal button show.
        await tell(
            interaction,
            "🚫 Sorry! This server does not allow some words of this prompt, so nothing was "
            "made. Rephrase the prompt without them and try again — or, if you think this is "
            f"a mistake, appeal to the moderators.\nNot allowed here: {words}",
            view=appeal_view(blocked_id),
        )

    async def _show_new(
        self,
        interaction: discord.Interaction[Any],
        handle: JobHandle,
        *,
        first: bool,
        parent_index: int | None = None,
    ) -> None:
        """Post (or fill in) the status message of a job just submitted, then follow it:
        the interaction's original response for its first job, a followup for the others."""
        head = render.header(
            handle.job, handle.owner_id, parent_index, self.resources.settings.engine_defaults
        )
        status = handle.queue_status()
        content = render.waiting(head, status.position if status else None)
        view = cancel_view(handle.job_id)
        mentions = owner_only(handle.owner_id)
        webhook_message = None
        if not first:
            webhook_message = await interaction.followup.send(
                content, view=view, wait=True, allowed_mentions=mentions
            )
            message_id = webhook_message.id
        elif interaction.response.is_done():
            edited = await interaction.edit_original_response(
                content=content, view=view, allowed_mentions=mentions
            )
            message_id = edited.id
        else:
            callback = await interaction.response.send_message(
                content, view=view, allowed_mentions=mentions
            )
            message_id = callback.message_id or (await interaction.original_response()).id
        status_message = StatusMessage(
            self.client,
            channel_id=interaction.channel_id or 0,
            guild_id=interaction.guild_id,
            message_id=message_id,
            interaction=interaction,
            webhook_message=webhook_message,
            fresh_for=self.resources.tuning.token_window_seconds,
            upload_limit=interaction.filesize_limit,
            owner_id=handle.owner_id,
        )
        await self.deliveries.show(Shown(handle, status_message, head))

    # --- restarts --------------------------------------------------------------------------

    async def resume(self, handles: list[JobHandle]) -> None:
        """After a restart: follow the recovered jobs, deliver the undelivered ones."""
        await self.recovery.start(handles)

    def _redeliver(self, job_id: int) -> None:
        self.recovery.retry(job_id)

    # --- buttons ---------------------------------------------------------------------------

    async def on_press(self, interaction: discord.Interaction[Any], press: Press | None) -> None:
        if press is None:
            raise StaleCustomId
        if press.action is Action.APPEAL:
            await self._appeal(interaction, press.target_id)
            return
        # Every button shows the job or acts on it: only for who may see it here.
        source = await self.studio.visible_job(
            press.target_id, interaction.user.id, interaction.guild_id
        )
        if press.action is Action.CANCEL:
            await self._cancel(interaction, source)
        elif press.action is Action.FAVORITE:
            await self._favorite(interaction, source, press.index)
        elif press.action is Action.INFO:
            await self._info(interaction, source, press.index)
        elif press.action is Action.VARY_REGION:
            await self._region_link(interaction, source)
        else:
            await self._follow_up(interaction, source, press)

    async def _follow_up(
        self, interaction: discord.Interaction[Any], source: StoredJob, press: Press
    ) -> None:
        """U*n*, V*n*, 🔄, Vary, Upscale, Zoom Out, Pan and Make Square: a new job with
        ``source`` as its parent. Custom Zoom, and with Remix on V*n*, Vary, Zoom Out, Pan
        and 🔄, first open the prompt form; its submission comes back through
        ``_on_prompt_form``."""
        if not await self._may_press(interaction, source):
            return
        if press.action is Action.CUSTOM_ZOOM:
            text = f"{self.studio.remix_text(source)} --zoom 2"
            await interaction.response.send_modal(prompt_form(press, text))
            return
        if press.action in REMIXABLE:
            settings = await get_user_settings(self.resources.db, interaction.user.id)
            if settings.remix:
                form = prompt_form(press, self.studio.remix_text(source))
                await interaction.response.send_modal(form)
                return
        await self._rework(interaction, source, press, prompt=None)

    @commands.Cog.listener("on_interaction")
    async def _on_prompt_form(self, interaction: discord.Interaction[Any]) -> None:
        """Every prompt form submission, however old (see ``prompt_form``: none is held in
        memory, so no ``Modal.on_error`` runs; a listener's errors would only be logged, so
        they are answered here)."""
        try:
            submission = read_submission(interaction)
            if submission is None:
                return
            press = submission.press
            source = await self.studio.visible_job(
                press.target_id, interaction.user.id, interaction.guild_id
            )
            if await self._may_press(interaction, source):
                await self._rework(interaction, source, press, prompt=submission.text)
        except Exception as error:
            await handle_error(interaction, error)

    async def _may_press(self, interaction: discord.Interaction[Any], source: StoredJob) -> bool:
        """Whether the member may use ``source``'s buttons; if not, they are told whose
        they are."""
        if await self.studio.may_press(source, interaction.user.id, interaction.guild_id):
            return True
        await tell(
            interaction,
            f"🔒 These buttons belong to <@{source.record.owner_id}>, who made this job. "
            "Make your own with /imagine (a moderator can let everyone press them with "
            "/admin buttons).",
        )
        return False

    async def _rework(
        self,
        interaction: discord.Interaction[Any],
        source: StoredJob,
        press: Press,
        *,
        prompt: str | None,
    ) -> None:
        """Start the job ``press`` asks for (with the member's edited ``prompt``, from the
        prompt form) and show it."""
        moderator = await is_registry_moderator(
            self.resources.db, interaction, self.resources.settings.home_guild_ids
        )
        self.studio.check_limits(interaction.user.id)
        # Planning a rework asks the pool about the model, which loads it first if this
        # process has not yet (after a restart, behind the batch running now): acknowledge
        # within Discord's 3 seconds, as /imagine does. A refusal from here on comes through
        # handle_error, which answers only the member and removes the placeholder.
        await interaction.response.defer(thinking=True)
        handle = await self._start(interaction, source, press, moderator, prompt)
        await self._show_new(interaction, handle, first=True, parent_index=press.index)

    async def _region_link(self, interaction: discord.Interaction[Any], source: StoredJob) -> None:
        """Vary (Region): the presser's own signed link to the web editor, shown only to
        them (whoever holds it acts as them until it expires)."""
        if not await self._may_press(interaction, source):
            return
        editor = self.resources.region_editor
        link = await editor.link(source, interaction.user.id, interaction.guild_id)
        assert editor.public_url is not None  # or no link is made
        view = discord.ui.View(timeout=None)
        view.add_item(
            discord.ui.Button(
                label="Open the editor", emoji="🖌️", url=editor_page(editor.public_url, link)
            )
        )
        expires = discord.utils.format_dt(link.expires, "t")
        await interaction.response.send_message(
            f"🖌️ Mark the part of job #{source.id}'s image to redo, edit the prompt if you like, "
            f"and submit: the new images are posted here. The link is yours alone (do not share "
            f"it) and works until {expires}.",
            view=view,
            ephemeral=True,
        )

    async def _start(
        self,
        interaction: discord.Interaction[Any],
        source: StoredJob,
        press: Press,
        moderator: bool,
        prompt: str | None,
    ) -> JobHandle:
        user_id = interaction.user.id
        studio = self.studio
        action = press.action
        place = _place(interaction)
        if action is Action.REROLL:
            return await studio.reroll(
                user_id, source, prompt=prompt, moderator=moderator, place=place
            )
        if action in (Action.UPSCALE_PICK, Action.UPSCALE):
            return await studio.upscale(
                user_id, source, press.index, moderator=moderator, place=place
            )
        if action in _UPSCALE_MODES:
            return await studio.upscale_refined(
                user_id, source, _UPSCALE_MODES[action], moderator=moderator, place=place
            )
        if action in _ZOOM_FACTORS:
            return await studio.zoom_out(
                user_id,
                source,
                _ZOOM_FACTORS[action],
                prompt=prompt,
                moderator=moderator,
                place=place,
            )
        if action is Action.CUSTOM_ZOOM:
            return await studio.custom_zoom(
                user_id, source, prompt or "", moderator=moderator, place=place
            )
        if action in PAN_DIRECTIONS:
            return await studio.pan(
                user_id,
                source,
                PAN_DIRECTIONS[action],
                prompt=prompt,
                moderator=moderator,
                place=place,
            )
        if action is Action.SQUARE:
            return await studio.make_square(user_id, source, moderator=moderator, place=place)
        strength = {
            Action.VARY_SUBTLE: VariationStrength.SUBTLE,
            Action.VARY_STRONG: VariationStrength.STRONG,
        }.get(action)
        return await studio.vary(
            user_id, source, press.index, strength, prompt=prompt, moderator=moderator, place=place
        )

    async def _cancel(self, interaction: discord.Interaction[Any], source: StoredJob) -> None:
        if source.record.owner_id != interaction.user.id:
            await tell(interaction, "🔒 Only the person who started a job can cancel it.")
            return
        handle = self.resources.pool.handle(source.id)
        if handle is None or not handle.cancel():
            await tell(interaction, f"Job #{source.id} has already ended.")
            return
        await interaction.response.send_message(f"❌ Cancelling job #{source.id}.", ephemeral=True)

    async def _favorite(
        self, interaction: discord.Interaction[Any], source: StoredJob, index: int
    ) -> None:
        source.image(index)  # refuses an image the job does not have
        added = await add_favorite(
            self.resources.db, interaction.user.id, source.id, index, self.resources.clock()
        )
        total = await count_favorites(self.resources.db, source.id, index)
        text = "❤️ Added to your favorites" if added else "❤️ Already in your favorites"
        await interaction.response.send_message(f"{text} ({total} ❤️ in all).", ephemeral=True)

    async def _info(
        self, interaction: discord.Interaction[Any], source: StoredJob, index: int
    ) -> None:
        await interaction.response.send_message(
            embed=await self._info_embed(source, index), ephemeral=True
        )

    async def _info_embed(self, source: StoredJob, index: int) -> discord.Embed:
        job = source.job
        request = job.request
        seed = next((image.seed for image in source.images if image.index == index), job.seed)
        embed = Embed(title=f"Job #{source.id} · {job.kind.value}")
        embed.description = render.title(job)
        embed.add_field(name="Seed", value=str(seed))
        embed.add_field(name="Model", value=job.model)
        embed.add_field(name="Size", value=f"{job.width}×{job.height}")
        embed.add_field(name="Steps", value=f"{job.steps} ({job.sampler})")
        embed.add_field(name="Guidance", value=f"{job.guidance_scale:g} (--s {request.stylize})")
        if request.negative_prompt:
            embed.add_field(name="Negative prompt", value=request.negative_prompt[:1000])
        if job.strength is not None:
            embed.add_field(name="Strength", value=f"{job.strength:g}")
        inputs = render.inputs_field(job)
        if inputs is not None:
            embed.add_field(name=inputs[0], value=inputs[1], inline=False)
        lineage = await self.studio.lineage(source.id)
        embed.add_field(
            name="Lineage",
            value=" → ".join(
                render.describe(r, self.resources.settings.engine_defaults) for r in lineage
            ),
            inline=False,
        )
        embed.set_footer(text=f"by user {source.record.owner_id} · {source.record.status.value}")
        return embed

    async def _appeal(self, interaction: discord.Interaction[Any], blocked_id: int) -> None:
        db = self.resources.db
        blocked = await own_blocked_prompt(db, blocked_id, interaction.user.id)
        channel_id = (await get_guild_settings(db, blocked.guild_id)).moderation_channel_id
        if channel_id is None:
            await tell(
                interaction,
                "This server has no moderation channel for appeals yet; ask a moderator "
                "(they can set one with /admin channel moderation).",
            )
            return
        appealed_at = self.resources.clock()
        if not await mark_appealed(db, blocked_id, appealed_at):
            await tell(interaction, "You already appealed this prompt; the moderators have it.")
            return
        embed = Embed(title="Appeal of a blocked prompt", description=blocked.prompt)
        embed.add_field(name="Matched", value=", ".join(blocked.matched))
        embed.add_field(name="By", value=f"<@{blocked.user_id}>")
        embed.add_field(name="In", value=f"<#{blocked.channel_id}>")
        channel = self.client.get_partial_messageable(channel_id, guild_id=blocked.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning("appeal %d could not be posted: %s", blocked_id, error)
            # Not posted, so not made: the member may press again.
            await withdraw_appeal(db, blocked_id, appealed_at)
            await interaction.followup.send(
                "⚠️ The appeal could not be posted in the moderation channel; try again later, "
                "or tell a moderator.",
                ephemeral=True,
            )
            return
        await interaction.followup.send("📨 Sent to the moderators.", ephemeral=True)

    # --- /show and /info -------------------------------------------------------------------

    @app_commands.command(name="show", description="Post a past job again, with working buttons")
    @app_commands.describe(job_id="the job's number, as shown in Web/Info (e.g. 42)")
    async def show(
        self, interaction: discord.Interaction[Any], job_id: app_commands.Range[int, 1]
    ) -> None:
        source = await self.studio.visible_job(job_id, interaction.user.id, interaction.guild_id)
        owner = source.record.owner_id
        if source.record.status is not JobStatus.DONE:
            await tell(
                interaction,
                f"Job #{job_id} is {source.record.status.value}; only finished jobs can be shown.",
            )
            return
        path = self.studio.result_file(source)
        await interaction.response.defer(thinking=True)
        upload = await asyncio.to_thread(result_upload, path, interaction.filesize_limit)
        inputs = await asyncio.to_thread(input_uploads, self.studio.inputs_dir, source.job)
        view = await result_view(self.resources, source, interaction.guild_id)
        head = render.header(
            source.job, owner, source.record.parent_index, self.resources.settings.engine_defaults
        )
        await interaction.edit_original_response(
            content=render.done(head, source.job) + render.inputs_below(source.job, len(inputs)),
            attachments=[upload.file(), *(thumbnail.file() for thumbnail in inputs)],
            view=view,
        )

    @app_commands.command(name="info", description="Your queued and running jobs, and your usage")
    async def info(self, interaction: discord.Interaction[Any]) -> None:
        user_id = interaction.user.id
        pool = self.resources.pool
        lines = []
        defaults = self.resources.settings.engine_defaults
        for handle in pool.jobs_of(user_id):
            prompt = render.summary(handle.job, 60)
            record = await get_job(self.resources.db, handle.job_id)
            made_from = None if record is None else render.made_from(record, defaults)
            if made_from is not None:
                prompt = f"{made_from} — {prompt}"
            status = handle.queue_status()
            if status is not None:
                eta = (
                    ""
                    if status.eta_start_seconds is None
                    else (f", starts in ~{_duration(status.eta_start_seconds)}")
                )
                lines.append(
                    f"#{handle.job_id} waiting, position {status.position}{eta} — {prompt}"
                )
            else:
                step, total = self.deliveries.progress.get(handle.job_id, (0, 0))
                percent = f" {int(100 * step / total)}%" if total else ""
                lines.append(f"#{handle.job_id} running{percent} — {prompt}")
        usage = await self.studio.usage(user_id)
        limits = pool.limits
        embed = Embed(title="Your Atelier")
        embed.add_field(name="Jobs", value=_within_field(lines), inline=False)
        embed.add_field(name="Images today", value=str(usage.images_today))
        embed.add_field(name="Images in total", value=str(usage.images_total))
        embed.add_field(name="GPU time", value=_duration(usage.gpu_seconds))
        lane = await self.studio.lane_for(user_id)
        embed.add_field(
            name="Lane",
            value="priority (you back a model in early access)"
            if lane is Lane.PRIORITY
            else "standard",
        )
        embed.add_field(
            name="Limits",
            value=f"{limits.max_running} running, {limits.max_queued} waiting",
        )
        gallery = await member_page(self.resources.db, self.resources.settings.public_url, user_id)
        if gallery is not None:
            embed.add_field(name="Your gallery", value=gallery, inline=False)
        embed.add_field(name="Workers", value=workers_field(pool), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


def workers_field(pool: WorkerPool) -> str:
    """/info's Workers: those that run jobs, and why the Ray cluster adds none (if it
    should)."""
    why_not = pool.capacity_note()
    if why_not is not None:
        return f"none can run jobs now ({why_not}): jobs wait"
    workers = ", ".join(device.device for device in pool.metrics().devices)
    cluster = pool.cluster_note()
    return workers if cluster is None else f"{workers} (no remote worker: {cluster})"


#: Zoom Out 2× and 1.5×: how much the canvas grows.
_ZOOM_FACTORS = {Action.ZOOM_OUT_2: 2.0, Action.ZOOM_OUT_1_5: 1.5}
_UPSCALE_MODES = {
    Action.UPSCALE_SUBTLE: UpscaleMode.SUBTLE,
    Action.UPSCALE_CREATIVE: UpscaleMode.CREATIVE,
}


def _place(interaction: discord.Interaction[Any]) -> JobPlace:
    """Where a job made by ``interaction`` is shown: recorded with the job, before its
    message is posted."""
    return JobPlace(interaction.guild_id, interaction.channel_id or 0, interaction.id)


#: Discord refuses an embed field longer than 1024 characters.
_FIELD_CHARS = 1024


def _within_field(lines: list[str]) -> str:
    """The lines that fit in one embed field, then how many did not."""
    if not lines:
        return "Nothing queued or running."
    shown: list[str] = []
    for number, line in enumerate(lines):
        rest = f"… and {len(lines) - number} more"
        if len("\n".join([*shown, line, rest])) > _FIELD_CHARS:
            return "\n".join([*shown, rest])
        shown.append(line)
    return "\n".join(shown)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
