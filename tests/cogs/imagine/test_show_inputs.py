"""/show and Info of jobs made from images, against the Discord stand-in: the input images
come back as small thumbnails beside the grid, and the words say "image prompts" with their
``--iw``, or "/blend of N images" — never an empty bold prompt."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import discord
from PIL import Image

from bot.app import AtelierBot
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, is_result, job_id_of
from tests.helpers.image_prompts import (
    ATTACHMENT_SOURCE,
    URL_SOURCE,
    give_image_prompts,
    write_inputs,
)


async def _grid(fake: FakeDiscord, owner: FakeUser, prompt: str) -> int:
    made = await fake.slash("imagine", {"prompt": prompt}, user=owner)
    return job_id_of(await made.wait_original(is_result, timeout=30))


async def _show(fake: FakeDiscord, owner: FakeUser, job_id: int) -> RecordedMessage:
    shown = await fake.slash("show", {"job_id": job_id}, user=owner)
    return await shown.wait_original(is_result, timeout=30)


async def _info(bot: AtelierBot, fake: FakeDiscord, job_id: int, user: FakeUser) -> dict[str, Any]:
    """The Info embed of ``job_id``, as its Info button shows it to ``user``."""
    custom_id = f"atelier:info:{job_id}:0"
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Info", custom_id=custom_id))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    message = await channel.send("a job", view=view)
    press = await fake.press(message.id, custom_id, user=user)
    answer = await press.wait_original()
    assert press.ephemeral
    assert answer.embeds, answer.content
    return answer.embeds[0]


def _thumbnail_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        return image.size


async def test_show_posts_the_image_prompts_beside_the_grid_and_info_lists_them(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    assert bot.db is not None
    job_id = await _grid(fake, alice, "a fox in the snow")
    prompts = write_inputs(bots.data_dir / "inputs", [URL_SOURCE, ATTACHMENT_SOURCE])
    await give_image_prompts(bot.db, job_id, prompts, image_weight=1.5)

    shown = await _show(fake, alice, job_id)
    assert shown.content.startswith(
        f"**a fox in the snow --iw 1.5** + 2 image prompts — <@{alice.id}> · seed"
    )
    assert shown.content.endswith("\n2 image prompts (--iw 1.5): attached below")
    names = [attachment.filename for attachment in shown.attachments]
    assert names[1:] == ["input-1.jpg", "input-2.jpg"]
    assert names[0].endswith(".png")  # the grid first, as before
    for attachment in shown.attachments[1:]:
        assert _thumbnail_size(attachment.data) == (256, 171)  # of a 300×200 image

    info = await _info(bot, fake, job_id, alice)
    fields = {field["name"]: field["value"] for field in info["fields"]}
    listed = fields["2 image prompts, --iw 1.5"]
    assert f"1. `{URL_SOURCE}` · sha256 {prompts[0].sha256[:10]}" in listed
    assert f"2. `attachment fox sketch.png` · sha256 {prompts[1].sha256[:10]}" in listed
    assert str(bots.data_dir) not in str(info)  # where the bot keeps them is not said

    # An input no longer on disk is left out, and the message says so.
    await asyncio.to_thread(Path(prompts[1].path).unlink)
    again = await _show(fake, alice, job_id)
    assert [a.filename for a in again.attachments][1:] == ["input-1.jpg"]
    assert again.content.endswith(
        "2 image prompts (--iw 1.5): 1 of 2 attached below, the others no longer stored"
    )


async def test_show_and_info_of_a_blend_name_it_and_show_no_empty_prompt(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    assert bot.db is not None
    job_id = await _grid(fake, alice, "placeholder --ar 3:2")
    sources = ["attachment:a.png", "attachment:b.png", "attachment:c.png"]
    prompts = write_inputs(bots.data_dir / "inputs", sources)
    await give_image_prompts(bot.db, job_id, prompts, blend=True)

    shown = await _show(fake, alice, job_id)
    assert shown.content.startswith(f"**/blend of 3 images --ar 3:2** — <@{alice.id}> · seed")
    assert "****" not in shown.content
    assert "placeholder" not in shown.content
    assert shown.content.endswith("\n/blend of 3 images: attached below")
    assert [a.filename for a in shown.attachments][1:] == [
        "input-1.jpg",
        "input-2.jpg",
        "input-3.jpg",
    ]

    info = await _info(bot, fake, job_id, alice)
    assert info["description"] == "/blend of 3 images --ar 3:2"
    fields = {field["name"]: field["value"] for field in info["fields"]}
    assert fields["/blend of 3 images"].splitlines()[2].startswith("3. `attachment c.png`")
    assert not any("--iw" in name for name in fields)


async def test_show_of_a_text_job_posts_the_grid_alone(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    job_id = await _grid(fake, alice, "a fox in the snow")
    shown = await _show(fake, alice, job_id)
    assert len(shown.attachments) == 1
    assert "image prompt" not in shown.content
