"""The worker pool, as the event loop sees it: submit jobs, follow them, cancel them.

Jobs are written to the database before they are queued. Worker threads report through
``loop.call_soon_threadsafe``; every database write they cause is applied by one recorder
task, in the order the events happened, so a job's rows always move queued → running →
final. A handle's final event is delivered only after its row says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from core.clock import Clock, utc_now
from core.errors import UserFacingError
from db.database import Database
from db.job_messages import JobPlace, insert_job_place
from db.jobs import (
    LOCAL_OWNER_ID,
    ImageRecord,
    JobRecord,
    JobStatus,
    Lane,
    insert_job,
    mark_finished,
    requeue,
    unfinished_jobs,
)
from inference.engine import SavedImage
from inference.jobs import GenerationJob
from inference.loading import ModelLoadError
from inference.model_config import native_size_from_config
from inference.models import ModelRef, ModelSources
from inference.params import ParamError
from inference.pool import recorder
from inference.pool.config import PoolConfig, UserLimits
from inference.pool.events import (
    Cancelled,
    Deferred,
    Failed,
    FinalEvent,
    Finished,
    JobResult,
    Progress,
    Started,
)
from inference.pool.handle import JobHandle, QueueStatus
from inference.pool.metrics import (
    BusyTime,
    ClusterMetrics,
    DeviceMetrics,
    PoolMetrics,
    StepTimings,
    Throughput,
    Waits,
    work_units,
)
from inference.pool.queue import (
    LANE_ORDER,
    JobQueue,
    OutputPaths,
    QueueClosedError,
    QueuedJob,
)
from inference.pool.recorder import Recorder
from inference.pool.worker import (
    BackendFactory,
    BatchEnded,
    BatchStarted,
    JobEnded,
    JobStep,
    JobSucceeded,
    ModelFailed,
    ModelLoaded,
    RunningBatch,
    Worker,
    WorkerMessage,
    worker_config,
)

_T = TypeVar("_T")

#: How long the Ray cluster may take to answer before members are told it does not.
ANSWER_SECONDS = 10.0
#: How long each step of the check that the cluster's head is there may take.
PROBE_SECONDS = 2.0
#: Times a job may go back to the queue because its remote worker was lost before its work
#: ran (the cluster went away, Ray said the actor was unavailable) without that counting as
#: its one retry; past this, such a loss counts.
MAX_FREE_RETURNS = 2

if TYPE_CHECKING:
    from inference.pool.remote import Cluster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    native_size: int  # side of the square images the model was trained on, in pixels


class PoolClosedError(UserFacingError):
    """The pool is not taking work (not started, or shutting down); a member who asked for
    a job is told so."""


class WorkerPool:
    """One worker thread per device, a fair queue in front of them, and the bookkeeping.

    Build it once (in ``bot/``), ``await start()``, ``submit`` jobs, ``await shutdown()``.
    ``models`` says what the model each job names is; ``backend_factory`` loads a model
    onto a device (tests pass one that injects faults).
    """

    def __init__(
        self,
        db: Database,
        models: ModelSources,
        config: PoolConfig,
        images_dir: Path,
        *,
        backend_factory: BackendFactory,
        remote_factory: BackendFactory | None = None,
        clock: Clock = utc_now,
    ) -> None:
        """``remote_factory`` loads models in remote workers (with ``config.ray``): it is
        sent to them, so it must be picklable and carry nothing secret."""
        if not config.devices and config.ray is None:
            raise ValueError("a worker pool needs at least one device or a Ray cluster")
        self._db = db
        self._models = models
        self._config = config
        self._images_dir = images_dir
        self._factory = backend_factory
        self._remote_factory = remote_factory or backend_factory
        self._cluster: Cluster | None = None
        self._ray_calls: _CallThread | None = None  # with a cluster: every blocking Ray call
        self._cluster_note: str | None = None  # why the cluster gives no workers, if so
        # since when, and why, the cluster cannot be reached; None while it can
        self._cluster_down: tuple[datetime, str] | None = None
        self._failed_starts = 0  # remote workers in a row that died before they were up
        self._remote_names = (f"ray-{n}" for n in itertools.count(1))
        # models asked for while no worker existed: loaded by the first one to come
        self._unplaced_loads: dict[str, ModelRef] = {}
        self._clock = clock
        self._queue = JobQueue(config.limits)
        self._workers: list[Worker] = []
        # per worker, local device or remote name: see _count_worker
        self._restarts: dict[str, int] = {}
        self._gpu_seconds: dict[str, float] = {}
        self._busy: dict[str, BusyTime] = {}
        self._handles: dict[int, JobHandle] = {}
        self._running_batches: dict[int, RunningBatch] = {}
        self._model_info: dict[str, ModelInfo] = {}
        self._model_waiters: dict[str, list[asyncio.Future[ModelInfo]]] = {}
        self._device_waiters: dict[tuple[str, str], list[asyncio.Future[ModelInfo]]] = {}
        # (device, model name) → model, from the request until that worker reports back
        self._requested_loads: dict[tuple[str, str], ModelRef] = {}
        self._submit_lock = asyncio.Lock()
        self._timings = StepTimings()
        self._throughput = Throughput()
        self._waits = Waits()
        self._recorder = Recorder(db)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._accepting = False
        self._stopping = False

    # --- life cycle ------------------------------------------------------------------------

    async def start(self, *, recover: bool = True) -> list[JobHandle]:
        """Start the workers; with ``recover``, first queue again the jobs a previous
        process left queued or running, in their original order. Returns their handles."""
        if self._config.ray is not None:
            from inference.pool import ray_env

            # Before Ray is imported: a private Ray then stays on 127.0.0.1, and Ray's client
            # never ends the bot when the head goes away.
            ray_env.prepare(loopback=self._config.ray.address == "local")
            try:
                from inference.pool.remote import Cluster  # Ray only when it is asked for
            except ImportError as error:
                raise RuntimeError(
                    "ATELIER_RAY_ADDRESS is set, but Ray is not installed: "
                    "pip install 'atelier[cluster]'"
                ) from error
            self._cluster = Cluster(self._config.ray)
            self._ray_calls = _CallThread()
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._recorder.run(), name="pool-recorder"))
        recovered = await self._recover() if recover else []
        now = time.monotonic()
        self._throughput = Throughput(now)
        for device in self._config.devices:
            self._count_worker(device, now)
            self._workers.append(self._spawn(device))
        self._tasks.append(self._loop.create_task(self._watch(), name="pool-watchdog"))
        if self._cluster is not None:
            self._tasks.append(self._loop.create_task(self._grow(), name="pool-cluster"))
            self._tasks.append(
                self._loop.create_task(self._check_cluster(), name="pool-cluster-check")
            )
        self._accepting = True
        log.info(
            "worker pool started on %s%s",
            ", ".join(self._config.devices) or "no local device",
            "" if self._config.ray is None else f" and the Ray cluster {self._config.ray.address}",
        )
        return recovered

    async def shutdown(self, grace_seconds: float | None = None) -> None:
        """Stop taking work; let running batches finish for up to ``grace_seconds``, then
        interrupt them. Interrupted and waiting jobs stay queued for the next start."""
        if self._loop is None or self._stopping:
            return
        grace = self._config.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        self._accepting = False
        self._stopping = True
        self._queue.close()
        for worker in self._workers:
            worker.stop()
        if not await self._workers_exited(within=grace):
            for worker in self._workers:
                worker.interrupt()
            if not await self._workers_exited(within=max(5.0, self._config.watch_interval)):
                log.warning("a worker did not stop in time; its jobs stay queued for next start")
        await self._messages_delivered()
        for handle in list(self._handles.values()):
            if handle.status is JobStatus.QUEUED and not handle.entry.running:
                self._resolve(handle, Deferred())
        await self._recorder.flush()
        for handle in list(self._handles.values()):  # stuck in a worker that never returned
            self._resolve(handle, Deferred())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._cluster is not None and self._ray_calls is not None:
            with contextlib.suppress(TimeoutError):  # a cluster that does not answer
                await asyncio.wait_for(self._ray_calls.call(self._cluster.close), timeout=10)
            self._ray_calls.stop()
        self._tasks.clear()
        log.info("worker pool stopped")

    async def _messages_delivered(self) -> None:
        """Wait until every message the workers have posted so far has been handled (they
        are delivered in order, so a marker posted now arrives after all of them)."""
        assert self._loop is not None
        marker = self._loop.create_future()
        self._loop.call_soon_threadsafe(marker.set_result, None)
        await marker

    async def _workers_exited(self, within: float) -> bool:
        deadline = time.monotonic() + within
        while any(worker.is_alive() for worker in self._workers):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # --- submitting and following jobs -----------------------------------------------------

    async def model_info(self, model: ModelRef) -> ModelInfo:
        """What planning a job needs to know about ``model``, loading it on a worker the
        first time (it then stays warm there); with no worker at all, read from its
        configuration files. Raises ModelLoadError."""
        known = self._model_info.get(model.name)
        if known is not None:
            return known
        self._check_accepting()
        assert self._loop is not None
        if not self._workers:
            # No worker to ask, maybe for long (the cluster is down or has no GPU): read the
            # model's configuration here, so the job is recorded and waits in the queue.
            self._unplaced_loads[model.name] = model  # the first worker to come loads it
            info = ModelInfo(model.name, await asyncio.to_thread(native_size_from_config, model))
            self._model_info[model.name] = info
            return info
        future: asyncio.Future[ModelInfo] = self._loop.create_future()
        waiters = self._model_waiters.setdefault(model.name, [])
        waiters.append(future)
        if len(waiters) == 1:
            if self._workers:
                self._request_load(self._least_busy_worker(), model)
            else:
                self._unplaced_loads[model.name] = model
        return await future

    async def warm_up(self, model: ModelRef) -> ModelInfo:
        """Load ``model`` on every device now (between batches), so no user's job waits for
        a load; the bot does this for its default model at start-up. Raises ModelLoadError."""
        self._check_accepting()
        assert self._loop is not None
        if not self._workers:
            return await self.model_info(model)
        loads = []
        for worker in self._workers:
            future: asyncio.Future[ModelInfo] = self._loop.create_future()
            self._device_waiters.setdefault((worker.device, model.name), []).append(future)
            loads.append(future)
            self._request_load(worker, model)
        infos = await asyncio.gather(*loads)
        return infos[0]

    async def submit(
        self,
        job: GenerationJob,
        *,
        owner_id: int,
        lane: Lane = Lane.STANDARD,
        parent: tuple[int, int] | None = None,
        enforce_limits: bool = True,
        outputs: OutputPaths | None = None,
        place: JobPlace | None = None,
    ) -> JobHandle:
        """Record ``job`` as queued, then queue it.

        ``parent`` is (job id, image index) for rerolls, variations and upscales.
        ``place``: where the job will be shown, recorded with it in one transaction, so no
        job can exist that a restart would not know where to deliver.
        ``outputs`` overrides where the PNGs go (the CLI's ``--out``). Raises
        QueueLimitError (the owner has too many jobs waiting), ParamError (unknown model)
        or PoolClosedError.
        """
        self._check_accepting()
        model = await self._model_of(job)
        async with self._submit_lock:
            if enforce_limits:
                self._queue.check_limits(owner_id)
            async with self._db.transaction() as conn:
                job_id = await insert_job(
                    conn,
                    kind=job.kind,
                    owner_id=owner_id,
                    prompt=job.request.prompt,
                    params=job.to_params(),
                    model=job.model,
                    created_at=self._clock(),
                    parent_job_id=parent[0] if parent else None,
                    parent_index=parent[1] if parent else None,
                    lane=lane,
                    loras=[(lora.key, lora.weight) for lora in job.loras],
                )
                if place is not None:
                    await insert_job_place(conn, job_id, place)
            paths = outputs or OutputPaths.for_job(self._images_dir, job_id, job.num_images)
            return self._enqueue(QueuedJob(job_id, owner_id, lane, job, model, paths))

    @property
    def limits(self) -> UserLimits:
        return self._queue.limits

    def set_limits(self, limits: UserLimits) -> None:
        """Change the per-user limits while running (``/admin limits``)."""
        self._queue.set_limits(limits)

    def check_limits(self, owner_id: int, count: int = 1) -> None:
        """Raise QueueLimitError if ``owner_id`` may not queue ``count`` more jobs now, so a
        caller can refuse before doing anything slow."""
        self._queue.check_limits(owner_id, count)

    def handle(self, job_id: int) -> JobHandle | None:
        """The handle of a job that is waiting or running in this pool."""
        return self._handles.get(job_id)

    def jobs_of(self, owner_id: int) -> list[JobHandle]:
        """A user's waiting and running jobs, oldest first."""
        return sorted(
            (h for h in self._handles.values() if h.owner_id == owner_id), key=lambda h: h.job_id
        )

    def queue_status(self, job_id: int) -> QueueStatus | None:
        """Position and ETA (to start) of a waiting job; None once it started or ended.

        The ETA adds up the work ahead of it (what is left of the running batches, and the
        jobs before it in the order the queue predicts), in pixel-steps, at the median speed
        of recent batches, shared among the devices.
        """
        order = self._queue.order()
        index = next((i for i, entry in enumerate(order) if entry.job_id == job_id), None)
        if index is None:
            return None
        per_unit = self._timings.seconds_per_unit()
        if per_unit is None:
            return QueueStatus(index + 1, None)
        ahead = sum(work_units(entry.job) for entry in order[:index])
        for batch in list(self._running_batches.values()):
            left = 1 - batch.step / batch.total if batch.total else 1.0
            ahead += left * sum(work_units(entry.job) for entry in batch.entries)
        start = ahead * per_unit / max(1, len(self._workers))
        return QueueStatus(index + 1, start)

    def metrics(self) -> PoolMetrics:
        now = time.monotonic()
        depths = self._queue.depths()
        return PoolMetrics(
            queue_depth={lane.value: depths[lane] for lane in LANE_ORDER},
            running_jobs=sum(
                1 for handle in self._handles.values() if handle.status is JobStatus.RUNNING
            ),
            images_per_second=self._throughput.per_second(now),
            mean_wait_seconds=self._waits.mean(),
            devices=tuple(
                DeviceMetrics(
                    device=worker.device,
                    busy=self._busy[worker.device].busy,
                    utilisation=self._busy[worker.device].utilisation(now),
                    models=tuple(worker.models),
                    restarts=self._restarts[worker.device],
                    alive=worker.is_alive(),
                    gpu_seconds=self._gpu_seconds[worker.device],
                )
                for worker in self._workers
            ),
            accepting=self._accepting,
            images_total=self._throughput.total,
            waits_total=self._waits.count,
            wait_seconds_total=self._waits.total_seconds,
            cluster=self._cluster_metrics(),
        )

    def _cluster_metrics(self) -> ClusterMetrics | None:
        if self._config.ray is None:
            return None
        return ClusterMetrics(
            address=self._config.ray.address,
            reachable=self._cluster_down is None,
            remote_workers=sum(
                1 for w in self._workers if w.device not in self._config.devices and w.up
            ),
            note=self.cluster_note(),
        )

    def _check_accepting(self) -> None:
        if not self._accepting:
            raise PoolClosedError(
                "Atelier is restarting and not taking new jobs; try again in a minute"
                if self._stopping
                else "the worker pool has not been started"
            )

    def _enqueue(self, entry: QueuedJob, *, front: bool = False) -> JobHandle:
        handle = self._handles.get(entry.job_id) or JobHandle(
            entry, cancel=self._cancel, queue_status=self.queue_status
        )
        handle.entry = entry
        self._handles[entry.job_id] = handle
        try:
            self._queue.put(entry, front=front)
        except QueueClosedError:
            self._resolve(handle, Deferred())  # recorded as queued: runs after the restart
        return handle

    def _cancel(self, handle: JobHandle) -> bool:
        if handle.final is not None or handle.entry.cancel_requested:
            return handle.final is None
        handle.entry.cancel_requested = True
        if self._queue.remove(handle.job_id) is not None:
            self._record_end(handle, JobStatus.CANCELLED, Cancelled())
            return True
        # A worker has it: it reports when it stops. If everyone in the batch has given up,
        # the batch stops at its next step; otherwise it runs on and this job's images are
        # dropped at the end.
        for batch in self._running_batches.values():
            if handle.entry in batch.entries and all(e.cancel_requested for e in batch.entries):
                batch.cancel.set()
        return True

    # --- recovery after a restart ----------------------------------------------------------

    async def _recover(self) -> list[JobHandle]:
        handles = []
        for record in await unfinished_jobs(self._db):
            if record.owner_id == LOCAL_OWNER_ID:
                continue  # a command-line run owns it, and may still be running
            if record.status is JobStatus.RUNNING:
                async with self._db.transaction() as conn:
                    await requeue(conn, record.id)
            entry = await self._recovered_entry(record)
            if entry is not None:
                handles.append(self._enqueue(entry))
        if handles:
            log.info("queued %d job(s) left unfinished by the previous run", len(handles))
        return handles

    async def _recovered_entry(self, record: JobRecord) -> QueuedJob | None:
        try:
            job = GenerationJob.from_params(record.params)
            model = await self._model_of(job)
        except ParamError as error:
            reason = f"cannot run it after the restart: {error}"
        except (KeyError, TypeError, ValueError) as error:
            reason = f"cannot run it after the restart: unreadable parameters ({error})"
        else:
            paths = OutputPaths.for_job(self._images_dir, record.id, job.num_images)
            return QueuedJob(record.id, record.owner_id, record.lane, job, model, paths)
        async with self._db.transaction() as conn:
            await mark_finished(
                conn,
                record.id,
                status=JobStatus.FAILED,
                finished_at=self._clock(),
                gpu_seconds=0.0,
                error=reason,
            )
        log.warning("job %d %s", record.id, reason)
        return None

    async def _model_of(self, job: GenerationJob) -> ModelRef:
        """What the job's worker loads: its model, or the dedicated inpainting checkpoint a
        rework recorded (a model of its own in the worker's cache and VRAM budget)."""
        if job.rework is not None and job.rework.checkpoint is not None:
            checkpoint = job.rework.checkpoint
            return ModelRef(checkpoint.model_name, checkpoint.source, inpainting=True)
        model = await self._models.find(job.model)
        if model is None:
            raise ParamError(f"--model {job.model}: unknown model", "--model")
        return model

    # --- workers ---------------------------------------------------------------------------

    def _count_worker(self, name: str, now: float) -> None:
        """Start the figures kept per worker (busy time, restarts, GPU-seconds) for a local
        device or a remote worker, before its thread can post anything: a message about a
        worker the pool does not count would fail on the loop, and its jobs never end."""
        self._busy[name] = BusyTime(now)
        self._restarts.setdefault(name, 0)
        self._gpu_seconds.setdefault(name, 0.0)

    def _spawn(self, device: str) -> Worker:
        worker = Worker(
            worker_config(self._config, device),
            self._queue,
            self._factory,
            self._post,
            generation=self._restarts[device],
        )
        worker.start()
        return worker

    async def _grow(self) -> None:
        """Keep one remote worker per GPU the cluster offers, up to the configured most:
        new GPUs are picked up, a dead worker's GPU gets a new one, and a cluster that
        could not be reached is tried again (connecting anew) until it answers."""
        from inference.pool.remote import RemoteWorker, remote_worker_config

        cluster, ray_config = self._cluster, self._config.ray
        assert cluster is not None
        assert ray_config is not None
        while True:
            remote = [w for w in self._workers if isinstance(w, RemoteWorker)]
            starting = sum(1 for w in remote if not w.up)
            wanted = ray_config.max_workers - len(remote)
            if wanted > 0 and not self._stopping:
                calls = self._ray_calls
                assert calls is not None
                try:
                    asking = asyncio.ensure_future(calls.call(cluster.free_slots))
                    # Ray waits a long time for an address that does not answer: say so.
                    if not (await asyncio.wait({asking}, timeout=ANSWER_SECONDS))[0]:
                        self._cluster_unreachable("it does not answer")
                    free = await asking
                    count = max(0, min(wanted, free - starting))
                    config, factory = self._config, self._remote_factory
                    actors = await calls.call(
                        functools.partial(cluster.spawn, config, factory, count)
                    )
                except ConnectionError as error:  # ours (the head refused), or Ray's
                    self._cluster_unreachable(str(error) or _short(error))
                except Exception as error:  # Ray raises many kinds when a cluster is away
                    self._cluster_unreachable(_short(error))
                else:
                    if self._cluster_down is not None:
                        log.info("the Ray cluster at %s answers again", ray_config.address)
                        self._cluster_down = None
                    if not (remote or actors):
                        self._cluster_note = (
                            f"the Ray cluster has no free {cluster.resource} for a worker"
                        )
                    elif not self._failed_starts:
                        self._cluster_note = None
                    for actor in actors:
                        self._add_remote(
                            RemoteWorker(
                                remote_worker_config(
                                    self._config, name := next(self._remote_names)
                                ),
                                self._queue,
                                actor,
                                self._post,
                                generation=0,
                            ),
                            name,
                        )
            if any(worker.up for worker in remote):
                self._failed_starts = 0
            await asyncio.sleep(min(60.0, ray_config.check_seconds * 2**self._failed_starts))

    async def _check_cluster(self) -> None:
        """Notice within seconds that the cluster's head is gone (or was replaced by a new
        one), even while every remote worker waits for work: its workers are then lost, and
        the pool leaves the cluster so that :meth:`_grow` connects anew when it is back.
        Ray alone would say nothing for minutes, or hang."""
        cluster, ray_config = self._cluster, self._config.ray
        assert cluster is not None
        assert ray_config is not None
        while True:
            await asyncio.sleep(ray_config.check_seconds)
            if self._stopping or not cluster.connected:
                continue
            try:
                problem = await asyncio.wait_for(
                    _in_daemon_thread(functools.partial(cluster.problem, PROBE_SECONDS)),
                    timeout=3 * PROBE_SECONDS,
                )
            except TimeoutError:
                problem = "it does not answer"
            if problem is not None and not self._stopping:
                await self._lose_cluster(problem)

    async def _lose_cluster(self, why: str) -> None:
        """The cluster cannot be reached: give up on its workers (their jobs go back to the
        queue, the local workers carry on) and leave it, off the loop."""
        from inference.pool.remote import RemoteWorker

        assert self._cluster is not None
        self._cluster_unreachable(why)
        what_happened = f"the Ray cluster at {self._cluster.config.address} became unreachable"
        for worker in [w for w in self._workers if isinstance(w, RemoteWorker)]:
            self._replace(worker, what_happened, cluster_lost=True)
        # A call stuck on the lost cluster keeps its thread; the next calls get a new one.
        stuck, self._ray_calls = self._ray_calls, _CallThread()
        if stuck is not None:
            stuck.abandon(ConnectionError(what_happened))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ray_calls.call(self._cluster.disconnect), timeout=30)

    def _cluster_unreachable(self, why: str) -> None:
        if self._cluster_down is None:
            assert self._config.ray is not None
            log.error("the Ray cluster at %s is unreachable: %s", self._config.ray.address, why)
            self._cluster_down = (self._clock(), why)

    def _add_remote(self, worker: Worker, name: str) -> None:
        self._count_worker(name, time.monotonic())
        self._workers.append(worker)
        worker.start()
        for model in self._unplaced_loads.values():
            self._request_load(worker, model)
        self._unplaced_loads.clear()

    def ready_workers(self) -> int:
        """Workers able to take a batch now, local and remote."""
        return sum(1 for worker in self._workers if worker.up and worker.is_alive())

    def capacity_note(self) -> str | None:
        """Why no worker can run jobs now (they wait in the queue), for members; None while
        some worker can."""
        if any(w.device in self._config.devices for w in self._workers):
            return None  # a local worker carries on
        return self.cluster_note()

    def cluster_note(self) -> str | None:
        """Why the Ray cluster gives no remote worker now, for members and operators; None
        while one is up, or with no cluster."""
        if self._config.ray is None:
            return None
        if self._cluster_down is not None:
            since, why = self._cluster_down
            return (
                f"the Ray cluster at {self._config.ray.address} is unreachable since "
                f"{since:%Y-%m-%d %H:%M:%S} UTC ({why})"
            )
        remote = [w for w in self._workers if w.device not in self._config.devices]
        if any(worker.up for worker in remote):
            return None
        if remote:
            return self._cluster_note or "the GPU workers are starting"
        return self._cluster_note or "no GPU worker has joined yet"

    def _post(self, message: WorkerMessage) -> None:
        """Called on a worker thread: hand the message to the loop."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: the process is exiting
            self._loop.call_soon_threadsafe(self._on_message, message)

    def _request_load(self, worker: Worker, model: ModelRef) -> None:
        self._requested_loads[(worker.device, model.name)] = model
        worker.request_load(model)

    def _least_busy_worker(self) -> Worker:
        idle = [w for w in self._workers if w.current is None and not w.retired]
        return (idle or [w for w in self._workers if not w.retired] or self._workers)[0]

    async def _watch(self) -> None:
        """Notice crashed and hung worker threads and replace them."""
        while True:
            await asyncio.sleep(self._config.watch_interval)
            if self._stopping:
                continue
            for worker in list(self._workers):
                if not worker.is_alive():
                    self._replace(worker, f"the worker on {worker.device} crashed")
                elif (
                    worker.current is not None
                    and time.monotonic() - worker.heartbeat > self._config.hang_seconds
                ):
                    self._replace(worker, f"the worker on {worker.device} stopped responding")

    def _replace(self, old: Worker, what_happened: str, *, cluster_lost: bool = False) -> None:
        """Give up on ``old`` and retry its batch's jobs elsewhere. A local device gets a new
        thread; a remote worker's GPU gets a new actor from :meth:`_grow`. ``cluster_lost``:
        the whole cluster went away (not this worker alone)."""
        index = self._workers.index(old)
        remote = old.device not in self._config.devices
        log.error("%s; %s", what_happened, "retrying its jobs" if remote else "starting a new one")
        old.retire(reachable=not cluster_lost)
        lost = [entry for entry in old.holding if not entry.reported]
        self._queue.release(lost)
        # Jobs of which a step came back: their work ran, so running them again is a retry.
        stepped: set[int] = set()
        for batch in [b for b in self._running_batches.values() if b.entries[0] in old.holding]:
            if batch.step > 0:
                stepped.update(entry.job_id for entry in batch.entries)
            del self._running_batches[batch.token]  # not timed: it says nothing about speed
            self._busy[old.device].end(time.monotonic())
        # Lost before its work ran (as far as the bot can tell): the cluster went away, or
        # Ray said the worker was unavailable before anything came back.
        before_work = cluster_lost or (old.lost is not None and not old.lost.ran)
        self._restarts[old.device] += 1
        if remote:
            del self._workers[index]
            if not old.up and not cluster_lost:  # it never started: wait before the next try
                self._failed_starts += 1
                self._cluster_note = "the GPU workers fail to start (see the bot's log)"
            for (device, name), model in list(self._requested_loads.items()):
                if device == old.device:
                    del self._requested_loads[(device, name)]
                    self._unplaced_loads[name] = model
        else:
            new = self._workers[index] = self._spawn(old.device)
            for (device, _), model in list(self._requested_loads.items()):
                if device == old.device:
                    new.request_load(model)
        for entry in lost:
            ran = entry.job_id in stepped or not before_work
            self._retry_lost(entry, what_happened, ran=ran)

    def _retry_lost(self, entry: QueuedJob, what_happened: str, *, ran: bool = True) -> None:
        """A job lost with its worker runs again, alone, once; the second time it fails.
        One whose work had not run (``ran`` false) goes back to the queue as it was, up to
        :data:`MAX_FREE_RETURNS` times: a cluster that went away is not the job's fault."""
        handle = self._handles.get(entry.job_id)
        if handle is None or handle.final is not None:
            return
        if entry.cancel_requested:
            self._record_end(handle, JobStatus.CANCELLED, Cancelled())
            return
        if not ran and entry.free_returns < MAX_FREE_RETURNS:
            retry = dataclasses.replace(
                entry, free_returns=entry.free_returns + 1, running=False, reported=False
            )
        elif entry.attempts >= 1:
            reason = f"{what_happened} while running this job, twice"
            self._record_end(handle, JobStatus.FAILED, Failed(reason), error=reason)
            return
        else:
            retry = dataclasses.replace(
                entry, solo=True, attempts=entry.attempts + 1, running=False, reported=False
            )
        if handle.status is JobStatus.RUNNING:
            handle.status = JobStatus.QUEUED
            self._recorder.add(recorder.back_to_queue(entry.job_id))
        self._enqueue(retry, front=True)

    # --- worker messages (on the loop) -------------------------------------------------------

    def _on_message(self, message: WorkerMessage) -> None:
        if message.worker.retired and not self._reported_before_retiring(message):
            return  # its jobs were taken back when it was given up on
        match message:
            case BatchStarted(worker, batch):
                self._batch_started(worker, batch)
            case JobStep(_, _, entry, event):
                handle = self._handles.get(entry.job_id)
                if handle is not None and handle.final is None:
                    handle._emit(Progress(event.step, event.total, event.preview))
            case JobSucceeded(worker, entry, images, gpu_seconds):
                self._gpu_seconds[worker.device] += gpu_seconds
                self._job_succeeded(worker, entry, images, gpu_seconds)
            case JobEnded(worker, entry, how, gpu_seconds, reason):
                self._gpu_seconds[worker.device] += gpu_seconds
                self._job_ended(worker, entry, how, gpu_seconds, reason)
            case BatchEnded(worker, batch, seconds):
                self._end_batch(worker, batch, seconds)
            case ModelLoaded(worker, model, native_size):
                info = ModelInfo(model.name, native_size)
                self._model_info[model.name] = info
                for future in self._waiters_for(worker, model):
                    future.set_result(info)
            case ModelFailed(worker, model, reason):
                for future in self._waiters_for(worker, model):
                    future.set_exception(ModelLoadError(reason))

    def _reported_before_retiring(self, message: WorkerMessage) -> bool:
        """Whether ``message`` is how a job ended, posted by a worker that was given up on
        only after posting it: that job was not taken back (only unreported ones are), so
        its handle still follows the very entry the message is about, and it counts."""
        if not isinstance(message, JobSucceeded | JobEnded):
            return False
        handle = self._handles.get(message.entry.job_id)
        return handle is not None and handle.entry is message.entry

    def _waiters_for(self, worker: Worker, model: ModelRef) -> list[asyncio.Future[ModelInfo]]:
        """Who is waiting for ``model`` to load anywhere, or on ``worker``'s device."""
        self._requested_loads.pop((worker.device, model.name), None)
        waiting = self._model_waiters.pop(model.name, [])
        waiting += self._device_waiters.pop((worker.device, model.name), [])
        return [future for future in waiting if not future.done()]

    def _batch_started(self, worker: Worker, batch: RunningBatch) -> None:
        self._running_batches[batch.token] = batch
        self._busy[worker.device].begin(batch.started)
        started_at = self._clock()
        for entry in batch.entries:
            handle = self._handles.get(entry.job_id)
            if handle is None or handle.final is not None:
                continue
            if handle.status is JobStatus.QUEUED:
                handle.status = JobStatus.RUNNING
                handle.waited = max(0.0, batch.started - entry.enqueued_at)
                self._waits.add(handle.waited)
                handle._emit(Started(worker.device))
                self._recorder.add(recorder.started(entry.job_id, worker.device, started_at))

    def _end_batch(self, worker: Worker, batch: RunningBatch, seconds: float) -> None:
        if self._running_batches.pop(batch.token, None) is None:
            return
        self._busy[worker.device].end(batch.started + seconds)
        if seconds > 0:
            self._timings.add(seconds, sum(work_units(entry.job) for entry in batch.entries))

    def _job_succeeded(
        self, worker: Worker, entry: QueuedJob, images: list[SavedImage], gpu_seconds: float
    ) -> None:
        handle = self._handles.get(entry.job_id)
        if handle is None or handle.final is not None:
            return
        self._throughput.add(len(images))
        result = JobResult(
            job_id=entry.job_id,
            images=tuple(images),
            grid=entry.outputs.grid,
            device=worker.device,
            gpu_seconds=gpu_seconds,
            wait_seconds=handle.waited,
        )
        records = [
            # absolute, so the record stays valid whatever directory reads it
            ImageRecord(
                entry.job_id,
                image.index,
                str(image.path.resolve()),
                image.seed,
                image.width,
                image.height,
            )
            for image in images
        ]
        handle.status = JobStatus.DONE
        finished = recorder.ended(
            entry.job_id, JobStatus.DONE, self._clock(), gpu_seconds, images=records
        )
        self._recorder.add(finished, lambda: self._resolve(handle, Finished(result)))

    def _job_ended(
        self, worker: Worker, entry: QueuedJob, how: str, gpu_seconds: float, reason: str
    ) -> None:
        handle = self._handles.get(entry.job_id)
        if handle is None or handle.final is not None:
            return
        if how == "cancelled":
            self._record_end(handle, JobStatus.CANCELLED, Cancelled(), gpu_seconds=gpu_seconds)
        elif how == "failed":
            self._record_end(
                handle, JobStatus.FAILED, Failed(reason), gpu_seconds=gpu_seconds, error=reason
            )
        else:  # interrupted by a shutdown: back to queued, for the next start
            if handle.status is JobStatus.RUNNING:
                handle.status = JobStatus.QUEUED
                self._recorder.add(
                    recorder.back_to_queue(entry.job_id), lambda: self._resolve(handle, Deferred())
                )
            else:
                self._resolve(handle, Deferred())

    def _record_end(
        self,
        handle: JobHandle,
        status: JobStatus,
        event: FinalEvent,
        *,
        gpu_seconds: float = 0.0,
        error: str | None = None,
    ) -> None:
        handle.status = status
        self._recorder.add(
            recorder.ended(handle.job_id, status, self._clock(), gpu_seconds, error=error),
            lambda: self._resolve(handle, event),
        )

    def _resolve(self, handle: JobHandle, event: FinalEvent) -> None:
        self._handles.pop(handle.job_id, None)
        handle._finish(event)


