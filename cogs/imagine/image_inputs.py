"""The images members attach to /imagine and /blend, read from Discord for the studio.

Each attachment's size, as Discord reports it, is checked before any byte is read, so a
file larger than an image may be is never downloaded; the bytes then go to the studio,
whose intake decodes and checks them (``studio.image_prompts``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
import discord

from core.errors import quoted
from intake.errors import ImageRefused
from studio.image_prompts import Upload
from studio.service import Studio


def check_attachments(studio: Studio, attachments: Sequence[discord.Attachment]) -> None:
    """Refuse, before anything is read, attachments the bot cannot take: none at all when
    it has no IP-Adapter, and any larger than an image may be."""
    studio.check_image_prompts(len(attachments))
    for attachment in attachments:
        studio.check_upload_size(attachment.filename, attachment.size)


async def read_attachments(
    studio: Studio, attachments: Sequence[discord.Attachment]
) -> list[Upload]:
    """The attachments' bytes, as the studio takes them (checked first with
    :func:`check_attachments`). A file Discord does not hand over (an HTTP error, a broken
    connection, longer than a fetch may take) is refused naming it, so the member knows to
    try again rather than suspect the image."""
    assert studio.intake is not None  # check_attachments refused them otherwise
    seconds = studio.intake.limits.fetch_seconds
    uploads = []
    for attachment in attachments:
        try:
            async with asyncio.timeout(seconds):
                data = await attachment.read()
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError):
            raise ImageRefused(
                f"could not read {quoted(attachment.filename)} from Discord; try again"
            ) from None
        uploads.append(Upload(attachment.filename, data))
    return uploads
