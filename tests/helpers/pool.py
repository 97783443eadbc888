"""A worker pool on the tiny model, with a backend a test can slow down or make fail."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from core.clock import Clock, utc_now
from db.database import Database
from inference.backend import BatchStepCallback, DiffusersBackend, StepEvent
from inference.jobs import GenerationJob, plan_imagine
from inference.models import IpAdapterRef, ModelRef, ModelSources
from inference.params import parse
from inference.pool.config import PoolConfig, UserLimits
from inference.pool.pool import WorkerPool
from inference.pool.worker import Backend, BackendFactory
from tests.helpers.inference import FAST

#: What a test's fault hook may do to a batch before it runs: raise, block, anything.
Fault = Callable[[Sequence[GenerationJob]], None]


def _open_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


@dataclass
class Script:
    """Changes a test makes to the real tiny backend: a pause after every step, and a hook
    that runs before each batch. Records every load and every batch's prompts."""

    step_delay: float = 0.0
    fault: Fault | None = None
    #: Model loads wait while this is clear (a slow load, e.g. after a restart); set by default.
    loading: threading.Event = field(default_factory=_open_event)
    loads: list[str] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    last_step: int = 0  # the latest step any batch finished, as the worker thread saw it


class ScriptedBackend:
    """The real tiny backend, following a :class:`Script`."""

    def __init__(self, inner: DiffusersBackend, script: Script) -> None:
        self._inner = inner
        self._script = script
        self.model = inner.model

    @property
    def native_size(self) -> int:
        return self._inner.native_size

    def weights_bytes(self) -> int:
        return self._inner.weights_bytes()

    def generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        *,
        on_step: BatchStepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> list[list[Image.Image]]:
        self._script.batches.append([job.request.prompt for job in jobs])
        if self._script.fault is not None:
            self._script.fault(jobs)

        def slowly(index: int, event: StepEvent) -> None:
            self._script.last_step = event.step
            if on_step is not None:
                on_step(index, event)
            if index == 0:
                time.sleep(self._script.step_delay)

        return self._inner.generate_batch(
            jobs, on_step=slowly, preview_every=preview_every, cancel=cancel
        )


class NamedModels:
    """The pool's ``ModelSources`` for testing the pool on its own: a fixed set of models by
    name. The bot asks the model registry (``studio.models.RegisteredModels``, tested with
    the studio)."""

    def __init__(self, *models: ModelRef) -> None:
        self._models = {model.name: model for model in models}

    def __getitem__(self, name: str) -> ModelRef:
        return self._models[name]

    async def find(self, name: str) -> ModelRef | None:
        return self._models.get(name)


@dataclass
class PoolMaker:
    """Builds started pools on one database; stops them all when the test ends."""

    db: Database
    models: ModelSources
    images_dir: Path
    script: Script
    clock: Clock = utc_now
    pools: list[WorkerPool] = field(default_factory=list)
    #: The IP-Adapter the local workers load next to the model (image prompts).
    ip_adapter: IpAdapterRef | None = None

    async def __call__(
        self, *, recover: bool = True, remote_factory: BackendFactory | None = None, **config: Any
    ) -> WorkerPool:
        settings: dict[str, Any] = {
            "devices": ("cpu",),
            "limits": UserLimits(max_running=3, max_queued=50),
            "watch_interval": 0.05,
            "preview_every": 2,
            **config,
        }
        pool = WorkerPool(
            self.db,
            self.models,
            PoolConfig(**settings),
            self.images_dir,
            backend_factory=self.load,
            remote_factory=remote_factory,
            clock=self.clock,
        )
        self.pools.append(pool)
        await pool.start(recover=recover)
        return pool

    def load(self, model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        self.script.loads.append(model.name)
        inner = DiffusersBackend.load(model, device, "auto", make_room, self.ip_adapter)
        return ScriptedBackend(inner, self.script)


def job(prompt: str, **changes: Any) -> GenerationJob:
    """A tiny-model txt2img job planned as the bot plans it (4 steps unless the prompt says)."""
    planned = plan_imagine(parse(prompt)[0], model="tiny", native_size=64, defaults=FAST)
    return replace(planned, **changes)


@dataclass(frozen=True)
class RemoteTiny:
    """The backend factory sent to remote workers in tests: the tiny model, each step
    followed by ``step_delay`` seconds. Plain data, so Ray can send it to an actor.

    ``unseen``: a folder of the bot's that the worker's node stands for not having (the
    tests' actors share the bot's machine): a batch whose jobs name any path in it fails.
    """

    step_delay: float = 0.0
    unseen: str | None = None
    ip_adapter: IpAdapterRef | None = None

    def __call__(self, model: ModelRef, device: str, make_room: Callable[[int], None]) -> Backend:
        inner = DiffusersBackend.load(model, device, "auto", make_room, self.ip_adapter)
        fault = None if self.unseen is None else _refuse_paths_in(self.unseen)
        return ScriptedBackend(inner, Script(step_delay=self.step_delay, fault=fault))


def _refuse_paths_in(folder: str) -> Fault:
    def refuse(jobs: Sequence[GenerationJob]) -> None:
        if folder in json.dumps([job.to_params() for job in jobs]):
            raise FileNotFoundError(f"a job names a file in {folder}, which this node has not")

    return refuse
