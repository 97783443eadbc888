"""Small pieces of Discord's data model: snowflakes, permission bits, timestamps, image sizes.

They stand in for what Discord computes on its side: ids that encode their creation time,
a member's resolved permissions, the ISO timestamps on messages, and the width and height
Discord's CDN reports for an uploaded image.
"""

from __future__ import annotations

import datetime
import io
import itertools
import mimetypes
import struct
import threading
import time

#: Discord's epoch (2015-01-01T00:00:00Z) in milliseconds, the zero of every snowflake.
DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Issues unique, increasing snowflakes whose top bits are the current time.

    discord.py derives ``created_at`` (and an interaction's ``expires_at``) from the id, so the
    ids must encode the real clock: a made-up id would make every interaction look expired.
    """

    def __init__(self, worker: int = 1, process: int = 1) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._counter = itertools.count()
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            increment = next(self._counter) & 0xFFF
            value = (ms << 22) | (self._worker << 17) | (self._process << 12) | increment
            # Never go backwards, even when the wall clock does or 4096 ids share a millisecond.
            value = max(value, self._last + 1)
            self._last = value
            return value


def iso(timestamp: float) -> str:
    """A Unix time as Discord writes timestamps (ISO 8601 with microseconds and offset)."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()


class Perm:
    """Permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EXTERNAL_APPS = 1 << 50

    #: Every permission bit Discord defines today (what an administrator or owner gets).
    ALL = (1 << 53) - 1

    #: What @everyone may do in a freshly made server.
    EVERYONE = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | MENTION_EVERYONE
        | USE_EXTERNAL_EMOJIS
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
        | USE_EXTERNAL_APPS
    )

    #: The bot's managed role: what an invite link with the usual message scopes grants.
    BOT = EVERYONE | MANAGE_MESSAGES


def guess_content_type(filename: str, declared: str | None) -> str | None:
    """The content type Discord reports for an upload: the declared one unless it is the
    generic ``application/octet-stream`` discord.py always sends, else one from the name."""
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image, or None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a project dependency
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(image.size[0]), int(image.size[1])
    except Exception:
        return None
