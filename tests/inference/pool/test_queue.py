"""The queue on its own: lanes, users' turns, limits, batches and the positions it reports."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.jobs import JobKind, Lane
from inference.jobs import GenerationJob
from inference.models import ModelRef
from inference.params import parse
from inference.pool.config import UserLimits
from inference.pool.queue import JobQueue, OutputPaths, QueueClosedError, QueuedJob, QueueLimitError

_ids = itertools.count(1)
_MODEL = ModelRef("tiny", "./tiny")


def _job(prompt: str = "a fox", **changes: object) -> GenerationJob:
    job = GenerationJob(
        kind=JobKind.IMAGINE,
        request=parse(prompt)[0],
        model="tiny",
        seed=1,
        width=64,
        height=64,
        steps=4,
        sampler="euler",
    )
    return replace(job, **changes)  # type: ignore[arg-type]


def _entry(owner: int, lane: Lane = Lane.STANDARD, **changes: object) -> QueuedJob:
    job_id = next(_ids)
    job = _job(**changes)
    return QueuedJob(job_id, owner, lane, job, _MODEL, OutputPaths.for_job(Path("x"), job_id, 4))


def _queue(max_running: int = 100, max_queued: int = 100) -> JobQueue:
    return JobQueue(UserLimits(max_running=max_running, max_queued=max_queued))


def _take(queue: JobQueue, max_images: int = 4) -> list[QueuedJob]:
    return queue.take_batch(max_images, timeout=0)


def _drain(queue: JobQueue, max_images: int = 4) -> list[list[QueuedJob]]:
    """Take every batch until the queue is empty, finishing each before the next."""
    batches = []
    while batch := _take(queue, max_images):
        batches.append(batch)
        queue.release(batch)
    return batches


def test_one_users_flood_does_not_starve_another_user() -> None:
    queue = _queue()
    flood = [_entry(owner=1) for _ in range(40)]
    for entry in flood:
        queue.put(entry)
    first = _take(queue)
    lone = _entry(owner=2)
    queue.put(lone)  # arrives behind 39 waiting jobs of user 1
    queue.release(first)
    assert _take(queue) == [lone]


def test_users_take_turns_one_job_each() -> None:
    queue = _queue()
    a = [_entry(owner=1) for _ in range(3)]
    b = [_entry(owner=2) for _ in range(2)]
    c = [_entry(owner=3)]
    for entry in [*a, *b, *c]:
        queue.put(entry)
    order = [batch[0] for batch in _drain(queue)]
    assert order == [a[0], b[0], c[0], a[1], b[1], a[2]]


def test_priority_lane_is_served_first() -> None:
    queue = _queue()
    standard = [_entry(owner=1), _entry(owner=2)]
    for entry in standard:
        queue.put(entry)
    backer = _entry(owner=3, lane=Lane.PRIORITY)
    queue.put(backer)
    order = [batch[0] for batch in _drain(queue)]
    assert order == [backer, *standard]


def test_running_limit_holds_a_users_next_job_and_serves_others() -> None:
    queue = _queue(max_running=1)
    mine = [_entry(owner=1), _entry(owner=1)]
    for entry in mine:
        queue.put(entry)
    other = _entry(owner=2)
    queue.put(other)
    running = _take(queue)
    assert running == [mine[0]]
    assert _take(queue) == [other]  # user 1's second job waits for their first
    assert _take(queue) == []
    queue.release(running)
    assert _take(queue) == [mine[1]]


def test_waiting_limit_refuses_with_a_clear_message() -> None:
    queue = _queue(max_running=1, max_queued=2)
    for _ in range(3):
        queue.put(_entry(owner=1))
    running = _take(queue)
    assert running
    with pytest.raises(QueueLimitError) as refused:
        queue.check_limits(1)
    message = str(refused.value)
    assert "2 jobs waiting and 1 running" in message
    assert "limit is 2 waiting and 1 running" in message
    queue.check_limits(2)  # other users are not affected


def test_a_prompt_making_more_jobs_than_the_waiting_limit_allows_is_refused() -> None:
    queue = _queue(max_running=1, max_queued=3)
    queue.check_limits(1, 3)  # exactly the limit: fine
    with pytest.raises(QueueLimitError) as refused:
        queue.check_limits(1, 4)
    message = str(refused.value)
    assert "0 jobs waiting and 0 running" in message
    assert "limit is 3 waiting and 1 running" in message
    assert "This prompt makes 4 jobs." in message

    queue.put(_entry(owner=1))
    queue.put(_entry(owner=1))
    queue.check_limits(1)  # a third job fits
    with pytest.raises(QueueLimitError, match=r"2 jobs waiting.*This prompt makes 2 jobs"):
        queue.check_limits(1, 2)
    queue.check_limits(2, 3)  # other users are not affected


def test_a_single_job_refusal_does_not_talk_about_the_prompts_jobs() -> None:
    queue = _queue(max_queued=1)
    queue.put(_entry(owner=1))
    with pytest.raises(QueueLimitError) as refused:
        queue.check_limits(1)
    assert "This prompt makes" not in str(refused.value)


def test_new_limits_apply_at_once() -> None:
    queue = _queue(max_running=1, max_queued=1)
    queue.put(_entry(owner=1))
    with pytest.raises(QueueLimitError):
        queue.check_limits(1)
    queue.set_limits(UserLimits(max_running=1, max_queued=2))
    assert queue.limits == UserLimits(max_running=1, max_queued=2)
    queue.check_limits(1)
    queue.set_limits(UserLimits(max_running=1, max_queued=1))
    with pytest.raises(QueueLimitError, match="limit is 1 waiting"):
        queue.check_limits(1)


def test_raising_the_running_limit_starts_a_held_job() -> None:
    queue = _queue(max_running=1)
    first, second = _entry(owner=1), _entry(owner=1, prompt="another fox")
    queue.put(first)
    queue.put(second)
    assert _take(queue) == [first]
    assert _take(queue) == []  # held by the running limit

    # A worker already waiting for work is woken by the change, not by new work.
    taken: list[list[QueuedJob]] = []
    worker = threading.Thread(target=lambda: taken.append(queue.take_batch(4, timeout=5)))
    worker.start()
    time.sleep(0.05)
    assert taken == []
    started = time.monotonic()
    queue.set_limits(UserLimits(max_running=2, max_queued=100))
    worker.join(2)
    assert taken == [[second]]
    assert time.monotonic() - started < 1


def test_lowering_the_running_limit_holds_later_jobs_but_stops_none() -> None:
    queue = _queue(max_running=2)
    jobs = [_entry(owner=1, prompt=f"fox {n}") for n in range(3)]
    for entry in jobs:
        queue.put(entry)
    running = _take(queue, max_images=8)
    assert running == jobs[:2]
    queue.set_limits(UserLimits(max_running=1, max_queued=100))
    queue.release(running[:1])
    assert _take(queue) == []  # still one running: at the new limit
    queue.release(running[1:])
    assert _take(queue) == [jobs[2]]


def test_compatible_jobs_from_several_users_share_a_batch() -> None:
    queue = _queue()
    a1, a2, b1, c1 = _entry(owner=1), _entry(owner=1), _entry(owner=2), _entry(owner=3)
    odd = _entry(owner=2, steps=9)  # another step count cannot share a pipeline call
    for entry in (a1, a2, odd, b1, c1):
        queue.put(entry)
    batch = _take(queue, max_images=12)
    assert batch == [a1, odd, c1] or batch == [a1, b1, c1]
    assert odd not in batch or len(batch) == 1


def test_a_batch_is_filled_in_turn_and_capped_by_images() -> None:
    queue = _queue()
    entries = [_entry(owner=1), _entry(owner=1), _entry(owner=2), _entry(owner=3)]
    for entry in entries:
        queue.put(entry)
    batch = _take(queue, max_images=12)
    # user 1 leads, then users 2 and 3 get their turn before user 1's second job
    assert batch == [entries[0], entries[2], entries[3]]
    assert _take(queue, max_images=12) == [entries[1]]


def test_batch_size_and_running_limit_both_bound_a_batch() -> None:
    queue = _queue(max_running=2)
    entries = [_entry(owner=1) for _ in range(5)]
    for entry in entries:
        queue.put(entry)
    assert _take(queue, max_images=64) == entries[:2]


def test_incompatible_jobs_never_share_a_batch() -> None:
    queue = _queue()
    variants = [
        {},
        {"steps": 8},
        {"width": 128},
        {"sampler": "ddim"},
        {"prompt": "a fox --tile"},
        {"prompt": "a fox --stop 50"},
        {"init_image": "a.png", "strength": 0.35},
        {"init_image": "a.png", "strength": 0.7},
    ]
    for owner, changes in enumerate(variants, start=1):
        queue.put(_entry(owner=owner, **changes))
    assert all(len(batch) == 1 for batch in _drain(queue, max_images=64))


def test_jobs_with_different_stylize_share_a_batch() -> None:
    queue = _queue()
    entries = [_entry(owner=1), _entry(owner=2, prompt="a fox --s 900")]
    for entry in entries:
        queue.put(entry)
    assert _take(queue, max_images=8) == entries


def test_a_solo_retry_runs_alone_and_first() -> None:
    queue = _queue()
    waiting = [_entry(owner=1), _entry(owner=2)]
    for entry in waiting:
        queue.put(entry)
    retry = _entry(owner=1)
    retry.solo = True
    queue.put(retry, front=True)
    assert _take(queue, max_images=64) == [retry]
    assert _take(queue, max_images=64) == [waiting[1], waiting[0]]


def test_order_predicts_the_start_order() -> None:
    queue = _queue()
    for owner, lane in [(1, Lane.STANDARD)] * 4 + [(2, Lane.STANDARD)] * 2 + [(3, Lane.PRIORITY)]:
        queue.put(_entry(owner=owner, lane=lane))
    predicted = queue.order()
    started = [batch[0] for batch in _drain(queue)]
    assert started == predicted


def test_removed_jobs_never_start() -> None:
    queue = _queue()
    keep, drop = _entry(owner=1), _entry(owner=1)
    queue.put(keep)
    queue.put(drop)
    assert queue.remove(drop.job_id) is drop
    assert queue.remove(drop.job_id) is None
    assert [batch[0] for batch in _drain(queue)] == [keep]


def test_depths_count_waiting_jobs_per_lane() -> None:
    queue = _queue()
    queue.put(_entry(owner=1))
    queue.put(_entry(owner=2))
    queue.put(_entry(owner=3, lane=Lane.PRIORITY))
    assert queue.depths() == {Lane.PRIORITY: 1, Lane.STANDARD: 2}


def test_a_waiting_worker_wakes_when_work_arrives() -> None:
    queue = _queue()
    taken: list[list[QueuedJob]] = []
    worker = threading.Thread(target=lambda: taken.append(queue.take_batch(4, timeout=5)))
    worker.start()
    time.sleep(0.05)
    entry = _entry(owner=1)
    queue.put(entry)
    worker.join(2)
    assert taken == [[entry]]


def test_a_closed_queue_hands_out_nothing_and_refuses_work() -> None:
    queue = _queue()
    queue.put(_entry(owner=1))
    queue.close()
    assert _take(queue) == []
    with pytest.raises(QueueClosedError):
        queue.put(_entry(owner=1))


def test_release_twice_counts_once() -> None:
    queue = _queue(max_running=1)
    first, second = _entry(owner=1), _entry(owner=1)
    queue.put(first)
    queue.put(second)
    batch = _take(queue)
    queue.release(batch)
    queue.release(batch)
    assert _take(queue) == [second]
    queue.put(third := _entry(owner=1))
    assert _take(queue) == []  # second runs: the double release freed one turn, not two
    queue.release([second])
    assert _take(queue) == [third]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(1, 5), st.sampled_from(list(Lane))),  # a user queues a job
            st.just("take"),  # a worker takes (and finishes) the next job
        ),
        max_size=40,
    )
)
def test_order_always_predicts_the_start_order(operations: list[object]) -> None:
    """Whatever happened before, the order reported now is the order jobs then start in."""
    queue = _queue()
    for operation in operations:
        if operation == "take":
            queue.release(_take(queue))
        else:
            owner, lane = operation  # type: ignore[misc]
            queue.put(_entry(owner=owner, lane=lane))
    predicted = queue.order()
    assert [batch[0] for batch in _drain(queue)] == predicted


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=30), st.integers(0, 5))
def test_a_newcomer_waits_at_most_one_job_per_user_ahead(backlog: list[int], served: int) -> None:
    """However the queue is loaded, a new user's first job starts after at most one job of
    each user already waiting."""
    queue = _queue()
    for owner in backlog:
        queue.put(_entry(owner=owner))
    for _ in range(served):
        queue.release(_take(queue))
    waiting_users = {entry.owner_id for entry in queue.order()}
    mine = _entry(owner=99)
    queue.put(mine)
    ahead = queue.order().index(mine)
    assert ahead <= len(waiting_users)
    started = [batch[0] for batch in _drain(queue)]
    assert started.index(mine) == ahead
