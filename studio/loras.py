"""A prompt's LoRA tags and its versions' recommended settings, as the registry answers them.

Each ``<lora:…>`` tag is checked like ``--model``: it must name a LoRA (unknown names get
"did you mean"), one the member may use now (early access only for its backers), for the
base family of the job's model; each refusal names the tag. Recommended settings come
from the checkpoint's version and then the LoRAs' (the first LoRA that recommends a
setting wins over the checkpoint); they apply where the member's prompt and ``/prefer``
suffix leave a setting open.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from db.database import Database
from inference.jobs import LoraUse
from inference.params import ImagineRequest, LoraTag
from registry.access import usable_version
from registry.errors import RegistryError
from registry.recommended import Recommended
from registry.versions import ModelKind, ModelVersion
from registry.weight_files import FAMILY_NAMES
from studio.errors import StudioError

#: A family that says nothing about what fits it (test models, files that name no family).
UNKNOWN_FAMILY = "other"


async def lora_versions(
    db: Database,
    tags: Sequence[LoraTag],
    *,
    model: ModelVersion | None,
    granted: Collection[int],
    moderator: bool,
    now: datetime,
) -> list[ModelVersion]:
    """The LoRA version each tag names for this member, in order; StudioError naming the
    tag otherwise. ``model``: the job's checkpoint version (None: a run-only model)."""
    versions = []
    for tag in tags:
        try:
            version = await usable_version(
                db, tag.spec, granted=granted, moderator=moderator, now=now, kind=ModelKind.LORA
            )
        except RegistryError as error:
            raise StudioError(
                f"{tag.text}: {error.message}", hint=error.hint, **error.moments
            ) from None
        if model is not None and not fits(version.family, model.family):
            raise StudioError(
                f"{tag.text}: `{version.key}` is a LoRA for {family_name(version.family)}; "
                f"`{model.key}` is a {family_name(model.family)} model. Use a LoRA made for it, "
                "or a model of its family with --model"
            )
        versions.append(version)
    return versions


def fits(lora_family: str, model_family: str) -> bool:
    """Whether a LoRA can go on a model: the same family, or one of them unknown."""
    return UNKNOWN_FAMILY in (lora_family, model_family) or lora_family == model_family


def lora_uses(tags: Sequence[LoraTag], versions: Sequence[ModelVersion]) -> tuple[LoraUse, ...]:
    """What the engine loads: each version's file at the tag's weight (or its default)."""
    return tuple(
        LoraUse(
            key=version.key,
            source=version.source,
            weight_name=version.weight_name,
            weight=version.default_weight if tag.weight is None else tag.weight,
            sha256=version.sha256,
        )
        for tag, version in zip(tags, versions, strict=True)
    )


def recommended_for(model: ModelVersion | None, loras: Sequence[ModelVersion]) -> Recommended:
    """The settings the job's versions recommend together (a LoRA's weight range is not a
    job setting: it is shown on ``/models info``)."""
    merged: dict[str, Any] = {}
    for version in [*([] if model is None else [model]), *reversed(loras)]:
        merged.update({k: v for k, v in asdict(version.recommended).items() if v is not None})
    merged.pop("weight_min", None)
    merged.pop("weight_max", None)
    return Recommended(**merged)


def as_defaults(recommended: Recommended) -> dict[str, Any]:
    """Recommended settings as parser defaults (the lowest layer, below ``/prefer``)."""
    defaults: dict[str, Any] = {}
    if recommended.steps is not None:
        defaults["steps"] = recommended.steps
    if recommended.sampler is not None:
        defaults["sampler"] = recommended.sampler
    if recommended.cfg is not None:
        defaults["guidance"] = recommended.cfg
    if recommended.negative_prompt:
        defaults["negative_prompt"] = recommended.negative_prompt
    return defaults


def applied(before: ImagineRequest, after: ImagineRequest) -> tuple[tuple[str, str], ...]:
    """The recommendations that took effect: settings ``before`` (parsed without them) left
    open and ``after`` has. Recorded with the job."""
    taken: list[tuple[str, str]] = []
    if before.steps is None and after.steps is not None:
        taken.append(("steps", str(after.steps)))
    if before.sampler is None and after.sampler is not None:
        taken.append(("sampler", after.sampler))
    if before.guidance is None and after.guidance is not None:
        taken.append(("cfg", f"{after.guidance:g}"))
    if not before.negative_prompt and after.negative_prompt:
        taken.append(("negative_prompt", after.negative_prompt))
    return tuple(taken)


def family_name(family: str) -> str:
    """A family as members read it: ``sdxl`` is SDXL."""
    return FAMILY_NAMES.get(family, family)
