"""What a Ray error during a remote batch means for the pool: the job's own failure, or its
worker lost (and whether the batch's work may have run). No Ray is started: the actor is a
stand-in whose stream raises what Ray raises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from inference.models import ModelRef
from inference.pool.worker import WorkerLost
from tests.helpers.cluster import ray  # first: before anything imports Ray
from tests.helpers.pool import job

pytestmark = pytest.mark.cluster

from inference.pool.remote import RemoteBackend, StepUpdate  # noqa: E402 (needs Ray)


class _Remote:
    def __init__(self, call: Any) -> None:
        self.remote = call

    def options(self, **options: Any) -> _Remote:
        return self


class _Actor:
    """Answers ``run`` with a stream of updates, then raises ``error``."""

    def __init__(self, updates: list[StepUpdate], error: Exception) -> None:
        def stream(*args: Any) -> Iterator[Any]:
            for update in updates:
                yield ray.put(update)
            raise error

        self.run = _Remote(stream)
        self.cancel = _Remote(lambda token: None)


def _task_failed(cause: Exception) -> Exception:
    return ray.exceptions.RayTaskError("run", "Traceback …", cause)


@pytest.fixture(scope="module")
def ray_for_puts() -> Iterator[None]:
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _run(actor: _Actor) -> None:
    RemoteBackend(actor, ModelRef("tiny", "unused"), 64).generate_batch([job("a heron")])


@pytest.mark.usefixtures("ray_for_puts")
def test_an_actor_unavailable_before_anything_came_back_is_lost_before_the_work_ran() -> None:
    unavailable = ray.exceptions.ActorUnavailableError("connection lost", None)

    with pytest.raises(WorkerLost) as before:
        _run(_Actor([], unavailable))
    with pytest.raises(WorkerLost) as after:
        _run(_Actor([StepUpdate(0, 1, 4, None)], unavailable))

    assert before.value.ran is False  # the job's retry is not used up
    assert after.value.ran is True  # a step came back: its work ran
    with pytest.raises(WorkerLost) as died:
        _run(_Actor([], ray.exceptions.ActorDiedError()))
    assert died.value.ran is True  # died while it may have been running the batch


@pytest.mark.usefixtures("ray_for_puts")
def test_a_cuda_error_on_a_remote_worker_loses_the_worker_but_running_out_of_memory_does_not() -> (
    None
):
    with pytest.raises(WorkerLost, match="its GPU failed: RuntimeError: CUDA error"):
        _run(_Actor([], _task_failed(RuntimeError("CUDA error: an illegal memory access"))))
    with pytest.raises(torch.OutOfMemoryError):  # the job fails alone; the worker lives on
        _run(_Actor([], _task_failed(torch.OutOfMemoryError("CUDA out of memory"))))
    with pytest.raises(ValueError, match="bad input"):
        _run(_Actor([], _task_failed(ValueError("bad input"))))
