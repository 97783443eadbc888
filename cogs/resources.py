"""What the cogs are given by ``bot/``: the shared resources and a few timing knobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cogs.phases import PhaseTimer
from cogs.upscale_buttons import UpscaleButtons
from db.database import Database
from inference.pool.pool import WorkerPool
from studio.service import Studio

#: Discord's interaction tokens live 15 minutes; stop using one a minute before that.
TOKEN_WINDOW_SECONDS = 14 * 60.0


@dataclass(frozen=True)
class Tuning:
    """Timings a test may shorten; real deployments keep the defaults."""

    progress_edit_seconds: float = 2.0  # at most one progress edit per message this often
    token_window_seconds: float = TOKEN_WINDOW_SECONDS


@dataclass(frozen=True)
class Resources:
    db: Database
    pool: WorkerPool
    studio: Studio
    tuning: Tuning
    clock: Callable[[], datetime]
    phases: PhaseTimer  # cogs whose records change phase at stored times register here
    upscale_buttons: UpscaleButtons  # cogs that add buttons under an upscaled image register here
