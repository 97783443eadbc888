"""A Studio over a real database and a real worker pool on the tiny model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.database import Database
from inference.params import ParseLimits
from inference.pool.config import UserLimits
from registry.configured import ConfiguredModels, configured_models, enter_configured
from studio.models import RegisteredModels
from studio.service import Studio, StudioConfig
from tests.helpers.inference import FAST
from tests.inference.pool.conftest import PoolMaker, Script

#: One upscale of a 64-px grid (128 px) is allowed; a second (256 px) is not.
MAX_UPSCALE_SIDE = 128
LIMITS = UserLimits(max_running=3, max_queued=4)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "a.db") as database:
        yield database


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
    db: Database, models: RegisteredModels, tmp_path: Path
) -> AsyncIterator[PoolMaker]:
    maker = PoolMaker(db=db, models=models, images_dir=tmp_path / "images", script=Script())
    yield maker
    for pool in maker.pools:
        await pool.shutdown(grace_seconds=5)


@pytest.fixture
def now() -> list[datetime]:
    """The studio's clock: tests may move it by replacing the single item."""
    return [datetime.now(UTC)]


@pytest.fixture
async def make_studio(
    make_pool: PoolMaker,
    models: RegisteredModels,
    configured: ConfiguredModels,
    now: list[datetime],
) -> StudioMaker:
    return StudioMaker(make_pool, models, configured, now)


class StudioMaker:
    def __init__(
        self,
        pools: PoolMaker,
        models: RegisteredModels,
        configured: ConfiguredModels,
        now: list[datetime],
    ) -> None:
        self._pools = pools
        self._models = models
        self._configured = configured
        self._now = now

    async def __call__(self, max_upscale_side: int = MAX_UPSCALE_SIDE) -> Studio:
        # As the bot does at start-up: the configured models become registry versions.
        await enter_configured(self._pools.db, self._configured, self._now[0])
        pool = await self._pools(limits=LIMITS, preview_every=0)
        config = StudioConfig(
            defaults=FAST, parse_limits=ParseLimits(), max_upscale_side=max_upscale_side
        )
        return Studio(
            self._pools.db,
            pool,
            self._models,
            config,
            images_dir=self._pools.images_dir,
            clock=lambda: self._now[0],
        )


@pytest.fixture
async def studio(make_studio: StudioMaker) -> Studio:
    return await make_studio()
