"""What the cogs are given by ``bot/``: the shared resources, the operator's settings and
a few timing knobs."""

from __future__ import annotations

from dataclasses import dataclass

from cogs.phases import PhaseTimer
from cogs.upscale_buttons import UpscaleButtons
from core.clock import Clock
from db.database import Database
from inference.jobs import EngineDefaults
from inference.params import ParseLimits
from inference.pool.config import UserLimits
from inference.pool.pool import WorkerPool
from registry.weight_files import HubFetch
from studio.region_editing import RegionEditor
from studio.service import Studio

#: Discord's interaction tokens live 15 minutes; stop using one a minute before that.
TOKEN_WINDOW_SECONDS = 14 * 60.0


@dataclass(frozen=True)
class Tuning:
    """Timings a test may shorten; real deployments keep the defaults."""

    progress_edit_seconds: float = 2.0  # at most one progress edit per message this often
    token_window_seconds: float = TOKEN_WINDOW_SECONDS
    #: After Discord refused to show a job's outcome, try again this much later (then twice
    #: as long each time, a few times; what is still undelivered is delivered at start-up).
    redeliver_seconds: float = 60.0


@dataclass(frozen=True)
class CogSettings:
    """The operator's settings (``ATELIER_*``) that the cogs read, and only those: built in
    ``bot/`` from ``bot.settings.Settings``, which the cogs may not import (and which holds
    the token)."""

    engine_defaults: EngineDefaults  # a job's header names its variation strength by them
    parse_limits: ParseLimits  # /prefer checks suffixes and options as /imagine will parse them
    #: ``ATELIER_HOME_GUILD_IDS``: only these servers' moderators manage the bot-wide model
    #: registry and start campaigns for others; empty: every server.
    home_guild_ids: frozenset[int]
    #: ``ATELIER_MAX_RUNNING_PER_USER`` / ``_QUEUED_PER_USER``; limits stored with /admin
    #: limits win over them (``studio.queue_limits``).
    queue_limits: UserLimits
    #: ``ATELIER_PUBLIC_URL``: where members reach the web studio; None: messages link to no
    #: pages (the 🌐 button shows the job's details in Discord).
    public_url: str | None = None


@dataclass(frozen=True)
class Resources:
    db: Database
    pool: WorkerPool
    studio: Studio
    tuning: Tuning
    clock: Clock
    phases: PhaseTimer  # cogs whose records change phase at stored times register here
    upscale_buttons: UpscaleButtons  # cogs that add buttons under an upscaled image register here
    settings: CogSettings
    region_editor: RegionEditor  # Vary (Region): links to the web editor; follows its jobs
    #: Reads a LoRA file of a hub repository when a moderator registers it (``/models``).
    fetch_hub: HubFetch