def _short(error: BaseException) -> str:
    """An error in a few words, for members and the log's first line."""
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


async def _in_daemon_thread(call: Callable[[], _T]) -> _T:
    """``call`` on a new daemon thread: one that hangs on a cluster that does not answer
    neither holds the loop's executor nor keeps the process from exiting."""
    calls = _CallThread()
    try:
        return await calls.call(call)
    finally:
        calls.stop()


class _CallThread:
    """One daemon thread for every blocking call to the Ray cluster. One thread, alive as long
    as the pool, because Ray ties the processes of a private Ray (``local``) to the thread that
    started them; a daemon, because Ray may wait minutes on a cluster that does not answer,
    and that must not keep the process from exiting."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._waiting: set[asyncio.Future[Any]] = set()
        self._thread = threading.Thread(target=self._serve, name="atelier-ray", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            call()

    def stop(self) -> None:
        self._calls.put(None)

    def abandon(self, error: BaseException) -> None:
        """Stop, and fail every call not answered yet with ``error`` now (on the loop): a
        call stuck on a lost cluster ends its thread whenever it returns, if ever."""
        self.stop()
        for future in list(self._waiting):
            if not future.done():
                future.set_exception(error)

    async def call(self, call: Callable[[], _T]) -> _T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        self._waiting.add(future)
        future.add_done_callback(self._waiting.discard)

        def settle(result: _T | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(cast(_T, result))

        def run() -> None:
            try:
                result = call()
            except BaseException as error:
                outcome: tuple[_T | None, BaseException | None] = (None, error)
            else:
                outcome = (result, None)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, *outcome)

        self._calls.put(run)
        return await future
