"""/admin through the loopback Discord stand-in."""

from __future__ import annotations

from tests.discord_standin import FakeDiscord
from tests.helpers.discord_bots import Bots


async def test_limits_set_with_admin_win_over_the_environment_also_after_a_restart(
    bots: Bots, fake: FakeDiscord
) -> None:
    moderator = fake.add_user("mod", manage_guild=True)
    first = await bots.start(max_running_per_user=2, max_queued_per_user=7)
    shown = await fake.slash("admin limits", {}, user=moderator)
    assert (
        "2 jobs running and 7 waiting (the operator's settings"
        in (await shown.wait_original()).content
    )

    # Only the waiting jobs: the running ones stay as the environment says.
    changed = await fake.slash("admin limits", {"queued": 4}, user=moderator)
    assert "2 jobs running and 4 waiting" in (await changed.wait_original()).content
    assert first.pool is not None
    assert (first.pool.limits.max_running, first.pool.limits.max_queued) == (2, 4)
    await bots.stop(first)

    # The operator changes the environment; what the admin set still wins.
    second = await bots.start(max_running_per_user=5, max_queued_per_user=9)
    assert second.pool is not None
    assert (second.pool.limits.max_running, second.pool.limits.max_queued) == (2, 4)
    shown = await fake.slash("admin limits", {}, user=moderator)
    assert (
        f"2 jobs running and 4 waiting (set by <@{moderator.id}>"
        in (await shown.wait_original()).content
    )
