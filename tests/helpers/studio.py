"""A Studio over a real database and a real worker pool on the tiny model."""

from __future__ import annotations

from db.database import Database
from inference.hub_files import cached_hub_file, hub_file
from inference.params import ParseLimits
from inference.pool.config import UserLimits
from intake.fetch import ImageIntake
from registry.configured import ConfiguredModels, enter_configured
from studio.models import RegisteredModels
from studio.service import Studio, StudioConfig
from tests.helpers.inference import FAST
from tests.helpers.pool import PoolMaker

#: One upscale of a 64-px grid (128 px) is allowed; a second (256 px) is not.
MAX_UPSCALE_SIDE = 128
LIMITS = UserLimits(max_running=3, max_queued=4)


class StudioMaker:
    """Builds a Studio on a started pool, on the pool maker's database and clock, with the
    registry's models as the bot wires them."""

    def __init__(
        self, pools: PoolMaker, models: RegisteredModels, configured: ConfiguredModels
    ) -> None:
        self._pools = pools
        self._models = models
        self._configured = configured

    async def __call__(
        self,
        max_upscale_side: int = MAX_UPSCALE_SIDE,
        *,
        intake: ImageIntake | None = None,
        image_prompt_family: str = "other",
    ) -> Studio:
        """``intake``: the studio takes image prompts through it (as with an IP-Adapter
        configured); without, it refuses them. ``image_prompt_family``: the family the
        IP-Adapter is made for (``other``: unknown)."""
        pools = self._pools
        # As the bot does at start-up: the configured models become registry versions.
        await enter_configured(
            pools.db,
            self._configured,
            pools.clock(),
            fetch_hub=hub_file,
            hub_cached=cached_hub_file,
        )
        pool = await pools(limits=LIMITS, preview_every=0)
        config = StudioConfig(
            defaults=FAST,
            parse_limits=ParseLimits(),
            max_upscale_side=max_upscale_side,
            image_prompts=intake is not None,
            image_prompt_family=image_prompt_family,
        )
        return Studio(
            pools.db,
            pool,
            self._models,
            config,
            images_dir=pools.images_dir,
            clock=pools.clock,
            intake=intake,
        )


async def job_count(db: Database) -> int:
    """How many jobs the database holds (a refusal queues none)."""
    row = await db.fetchone("SELECT COUNT(*) FROM jobs")
    assert row is not None
    return int(row[0])
