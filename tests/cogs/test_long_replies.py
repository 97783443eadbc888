"""Replies longer than Discord allows still reach the member: a long list comes with the
whole of it as a file, quoted input is shortened, embeds keep to their limits. Before, each
of these failed at Discord and the member read only the apology."""

from __future__ import annotations

from cogs.errors import APOLOGY
from cogs.fitting import MESSAGE_CHARS, REPLY_FILE
from tests.discord_standin import FakeDiscord, FakeUser, InteractionRecord, RecordedMessage
from tests.helpers.discord_bots import Bots

WORDS = [f"word{n}" for n in range(400)]


async def _answer(rec: InteractionRecord) -> RecordedMessage:
    answer = await rec.wait_original(lambda m: not m.loading, timeout=30)
    assert rec.ephemeral
    assert answer.content != APOLOGY
    assert len(answer.content) <= MESSAGE_CHARS
    return answer


def _whole(answer: RecordedMessage) -> str:
    """The complete reply: the attached file when the message could not hold it."""
    [attached] = answer.attachments
    assert attached.filename == REPLY_FILE
    return attached.data.decode()


async def test_long_option_flags_and_a_long_option_list_fit(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    flags = "--no " + ", ".join(f"thing{n}" for n in range(180))  # ~1,600 characters
    for n in range(3):
        rec = await fake.slash(
            "prefer option set", {"name": f"long{n}", "flags": flags}, user=alice
        )
        answer = await _answer(rec)
        assert f"`--long{n}` now means" in answer.content
    listing = await _answer(await fake.slash("prefer option list", {}, user=alice))
    assert listing.content.startswith("**Your options**")
    assert "attached file" in listing.content
    assert _whole(listing).count(flags) == 3


async def test_hundreds_of_banned_words_are_added_listed_and_refused_with_an_appeal(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    moderator = fake.add_user("mod", manage_guild=True)
    channel = await fake.slash(
        "admin channel moderation", {"channel": fake.moderation_channel_id}, user=moderator
    )
    await channel.wait_original()
    words = ", ".join(WORDS)
    added = await _answer(
        await fake.slash("admin banned-words add", {"words": words}, user=moderator)
    )
    assert added.content.startswith("✅ Banned: word0, word1")
    assert "word399" in _whole(added)
    listed = await _answer(await fake.slash("admin banned-words list", {}, user=moderator))
    assert listed.content.startswith("Banned words (400): word0, word1")
    assert "word399" in _whole(listed)

    prompt = " ".join(WORDS[:300])[:2000].rsplit(" ", 1)[0]  # as many as /imagine takes
    rec = await fake.slash("imagine", {"prompt": prompt}, user=alice)
    refusal = await _answer(rec)
    assert refusal.content.startswith("🚫 Sorry! This server does not allow")
    assert "appeal to the moderators" in refusal.content
    assert refusal.button_labels == ["Appeal to moderators"]
    appeal = await fake.press(refusal.id, refusal.custom_ids[0], user=alice)
    assert "Sent to the moderators" in (await appeal.wait_followup()).content
    posted = await fake.wait_for_message(
        lambda m: m.channel_id == fake.moderation_channel_id and bool(m.embeds)
    )
    matched = next(f for f in posted.embeds[0]["fields"] if f["name"] == "Matched")
    assert matched["value"].startswith("word0, word1")
    assert len(matched["value"]) <= 1024
    assert await bot.db.fetchone("SELECT id FROM jobs") is None


async def test_a_long_theme_queue_fits(bots: Bots, fake: FakeDiscord) -> None:
    await bots.start()
    moderator = fake.add_user("mod", manage_guild=True)
    for n in range(15):
        theme = f"theme {n} " + "lighthouses at dusk " * 9
        added = await fake.slash("contest theme add", {"theme": theme.strip()}, user=moderator)
        await _answer(added)
    listing = await _answer(await fake.slash("contest theme list", {}, user=moderator))
    assert listing.content.startswith("Themes, in the order weekly contests take them:")
    assert "15. theme 14" in _whole(listing)


async def test_errors_quoting_6000_characters_quote_them_shortened(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    long = "z" * 6000
    for options in (
        {"currency": long, "deadline": "3", "goal": "50"},
        {"currency": "USD", "deadline": long, "goal": "50"},
        {"currency": "USD", "deadline": "3", "goal": long},
    ):
        rec = await fake.slash("campaign create", {"model": "dreamy:2", **options}, user=alice)
        answer = await _answer(rec)
        assert answer.content.startswith("⚠️ "), answer.content
        assert len(answer.content) < 400, answer.content
        assert not answer.attachments
