"""/imagine end to end: the real discord.py client, the real worker pool on the tiny model,
and the loopback stand-in of Discord in between."""

from __future__ import annotations

import asyncio
import re

import discord

from db.jobs import JobKind, JobStatus, get_job, list_images
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of

GRID_BUTTONS = ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]


async def test_imagine_defers_shows_progress_and_posts_the_grid_with_nine_buttons(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    # Steps spaced wider than the progress-edit interval, so a preview edit happens even
    # when a busy machine hands the bot the step events in a burst.
    bots.script.step_delay = 0.1
    rec = await fake.slash("imagine", {"prompt": "a lighthouse at dusk --seed 7"}, user=alice)
    await rec.wait_acknowledged()
    assert rec.response_type == 5  # deferred: "Atelier is thinking…"
    assert not rec.ephemeral
    final = await rec.wait_original(is_result, timeout=30)

    assert final.content.startswith("**a lighthouse at dusk** — <@")
    assert "seed 7" in final.content
    assert len(final.attachments) == 1
    assert final.attachments[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert final.button_labels == GRID_BUTTONS
    seen = [version["content"] for version in final.history]
    assert any("Waiting to start" in text for text in seen)
    assert any(re.search(r"\(\d+%\) \(standard\)", text) for text in seen)
    assert any(version["attachments"] == ["preview.jpg"] for version in final.history)
    job = await get_job(bot.db, job_id_of(final))
    assert job is not None
    assert job.status is JobStatus.DONE
    assert job.owner_id == alice.id
    assert len(await list_images(bot.db, job.id)) == 4


async def test_u1_upscales_v2_varies_and_reroll_rerolls_each_recording_its_parent(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a red fox --seed 3"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    parent = job_id_of(grid)

    upscale = await fake.press(grid.id, button(grid, "u", 0), user=alice)
    upscaled = await upscale.wait_original(lambda m: bool(m.attachments), timeout=30)
    assert upscaled.button_labels == [
        "Vary (Subtle)",
        "Vary (Strong)",
        "Upscale (Subtle)",
        "Upscale (Creative)",
        "Zoom Out 2×",
        "Zoom Out 1.5×",
        "Custom Zoom",  # no Make Square: the image is square already
        "⬅️",
        "➡️",
        "⬆️",
        "⬇️",
        "Favorite",
        "Web/Info",
    ]
    assert "Image #1" in upscaled.content
    up_job = await get_job(bot.db, job_id_of(upscaled))
    assert up_job is not None
    assert up_job.kind is JobKind.UPSCALE
    assert (up_job.parent_job_id, up_job.parent_index) == (parent, 0)
    (image,) = await list_images(bot.db, up_job.id)
    assert (image.width, image.height) == (128, 128)

    vary = await fake.press(grid.id, button(grid, "v", 1), user=alice)
    varied = await vary.wait_original(is_result, timeout=30)
    var_job = await get_job(bot.db, job_id_of(varied))
    assert var_job is not None
    assert var_job.kind is JobKind.VARIATION
    assert (var_job.parent_job_id, var_job.parent_index) == (parent, 1)
    assert "Variations (Subtle)" in varied.content

    reroll = await fake.press(grid.id, button(grid, "reroll"), user=alice)
    rerolled = await reroll.wait_original(is_result, timeout=30)
    again = await get_job(bot.db, job_id_of(rerolled))
    assert again is not None
    assert again.kind is JobKind.REROLL
    assert again.parent_job_id == parent
    assert again.params["seed"] != 3


async def test_cancel_on_a_queued_job(bots: Bots, fake: FakeDiscord, alice: FakeUser) -> None:
    bot = await bots.start()
    bots.script.step_delay = 0.3  # the first job holds the only worker for a while
    first = await fake.slash("imagine", {"prompt": "first --steps 20"}, user=alice)
    await first.wait_original(lambda m: "%" in m.content, timeout=30)
    second = await fake.slash("imagine", {"prompt": "second"}, user=alice)
    waiting = await second.wait_original(lambda m: "Waiting to start, position 1" in m.content)
    waiting_id = job_id_of(waiting)
    stranger = await fake.press(waiting.id, button(waiting, "cancel"), user=fake.add_user("eve"))
    assert "Only the person" in (await stranger.wait_original()).content
    press = await fake.press(waiting.id, button(waiting, "cancel"), user=alice)
    await press.wait_acknowledged()
    assert press.ephemeral
    cancelled = await second.wait_original(lambda m: m.content.endswith("cancelled"))
    assert cancelled.custom_ids == []
    job = await get_job(bot.db, waiting_id)
    assert job is not None
    assert job.status is JobStatus.CANCELLED
    bots.script.step_delay = 0.0
    await first.wait_original(is_result, timeout=60)


async def test_a_parameter_error_is_ephemeral_names_the_flag_and_queues_nothing(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a fox --ar 5:0"}, user=alice)
    answer = await rec.wait_original()
    assert rec.ephemeral
    assert "--ar" in answer.content
    assert await bot.db.fetchone("SELECT id FROM jobs") is None


async def test_others_cannot_press_someone_elses_buttons_unless_the_server_allows_it(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "alice's castle"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    press = await fake.press(grid.id, button(grid, "u", 2), user=bob)
    refusal = await press.wait_original()
    assert press.ephemeral
    assert f"<@{alice.id}>" in refusal.content
    count = await bot.db.fetchone("SELECT count(*) FROM jobs")
    assert count is not None
    assert count[0] == 1

    moderator = fake.add_user("mod", manage_guild=True)
    setting = await fake.slash("admin buttons", {"everyone": True}, user=moderator)
    await setting.wait_original()
    press = await fake.press(grid.id, button(grid, "u", 2), user=bob)
    upscaled = await press.wait_original(lambda m: bool(m.attachments), timeout=30)
    job = await get_job(bot.db, job_id_of(upscaled))
    assert job is not None
    assert job.owner_id == bob.id


async def test_a_malformed_or_unknown_button_gets_an_ephemeral_error(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    # A message such as an older version (or a deleted job) could have left behind.
    view = discord.ui.View(timeout=None)
    stale = ("atelier:nonsense", "atelier:u:999999:0", "atelier:zap:1:0", "atelier:u:1:7")
    for custom_id in stale:
        view.add_item(discord.ui.Button(label="?", custom_id=custom_id))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    message = await channel.send("an old message", view=view)
    for custom_id in stale:
        press = await fake.press(message.id, custom_id, user=alice)
        answer = await press.wait_original()
        assert press.ephemeral, custom_id
        assert answer.content.startswith("⚠️"), answer.content


async def test_a_button_pressed_twice_at_once_makes_one_job(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    bots.script.step_delay = 0.2  # the first upscale is still running when the second lands
    rec = await fake.slash("imagine", {"prompt": "twins --steps 4"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    presses = await asyncio.gather(
        fake.press(grid.id, button(grid, "u", 0), user=alice),
        fake.press(grid.id, button(grid, "u", 0), user=alice),
    )
    # Both are acknowledged ("thinking…"); the refusal then replaces its placeholder with
    # a message only the member sees.
    await fake.wait_for(lambda: any(press.followups for press in presses), timeout=30)
    refused = [press for press in presses if press.followups]
    assert len(refused) == 1
    (answer,) = refused[0].followups
    assert answer.ephemeral
    assert "already on its way" in answer.content
    assert refused[0].original is not None
    assert refused[0].original.deleted
    rows = await bot.db.fetchall("SELECT id FROM jobs WHERE kind = 'upscale'")
    assert len(rows) == 1
    bots.script.step_delay = 0.0
