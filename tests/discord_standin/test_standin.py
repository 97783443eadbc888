"""The stand-in works with the real discord.py client over real sockets.

A small ``AutoShardedBot`` (slash commands, a deferred command with a file and a button, a
DynamicItem button, a subcommand group, a channel option, a select, a modal) logs in to
``FakeDiscord`` and is driven the way a person would drive it.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands
from PIL import Image

from tests.discord_standin import (
    FakeDiscord,
    InteractionRecord,
    RecordedMessage,
    pointing_discord_at,
    running_bot,
)


def _png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


class VariantButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"variant:(?P<job>\d+):(?P<index>\d+)"
):
    """A persistent button whose state lives in its custom_id, like the bot's grid buttons."""

    def __init__(self, job: int, index: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"V{index}",
                custom_id=f"variant:{job}:{index}",
                style=discord.ButtonStyle.primary,
            )
        )
        self.job = job
        self.index = index

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VariantButton:
        return cls(int(match["job"]), int(match["index"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.edit_message(
            content=f"variant {self.index} of job {self.job}", view=None
        )


class PickView(discord.ui.View):
    @discord.ui.select(
        custom_id="pick", options=[discord.SelectOption(label=x, value=x) for x in ("euler", "dpm")]
    )
    async def pick(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        await interaction.response.edit_message(content=f"sampler: {select.values[0]}", view=None)


class NoteModal(discord.ui.Modal, title="A note"):
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Note", custom_id="note")

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class Confirm(discord.ui.View):
    @discord.ui.button(label="Yes", custom_id="confirm-yes")
    async def yes(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="confirmed", view=None)


class DemoBot(commands.AutoShardedBot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())
        self.guild = discord.Object(guild_id)
        self.errors: list[BaseException] = []
        self.release = asyncio.Event()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VariantButton)
        tree = self.tree

        @tree.command(description="Are you there?")
        async def ping(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(description="Who am I here?")
        async def whoami(interaction: discord.Interaction[Any]) -> None:
            member = interaction.user
            assert isinstance(member, discord.Member)
            joined = member.joined_at.timestamp() if member.joined_at else None
            roles = sorted(role.name for role in member.roles)
            manage = interaction.permissions.manage_guild
            await interaction.response.send_message(
                f"joined={joined} roles={roles} manage={manage}", ephemeral=True
            )

        @tree.command(description="Takes a while, then sends a picture")
        async def slow(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer()
            await asyncio.sleep(0.05)
            view = discord.ui.View(timeout=None)
            view.add_item(VariantButton(7, 2))
            await interaction.edit_original_response(
                content="done", attachments=[discord.File(io.BytesIO(PNG), "grid.png")], view=view
            )

        @tree.command(description="Defers, then answers when the test says so")
        async def later(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(ephemeral=True)
            await self.release.wait()
            try:
                await interaction.edit_original_response(content="too late?")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Defers, then sends two followups")
        async def twice(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(ephemeral=True)
            await interaction.followup.send("first", ephemeral=True)
            await interaction.followup.send("second")

        @tree.command(description="Choose a sampler")
        async def sampler(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("pick one", view=PickView())

        @tree.command(description="Leave a note")
        async def note(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_modal(NoteModal())

        @tree.command(description="Replies with a picture in an embed, then asks to confirm")
        async def card(interaction: discord.Interaction[Any]) -> None:
            embed = discord.Embed(title="card").set_image(url="attachment://card.png")
            await interaction.response.send_message(
                embed=embed, file=discord.File(io.BytesIO(PNG), "card.png"), view=Confirm()
            )

        @tree.command(description="Says what was attached, once it has read it")
        async def look(
            interaction: discord.Interaction[Any],
            picture: discord.Attachment,
            extra: discord.Attachment | None = None,
        ) -> None:
            data = await picture.read()
            await interaction.response.send_message(
                f"{picture.filename}: {picture.size} bytes, read {len(data)} from "
                f"{picture.url.split('/')[2]}; extra={extra is not None}",
                ephemeral=True,
            )

        @commands.command()
        async def hi(ctx: commands.Context[Any]) -> None:
            await ctx.reply(f"hello {ctx.author.name}")

        self.add_command(hi)

        prefer = app_commands.Group(name="prefer", description="Your preferences")
        option = app_commands.Group(name="option", description="Saved option sets", parent=prefer)

        @option.command(name="set", description="Save an option set")
        async def option_set(interaction: discord.Interaction[Any], name: str, flags: str) -> None:
            await interaction.response.send_message(f"saved {name}: {flags}", ephemeral=True)

        tree.add_command(prefer)

        admin = app_commands.Group(
            name="admin",
            description="Server settings",
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )
        channel_group = app_commands.Group(name="channel", description="Channels", parent=admin)

        @channel_group.command(name="moderation", description="Where moderation goes")
        async def moderation(
            interaction: discord.Interaction[Any], channel: discord.TextChannel
        ) -> None:
            allowed = interaction.permissions.manage_guild
            await interaction.response.send_message(
                f"moderation channel: {channel.mention} ({channel.name}) allowed={allowed}",
                ephemeral=True,
            )

        tree.add_command(admin, guild=self.guild)
        await tree.sync()
        await tree.sync(guild=self.guild)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(attachment_size_limit=256 * 1024) as fake:
        yield fake


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[DemoBot]:
    with pointing_discord_at(fake):
        async with running_bot(fake, DemoBot(fake.guild_id)) as bot:
            await fake.wait_for_commands()
            yield bot
    assert not fake.errors


def _statuses(fake: FakeDiscord, method: str, pattern: str) -> list[int]:
    return [r.status for r in fake.requests if r.method == method and re.search(pattern, r.path)]


async def test_pointing_restores_discord_py_defaults() -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        with pointing_discord_at(fake):
            assert fake.api_base == discord.http.Route.BASE
            assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


async def test_commands_are_registered_globally_and_per_guild(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    names = {c["name"] for c in fake.commands}
    assert {"ping", "slow", "prefer", "admin"} <= names
    assert [c["name"] for c in fake.registered_commands(fake.guild_id)] == ["admin"]
    prefer = next(c for c in fake.registered_commands() if c["name"] == "prefer")
    assert prefer["options"][0]["name"] == "option"
    assert prefer["options"][0]["type"] == 2
    assert bot.user is not None
    assert bot.user.id == fake.bot_user_id
    assert bot.get_channel(fake.moderation_channel_id) is not None


async def test_ping_answers_ephemerally(fake: FakeDiscord, bot: DemoBot) -> None:
    rec = await fake.slash("ping")
    original = await rec.wait_original()
    assert (rec.response_type, rec.ephemeral) == (4, True)
    assert original.content == "pong"
    assert original.ephemeral
    assert original.interaction_id == rec.id
    assert original not in fake.channel_messages()
    assert fake.messages[original.id] is original


async def test_members_carry_their_join_time_and_extra_roles() -> None:
    async with FakeDiscord() as fake:
        # Roles reach the bot in GUILD_CREATE, so they are made before it connects.
        host = fake.add_role("Contest host")
        carol = fake.add_user("carol")
        assert carol.joined_at < time.time() - 29 * 86_400  # long-standing by default
        carol.joined_at = 1_700_000_000.5
        carol.roles.append(host)
        with pointing_discord_at(fake):
            async with running_bot(fake, DemoBot(fake.guild_id)):
                await fake.wait_for_commands()
                answer = await (await fake.slash("whoami", user=carol)).wait_original()
        assert answer.content == (
            "joined=1700000000.5 roles=['@everyone', 'Contest host'] manage=False"
        )
        assert not fake.errors


async def test_slow_defers_then_edits_in_a_file_and_a_dynamic_button(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    rec = await fake.slash("slow")
    await rec.wait_acknowledged()
    assert rec.response_type == 5
    assert not rec.ephemeral
    done = await rec.wait_original(lambda m: not m.loading)
    assert done.content == "done"
    assert [(a.filename, a.content_type, a.data) for a in done.attachments] == [
        ("grid.png", "image/png", PNG)
    ]
    assert (done.attachments[0].width, done.attachments[0].height) == (64, 48)
    assert done.custom_ids == ["variant:7:2"]
    assert done.button_labels == ["V2"]
    assert done.history[0]["content"] == ""
    assert done.edits == 1
    assert fake.channel_messages(fake.channel_id) == [done]

    press = await fake.press(done.id, "variant:7:2")
    after = await press.wait_original(lambda m: m.content.startswith("variant"))
    assert press.response_type == 7
    assert after is done
    assert done.content == "variant 2 of job 7"
    assert done.components == []
    assert done.edits == 2
    assert done.attachment_names == ["grid.png"]


async def test_first_followup_after_a_defer_replaces_the_thinking_message(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    rec = await fake.slash("twice")
    second = await rec.wait_followup(lambda m: m.content == "second")
    first = rec.followups[0]
    assert first is rec.original
    assert first.content == "first"
    assert first.ephemeral
    assert not first.loading
    assert not second.ephemeral
    assert second is not first
    assert fake.channel_messages() == [second]


async def test_subcommand_group_and_channel_option(fake: FakeDiscord, bot: DemoBot) -> None:
    rec = await fake.slash("prefer option set", {"name": "wide", "flags": "--ar 3:2"})
    assert (await rec.wait_original()).content == "saved wide: --ar 3:2"

    mod = fake.add_user("mod", manage_guild=True)
    rec = await fake.slash(
        "admin channel moderation", {"channel": fake.moderation_channel_id}, user=mod
    )
    reply = await rec.wait_original()
    assert (
        reply.content
        == f"moderation channel: <#{fake.moderation_channel_id}> (moderation) allowed=True"
    )
    assert rec.data["guild_id"] == str(fake.guild_id)


async def test_an_attachment_option_is_resolved_and_its_bytes_served_on_loopback(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    rec = await fake.slash("look", {"picture": ("fox.png", PNG)})
    reply = await rec.wait_original()
    port = fake.api_base.split("/")[2].split(":")[1]
    assert reply.content == (
        f"fox.png: {len(PNG)} bytes, read {len(PNG)} from 127.0.0.1:{port}; extra=False"
    )
    (upload,) = [a for a in fake.uploads.values() if a.filename == "fox.png"]
    assert fake.cdn_reads == [upload.id]


async def test_select_and_modal(fake: FakeDiscord, bot: DemoBot) -> None:
    rec = await fake.slash("sampler")
    menu = await rec.wait_original()
    chose = await fake.select(menu.id, "pick", ["dpm"])
    await chose.wait_original(lambda m: m.content == "sampler: dpm")

    rec = await fake.slash("note")
    await rec.wait_acknowledged()
    assert rec.response_type == 9
    assert rec.modal is not None
    submitted = await fake.submit_modal(rec, {"note": "hello"})
    assert (await submitted.wait_original()).content == "noted: hello"


async def test_bot_sends_to_a_channel_with_a_file(fake: FakeDiscord, bot: DemoBot) -> None:
    channel = bot.get_channel(fake.channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello", file=discord.File(io.BytesIO(PNG), "a.png"))
    recorded = fake.messages[sent.id]
    assert recorded.content == "hello"
    assert recorded.author_id == fake.bot_user_id
    assert recorded.attachments[0].data == PNG
    assert await sent.attachments[0].read() == PNG  # served by the stand-in's CDN

    edited = await sent.edit(content="hello again")
    assert edited.content == "hello again"
    assert recorded.edits == 1
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "hello again"

    with pytest.raises(discord.HTTPException) as too_big:
        await channel.send(file=discord.File(io.BytesIO(b"x" * (300 * 1024)), "big.bin"))
    assert (too_big.value.status, too_big.value.code) == (413, 40005)
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send("")
    assert empty.value.code == 50006


async def test_reply_with_a_file_then_a_deferred_update_from_its_button(
    fake: FakeDiscord, bot: DemoBot
) -> None:
    rec = await fake.slash("card")
    card = await rec.wait_original()
    assert card.attachments[0].data == PNG
    assert card.embeds[0]["image"]["url"] == "attachment://card.png"  # recorded as sent
    press = await fake.press(card.id, "confirm-yes")
    await press.wait_original(lambda m: m.content == "confirmed")
    assert press.response_type == 6
    assert press.original is card
    assert card.custom_ids == []


async def test_a_mention_reaches_a_prefix_command(fake: FakeDiscord, bot: DemoBot) -> None:
    said = await fake.user_message(f"<@{fake.bot_user_id}> hi")
    reply = await fake.wait_for_message(lambda m: m.content == "hello alice")
    assert reply.message_reference is not None
    assert reply.message_reference["message_id"] == str(said.id)


async def test_protocol_errors_look_like_discords(fake: FakeDiscord, bot: DemoBot) -> None:
    rec = await fake.slash("ping")
    await rec.wait_acknowledged()
    hook = f"{fake.api_base}/webhooks/{fake.application_id}"
    async with aiohttp.ClientSession() as session:
        callback = f"{fake.api_base}/interactions/{rec.id}/{rec.token}/callback"
        async with session.post(
            callback, json={"type": 4, "data": {"content": "again"}}
        ) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["code"] == 40060
        async with session.get(f"{hook}/not-a-token/messages/@original") as response:
            assert response.status == 401
            assert (await response.json())["code"] == 50027
        async with session.get(f"{fake.api_base}/users/@me") as response:
            assert response.status == 401
    assert [r.status for r in fake.requests[-3:]] == [400, 401, 401]


async def test_rate_limited_callback_is_retried(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", status=429, retry_after=0.2)
    rec = await fake.slash("ping")
    original = await rec.wait_original()
    assert original.content == "pong"
    assert _statuses(fake, "POST", "/callback$") == [429, 200]
    assert rec.acknowledged_at is not None
    assert rec.acknowledged_at - rec.created_at >= 0.2


async def test_rate_limited_webhook_edit_is_retried(fake: FakeDiscord, bot: DemoBot) -> None:
    fake.fail_next("PATCH", r"/messages/@original$", status=429, retry_after=0.2, global_=False)
    rec = await fake.slash("slow")
    done = await rec.wait_original(lambda m: not m.loading)
    assert done.attachments[0].data == PNG
    assert _statuses(fake, "PATCH", "@original$") == [429, 200]


async def test_expired_token_makes_edits_fail_with_50027(fake: FakeDiscord, bot: DemoBot) -> None:
    rec = await fake.slash("later")
    await rec.wait_acknowledged()
    fake.expire_tokens()
    bot.release.set()
    await fake.wait_for(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException)
    assert (error.status, error.code) == (401, 50027)
    assert rec.original is not None
    assert rec.original.loading


async def test_bot_resumes_after_the_gateway_drops(fake: FakeDiscord, bot: DemoBot) -> None:
    assert await fake.disconnect_clients() == 1
    await fake.wait_until_ready()
    assert fake.gateway.resume_count == 1
    assert fake.gateway.identify_count == 1
    rec = await fake.slash("ping")
    assert (await rec.wait_original()).content == "pong"


async def test_wait_for_reports_what_it_saw(fake: FakeDiscord) -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s"):
        await fake.wait_for(lambda: False, timeout=0.1)
    assert time.monotonic() - started < 1


def test_recorded_message_helpers() -> None:
    message = RecordedMessage(
        id=1,
        channel_id=2,
        author_id=3,
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "custom_id": "a", "label": "Upscale"},
                    {"type": 2, "custom_id": "b", "emoji": {"name": "🔄"}},
                ],
            },
            {"type": 1, "components": [{"type": 3, "custom_id": "c", "options": []}]},
        ],
    )
    assert message.custom_ids == ["a", "b", "c"]
    assert message.button_labels == ["Upscale", "🔄"]
    assert isinstance(InteractionRecord, type)
