"""The model registry seen from the worker pool: configured models entered at start-up,
and registry versions registered in the pool's catalog under their ``name:version`` key."""

from __future__ import annotations

import asyncio
from datetime import datetime

from db.database import Database
from inference.model_card import read_model_card
from inference.models import ModelCatalog, ModelRef
from registry.versions import ConfiguredModel, ModelVersion, VersionStatus, all_versions
from registry.versions import enter_configured as enter_in_registry


def model_ref(version: ModelVersion) -> ModelRef:
    """What the worker pool loads for ``version``; jobs store its name."""
    return ModelRef(version.key, version.source)


async def enter_configured(db: Database, catalog: ModelCatalog, now: datetime) -> None:
    """Enter the operator's configured models into the registry (available; the version
    and license from the model card, if it states them), so existing installs keep working,
    then register every released version with ``catalog`` so recovered jobs find theirs."""

    def read_cards() -> list[ConfiguredModel]:
        configured = []
        for ref in catalog:
            card = read_model_card(ref.source)
            configured.append(
                ConfiguredModel(ref.name, ref.source, card.version or "1", card.license or "")
            )
        return configured

    await enter_in_registry(db, await asyncio.to_thread(read_cards), now=now)
    for version in await all_versions(db):
        if version.status is not VersionStatus.UPCOMING:
            catalog.register(model_ref(version))
