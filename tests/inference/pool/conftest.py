"""A worker pool on the tiny model (``make_pool``), with a backend a test can slow down or
make fail (``script``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from inference.models import ModelRef
from tests.helpers.pool import NamedModels, PoolMaker, Script


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def make_pool(
    db: Database, tiny_model_dir: Path, tmp_path: Path, script: Script
) -> AsyncIterator[PoolMaker]:
    maker = PoolMaker(
        db=db,
        models=NamedModels(ModelRef("tiny", str(tiny_model_dir))),
        images_dir=tmp_path / "images",
        script=script,
    )
    yield maker
    script.fault = None
    script.step_delay = 0.0
    for pool in maker.pools:
        await pool.shutdown(grace_seconds=5)
