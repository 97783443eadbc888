"""A permission overwrite that denies the bot in one channel (``fake.deny_bot``): the bot's
cache sees it (GUILD_CREATE and CHANNEL_UPDATE) and its posts there are refused."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from tests.discord_standin import FakeDiscord
from tests.discord_standin.payloads import Perm
from tests.discord_standin.test_standin import DemoBot, bot, fake

__all__ = ["bot", "fake"]  # the fixtures, imported for pytest


async def _bot_permissions(
    bot: DemoBot, channel_id: int, *, until_denied: int
) -> discord.Permissions:
    """The bot's permissions in a channel from its cache, once CHANNEL_UPDATE has landed."""
    for _ in range(200):
        channel = bot.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        permissions = channel.permissions_for(channel.guild.me)
        if not permissions.value & until_denied:
            return permissions
        await asyncio.sleep(0.01)
    raise AssertionError("the bot never saw the overwrite")


async def test_a_denied_channel_refuses_the_bots_posts(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.deny_bot(fake.moderation_channel_id, Perm.SEND_MESSAGES)
    permissions = await _bot_permissions(
        bot, fake.moderation_channel_id, until_denied=Perm.SEND_MESSAGES
    )
    assert (permissions.view_channel, permissions.read_message_history) == (True, True)
    channel = bot.get_channel(fake.moderation_channel_id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.send("hello")
    assert caught.value.code == 50013
    assert fake.channel_messages(fake.moderation_channel_id) == []

    general = bot.get_channel(fake.channel_id)
    assert isinstance(general, discord.TextChannel)
    assert general.permissions_for(general.guild.me).send_messages
    await general.send("still fine here")

    await fake.deny_bot(fake.moderation_channel_id, Perm.VIEW_CHANNEL)
    await _bot_permissions(bot, fake.moderation_channel_id, until_denied=Perm.VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as hidden:
        await channel.send("hello")
    assert hidden.value.code == 50001


async def test_attach_files_denied_refuses_only_uploads(fake: FakeDiscord, bot: DemoBot) -> None:
    await fake.deny_bot(fake.channel_id, Perm.ATTACH_FILES)
    await _bot_permissions(bot, fake.channel_id, until_denied=Perm.ATTACH_FILES)
    channel = bot.get_channel(fake.channel_id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("text is fine")
    with pytest.raises(discord.Forbidden):
        await channel.send(file=discord.File(io.BytesIO(b"x"), "a.txt"))
