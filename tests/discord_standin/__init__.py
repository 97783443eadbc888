"""A loopback stand-in for Discord (REST API, gateway, CDN) that the real discord.py
client can log in to, so tests drive the bot over real sockets on 127.0.0.1.

Typical use::

    async with FakeDiscord() as fake:
        with pointing_discord_at(fake):
            async with running_bot(fake, make_bot()) as bot:
                await fake.wait_for_commands()
                rec = await fake.slash("imagine", {"prompt": "a fox"})
                reply = await rec.wait_original(lambda m: not m.loading)
"""

from .helpers import pointing_discord_at, running_bot
from .payloads import Perm, SnowflakeFactory
from .records import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    FakeUser,
    InteractionRecord,
    RecordedAttachment,
    RecordedMessage,
    RequestRecord,
)
from .server import DiscordError, FakeDiscord

__all__ = [
    "EPHEMERAL",
    "IS_COMPONENTS_V2",
    "LOADING",
    "DiscordError",
    "FakeDiscord",
    "FakeUser",
    "InteractionRecord",
    "Perm",
    "RecordedAttachment",
    "RecordedMessage",
    "RequestRecord",
    "SnowflakeFactory",
    "pointing_discord_at",
    "running_bot",
]
