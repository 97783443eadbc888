"""The pool's settings, as plain data (no torch here: settings import this at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UserLimits:
    """Per-user limits: jobs running at once, and jobs waiting in the queue."""

    max_running: int = 3
    max_queued: int = 10


@dataclass(frozen=True)
class PoolConfig:
    devices: tuple[str, ...]
    limits: UserLimits = field(default_factory=UserLimits)
    max_batch_images: int | None = None  # None: 16 on GPUs, one job at a time on the CPU
    vram_budget_gb: float | None = None  # None: 70 % of each GPU's memory; no limit on CPU
    preview_every: int = 5  # a latent preview every N steps (0: none)
    shutdown_grace_seconds: float = 30.0
    hang_seconds: float = 300.0  # a batch with no step for this long means a hung worker
    watch_interval: float = 1.0
