"""The operator's configured models (``ATELIER_MODELS`` and ``ATELIER_MODEL``) and LoRAs
(``ATELIER_LORAS``) and how they enter the registry at start-up, so existing installs keep
working: each becomes an ``available`` version, and the configured default becomes the
registry's default model (what ``/imagine`` and ``atelier imagine`` use without
``--model``). A configured LoRA file (local, or ``hf://org/repo/file`` on the hub, read
through the given :data:`~registry.weight_files.HubFetch`) is checked and every weights
file hashed here, off the event loop; a file that is not a LoRA, or a hub file that cannot
be had, stops the start with a message saying which."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from db.database import Database
from registry.model_card import read_model_card
from registry.versions import (
    ConfiguredModel,
    ModelKind,
    NewVersion,
    lora_location,
    weights_facts,
)
from registry.versions import enter_configured as enter_in_registry
from registry.weight_files import HubFetch

_WEIGHT_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ConfiguredModels:
    """The configured models by the names the registry gives them (lowercase)."""

    sources: Mapping[str, str]  # name → hub id, local diffusers folder or weights file
    default: str  # one of the names
    #: name → a local LoRA file, or ``hf://org/repo/file`` for a file of a hub repository
    loras: Mapping[str, str] = field(default_factory=dict)


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


async def enter_configured(
    db: Database, configured: ConfiguredModels, now: datetime, *, fetch_hub: HubFetch
) -> None:
    """Enter the configured models into the registry (available; the version and license
    from the model card, if it states them) unless a version of that name has that source
    (for a hub LoRA, that repository and file). ``fetch_hub`` reads hub LoRAs."""

    rows = await db.fetchall(
        "SELECT m.name AS name, v.source AS source, v.weight_name AS weight_name "
        "FROM model_versions v JOIN models m ON m.id = v.model_id"
    )
    known = {(str(row["name"]), str(row["source"]), row["weight_name"]) for row in rows}

    def read_cards() -> list[ConfiguredModel]:
        entered = []
        for name, source in configured.sources.items():
            card = read_model_card(source)
            # Hashing reads the whole file: only for a version not registered yet.
            new = NewVersion(name, "1", source, "other")
            sha256 = None if (name, source, None) in known else weights_facts(new)[1]
            entered.append(
                ConfiguredModel(
                    name, source, card.version or "1", card.license or "", sha256=sha256
                )
            )
        for name, text in configured.loras.items():
            source, weight_name = lora_location(text)
            if (name, source, weight_name) in known:
                continue
            lora = NewVersion(
                name, "1", source, "other", kind=ModelKind.LORA, weight_name=weight_name
            )
            family, sha256 = weights_facts(lora, fetch_hub)
            entered.append(
                ConfiguredModel(name, source, "1", "", ModelKind.LORA, family, sha256, weight_name)
            )
        return entered

    await enter_in_registry(db, await asyncio.to_thread(read_cards), now=now)
