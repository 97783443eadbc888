"""Models as the engine sees them: a name and where the weights come from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ModelRef:
    """A model's public name and where its weights come from."""

    name: str
    source: str  # hub id, local diffusers folder, or single .safetensors/.ckpt file
    inpainting: bool = False  # a dedicated inpainting checkpoint (9-channel UNet)

    @property
    def source_kind(self) -> str:
        return source_kind(self.source)


def source_kind(source: str) -> str:
    """``folder``, ``file``, ``missing path`` or ``hub id``: how a source will be loaded."""
    path = Path(source).expanduser()
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "file"
    if looks_like_path(source):
        return "missing path"
    return "hub id"


def looks_like_path(source: str) -> bool:
    """Whether the operator meant a local path (so a missing one is an error, not a hub id)."""
    return (
        source.startswith((".", "/", "~"))
        or source.lower().endswith(SINGLE_FILE_SUFFIXES)
        or source.count("/") != 1
    )


class ModelSources(Protocol):
    """What the model a job names is: the worker pool asks for every job it queues, also for
    the jobs it takes over after a restart. The bot and the CLI answer from the model
    registry (``studio.models.RegisteredModels``), which owns what a model name means."""

    async def find(self, name: str) -> ModelRef | None:
        """The model ``name`` stands for, or None if it names none the pool may run."""
        ...
