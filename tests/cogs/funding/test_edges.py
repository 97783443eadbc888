"""Edge-case input to the funding commands: enormous numbers and very long text are refused
with a short, clear answer that changes nothing (never the generic apology)."""

from __future__ import annotations

from registry.versions import NewVersion, add_version
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.campaigns import T0
from tests.helpers.clock import FakeClock
from tests.helpers.discord_bots import Bots


async def test_a_5000_digit_goal_or_pledge_is_refused_with_what_is_accepted(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start(clock=FakeClock(T0))
    assert bot.db is not None
    await add_version(
        bot.db,
        NewVersion(
            name="dreamy", version="2", source="org/dreamy", family="sd1", creator_id=alice.id
        ),
        added_by=alice.id,
        now=T0,
    )
    huge = "9" * 5000
    options = {"model": "dreamy:2", "currency": "USD", "deadline": "3"}
    refused = await fake.slash("campaign create", {**options, "goal": huge}, user=alice)
    answer = await refused.wait_original(lambda m: not m.loading)
    assert refused.ephemeral
    assert "is too long for an amount" in answer.content, answer.content
    assert "the most accepted is 100,000,000.00 USD" in answer.content
    assert len(answer.content) < 300  # the input is quoted shortened
    row = await bot.db.fetchone("SELECT COUNT(*) AS n FROM campaigns")
    assert row is not None
    assert row["n"] == 0

    created = await fake.slash("campaign create", {**options, "goal": "50"}, user=alice)
    await created.wait_original(lambda m: not m.loading)
    pledge = await fake.slash("pledge", {"campaign": 1, "amount": huge}, user=bob)
    answer = await pledge.wait_original()
    assert pledge.ephemeral
    assert "is too long for an amount" in answer.content, answer.content
    assert "the most accepted is 1,000,000.00 USD" in answer.content
    row = await bot.db.fetchone("SELECT COUNT(*) AS n FROM pledge_events")
    assert row is not None
    assert row["n"] == 0
