"""Member-written text never notifies anyone: a prompt that mentions a member is echoed in
public messages (the first job, the other jobs of a permutation, the message after U1, a
result posted as a reply) without pinging them; only the job's owner, whom the bot names on
purpose, may be notified."""

from __future__ import annotations

from cogs.resources import Tuning
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result


def _public_by_bot(fake: FakeDiscord) -> list[RecordedMessage]:
    return [
        m
        for m in fake.messages.values()
        if m.author_id == fake.bot_user_id and not m.ephemeral and not m.loading
    ]


def _pings_nobody_but(fake: FakeDiscord, owner: FakeUser, target: FakeUser) -> None:
    shown = [m for m in _public_by_bot(fake) if target.mention in m.content]
    assert shown
    for message in shown:
        assert message.allowed_mentions is not None, message.content
        assert not message.allowed_mentions.get("parse"), message.allowed_mentions
        assert target.id not in message.pinged, message.content
        assert set(message.pinged) <= {owner.id}, message.pinged


async def test_a_mention_in_a_prompt_pings_nobody_in_any_job_message(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    await bots.start()
    prompt = f"{{a cat, a dog}} next to {bob.mention}"
    rec = await fake.slash("imagine", {"prompt": prompt}, user=alice)
    first = await rec.wait_original(is_result, timeout=30)
    second = await rec.wait_followup(is_result, timeout=30)
    assert bob.mention in second.content
    press = await fake.press(first.id, button(first, "u", 0), user=alice)
    await press.wait_original(lambda m: bool(m.attachments), timeout=30)
    _pings_nobody_but(fake, alice, bob)


async def test_a_result_posted_as_a_reply_pings_its_owner_only(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    await bots.start(tuning=Tuning(progress_edit_seconds=0.05, token_window_seconds=0.3))
    bots.script.step_delay = 0.2
    rec = await fake.slash("imagine", {"prompt": f"{bob.mention} at dusk --steps 8"}, user=alice)
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=60
    )
    assert bob.mention in result.content
    assert result.pinged == [alice.id]  # told that the result is there, as on Midjourney
    await rec.wait_original(lambda m: "the result is in the reply below" in m.content)
    _pings_nobody_but(fake, alice, bob)
