"""The pool's numbers, kept in memory in one place: queue depth, throughput, waits, busy time."""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from dataclasses import dataclass

from inference.jobs import GenerationJob

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class DeviceMetrics:
    device: str
    busy: bool
    utilisation: float  # share of the last minute spent running batches, 0 … 1
    models: tuple[str, ...]  # loaded, least recently used first
    restarts: int  # worker threads replaced after a crash or a hang
    alive: bool = True  # its worker thread is running
    gpu_seconds: float = 0.0  # spent on jobs that ended on it since the pool started


@dataclass(frozen=True)
class ClusterMetrics:
    """The Ray cluster of the remote workers, as the pool sees it."""

    address: str  # ATELIER_RAY_ADDRESS
    reachable: bool  # false from the moment its head was found gone until it answers again
    remote_workers: int  # up and taking batches
    note: str | None  # why it gives no remote worker now; None while one is up


@dataclass(frozen=True)
class PoolMetrics:
    queue_depth: dict[str, int]  # waiting jobs per lane
    running_jobs: int
    images_per_second: float  # over the last minute
    mean_wait_seconds: float | None  # queue → start, over the last 100 started jobs
    devices: tuple[DeviceMetrics, ...]
    accepting: bool = True  # started and not shutting down
    images_total: int = 0  # images made since the pool started
    waits_total: int = 0  # jobs that started since the pool started …
    wait_seconds_total: float = 0.0  # … and how long they waited in all
    cluster: ClusterMetrics | None = None  # None: no Ray cluster configured


def work_units(job: GenerationJob) -> float:
    """How much denoising a job needs, in pixel-steps: comparable across sizes, image counts,
    img2img strengths and ``--stop``, which is what an ETA needs."""
    steps = job.steps * (job.strength if job.strength is not None else 1.0)
    steps = math.ceil(steps * job.request.stop / 100)
    return max(1, steps) * job.width * job.height * job.num_images


class StepTimings:
    """Recent batches' seconds per pixel-step; the median resists the odd slow batch."""

    def __init__(self, keep: int = 50) -> None:
        self._samples: deque[float] = deque(maxlen=keep)

    def add(self, seconds: float, units: float) -> None:
        if units > 0 and seconds > 0:
            self._samples.append(seconds / units)

    def seconds_per_unit(self) -> float | None:
        return statistics.median(self._samples) if self._samples else None


class Throughput:
    """Images finished over the last minute."""

    def __init__(self, started: float | None = None) -> None:
        self._started = time.monotonic() if started is None else started
        self._finished: deque[tuple[float, int]] = deque()

        self.total = 0

    def add(self, images: int, at: float | None = None) -> None:
        self._finished.append((time.monotonic() if at is None else at, images))
        self.total += images

    def per_second(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        while self._finished and self._finished[0][0] < now - WINDOW_SECONDS:
            self._finished.popleft()
        span = min(WINDOW_SECONDS, now - self._started)
        return sum(n for _, n in self._finished) / span if span > 0 else 0.0


class Waits:
    """How long recent jobs waited in the queue, and every wait since the start in total."""

    def __init__(self, keep: int = 100) -> None:
        self._waits: deque[float] = deque(maxlen=keep)
        self.count = 0
        self.total_seconds = 0.0

    def add(self, seconds: float) -> None:
        self._waits.append(max(0.0, seconds))
        self.count += 1
        self.total_seconds += max(0.0, seconds)

    def mean(self) -> float | None:
        return statistics.fmean(self._waits) if self._waits else None


class BusyTime:
    """When one device was running batches, to report its utilisation over the last minute."""

    def __init__(self, started: float | None = None) -> None:
        self._started = time.monotonic() if started is None else started
        self._spans: deque[tuple[float, float]] = deque()
        self._since: float | None = None

    @property
    def busy(self) -> bool:
        return self._since is not None

    def begin(self, at: float) -> None:
        if self._since is None:
            self._since = at

    def end(self, at: float) -> None:
        if self._since is not None:
            self._spans.append((self._since, at))
            self._since = None

    def utilisation(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        start = max(self._started, now - WINDOW_SECONDS)
        while self._spans and self._spans[0][1] < start:
            self._spans.popleft()
        spans = [*self._spans, *([(self._since, now)] if self._since is not None else [])]
        busy = sum(max(0.0, min(end, now) - max(begin, start)) for begin, end in spans)
        return min(1.0, busy / (now - start)) if now > start else 0.0
