"""How a worker is sized for its device."""

from __future__ import annotations

from inference.pool.config import PoolConfig
from inference.pool.worker import worker_config


def test_cpu_workers_run_one_job_at_a_time_unless_configured() -> None:
    assert worker_config(PoolConfig(devices=("cpu",)), "cpu").max_batch_images == 4
    assert worker_config(PoolConfig(devices=("cpu",)), "cpu").vram_budget_bytes is None
    tuned = worker_config(PoolConfig(devices=("cpu",), max_batch_images=8, vram_budget_gb=2), "cpu")
    assert (tuned.max_batch_images, tuned.vram_budget_bytes) == (8, 2_000_000_000)
