"""The operator's configured models (``ATELIER_MODELS`` and ``ATELIER_MODEL``) and LoRAs
(``ATELIER_LORAS``) and how they enter the registry at start-up, so existing installs keep
working: each becomes an ``available`` version, and the configured default becomes the
registry's default model (what ``/imagine`` and ``atelier imagine`` use without
``--model``). A configured LoRA file (local, or ``hf://org/repo/file`` on the hub, read
through the given :data:`~registry.weight_files.HubFetch`) is checked and every weights
file hashed here, off the event loop; a file that is not a LoRA, or a hub file that cannot
be had, stops the start with a message saying which. A configured model's family is read
from its files (:func:`~registry.weight_files.checkpoint_family`), so a LoRA or an
IP-Adapter of another family is refused on it before anything is queued."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from db.database import Database
from db.times import from_db_time
from registry.model_card import read_model_card
from registry.versions import (
    ConfiguredModel,
    ModelKind,
    NewVersion,
    lora_file,
    lora_location,
    weights_facts,
)
from registry.versions import enter_configured as enter_in_registry
from registry.weight_files import HubCached, HubFetch, checkpoint_family

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
    db: Database,
    configured: ConfiguredModels,
    now: datetime,
    *,
    fetch_hub: HubFetch,
    hub_cached: HubCached | None = None,
) -> None:
    """Enter the configured models into the registry (available; the version and license
    from the model card, if it states them; the family their files say) unless a version
    of that name has that source (for a hub LoRA, that repository and file). ``fetch_hub``
    reads hub LoRAs; ``hub_cached`` the config of a hub model already in the hub cache
    (without it, a hub model's family stays unknown). A version entered before with an
    unknown family gets the one its files say.

    A LoRA file changed in place since its version was entered (modified since, with
    another SHA-256) becomes a new version: workers refuse to load a file whose hash is not
    the recorded one, so the old version keeps the hash of the weights it made images with.
    """

    rows = await db.fetchall(
        "SELECT m.name AS name, v.source AS source, v.weight_name AS weight_name, "
        "v.sha256 AS sha256, v.created_at AS created_at "
        "FROM model_versions v JOIN models m ON m.id = v.model_id"
    )
    entered_at: dict[tuple[str, str, str | None], datetime] = {}
    hashes: dict[tuple[str, str, str | None], set[str | None]] = {}
    for row in rows:
        key = (str(row["name"]), str(row["source"]), row["weight_name"])
        created = from_db_time(row["created_at"])
        entered_at[key] = max(created, entered_at.get(key, created))
        hashes.setdefault(key, set()).add(row["sha256"])

    def read_cards() -> list[ConfiguredModel]:
        entered = []
        for name, source in configured.sources.items():
            card = read_model_card(source)
            # Hashing reads the whole file: only for a version not registered yet.
            new = NewVersion(name, "1", source, "other")
            sha256 = None if (name, source, None) in entered_at else weights_facts(new)[1]
            entered.append(
                ConfiguredModel(
                    name,
                    source,
                    card.version or "1",
                    card.license or "",
                    family=checkpoint_family(source, hub_cached),
                    sha256=sha256,
                )
            )
        for name, text in configured.loras.items():
            source, weight_name = lora_location(text)
            key = (name, source, weight_name)
            if key in entered_at:
                # Only a file modified since it was entered is read whole again.
                file = lora_file(source, weight_name, fetch_hub)
                modified = datetime.fromtimestamp(file.stat().st_mtime, UTC)
                if modified <= entered_at[key]:
                    continue
            lora = NewVersion(
                name, "1", source, "other", kind=ModelKind.LORA, weight_name=weight_name
            )
            family, sha256 = weights_facts(lora, fetch_hub)
            if sha256 in hashes.get(key, ()):
                continue
            entered.append(
                ConfiguredModel(name, source, "1", "", ModelKind.LORA, family, sha256, weight_name)
            )
        return entered

    await enter_in_registry(db, await asyncio.to_thread(read_cards), now=now)
