"""A Studio over a real database and a real worker pool on the tiny model, both on the
test's fake clock (``clock``), which a test may move."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from registry.configured import ConfiguredModels, configured_models
from studio.models import RegisteredModels
from studio.service import Studio
from tests.helpers.clock import FakeClock
from tests.helpers.pool import PoolMaker, Script
from tests.helpers.studio import StudioMaker


@pytest.fixture
def configured(tiny_model_dir: Path) -> ConfiguredModels:
    """Two names for the tiny model, so a preferred model can differ from the default."""
    return configured_models({"tiny": str(tiny_model_dir), "Other": str(tiny_model_dir)}, "tiny")


@pytest.fixture
def models(db: Database, configured: ConfiguredModels) -> RegisteredModels:
    """The registry as the bot wires it, the configured default its default model."""
    return RegisteredModels(db, configured.default)


@pytest.fixture
async def make_pool(
    db: Database, models: RegisteredModels, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[PoolMaker]:
    maker = PoolMaker(
        db=db, models=models, images_dir=tmp_path / "images", script=Script(), clock=clock
    )
    yield maker
    for pool in maker.pools:
        await pool.shutdown(grace_seconds=5)


@pytest.fixture
async def make_studio(
    make_pool: PoolMaker, models: RegisteredModels, configured: ConfiguredModels
) -> StudioMaker:
    return StudioMaker(make_pool, models, configured)


@pytest.fixture
async def studio(make_studio: StudioMaker) -> Studio:
    return await make_studio()
