"""Sampler names users type (``--sampler``) and the diffusers schedulers behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    UniPCMultistepScheduler,
)

from inference.params import SAMPLERS


@dataclass(frozen=True)
class _SchedulerRecipe:
    scheduler_class: type[Any]
    overrides: dict[str, Any] = field(default_factory=dict)


_RECIPES: dict[str, _SchedulerRecipe] = {
    "euler": _SchedulerRecipe(EulerDiscreteScheduler),
    "euler_a": _SchedulerRecipe(EulerAncestralDiscreteScheduler),
    "dpm++2m": _SchedulerRecipe(
        DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}
    ),
    "dpm++2m_karras": _SchedulerRecipe(
        DPMSolverMultistepScheduler,
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
    ),
    # Stable Diffusion's own DDIM settings (no sample clipping, as its latents are unbounded).
    "ddim": _SchedulerRecipe(DDIMScheduler, {"clip_sample": False, "set_alpha_to_one": False}),
    "unipc": _SchedulerRecipe(UniPCMultistepScheduler),
}

assert _RECIPES.keys() == SAMPLERS.keys(), "every sampler the parser accepts needs a scheduler"


def make_scheduler(sampler: str, base_config: Any) -> Any:
    """A fresh scheduler for one job.

    diffusers schedulers keep per-run state (step index, multistep history) and are not
    thread-safe, so every job gets its own instance built from the model's own scheduler
    config (beta schedule, prediction type, timestep spacing) plus the sampler's overrides.
    """
    recipe = _RECIPES[sampler]
    return recipe.scheduler_class.from_config(base_config, **recipe.overrides)


def display_name(sampler: str) -> str:
    """The name AUTOMATIC1111 and model sites use in PNG metadata."""
    return SAMPLERS[sampler]
