"""Remote workers: one Ray actor per cluster GPU, each fed by a worker thread in the bot.

The bot keeps every piece of state; an actor only computes. What feeds an actor is an
ordinary :class:`~inference.pool.worker.Worker` thread, pulling batches from the same queue
as the local workers, whose backend forwards each batch to its actor: the jobs' parameters
go over as plain data and every file a job reads (its
:attr:`~inference.jobs.GenerationJob.input_files`: init image, mask) as bytes, which the
actor writes on its own node for the batch; progress with PNG previews streams back
through a Ray streaming generator, and the finished images come back as PNG bytes, which the
worker thread saves like a local one (no shared filesystem, no arrays in Ray's object
store). Every Ray call blocks a worker thread or a helper thread, never the event loop.

Only this module imports Ray; the pool imports it only when ``ATELIER_RAY_ADDRESS`` is set.
The bot sends an actor its pool settings, a backend factory, models and jobs: never its
Discord token or its database.
"""

from __future__ import annotations

import io
import itertools
import logging
import queue
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import ray
import ray.exceptions
import torch
from PIL import Image

from inference.backend import BatchStepCallback, JobCancelled, StepEvent
from inference.engine import EncodedJob, encode_outputs
from inference.jobs import GenerationJob
from inference.models import ModelRef
from inference.params import IMAGES_PER_JOB
from inference.pool.config import PoolConfig, RayConfig
from inference.pool.queue import JobQueue
from inference.pool.ray_env import head_endpoint, unreachable
from inference.pool.worker import (
    GPU_MAX_BATCH_IMAGES,
    BackendFactory,
    ModelCache,
    Sink,
    Worker,
    WorkerConfig,
    WorkerLost,
    worker_config,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_tokens = itertools.count(1)

# --- what streams back from an actor -----------------------------------------------------


@dataclass(frozen=True)
class StepUpdate:
    job_index: int
    step: int
    total: int
    preview_png: bytes | None


@dataclass(frozen=True)
class DoneUpdate:
    jobs: list[EncodedJob]  # the PNGs with their generation data, as the bot writes them


@dataclass(frozen=True)
class StoppedUpdate:
    """The batch was cancelled at a step."""


Update = StepUpdate | DoneUpdate | StoppedUpdate


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def from_png(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


# --- the actor: runs in its own process on a cluster node ---------------------------------


class GpuActor:
    """One remote worker's process: it owns its models (loaded once, kept warm, the least
    recently used unloaded to fit its VRAM budget) and runs batches with the very backend
    code a local worker runs."""

    def __init__(self, config: PoolConfig, factory: BackendFactory) -> None:
        assert config.ray is not None
        # Ray shows an actor only the GPU it reserved, and shows it as cuda:0.
        self._device = "cuda:0" if config.ray.worker_device == "cuda" else "cpu"
        budget = worker_config(config, self._device).vram_budget_bytes
        self._models = ModelCache(self._device, factory, budget)
        self._cancels: dict[int, threading.Event] = {}

    def where(self) -> str:
        """Host and device, for the operator."""
        return f"{socket.gethostname()} {self._device}"

    def load(self, model: ModelRef) -> int:
        """Load ``model`` now; returns its native size."""
        backend, _ = self._models.get(model)
        return backend.native_size

    def models(self) -> list[str]:
        return self._models.names

    def cancel(self, token: int) -> None:
        """Stop batch ``token`` at its next step (runs beside ``run``: max_concurrency 2)."""
        event = self._cancels.get(token)
        if event is not None:
            event.set()

    def run(
        self,
        token: int,
        model: ModelRef,
        jobs: list[dict[str, Any]],
        inputs: list[list[bytes]],
        preview_every: int,
    ) -> Iterator[Update]:
        """Run one batch, yielding a :class:`StepUpdate` per job per step, then
        :class:`DoneUpdate` or :class:`StoppedUpdate` (a Ray streaming generator).
        ``inputs``: each job's input files' bytes, in the order of its ``input_files``."""
        cancel = self._cancels[token] = threading.Event()
        updates: queue.Queue[Update | Exception] = queue.Queue()
        try:
            with tempfile.TemporaryDirectory(prefix="atelier-actor-") as folder:
                here = [
                    _job_here(GenerationJob.from_params(params), files, Path(folder) / str(n))
                    for n, (params, files) in enumerate(zip(jobs, inputs, strict=True))
                ]
                backend, _ = self._models.get(model)

                def on_step(index: int, event: StepEvent) -> None:
                    preview = None if event.preview is None else png_bytes(event.preview)
                    updates.put(StepUpdate(index, event.step, event.total, preview))

                def generate() -> None:
                    try:
                        outputs = backend.generate_batch(
                            here, on_step=on_step, preview_every=preview_every, cancel=cancel
                        )
                        # The PNGs' generation data names inputs by their hashes, never
                        # by a path: this node's copies give what the bot's files give.
                        updates.put(
                            DoneUpdate(
                                [
                                    _encoded(job, images)
                                    for job, images in zip(here, outputs, strict=True)
                                ]
                            )
                        )
                    except JobCancelled:
                        updates.put(StoppedUpdate())
                    except Exception as error:
                        updates.put(error)

                thread = threading.Thread(target=generate, name=f"atelier-batch-{token}")
                thread.start()
                try:
                    while True:
                        update = updates.get()
                        if isinstance(update, Exception):
                            raise update
                        yield update
                        if not isinstance(update, StepUpdate):
                            return
                finally:
                    cancel.set()  # the bot went away mid-stream: stop at the next step
                    thread.join()
        finally:
            self._cancels.pop(token, None)


def _encoded(job: GenerationJob, images: Sequence[Image.Image] | EncodedJob) -> EncodedJob:
    if isinstance(images, EncodedJob):
        return images
    return encode_outputs(job, images, grid=job.num_images > 1)


def _job_here(job: GenerationJob, files: Sequence[bytes], folder: Path) -> GenerationJob:
    """``job`` reading its input files from copies written into ``folder`` on this node."""
    folder.mkdir()
    paths = []
    for n, (data, original) in enumerate(zip(files, job.input_files, strict=True)):
        path = folder / f"input-{n}{Path(original).suffix}"
        path.write_bytes(data)
        paths.append(str(path))
    return job.with_input_files(paths)


# --- the bot's side -----------------------------------------------------------------------


class RemoteBackend:
    """A model loaded on an actor, as a worker thread in the bot sees it."""

    def __init__(self, actor: Any, model: ModelRef, native_size: int) -> None:
        self._actor = actor
        self.model = model
        self._native_size = native_size

    @classmethod
    def load(cls, actor: Any, model: ModelRef) -> RemoteBackend:
        return cls(actor, model, _get(actor.load.remote(model)))

    @property
    def native_size(self) -> int:
        return self._native_size

    def weights_bytes(self) -> int:
        return 0  # the actor keeps its own VRAM budget

    def generate_batch(
        self,
        jobs: Sequence[GenerationJob],
        *,
        on_step: BatchStepCallback | None = None,
        preview_every: int = 0,
        cancel: threading.Event | None = None,
    ) -> list[EncodedJob]:
        token = next(_tokens)
        inputs = [[Path(path).read_bytes() for path in job.input_files] for job in jobs]
        stream = self._actor.run.options(num_returns="streaming").remote(
            token, self.model, [job.to_params() for job in jobs], inputs, preview_every
        )
        asked_to_stop = False
        heard = False  # whether anything of this batch came back: then its work ran
        try:
            while (ref := _next(stream)) is not None:
                update: Update = _get(ref)
                heard = True
                if isinstance(update, DoneUpdate):
                    # Return at once: whatever Ray says after the images arrived changes nothing.
                    return update.jobs
                if isinstance(update, StoppedUpdate):
                    raise JobCancelled
                if on_step is not None:
                    preview = None if update.preview_png is None else from_png(update.preview_png)
                    on_step(update.job_index, StepEvent(update.step, update.total, preview))
                if cancel is not None and cancel.is_set() and not asked_to_stop:
                    asked_to_stop = True
                    self._actor.cancel.remote(token)
        except WorkerLost as lost:
            if heard or not isinstance(lost.__cause__, ray.exceptions.ActorUnavailableError):
                raise
            raise WorkerLost(str(lost), ran=False) from lost.__cause__
        raise WorkerLost("the remote worker ended a batch without a result")


def _next(stream: Any) -> Any:
    """The next reference from a streaming generator; None when it ended."""
    try:
        return next(stream)
    except StopIteration:
        return None
    except ray.exceptions.RayTaskError as error:
        raise _task_error(error) from None
    except ray.exceptions.RayError as error:
        raise WorkerLost(_first_line(error)) from error


def _get(ref: Any) -> Any:
    """``ray.get``, with a failure of the work itself raised as the worker's own error (the
    batch is retried job by job, as on a local worker) and any other Ray error — the actor
    or its node died — as :class:`WorkerLost`."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        raise _task_error(error) from None
    except ray.exceptions.RayError as error:
        raise WorkerLost(_first_line(error)) from error


def _call(call: Callable[[], _T]) -> _T:
    """A Ray call, with any Ray error (the cluster went away meanwhile) as
    :class:`WorkerLost`."""
    try:
        return call()
    except ray.exceptions.RayError as error:
        raise WorkerLost(_first_line(error)) from error


def _task_error(error: ray.exceptions.RayTaskError) -> Exception:
    """What a failure raised inside the actor means here: the error itself (the job failed,
    the worker lives on) but for a CUDA error other than running out of memory, after which
    that process's GPU cannot be trusted: the worker is lost, and replaced."""
    cause = error.cause
    if not isinstance(cause, Exception):
        return WorkerLost(_first_line(error))
    if _cuda_failure(cause):
        return WorkerLost(f"its GPU failed: {_first_line(cause)}")
    return cause


def _cuda_failure(error: Exception) -> bool:
    if isinstance(error, torch.OutOfMemoryError):
        return False
    accelerator_error = getattr(torch, "AcceleratorError", None)
    if accelerator_error is not None and isinstance(error, accelerator_error):
        return True
    return isinstance(error, RuntimeError) and "CUDA error" in str(error)


def _first_line(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class RemoteWorker(Worker):
    """A worker thread whose batches run on a Ray actor. It takes no job from the queue
    until its actor is up; when the actor dies the thread ends and the pool retries its
    batch elsewhere. The actor is killed when the thread ends or is given up on."""

    def __init__(
        self, config: WorkerConfig, queue: JobQueue, actor: Any, post: Sink, *, generation: int
    ) -> None:
        def load(model: ModelRef, device: str, make_room: Callable[[int], None]) -> RemoteBackend:
            return RemoteBackend.load(actor, model)

        super().__init__(config, queue, load, post, generation=generation)
        self.actor = actor
        self.where = ""  # host and device, once the actor is up
        self.up = False
        self._keep_actor = False

    def _run(self) -> None:
        try:
            ready = _call(lambda: self.actor.where.remote())
            while not self._stopping and not _call(lambda: ray.wait([ready], timeout=0.5)[0]):
                pass
            if self._stopping:
                return
            self.where = _get(ready)
            self.up = True
            log.info("remote worker %s is up on %s", self.device, self.where)
            super()._run()
        except WorkerLost as lost:
            level = logging.DEBUG if self.retired else logging.ERROR  # the pool said why
            log.log(level, "remote worker %s could not start: %s", self.device, lost)
        finally:
            self._kill()

    def retire(self, *, reachable: bool = True) -> None:
        super().retire(reachable=reachable)
        self._keep_actor = not reachable  # a cluster that went away: no call to it
        if reachable:
            threading.Thread(target=self._kill, daemon=True).start()  # unblocks the thread

    def _kill(self) -> None:
        if self._keep_actor:
            return
        try:
            ray.kill(self.actor, no_restart=True)
        except Exception as error:  # already gone, or the cluster is: nothing to free
            log.debug("killing remote worker %s: %s", self.device, error)


def remote_worker_config(config: PoolConfig, name: str) -> WorkerConfig:
    """The bot side of a remote worker: batch size by the remote device; its VRAM budget
    is the actor's business."""
    assert config.ray is not None
    if config.max_batch_images is not None:
        max_images = config.max_batch_images
    else:
        gpu = config.ray.worker_device == "cuda"
        max_images = GPU_MAX_BATCH_IMAGES if gpu else IMAGES_PER_JOB
    return WorkerConfig(name, max_images, None, config.preview_every)


class Cluster:
    """The connection to a Ray cluster, and the actors the pool asks for. Every method
    blocks: the pool calls them off the event loop."""

    def __init__(self, config: RayConfig) -> None:
        self.config = config
        self._started_here = False

    @property
    def resource(self) -> str:
        return "GPU" if self.config.worker_device == "cuda" else "CPU"

    @property
    def connected(self) -> bool:
        return ray.is_initialized()

    def free_slots(self) -> int:
        """Workers the cluster has room for now, connecting first if needed. Raises
        whatever Ray raises when the cluster cannot be reached."""
        self._connect()
        available = cast(Callable[[], dict[str, float]], ray.available_resources)
        return int(available().get(self.resource, 0))

    def spawn(self, config: PoolConfig, factory: BackendFactory, count: int) -> list[Any]:
        """Start ``count`` actors, spread over the nodes (they come up in the background)."""
        reserve: dict[str, Any] = (
            {"num_gpus": 1, "num_cpus": 0} if self.resource == "GPU" else {"num_cpus": 1}
        )
        actor_class = ray.remote(GpuActor).options(
            max_concurrency=2, scheduling_strategy="SPREAD", **reserve
        )
        return [actor_class.remote(config, factory) for _ in range(count)]

    def problem(self, timeout: float) -> str | None:
        """None while the cluster this process is connected to answers (or while it is not
        connected); else what is wrong, in a few words. First a TCP connection to its head
        (a head that is gone is told at once), then a request to its GCS, which also fails
        when a new head answers at the same address: that is another cluster, whose GCS
        knows nothing of this process or its workers."""
        if not ray.is_initialized():
            return None
        address = _gcs_address()
        endpoint = head_endpoint(address)
        if endpoint is not None and (why := unreachable(*endpoint, timeout)) is not None:
            return why
        try:
            _gcs_client().internal_kv_get(b"atelier-probe", None, timeout=timeout)
        except Exception as error:  # Ray raises RpcError, AuthenticationError (new head), …
            return _first_line(error)
        return None

    def disconnect(self) -> None:
        """Leave the cluster (a private one stops): the next :meth:`free_slots` connects
        again. Safe to call when not connected."""
        if ray.is_initialized():
            started = time.monotonic()
            ray.shutdown()
            log.info("left the Ray cluster in %.1f s", time.monotonic() - started)
        self._started_here = False

    def close(self) -> None:
        if self._started_here:
            self.disconnect()

    def _connect(self) -> None:
        if ray.is_initialized():
            return
        address = self.config.address
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            # Ray waits long on a head that is not there: a refused connection says so now.
            endpoint = head_endpoint(_bootstrap_address(address))
            if endpoint is not None and (why := unreachable(*endpoint, 2.0)) is not None:
                raise ConnectionError(why)
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self._started_here = True
        log.info("connected to the Ray cluster at %s", address)


def _bootstrap_address(address: str) -> str:
    """``address`` as host:port: ``auto`` is the cluster a Ray node on this machine joined
    (or ``RAY_ADDRESS``); unchanged when that cannot be told (``ray.init`` then says why)."""
    try:
        found = ray._private.services.canonicalize_bootstrap_address(address)
    except Exception:  # no cluster recorded on this machine, a malformed address
        return address
    return found or address


def _gcs_address() -> str:
    return str(ray.get_runtime_context().gcs_address)


def _gcs_client() -> Any:
    """The connection's own client to the GCS: a request with a timeout, unlike a new
    client, ends within it when the GCS is gone (measured: a new one took 12 s)."""
    return cast(Any, ray._private.worker.global_worker).gcs_client
