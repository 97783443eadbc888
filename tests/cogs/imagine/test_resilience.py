"""What must survive: restarts, expired interaction tokens, and Discord's rate limits."""

from __future__ import annotations

from cogs.resources import Tuning
from db.database import Database
from db.job_messages import get_job_message
from db.jobs import JobKind, JobStatus, get_job
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import FAST_TUNING, Bots, button, is_result, job_id_of


async def test_buttons_on_a_message_from_before_a_restart_still_work(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "an old harbour"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    await bots.stop(first)

    second = await bots.start()
    press = await fake.press(grid.id, button(grid, "v", 0), user=alice)
    varied = await press.wait_original(is_result, timeout=30)
    job = await get_job(second.db, job_id_of(varied))
    assert job is not None
    assert job.kind is JobKind.VARIATION
    assert job.parent_job_id == job_id_of(grid)


async def test_a_job_interrupted_by_a_restart_is_delivered_after_it_as_a_reply(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await bots.start(shutdown_grace_seconds=0)
    bots.script.step_delay = 0.3
    rec = await fake.slash("imagine", {"prompt": "a long job --steps 30"}, user=alice)
    status = await rec.wait_original(lambda m: "%" in m.content, timeout=30)
    await bots.stop(first)
    job_id = job_id_of(status)
    bots.script.step_delay = 0.0

    second = await bots.start()
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=60
    )
    assert int(result.message_reference["message_id"]) == status.id
    assert result.interaction_id is None  # posted with the bot's token
    assert f"atelier:u:{job_id}:0" in result.custom_ids
    job = await get_job(second.db, job_id)
    assert job is not None
    assert job.status is JobStatus.DONE


async def test_a_job_finishing_after_the_token_window_is_delivered_by_channel_message(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start(tuning=Tuning(progress_edit_seconds=0.05, token_window_seconds=0.5))
    bots.script.step_delay = 0.2
    rec = await fake.slash("imagine", {"prompt": "slow sunrise --steps 8"}, user=alice)
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=60
    )
    original = rec.original
    assert original is not None
    assert int(result.message_reference["message_id"]) == original.id
    assert result.button_labels[:4] == ["U1", "U2", "U3", "U4"]
    await rec.wait_original(lambda m: "the result is in the reply below" in m.content)


async def test_an_expired_token_falls_back_to_the_bot_token(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start(tuning=FAST_TUNING)
    bots.script.step_delay = 0.2
    rec = await fake.slash("imagine", {"prompt": "dusk --steps 8"}, user=alice)
    await rec.wait_original(lambda m: "%" in m.content, timeout=30)
    fake.expire_tokens()  # Discord forgot the token early: webhook calls now get 401
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=60
    )
    assert rec.original is not None
    assert int(result.message_reference["message_id"]) == rec.original.id


async def test_a_rate_limited_edit_is_retried(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    fake.fail_next("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", retry_after=0.3, times=2)
    rec = await fake.slash("imagine", {"prompt": "a calm sea"}, user=alice)
    final = await rec.wait_original(is_result, timeout=30)
    assert final.attachments
    statuses = [r.status for r in fake.requests if "/messages/@original" in r.path]
    assert statuses[:2] == [429, 429]
    assert statuses[-1] == 200


async def test_a_result_discord_refused_to_show_is_delivered_a_little_later_once(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start(tuning=Tuning(progress_edit_seconds=0.05, redeliver_seconds=0.2))
    bots.script.step_delay = 0.2
    rec = await fake.slash("imagine", {"prompt": "a stubborn gate --steps 6"}, user=alice)
    status = await rec.wait_original(lambda m: "%" in m.content, timeout=30)
    # From now on Discord refuses every edit through the interaction (the result included).
    fake.fail_next("PATCH", r"/messages/@original$", status=403, times=1000)
    result = await fake.wait_for_message(
        lambda m: bool(m.attachments) and m.message_reference is not None, timeout=30
    )
    assert int(result.message_reference["message_id"]) == status.id
    job_id = job_id_of(status)
    assert bot.db is not None
    db = bot.db
    await fake.wait_for(lambda: _delivered(db, job_id), timeout=10)
    results = [m for m in fake.channel_messages() if f"atelier:u:{job_id}:0" in m.custom_ids]
    assert results == [result]


async def _delivered(db: Database, job_id: int) -> bool:
    where = await get_job_message(db, job_id)
    return where is not None and where.delivered_at is not None
