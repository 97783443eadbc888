"""Refusals are seen only by the member they refuse, also when they come after ``/imagine``
has already shown the public "Atelier is thinking…" placeholder (a burst of requests races
past the early limit check and is refused when its job is queued)."""

from __future__ import annotations

import asyncio

from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, member_answer


async def test_a_burst_of_imagines_is_refused_privately_past_the_limit(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    bots.script.step_delay = 0.5  # the accepted jobs wait and run while the burst lands
    burst = await asyncio.gather(
        *(fake.slash("imagine", {"prompt": f"cat number {n}"}, user=alice) for n in range(25))
    )
    answers = [await member_answer(fake, rec) for rec in burst]
    refused = [answer for answer in answers if "limit" in answer.content]
    assert refused
    assert len(answers) - len(refused) <= 13  # 3 running and 10 waiting at most
    for answer in refused:
        assert answer.ephemeral, answer.content
        assert answer.content.startswith("⚠️ You already have")
    public = [m for m in fake.channel_messages() if not m.deleted]
    assert not [m for m in public if "limit" in m.content]
    assert len(public) == len(answers) - len(refused)
    bots.script.step_delay = 0.0
