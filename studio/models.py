"""Registry versions as the worker pool loads them: the one answer to what a model name means,
for ``/imagine``, its buttons, the jobs recovered after a restart and ``atelier imagine``."""

from __future__ import annotations

from db.database import Database
from inference.jobs import InpaintCheckpoint
from inference.models import ModelRef
from registry.versions import ModelVersion, runnable_version


def model_ref(version: ModelVersion) -> ModelRef:
    """What the worker pool loads for ``version``; jobs store its name, the version's key."""
    return ModelRef(version.key, version.source)


class RegisteredModels:
    """The model registry as the worker pool and the studio ask it (the pool's
    ``ModelSources``), with the registry's default model: the operator's configured default,
    entered at start-up (``registry.configured``), which ``/imagine`` uses without
    ``--model``.

    ``run_only``: a folder, file or hub id that ``atelier imagine --model PATH`` runs in
    place of the default, for that run alone. It never enters the registry, so the bot's
    members cannot use it and no registered name changes meaning.
    """

    def __init__(self, db: Database, default: str, *, run_only: ModelRef | None = None) -> None:
        self._db = db
        self.default = default
        self.run_only = run_only

    async def find(self, name: str) -> ModelRef | None:
        """The released version a job's ``name:version`` (or bare name) runs on."""
        if self.run_only is not None and name == self.run_only.name:
            return self.run_only
        version = await runnable_version(self._db, name)
        return None if version is None else model_ref(version)

    async def inpaint_checkpoint(self, name: str) -> InpaintCheckpoint | None:
        """The dedicated inpainting checkpoint of the version a job's ``name`` runs on, if
        the registry names one (reworks run on it instead of the version itself)."""
        if self.run_only is not None and name == self.run_only.name:
            return None
        version = await runnable_version(self._db, name)
        if version is None or version.inpaint_source is None:
            return None
        return InpaintCheckpoint(version.key, version.inpaint_source, version.inpaint_sha256)
