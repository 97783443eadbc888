"""One worker thread per device: it owns that device's models and runs batches from the queue.

Nothing here touches the event loop directly: every outcome is a message handed to the
pool through ``loop.call_soon_threadsafe``. The thread saves PNGs and grids itself, so the
loop never encodes an image.
"""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import torch
from PIL import Image

from inference.backend import BatchStepCallback, JobCancelled, StepEvent
from inference.engine import EncodedJob, SavedImage, save_outputs, write_outputs
from inference.image_prompting import ImagePromptError
from inference.jobs import GenerationJob
from inference.loading import ModelLoadError
from inference.loras import LoraLoadError
from inference.models import ModelRef
from inference.params import IMAGES_PER_JOB
from inference.pool.config import PoolConfig
from inference.pool.queue import JobQueue, QueuedJob

log = logging.getLogger(__name__)

_batch_tokens = itertools.count(1)


class Backend(Protocol):
    """What a worker needs from a loaded model (``DiffusersBackend`` in production)."""

    model: ModelRef

    @property
    def native_size(self) -> int: ...

    def weights_bytes(self) -> int: ...

    def generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        *,
        on_step: BatchStepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> Sequence[Sequence[Image.Image] | EncodedJob]: ...


#: Loads a model onto a device. ``make_room(n)`` must be called with the weights' size in
#: bytes before they are moved to the device, so the worker can unload others first.
BackendFactory = Callable[[ModelRef, str, Callable[[int], None]], Backend]


@dataclass(frozen=True)
class WorkerConfig:
    device: str
    max_batch_images: int
    vram_budget_bytes: int | None  # None: no limit (CPU, or an operator's choice)
    preview_every: int


#: Cross-job batching on GPUs, where bigger batches pay; on the CPU one job at a time is
#: faster (measured: one 16-image call 4.3 s against four 4-image calls 1.7 s).
GPU_MAX_BATCH_IMAGES = 16
#: Share of a GPU's memory that model weights may fill when no budget is configured; the
#: rest is for activations.
AUTO_VRAM_SHARE = 0.7


def worker_config(config: PoolConfig, device: str) -> WorkerConfig:
    """``config`` made concrete for one device: its batch size and VRAM budget."""
    is_gpu = device.startswith("cuda")
    if config.max_batch_images is not None:
        max_images = config.max_batch_images
    else:
        max_images = GPU_MAX_BATCH_IMAGES if is_gpu else IMAGES_PER_JOB
    budget: int | None = None
    if config.vram_budget_gb is not None:
        budget = int(config.vram_budget_gb * 1e9)
    elif is_gpu:
        total = torch.cuda.get_device_properties(torch.device(device)).total_memory
        budget = int(total * AUTO_VRAM_SHARE)
    return WorkerConfig(device, max_images, budget, config.preview_every)


@dataclass(eq=False)
class RunningBatch:
    """A batch on a worker. ``cancel`` stops it at the next denoising step."""

    token: int
    entries: list[QueuedJob]
    started: float
    cancel: threading.Event = field(default_factory=threading.Event)
    step: int = 0
    total: int = 0


# --- messages to the event loop -------------------------------------------------------


@dataclass(frozen=True)
class BatchStarted:
    worker: Worker
    batch: RunningBatch


@dataclass(frozen=True)
class JobStep:
    worker: Worker
    batch: RunningBatch
    entry: QueuedJob
    event: StepEvent


@dataclass(frozen=True)
class JobSucceeded:
    worker: Worker
    entry: QueuedJob
    images: list[SavedImage]
    gpu_seconds: float


EndedHow = Literal["cancelled", "interrupted", "failed"]


@dataclass(frozen=True)
class JobEnded:
    """The job ran and produced nothing: ``cancelled`` by its owner, ``interrupted`` by a
    shutdown (it goes back to the queue), or ``failed`` with a reason."""

    worker: Worker
    entry: QueuedJob
    how: EndedHow
    gpu_seconds: float
    reason: str = ""


