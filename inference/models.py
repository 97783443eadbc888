"""The models an operator configured, by the short names users type after ``--model``."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from inference.params import ParamError

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ModelRef:
    """A model's public name and where its weights come from."""

    name: str
    source: str  # hub id, local diffusers folder, or single .safetensors/.ckpt file

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


def name_for_source(source: str) -> str:
    """A short name for a bare source: the folder or file name, or the hub repo's name."""
    stem = Path(source.rstrip("/")).name
    for suffix in SINGLE_FILE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^\w.\-]+", "-", stem) or "default"


class ModelCatalog:
    """Named models; the default is what ``/imagine`` uses without ``--model``."""

    def __init__(self, models: Mapping[str, str], default: str) -> None:
        """``default`` is a name in ``models``, or a source that becomes its own entry."""
        self._models = {name.lower(): ModelRef(name, source) for name, source in models.items()}
        if default.lower() in self._models:
            self.default = self._models[default.lower()]
        else:
            self.default = ModelRef(name_for_source(default), default)
            self._models.setdefault(self.default.name.lower(), self.default)
        self._registered: dict[str, ModelRef] = {}

    def __iter__(self) -> Iterator[ModelRef]:
        return iter(sorted(self._models.values(), key=lambda ref: ref.name.lower()))

    def register(self, ref: ModelRef) -> None:
        """Make ``ref`` resolvable by its exact name, without listing it among the configured
        models: the model registry's versions (``name:version``), which jobs store and the
        pool loads. Registering a name again replaces its source."""
        self._registered[ref.name.lower()] = ref

    def resolve(self, name: str | None) -> ModelRef:
        """The model for ``--model NAME`` (case-insensitive), or the default for None."""
        if name is None:
            return self.default
        found = self._models.get(name.lower()) or self._registered.get(name.lower())
        if found is None:
            available = ", ".join(ref.name for ref in self)
            raise ParamError(f"--model {name}: unknown model; available: {available}", "--model")
        return found
