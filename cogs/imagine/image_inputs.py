"""The images members attach to /imagine and /blend, read from Discord for the studio.

Each attachment's size, as Discord reports it, is checked before any byte is read, so a
file larger than an image may be is never downloaded; the bytes then go to the studio,
whose intake decodes and checks them (``studio.image_prompts``).
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from studio.image_prompts import Upload
from studio.service import Studio


def check_attachments(studio: Studio, attachments: Sequence[discord.Attachment]) -> None:
    """Refuse, before anything is read, attachments the bot cannot take: none at all when
    it has no IP-Adapter, and any larger than an image may be."""
    studio.check_image_prompts(len(attachments))
    for attachment in attachments:
        studio.check_upload_size(attachment.filename, attachment.size)


async def read_attachments(attachments: Sequence[discord.Attachment]) -> list[Upload]:
    """The attachments' bytes, as the studio takes them (checked first with
    :func:`check_attachments`)."""
    return [Upload(attachment.filename, await attachment.read()) for attachment in attachments]
