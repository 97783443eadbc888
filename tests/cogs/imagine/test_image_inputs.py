"""Reading attachments from Discord: a file Discord does not hand over in time, or that the
connection drops, is refused naming it (the member is told to try again), not a bug."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from cogs.imagine.image_inputs import read_attachments
from intake.errors import ImageRefused
from intake.limits import IntakeLimits


class _Attachment:
    """What read_attachments uses of a discord.Attachment: its name and read()."""

    def __init__(self, filename: str, read: Any) -> None:
        self.filename = filename
        self.read = read


def _studio(fetch_seconds: float) -> Any:
    return SimpleNamespace(intake=SimpleNamespace(limits=IntakeLimits(fetch_seconds=fetch_seconds)))


async def _never() -> bytes:
    await asyncio.sleep(60)
    return b""


async def _dropped() -> bytes:
    raise aiohttp.ClientPayloadError("connection lost")


async def _png() -> bytes:
    return b"png bytes"


@pytest.mark.parametrize("read", [_never, _dropped], ids=["past the time cap", "dropped"])
async def test_an_attachment_discord_does_not_hand_over_is_refused_by_name(read: Any) -> None:
    attachments: Any = [_Attachment("fox.png", _png), _Attachment("sky.png", read)]
    with pytest.raises(ImageRefused, match=r"could not read “sky\.png” from Discord; try again"):
        await read_attachments(_studio(0.1), attachments)


async def test_attachments_read_in_time_come_back_in_order() -> None:
    attachments: Any = [_Attachment("a.png", _png), _Attachment("b.png", _png)]
    uploads = await read_attachments(_studio(1), attachments)
    assert [(u.name, u.data) for u in uploads] == [("a.png", b"png bytes"), ("b.png", b"png bytes")]
