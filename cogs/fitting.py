"""Every reply fits Discord's limits, in one place.

Discord refuses a whole message when one part is too long (content over 2,000 characters,
an embed over its limits), and the member would see only an apology. Long text is what
members' input makes: a list of hundreds of banned words, long option flags, quoted input.
So:

- ``fit_message`` turns any text into a message that fits: as many whole lines as fit,
  then a note, with the whole text attached as a file (a list of any length stays complete);
- :class:`Embed` is the embed every cog builds: when it is sent it keeps to an embed's own
  limits (title 256, description 4,096, 25 fields of 256/1,024, footer 2,048, author 256,
  6,000 in all), shortening what is too long with ``…``.

``cogs.errors.tell`` (every ephemeral answer and refusal) sends through ``fit_message``.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from typing import Any, cast

import discord
from discord.types.embed import Embed as EmbedData

#: Discord's limit on a message's content.
MESSAGE_CHARS = 2000
#: The file a long reply comes in.
REPLY_FILE = "reply.txt"
_MORE = "\n… (too long for one message: all of it is in the attached file)"

#: Discord's limits on an embed's parts.
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
FIELDS = 25
FIELD_NAME_CHARS = 256
FIELD_VALUE_CHARS = 1024
FOOTER_CHARS = 2048
AUTHOR_CHARS = 256
EMBED_CHARS = 6000


def clip(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and ``…``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FittedMessage:
    """A message's content that fits, and the file with the whole text when it did not."""

    content: str
    file: discord.File | None = None


def fit_message(text: str) -> FittedMessage:
    """``text`` as one message: itself if it fits; otherwise the whole lines that fit with
    a note, and ``text`` complete in a file (a line longer than a message is cut)."""
    if len(text) <= MESSAGE_CHARS:
        return FittedMessage(text)
    room = MESSAGE_CHARS - len(_MORE)
    shown: list[str] = []
    used = 0
    for line in text.split("\n"):
        if used + len(line) + 1 > room:
            if not shown:
                shown.append(clip(line, room))
            break
        shown.append(line)
        used += len(line) + 1
    attached = discord.File(io.BytesIO(text.encode()), filename=REPLY_FILE)
    return FittedMessage("\n".join(shown) + _MORE, attached)


class Embed(discord.Embed):
    """A ``discord.Embed`` that keeps to Discord's limits when it is sent (``to_dict``,
    which discord.py calls for every message), however its parts were filled in."""

    def to_dict(self) -> EmbedData:
        data = cast(dict[str, Any], copy.deepcopy(super().to_dict()))
        if "title" in data:
            data["title"] = clip(data["title"], TITLE_CHARS)
        if "description" in data:
            data["description"] = clip(data["description"], DESCRIPTION_CHARS)
        for part, key, limit in (
            ("footer", "text", FOOTER_CHARS),
            ("author", "name", AUTHOR_CHARS),
        ):
            if key in data.get(part, {}):
                data[part][key] = clip(data[part][key], limit)
        fields = data.get("fields", [])[:FIELDS]
        for field in fields:
            field["name"] = clip(str(field["name"]), FIELD_NAME_CHARS) or "\u200b"
            field["value"] = clip(str(field["value"]), FIELD_VALUE_CHARS) or "\u200b"
        if "fields" in data:
            data["fields"] = fields
        _within_total(data)
        return cast(EmbedData, data)


def _size(data: dict[str, Any]) -> int:
    """What Discord counts towards an embed's 6,000 characters."""
    fields = data.get("fields", [])
    return (
        len(data.get("title", ""))
        + len(data.get("description", ""))
        + len(data.get("footer", {}).get("text", ""))
        + len(data.get("author", {}).get("name", ""))
        + sum(len(field["name"]) + len(field["value"]) for field in fields)
    )


def _within_total(data: dict[str, Any]) -> None:
    """Shorten the description, then leave out the last fields, until the embed fits."""
    excess = _size(data) - EMBED_CHARS
    if excess > 0 and data.get("description"):
        keep = max(1, len(data["description"]) - excess)
        data["description"] = clip(data["description"], keep)
    while _size(data) > EMBED_CHARS and data.get("fields"):
        data["fields"].pop()
