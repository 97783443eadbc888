"""A Studio over a real database and a real worker pool on the tiny model, both on the
test's fake clock (``clock``), which a test may move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from inference.models import ModelCatalog
from studio.service import Studio
from tests.helpers.clock import FakeClock
from tests.helpers.pool import PoolMaker, Script
from tests.helpers.studio import StudioMaker


@pytest.fixture
def catalog(tiny_model_dir: Path) -> ModelCatalog:
    """Two names for the tiny model, so a preferred model can differ from the default."""
    return ModelCatalog({"tiny": str(tiny_model_dir), "Other": str(tiny_model_dir)}, "tiny")


@pytest.fixture
async def make_pool(
    db: Database, catalog: ModelCatalog, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[PoolMaker]:
    maker = PoolMaker(
        db=db, catalog=catalog, images_dir=tmp_path / "images", script=Script(), clock=clock
    )
    yield maker
    for pool in maker.pools:
        await pool.shutdown(grace_seconds=5)


@pytest.fixture
async def make_studio(make_pool: PoolMaker) -> StudioMaker:
    return StudioMaker(make_pool)


@pytest.fixture
async def studio(make_studio: StudioMaker) -> Studio:
    return await make_studio()
