"""The stand-in's ``PUT /guilds/{g}/members/{u}/roles/{r}``, with and without Manage Roles,
and roles edited or deleted while the bot runs (``fake.update_role``, ``fake.delete_role``)."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest
from discord import Role

from tests.discord_standin import FakeDiscord, pointing_discord_at, running_bot
from tests.discord_standin.payloads import Perm
from tests.discord_standin.test_standin import DemoBot, bot, fake

__all__ = ["bot", "fake"]  # the fixtures, imported for pytest


async def test_the_bot_gives_a_member_a_role(fake: FakeDiscord, bot: DemoBot) -> None:
    backers = fake.add_role("Backers")
    carol = fake.add_user("carol")
    await bot.http.add_role(fake.guild_id, carol.id, backers, reason="Backer of #3")
    await bot.http.add_role(fake.guild_id, carol.id, backers)  # again: no change, no error
    assert carol.roles == [backers]
    assert fake.role_grants == [(carol.id, backers, "Backer of #3"), (carol.id, backers, None)]


async def test_without_manage_roles_the_bot_gets_403(fake: FakeDiscord, bot: DemoBot) -> None:
    backers = fake.add_role("Backers")
    carol = fake.add_user("carol")
    fake.bot_can_manage_roles = False
    with pytest.raises(discord.Forbidden) as caught:
        await bot.http.add_role(fake.guild_id, carol.id, backers)
    assert caught.value.code == 50013
    assert carol.roles == []
    assert fake.role_grants == []


async def test_unknown_roles_and_members_are_404(fake: FakeDiscord, bot: DemoBot) -> None:
    backers = fake.add_role("Backers")
    with pytest.raises(discord.NotFound, match="Unknown Member"):
        await bot.http.add_role(fake.guild_id, 12345, backers)
    with pytest.raises(discord.NotFound, match="Unknown Role"):
        await bot.http.add_role(fake.guild_id, fake.owner.id, 12345)


async def test_roles_sit_below_the_bot_unless_placed_above_it(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    backers = fake.add_role("Backers")
    patrons = fake.add_role("Patrons", above_bot=True)
    positions = {int(r["id"]): r["position"] for r in await bot.http.get_roles(fake.guild_id)}
    assert positions[backers] < positions[fake.bot_role_id] < positions[patrons]
    carol = fake.add_user("carol")
    with pytest.raises(discord.Forbidden) as caught:
        await bot.http.add_role(fake.guild_id, carol.id, patrons)
    assert caught.value.code == 50013
    await bot.http.add_role(fake.guild_id, carol.id, backers)
    assert carol.roles == [backers]


async def test_editing_and_deleting_a_role_reaches_the_bot(fake: FakeDiscord) -> None:
    backers = fake.add_role("Backers")  # before the bot connects: it comes in GUILD_CREATE
    carol = fake.add_user("carol")
    carol.roles.append(backers)
    with pointing_discord_at(fake):
        async with running_bot(fake, DemoBot(fake.guild_id)) as bot:
            await fake.wait_for(lambda: bot.get_guild(fake.guild_id) is not None)
            await _edit_and_delete(fake, bot, backers)
    assert carol.roles == []
    assert not fake.errors


async def _edit_and_delete(fake: FakeDiscord, bot: DemoBot, backers: int) -> None:
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None
    assert guild.me is not None
    me = guild.me

    def cached(check: Callable[[Role], bool]) -> Callable[[], bool]:
        return lambda: (role := guild.get_role(backers)) is not None and check(role)

    assert cached(lambda role: role < me.top_role and not role.permissions.kick_members)()
    await fake.update_role(backers, permissions=Perm.EVERYONE | Perm.KICK_MEMBERS)
    await fake.wait_for(cached(lambda role: role.permissions.kick_members))
    await fake.update_role(backers, above_bot=True)
    await fake.wait_for(cached(lambda role: role > me.top_role))
    with pytest.raises(discord.Forbidden):
        await bot.http.add_role(fake.guild_id, fake.owner.id, backers)

    await fake.delete_role(backers)
    await fake.wait_for(lambda: guild.get_role(backers) is None)
    with pytest.raises(discord.NotFound, match="Unknown Role"):
        await bot.http.add_role(fake.guild_id, fake.owner.id, backers)
