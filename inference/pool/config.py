"""The pool's settings, as plain data (no torch here: settings import this at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class UserLimits:
    """Per-user limits: jobs running at once, and jobs waiting in the queue."""

    max_running: int = 3
    max_queued: int = 10


@dataclass(frozen=True)
class RayConfig:
    """Remote workers on a Ray cluster (``ATELIER_RAY_*``): one per GPU it offers."""

    address: str  # "auto", "local" (a private Ray in this process) or a cluster address
    max_workers: int = 8
    worker_device: Literal["cuda", "cpu"] = "cuda"  # cpu: each worker reserves a CPU instead
    check_seconds: float = 5.0  # how often the pool looks for new GPUs in the cluster


@dataclass(frozen=True)
class PoolConfig:
    devices: tuple[str, ...]  # local devices, one worker thread each; may be empty with ``ray``
    limits: UserLimits = field(default_factory=UserLimits)
    max_batch_images: int | None = None  # None: 16 on GPUs, one job at a time on the CPU
    vram_budget_gb: float | None = None  # None: 70 % of each GPU's memory; no limit on CPU
    preview_every: int = 5  # a latent preview every N steps (0: none)
    shutdown_grace_seconds: float = 30.0
    hang_seconds: float = 300.0  # a batch with no step for this long means a hung worker
    watch_interval: float = 1.0
    ray: RayConfig | None = None  # None: local workers only
