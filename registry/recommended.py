"""The settings a version's creator recommends: steps, sampler, guidance (CFG), a negative
prompt, and for a LoRA the range of weights it works at. They apply when a member's prompt
does not say otherwise, and are recorded in each job that used them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from registry.errors import RegistryError
from registry.fields import MAX_LORA_WEIGHT, MIN_LORA_WEIGHT

MAX_STEPS = 150
MIN_CFG, MAX_CFG = 1.0, 30.0
MAX_NEGATIVE_CHARS = 500


@dataclass(frozen=True)
class Recommended:
    """Each field None: no recommendation. ``sampler`` is a sampler key (``euler_a``)."""

    steps: int | None = None
    sampler: str | None = None
    cfg: float | None = None
    negative_prompt: str | None = None
    weight_min: float | None = None
    weight_max: float | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in asdict(self).values())

    def merged(self, changes: Recommended) -> Recommended:
        """These settings with every field ``changes`` sets replaced (an empty negative
        prompt clears it)."""
        updates = {k: v for k, v in asdict(changes).items() if v is not None}
        merged = replace(self, **updates)
        if merged.negative_prompt == "":
            merged = replace(merged, negative_prompt=None)
        return merged.checked()

    def checked(self) -> Recommended:
        """These settings, or RegistryError naming the one out of range."""
        if self.steps is not None and not 1 <= self.steps <= MAX_STEPS:
            raise RegistryError(f"recommended steps must be 1 to {MAX_STEPS}, not {self.steps}")
        if self.cfg is not None and not MIN_CFG <= self.cfg <= MAX_CFG:
            raise RegistryError(f"recommended CFG must be {MIN_CFG:g} to {MAX_CFG:g}")
        if self.negative_prompt is not None and len(self.negative_prompt) > MAX_NEGATIVE_CHARS:
            raise RegistryError(
                f"the recommended negative prompt is longer than {MAX_NEGATIVE_CHARS} characters"
            )
        for weight in (self.weight_min, self.weight_max):
            if weight is not None and not MIN_LORA_WEIGHT <= weight <= MAX_LORA_WEIGHT:
                raise RegistryError(
                    f"a recommended LoRA weight must be {MIN_LORA_WEIGHT:g} to {MAX_LORA_WEIGHT:g}"
                )
        low, high = self.weight_min, self.weight_max
        if low is not None and high is not None and low > high:
            raise RegistryError(f"the weight range {low:g}–{high:g} is upside down")
        return self

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Recommended:
        data: dict[str, Any] = json.loads(text)
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def lines(self) -> list[str]:
        """One line per recommendation, for ``/models info`` and ``atelier models``."""
        shown = []
        if self.steps is not None:
            shown.append(f"steps {self.steps}")
        if self.sampler is not None:
            shown.append(f"sampler {self.sampler}")
        if self.cfg is not None:
            shown.append(f"CFG {self.cfg:g}")
        if self.negative_prompt:
            shown.append(f"negative: {self.negative_prompt}")
        if self.weight_min is not None or self.weight_max is not None:
            low = "…" if self.weight_min is None else f"{self.weight_min:g}"
            high = "…" if self.weight_max is None else f"{self.weight_max:g}"
            shown.append(f"weight {low}–{high}")
        return shown
