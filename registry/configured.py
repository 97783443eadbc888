"""The operator's configured models (``ATELIER_MODELS`` and ``ATELIER_MODEL``) and LoRAs
(``ATELIER_LORAS``) and how they enter the registry at start-up, so existing installs keep
working: each becomes an ``available`` version, and the configured default becomes the
registry's default model (what ``/imagine`` and ``atelier imagine`` use without
``--model``). A configured LoRA file is checked and every weights file hashed here, off the
event loop; a file that is not a LoRA stops the start with a message saying which."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from db.database import Database
from registry.model_card import read_model_card
from registry.versions import ConfiguredModel, ModelKind, NewVersion, weights_facts
from registry.versions import enter_configured as enter_in_registry

_WEIGHT_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ConfiguredModels:
    """The configured models by the names the registry gives them (lowercase)."""

    sources: Mapping[str, str]  # name → hub id, local diffusers folder or weights file
    default: str  # one of the names
    loras: Mapping[str, str] = field(default_factory=dict)  # name → local LoRA file


def configured_models(
    models: Mapping[str, str], default: str, loras: Mapping[str, str] | None = None
) -> ConfiguredModels:
    """``models`` by name, and ``default``: one of their names (any case), or a source that
    becomes a model of its own, named after it; ``loras`` by name."""
    sources = {name.strip().lower(): source for name, source in models.items()}
    name = default.strip().lower()
    if name not in sources:
        name = name_for_source(default).lower()
        sources.setdefault(name, default)
    lora_files = {name.strip().lower(): file for name, file in (loras or {}).items()}
    return ConfiguredModels(dict(sorted(sources.items())), name, dict(sorted(lora_files.items())))


def name_for_source(source: str) -> str:
    """A short name for a bare source: the folder or file name, or the hub repo's name."""
    stem = Path(source.rstrip("/")).name
    for suffix in _WEIGHT_FILE_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return re.sub(r"[^\w.\-]+", "-", stem) or "default"


async def enter_configured(db: Database, configured: ConfiguredModels, now: datetime) -> None:
    """Enter the configured models into the registry (available; the version and license
    from the model card, if it states them) unless a version of that name has that source."""

    rows = await db.fetchall(
        "SELECT m.name AS name, v.source AS source FROM model_versions v "
        "JOIN models m ON m.id = v.model_id"
    )
    known = {(str(row["name"]), str(row["source"])) for row in rows}

    def read_cards() -> list[ConfiguredModel]:
        entered = []
        for name, source in configured.sources.items():
            card = read_model_card(source)
            # Hashing reads the whole file: only for a version not registered yet.
            new = NewVersion(name, "1", source, "other")
            sha256 = None if (name, source) in known else weights_facts(new)[1]
            entered.append(
                ConfiguredModel(
                    name, source, card.version or "1", card.license or "", sha256=sha256
                )
            )
        for name, source in configured.loras.items():
            if (name, source) in known:
                continue
            lora = NewVersion(name, "1", source, "other", kind=ModelKind.LORA)
            family, sha256 = weights_facts(lora)
            entered.append(ConfiguredModel(name, source, "1", "", ModelKind.LORA, family, sha256))
        return entered

    await enter_in_registry(db, await asyncio.to_thread(read_cards), now=now)