@dataclass(frozen=True)
class BatchEnded:
    worker: Worker
    batch: RunningBatch
    seconds: float


@dataclass(frozen=True)
class ModelLoaded:
    worker: Worker
    model: ModelRef
    native_size: int


@dataclass(frozen=True)
class ModelFailed:
    worker: Worker
    model: ModelRef
    reason: str


WorkerMessage = (
    BatchStarted | JobStep | JobSucceeded | JobEnded | BatchEnded | ModelLoaded | ModelFailed
)
Sink = Callable[[WorkerMessage], None]


class Worker:
    """A dedicated thread for one device.

    It loads models on demand and keeps them warm, unloading the least recently used one
    when the next would exceed the VRAM budget. A batch that raises is retried job by job,
    once each; a job that fails alone fails with a readable reason and the thread goes on.
    """

    def __init__(
        self,
        config: WorkerConfig,
        queue: JobQueue,
        factory: BackendFactory,
        post: Sink,
        *,
        generation: int = 0,
    ) -> None:
        """``post`` is called on this thread; it must hand the message to the loop safely."""
        self.config = config
        self.name = f"atelier-worker-{config.device}" + (f"-{generation}" if generation else "")
        self._queue = queue
        self._post = post
        self._models = ModelCache(config.device, factory, config.vram_budget_bytes)
        self._loads: list[ModelRef] = []
        self._loads_lock = threading.Lock()
        self._stopping = False
        self.retired = False  # given up on (hung): it must not report anything again
        self.up = True  # ready to take batches (a remote worker: once its actor is up)
        self.current: RunningBatch | None = None
        self.holding: list[QueuedJob] = []  # taken from the queue, not yet reported
        self.lost: WorkerLost | None = None  # why the thread ended, if its compute is gone
        self.heartbeat = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    @property
    def device(self) -> str:
        return self.config.device

    @property
    def models(self) -> list[str]:
        """Names of the models loaded on this device, least recently used first."""
        return self._models.names

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Finish the current batch, then exit."""
        self._stopping = True
        self._queue.wake()

    def interrupt(self) -> None:
        """Stop the current batch at its next step; its jobs go back to the queue."""
        batch = self.current
        if batch is not None:
            batch.cancel.set()

    def retire(self, *, reachable: bool = True) -> None:
        """Give up on this thread (it stopped responding): it will report nothing more and
        exit if it ever returns. ``reachable`` false: its compute cannot be reached at all
        (a remote worker's cluster went away), so nothing there is to be freed."""
        self.retired = True
        self.stop()
        self.interrupt()

    def request_load(self, model: ModelRef) -> None:
        """Load ``model`` between batches and report :class:`ModelLoaded` or
        :class:`ModelFailed`."""
        with self._loads_lock:
            self._loads.append(model)
        self._queue.wake()

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        log.debug("worker for %s started", self.device)
        try:
            while not self._stopping:
                self._serve_loads()
                batch = self._queue.take_batch(
                    self.config.max_batch_images, timeout=1.0, interrupt=self._has_errands
                )
                if batch:
                    self._run_batch(batch)
        except WorkerLost as lost:  # the pool notices the thread ended and takes its batch
            # Given up on already (its cluster went away): the pool said so then.
            log.log(
                logging.DEBUG if self.retired else logging.ERROR,
                "the worker for %s is gone: %s",
                self.device,
                lost,
            )
            self.lost = lost
            return
        log.debug("worker for %s stopped", self.device)

    def _has_errands(self) -> bool:
        return self._stopping or bool(self._loads)

    def _emit(self, message: WorkerMessage) -> None:
        if self.retired:
            return
        if isinstance(message, (JobSucceeded, JobEnded)):
            message.entry.reported = True
        self._post(message)

    def _serve_loads(self) -> None:
        with self._loads_lock:
            loads, self._loads = self._loads, []
        for model in loads:
            try:
                if model.name in self._models.names:  # a fresh load reports itself
                    self._emit(ModelLoaded(self, model, self._backend(model).native_size))
                else:
                    self._backend(model)
            except WorkerLost:
                raise  # the compute behind this worker is gone: the pool replaces it
            except Exception as error:  # out of memory, a broken file: report, keep serving
                # Whoever asked for the load tells the operator (once): the CLI, the warm-up.
                log.debug("loading %s on %s failed: %s", model.name, self.device, error)
                self._emit(ModelFailed(self, model, _describe(error)))

    def _run_batch(self, batch: list[QueuedJob]) -> None:
        self.holding = batch
        try:
            self._run_or_retry(batch)
        finally:
            self._queue.release(batch)
        # Not reached if the thread dies: the pool then takes back what it still holds.
        self.holding = []

    def _run_or_retry(self, batch: list[QueuedJob]) -> None:
        """Run ``batch``; if it raises, run each of its unfinished jobs alone once more."""
        try:
            self._execute(batch)
        except WorkerLost:
            raise  # the pool takes the batch back and retries it on another worker
        except Exception as error:
            if self.retired:
                return  # given up on: its jobs were handed to other workers already
            if len(batch) == 1 and (batch[0].attempts > 0 or not _worth_retrying(error)):
                self._fail(batch[0], error)
                return
            log.warning(
                "batch of %d job(s) on %s failed (%s); retrying each alone",
                len(batch),
                self.device,
                _describe(error),
            )
            _free_memory(self.device)
            for entry in batch:
                if entry.reported:
                    continue
                entry.attempts += 1
                try:
                    self._execute([entry])
                except WorkerLost:
                    raise
                except Exception as retry_error:
                    self._fail(entry, retry_error)
                    _free_memory(self.device)

    def _fail(self, entry: QueuedJob, error: Exception) -> None:
        log.error("job %d failed on %s: %s", entry.job_id, self.device, _describe(error))
        self._emit(JobEnded(self, entry, "failed", 0.0, reason=_describe(error)))
        self.current = None

    def _execute(self, entries: list[QueuedJob]) -> None:
        if all(entry.cancel_requested for entry in entries):
            for entry in entries:
                self._emit(JobEnded(self, entry, "cancelled", 0.0))
            return
        backend = self._backend(entries[0].model)
        batch = RunningBatch(next(_batch_tokens), entries, time.monotonic())
        self.current = batch
        self.heartbeat = batch.started
        self._emit(BatchStarted(self, batch))

        def on_step(index: int, event: StepEvent) -> None:
            self.heartbeat = time.monotonic()
            batch.step, batch.total = event.step, event.total
            if index == 0 and all(entry.cancel_requested for entry in entries):
                batch.cancel.set()  # everyone in it gave up: stop at the next step
            self._emit(JobStep(self, batch, entries[index], event))

        try:
            outputs = backend.generate_batch(
                [entry.job for entry in entries],
                on_step=on_step,
                preview_every=self.config.preview_every,
                cancel=batch.cancel,
            )
        except JobCancelled:
            if self.retired:
                return
            seconds = time.monotonic() - batch.started
            for entry in entries:
                how: EndedHow = "cancelled" if entry.cancel_requested else "interrupted"
                self._emit(JobEnded(self, entry, how, _share(seconds, entry, entries)))
            self._end(batch)
            return
        if self.retired:
            return  # its jobs were handed to another worker: do not write their files
        seconds = time.monotonic() - batch.started
        for entry, images in zip(entries, outputs, strict=True):
            share = _share(seconds, entry, entries)
            if entry.cancel_requested:
                self._emit(JobEnded(self, entry, "cancelled", share))
                continue
            if isinstance(images, EncodedJob):  # from a remote worker: PNGs with their data
                saved = write_outputs(images, entry.outputs.images, entry.outputs.grid)
            else:
                saved = save_outputs(entry.job, images, entry.outputs.images, entry.outputs.grid)
            self._emit(JobSucceeded(self, entry, saved, share))
        self._end(batch)

    def _end(self, batch: RunningBatch) -> None:
        self.current = None
        self._emit(BatchEnded(self, batch, time.monotonic() - batch.started))

    def _backend(self, model: ModelRef) -> Backend:
        """The loaded model, loading it (and unloading others to fit) on first use."""
        if model.name not in self._models.names:
            self.heartbeat = time.monotonic()
        backend, fresh = self._models.get(model)
        if fresh:
            self._emit(ModelLoaded(self, model, backend.native_size))
        return backend


class WorkerLost(Exception):
    """The compute behind a worker is gone (a remote worker's process or node died): the
    worker thread ends without reporting its batch, and the pool retries that batch elsewhere.
    ``ran``: whether its batch's work may have run (false: Ray said the worker was
    unavailable before any step came back), which decides if the retry counts."""

    def __init__(self, reason: str, *, ran: bool = True) -> None:
        super().__init__(reason)
        self.ran = ran


class ModelCache:
    """The models loaded on one device, kept warm; the least recently used one is unloaded
    when the next would exceed the VRAM budget. Used by a worker thread and by a remote
    worker's process alike."""

    def __init__(self, device: str, factory: BackendFactory, budget_bytes: int | None) -> None:
        self._device = device
        self._factory = factory
        self._budget = budget_bytes
        self._models: OrderedDict[str, Backend] = OrderedDict()

    @property
    def names(self) -> list[str]:
        """Least recently used first."""
        return list(self._models)

    def get(self, model: ModelRef) -> tuple[Backend, bool]:
        """The backend for ``model``, and whether it was loaded just now."""
        backend = self._models.get(model.name)
        if backend is not None:
            self._models.move_to_end(model.name)
            return backend, False
        backend = self._factory(model, self._device, _DeviceRoom(self, model.name))
        self._models[model.name] = backend
        return backend, True

    def make_room(self, needed: int, keep: str) -> None:
        """Unload the least recently used models but ``keep`` (the one loading, or whose
        LoRA is loading) until ``needed`` more bytes fit."""
        while not self.fits(needed):
            others = [name for name in self._models if name != keep]
            if not others:
                assert self._budget is not None  # fits() is always true without one
                log.warning(
                    "%s needs %.1f GB more, past the %.1f GB budget of %s; loading it anyway",
                    keep,
                    needed / 1e9,
                    self._budget / 1e9,
                    self._device,
                )
                return
            del self._models[others[0]]
            log.info("unloading %s from %s to make room", others[0], self._device)
            _free_memory(self._device)

    def fits(self, needed: int) -> bool:
        """Whether ``needed`` more bytes fit the budget beside the loaded models (their
        LoRAs included)."""
        return self._budget is None or self._loaded_bytes() + needed <= self._budget

    def _loaded_bytes(self) -> int:
        return sum(backend.weights_bytes() for backend in self._models.values())


class _DeviceRoom:
    """The budget as one model's loading code sees it (an :class:`inference.loras.Room`)."""

    def __init__(self, cache: ModelCache, model: str) -> None:
        self._cache = cache
        self._model = model

    def __call__(self, needed: int) -> None:
        self._cache.make_room(needed, keep=self._model)

    def fits(self, needed: int) -> bool:
        return self._cache.fits(needed)


def _share(seconds: float, entry: QueuedJob, entries: list[QueuedJob]) -> float:
    """A job's part of a batch's time, by its share of the batch's images."""
    return seconds * entry.images / sum(e.images for e in entries)


def _worth_retrying(error: Exception) -> bool:
    """A model that will not load will not load the second time either."""
    return not isinstance(
        error, (ModelLoadError, LoraLoadError, ImagePromptError, FileNotFoundError)
    )


def _describe(error: Exception) -> str:
    """A reason a user can read."""
    if isinstance(error, torch.OutOfMemoryError):
        return (
            "the GPU ran out of memory for this job; try a smaller --ar or fewer steps, "
            "or ask the operator to lower ATELIER_MAX_BATCH_IMAGES"
        )
    if isinstance(error, (ModelLoadError, LoraLoadError, ImagePromptError, FileNotFoundError)):
        return str(error)
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
