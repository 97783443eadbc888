"""Who may see a job, by every road that shows one: the Info button (pressed or forged),
/show, and the buttons that act on a job. Job numbers are global, so any of them can be
typed or forged by anyone."""

from __future__ import annotations

import discord

from bot.app import AtelierBot
from db.users import UserSettings, save_user_settings
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of

SECRET = "a secret garden of glass"


async def _upscale(fake: FakeDiscord, owner: FakeUser) -> tuple[RecordedMessage, RecordedMessage]:
    """``owner``'s grid, and the upscale of its first image (which has the Info button)."""
    rec = await fake.slash("imagine", {"prompt": SECRET}, user=owner)
    grid = await rec.wait_original(is_result, timeout=30)
    press = await fake.press(grid.id, button(grid, "u", 0), user=owner)
    upscaled = await press.wait_original(lambda m: bool(m.attachments), timeout=30)
    return grid, upscaled


async def _press_forged(
    bot: AtelierBot, fake: FakeDiscord, custom_id: str, user: FakeUser
) -> RecordedMessage:
    """Press a button with any custom_id, as a crafted interaction would."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="?", custom_id=custom_id))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    message = await channel.send("a message", view=view)
    press = await fake.press(message.id, custom_id, user=user)
    answer = await press.wait_original()
    assert press.ephemeral, custom_id
    return answer


def _reveals(answer: RecordedMessage) -> bool:
    return "secret garden" in answer.content or any(
        "secret garden" in str(embed) for embed in answer.embeds
    )


async def test_info_on_a_private_members_job_is_refused_to_others_pressed_or_forged(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start()
    grid, upscaled = await _upscale(fake, alice)
    assert bot.db is not None
    await save_user_settings(bot.db, UserSettings(alice.id, public=False))

    pressed = await fake.press(upscaled.id, button(upscaled, "info"), user=bob)
    answer = await pressed.wait_original()
    assert pressed.ephemeral
    assert answer.content.startswith("⚠️ there is no job")
    assert not _reveals(answer)
    for custom_id in (
        f"atelier:info:{job_id_of(grid)}:0",
        f"atelier:fav:{job_id_of(upscaled)}:0",
        f"atelier:cancel:{job_id_of(upscaled)}:0",
    ):
        forged = await _press_forged(bot, fake, custom_id, bob)
        assert forged.content == answer.content.replace(
            f"#{job_id_of(upscaled)}", f"#{int(custom_id.split(':')[2])}"
        )
        assert not _reveals(forged)
    # The same words as for a job that does not exist: a forged number tells nothing.
    missing = await _press_forged(bot, fake, "atelier:info:999999:0", bob)
    assert missing.content == answer.content.replace(f"#{job_id_of(upscaled)}", "#999999")

    mine = await fake.press(upscaled.id, button(upscaled, "info"), user=alice)
    assert _reveals(await mine.wait_original())


async def test_show_and_buttons_refuse_a_private_members_job_to_others(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start()
    grid, _ = await _upscale(fake, alice)
    assert bot.db is not None
    await save_user_settings(bot.db, UserSettings(alice.id, public=False))
    moderator = fake.add_user("mod", manage_guild=True)
    setting = await fake.slash("admin buttons", {"everyone": True}, user=moderator)
    await setting.wait_original()
    jobs_before = await bot.db.fetchall("SELECT id FROM jobs")

    shown = await fake.slash("show", {"job_id": job_id_of(grid)}, user=bob)
    answer = await shown.wait_original()
    assert shown.ephemeral
    assert answer.content.startswith("⚠️ there is no job")
    varied = await fake.press(grid.id, button(grid, "v", 1), user=bob)
    assert (await varied.wait_original()).content.startswith("⚠️ there is no job")
    assert varied.ephemeral
    assert await bot.db.fetchall("SELECT id FROM jobs") == jobs_before

    own = await fake.slash("show", {"job_id": job_id_of(grid)}, user=alice)
    assert is_result(await own.wait_original(is_result, timeout=30))


async def test_a_public_job_is_seen_only_in_the_server_it_was_made_in(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start()
    grid, upscaled = await _upscale(fake, alice)
    info = f"atelier:info:{job_id_of(upscaled)}:0"
    here = await _press_forged(bot, fake, info, bob)
    assert _reveals(here)  # public, and asked in the server it was made in

    assert bot.db is not None
    async with bot.db.transaction() as conn:  # as if both had been made in another server
        await conn.execute("UPDATE job_messages SET guild_id = 1234")
    elsewhere = await _press_forged(bot, fake, info, bob)
    assert elsewhere.content.startswith("⚠️ there is no job")
    shown = await fake.slash("show", {"job_id": job_id_of(grid)}, user=bob)
    assert (await shown.wait_original()).content.startswith("⚠️ there is no job")
    assert _reveals(await _press_forged(bot, fake, info, alice))  # the owner, anywhere
