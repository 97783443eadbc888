"""What a job's handle reports: progress events, the final outcome, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from inference.engine import SavedImage


@dataclass(frozen=True)
class JobResult:
    """A finished job: its saved images (and grid), where it ran and what it cost."""

    job_id: int
    images: tuple[SavedImage, ...]
    grid: Path | None
    device: str
    gpu_seconds: float
    wait_seconds: float


@dataclass(frozen=True)
class Started:
    """A worker took the job."""

    device: str


@dataclass(frozen=True)
class Progress:
    """Denoising step ``step`` of ``total`` is done; ``preview`` every few steps."""

    step: int
    total: int
    preview: Image.Image | None = None


@dataclass(frozen=True)
class Finished:
    result: JobResult


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class Deferred:
    """The pool shut down first: the job stays queued and runs after the next start."""


JobEvent = Started | Progress | Finished | Failed | Cancelled | Deferred
FinalEvent = Finished | Failed | Cancelled | Deferred


class JobNotDoneError(Exception):
    """A job ended without images; the message is for its owner."""


class JobFailedError(JobNotDoneError):
    pass


class JobCancelledError(JobNotDoneError):
    pass


class JobDeferredError(JobNotDoneError):
    pass
