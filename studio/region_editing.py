"""Vary (Region) from the web: what the editor page shows, and what its Submit queues.

The page is reached through a signed link (``studio.editor_links``) made for one member;
this module then checks, like a button press in Discord would, that the member may still
rework the image, and queues the job where the image was shown in Discord, so the result
is posted there (as a reply to the upscaled image's message). The web knows no Discord:
``on_queued`` tells the bot about the job, and the bot follows and delivers it.

Only type names are taken from ``studio.service``: the web studio imports this module and
must not pull in the inference engine (``inference.rework``, the mask reader, is plain
geometry and Pillow, without torch).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from db.job_messages import JobPlace, get_job_message
from db.jobs import JobKind
from inference.rework import MaskError, read_mask
from studio.editor_links import EditorLink, EditorLinks
from studio.errors import StudioError
from studio.public_work import public_id_once_done

if TYPE_CHECKING:
    from inference.pool.handle import JobHandle
    from studio.service import StoredJob, Studio


class RegionMaskError(StudioError):
    """The mask sent with Vary (Region) cannot be used."""


@dataclass(frozen=True)
class EditorSource:
    """What the editor page shows: the image to rework and the prompt to start from."""

    job_id: int
    width: int
    height: int
    image_path: Path
    #: The job's prompt with its parameters, as a member would type it (editable: Remix).
    prompt: str


@dataclass(frozen=True)
class RegionQueued:
    """A queued Vary (Region) job, and the Discord message its result will reply to
    (None where the image was never shown in Discord)."""

    job_id: int
    guild_id: int | None = None
    channel_id: int | None = None
    reply_to: int | None = None
    #: Where the job will be on the web once done, if it will be public (``public_work``).
    public_id: str | None = None

    @property
    def message_url(self) -> str | None:
        """Discord's address of the message the result replies to."""
        if self.channel_id is None or self.reply_to is None:
            return None
        server = "@me" if self.guild_id is None else str(self.guild_id)
        return f"https://discord.com/channels/{server}/{self.channel_id}/{self.reply_to}"


def region_mask(png: bytes, width: int, height: int) -> bytes:
    """``png`` as the engine's mask (``inference.rework.read_mask``, which says what is
    marked and what is refused): a greyscale PNG of the image's size, 255 where the member
    marked the area and 0 elsewhere. Raises RegionMaskError. Decodes the whole image: call
    it off the event loop."""
    try:
        marked = read_mask(png, (width, height))
    except MaskError as error:
        raise RegionMaskError(str(error)) from None
    out = io.BytesIO()
    marked.save(out, format="PNG")
    return out.getvalue()


class RegionEditor:
    """The studio's Vary (Region): links to the web editor, and what the editor queues.
    ``public_url`` (``ATELIER_PUBLIC_URL``): where members open the editor; None: there is
    no editor members can reach, and no link is made."""

    def __init__(self, studio: Studio, links: EditorLinks, public_url: str | None) -> None:
        self._studio = studio
        self.links = links
        self.public_url = public_url
        self._followers: list[Callable[[JobHandle], None]] = []

    @property
    def offered(self) -> bool:
        """Whether members can reach the editor (so the button is shown)."""
        return self.public_url is not None

    def follow_with(self, follower: Callable[[JobHandle], None]) -> None:
        """``follower`` gets every job the editor queues (the bot shows it in Discord)."""
        self._followers.append(follower)

    async def link(self, source: StoredJob, member_id: int, guild_id: int | None) -> EditorLink:
        """A link for ``member_id`` to the editor of ``source``'s image (pressed in
        ``guild_id``); refused where the editor cannot be reached or the member may not
        rework the image."""
        if self.public_url is None:
            raise StudioError(
                "Vary (Region) needs the web studio, and this bot has no public address for "
                "it; ask its operator to set one."
            )
        await self._check_usable(source, member_id, guild_id)
        return self.links.make(source.id, member_id)

    async def source(self, job_id: int, member_id: int) -> EditorSource:
        """The image of job ``job_id`` that ``member_id`` may rework in the editor."""
        source = await self._usable(job_id, member_id)
        image = source.image(0)
        return EditorSource(
            job_id,
            source.job.width,
            source.job.height,
            Path(image.path),
            self._studio.remix_text(source),
        )

    async def submit(
        self, job_id: int, member_id: int, mask_png: bytes, prompt: str
    ) -> RegionQueued:
        """Queue Vary (Region) of job ``job_id``'s image for ``member_id``: the area marked
        in ``mask_png``, regenerated from ``prompt`` (checked like /imagine's)."""
        source = await self._usable(job_id, member_id)
        mask = await asyncio.to_thread(region_mask, mask_png, source.job.width, source.job.height)
        where = await get_job_message(self._studio.db, job_id)
        # No interaction made this job: that is what makes it reply to its parent's message.
        place = None if where is None else JobPlace(where.guild_id, where.channel_id)
        self._studio.check_limits(member_id)
        handle = await self._studio.vary_region(
            member_id, source, mask, prompt=prompt.strip() or None, place=place
        )
        for follower in self._followers:
            follower(handle)
        public_id = await public_id_once_done(self._studio.db, handle.job_id)
        if where is None:
            return RegionQueued(handle.job_id, public_id=public_id)
        return RegionQueued(
            handle.job_id,
            where.guild_id,
            where.channel_id,
            where.result_message_id or where.message_id,
            public_id,
        )

    async def _usable(self, job_id: int, member_id: int) -> StoredJob:
        """Job ``job_id``, as a button under its Discord message would find it: visible to
        ``member_id`` there (``studio.visibility``: a link stops working for others once the
        owner keeps results private) and theirs to rework."""
        where = await get_job_message(self._studio.db, job_id)
        guild_id = None if where is None else where.guild_id
        source = await self._studio.visible_job(job_id, member_id, guild_id)
        await self._check_usable(source, member_id, guild_id)
        return source

    async def _check_usable(self, source: StoredJob, member_id: int, guild_id: int | None) -> None:
        """Like every generation button: the owner's, unless the server lets everyone."""
        if source.job.kind is not JobKind.UPSCALE:
            raise StudioError(
                f"Job #{source.id} is not an upscaled image; Vary (Region) needs one."
            )
        if not await self._studio.may_press(source, member_id, guild_id):
            raise StudioError(
                f"Job #{source.id} belongs to someone else, and its server does not let "
                "everyone rework other members' images."
            )
