"""Banned words and appeals, over the stand-in."""

from __future__ import annotations

import discord

from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots


async def test_a_banned_word_is_refused_and_the_appeal_reaches_the_moderators(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    moderator = fake.add_user("mod", manage_guild=True)
    added = await fake.slash("admin banned-words add", {"words": "Gore, dead body"}, user=moderator)
    assert "gore" in (await added.wait_original()).content
    channel = await fake.slash(
        "admin channel moderation", {"channel": fake.moderation_channel_id}, user=moderator
    )
    await channel.wait_original()

    allowed = await fake.slash("imagine", {"prompt": "a gorey party"}, user=alice)
    await allowed.wait_original(lambda m: not m.loading)
    assert not allowed.ephemeral  # whole words only: "gorey" is not "gore"

    rec = await fake.slash("imagine", {"prompt": "GORE in the  dead   body shop"}, user=alice)
    refusal = await rec.wait_original()
    assert rec.ephemeral
    assert "**gore**" in refusal.content
    assert "**dead body**" in refusal.content
    assert refusal.button_labels == ["Appeal to moderators"]
    jobs = await bot.db.fetchall("SELECT prompt FROM jobs")
    assert [row["prompt"] for row in jobs] == ["a gorey party"]

    # Discord refuses the post: the appeal was not made, so it can be made again.
    fake.fail_next("POST", rf"^/channels/{fake.moderation_channel_id}/messages$", status=403)
    failed = await fake.press(refusal.id, refusal.custom_ids[0], user=alice)
    assert "could not be posted" in (await failed.wait_followup()).content
    appeal = await fake.press(refusal.id, refusal.custom_ids[0], user=alice)
    assert "Sent to the moderators" in (await appeal.wait_followup()).content
    posted = await fake.wait_for_message(
        lambda m: m.channel_id == fake.moderation_channel_id and bool(m.embeds)
    )
    assert posted.embeds[0]["description"] == "GORE in the  dead   body shop"
    again = await fake.press(refusal.id, refusal.custom_ids[0], user=alice)
    assert "already" in (await again.wait_original()).content

    # Another member's press, and one for a blocked prompt that is not on record (a forged
    # id), get the same answer: neither tells whether the other exists.
    stranger = await fake.press(refusal.id, refusal.custom_ids[0], user=fake.add_user("eve"))
    strangers_answer = (await stranger.wait_original()).content
    assert "Only the person whose prompt was blocked" in strangers_answer
    action, _, index = refusal.custom_ids[0].rpartition(":")
    missing_id = f"{action.rpartition(':')[0]}:999:{index}"
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Appeal", custom_id=missing_id))
    forged = await channel.send("an old message", view=view)
    view.stop()
    missing = await fake.press(forged.id, missing_id, user=alice)
    assert (await missing.wait_original()).content == strangers_answer
    appeals = list(fake.channel_messages(fake.moderation_channel_id))
    assert len(appeals) == 1


async def test_admin_commands_are_refused_without_manage_server(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("admin banned-words add", {"words": "fox"}, user=alice)
    answer = await rec.wait_original()
    assert rec.ephemeral
    assert "Manage Server" in answer.content
    assert await bot.db.fetchone("SELECT * FROM banned_words") is None
    admin = next(c for c in fake.commands if c["name"] == "admin")
    assert int(admin["default_member_permissions"]) == 1 << 5  # Manage Server
