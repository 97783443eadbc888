"""Failures, limits and several jobs from one prompt, end to end."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence

import discord
import pytest
import torch
from PIL import Image

from db.jobs import JobStatus
from inference.jobs import GenerationJob
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, is_result, job_id_of


async def test_a_failed_job_says_why_and_the_next_one_still_runs(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()

    def poisoned(jobs: Sequence[GenerationJob]) -> None:
        if any("poison" in job.request.prompt for job in jobs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    bots.script.fault = poisoned
    rec = await fake.slash("imagine", {"prompt": "poison apple"}, user=alice)
    failed = await rec.wait_original(lambda m: "failed" in m.content, timeout=30)
    assert "ran out of memory" in failed.content
    assert failed.custom_ids == []
    job = await bot.db.fetchone("SELECT status, error FROM jobs")
    assert job["status"] == JobStatus.FAILED.value

    healthy = await fake.slash("imagine", {"prompt": "a healthy apple"}, user=alice)
    await healthy.wait_original(is_result, timeout=30)


async def test_too_many_queued_jobs_are_refused_ephemerally(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start(max_queued_per_user=2, max_running_per_user=1)
    bots.script.step_delay = 0.3
    running = await fake.slash("imagine", {"prompt": "busy --steps 20"}, user=alice)
    await running.wait_original(lambda m: "%" in m.content, timeout=30)
    rec = await fake.slash("imagine", {"prompt": "{one, two, three}"}, user=alice)
    refusal = await rec.wait_original()
    assert rec.ephemeral
    assert "limit is 2 waiting" in refusal.content
    assert "3 jobs" in refusal.content
    count = await bot.db.fetchone("SELECT count(*) FROM jobs")
    assert count[0] == 1

    pair = await fake.slash("imagine", {"prompt": "{red, blue} kite"}, user=alice)
    first = await pair.wait_original(lambda m: "Waiting to start" in m.content)
    second = await pair.wait_followup(lambda m: "Waiting to start" in m.content)
    assert "red kite" in first.content
    assert "blue kite" in second.content
    assert job_id_of(first) != job_id_of(second)
    bots.script.step_delay = 0.0
    await pair.wait_followup(is_result, timeout=60)


async def test_admin_limits_change_the_limits_and_survive_a_restart(
    bots: Bots, fake: FakeDiscord
) -> None:
    moderator = fake.add_user("mod", manage_guild=True)
    first = await bots.start()
    rec = await fake.slash("admin limits", {"running": 1, "queued": 4}, user=moderator)
    assert "1 jobs running and 4 waiting" in (await rec.wait_original()).content
    await bots.stop(first)
    second = await bots.start()
    assert second.pool is not None
    assert (second.pool.limits.max_running, second.pool.limits.max_queued) == (1, 4)
    shown = await fake.slash("admin limits", {}, user=moderator)
    assert f"set by <@{moderator.id}>" in (await shown.wait_original()).content


async def test_an_appeal_without_a_moderation_channel_says_how_to_get_one(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    moderator = fake.add_user("mod", manage_guild=True)
    await (
        await fake.slash("admin banned-words add", {"words": "ogre"}, user=moderator)
    ).wait_original()
    rec = await fake.slash("imagine", {"prompt": "an ogre"}, user=alice)
    refusal = await rec.wait_original()
    appeal = await fake.press(refusal.id, refusal.custom_ids[0], user=alice)
    assert "/admin channel moderation" in (await appeal.wait_original()).content


class TestUploadLimit:
    """A grid bigger than the channel's upload limit is sent as a JPEG that fits."""

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeDiscord]:
        saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        async with FakeDiscord(
            attachment_size_limit=12_000, callback_deadline_seconds=3.0
        ) as running:
            try:
                yield running
            finally:
                discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved

    async def test_grid_is_reencoded_to_fit(
        self, bots: Bots, fake: FakeDiscord, alice: FakeUser
    ) -> None:
        bot = await bots.start()
        rec = await fake.slash("imagine", {"prompt": "noise --ar 2:1"}, user=alice)
        final = await rec.wait_original(is_result, timeout=30)
        (attachment,) = final.attachments
        assert attachment.filename.endswith(".jpg")
        assert len(attachment.data) <= 12_000
        grid_path = bot.settings.images_dir / str(job_id_of(final))
        png = next(grid_path.glob("*-grid.png"))
        assert png.stat().st_size > 12_000  # it really had to be re-encoded
        with Image.open(png) as original:
            size = original.size
        with Image.open(io.BytesIO(attachment.data)) as sent:
            assert sent.size == size


async def test_a_long_prompts_failure_is_still_shown_within_a_message(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    """The prompt shown (up to 1,500 characters) and a long reason together are more than a
    message holds: the failure is shown clipped, not refused by Discord and lost."""
    await bots.start()

    def poisoned(jobs: Sequence[GenerationJob]) -> None:
        raise RuntimeError("the weights could not be read: " + "x" * 900)

    bots.script.fault = poisoned
    prompt = "poison " + "apple " * 300
    rec = await fake.slash("imagine", {"prompt": prompt}, user=alice)
    failed = await rec.wait_original(lambda m: "failed" in m.content, timeout=30)
    assert len(failed.content) <= 2000
    assert "this job failed: RuntimeError: the weights could not be read" in failed.content
