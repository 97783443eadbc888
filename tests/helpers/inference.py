"""Helpers for the engine tests: jobs planned the way the bot plans them, pixel comparisons."""

from __future__ import annotations

import numpy as np
from PIL import Image

from inference.backend import DiffusersBackend
from inference.jobs import EngineDefaults, GenerationJob, plan_imagine
from inference.params import parse

#: Few steps keep the suite fast; every code path still runs.
FAST = EngineDefaults(steps=4)


def plan(backend: DiffusersBackend, prompt: str) -> GenerationJob:
    """A txt2img job for ``backend``'s model from a prompt with flags."""
    return plan_imagine(
        parse(prompt)[0], model=backend.model.name, native_size=backend.native_size, defaults=FAST
    )


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute pixel difference, 0 (identical) to 255."""
    return float(np.abs(pixels(a) - pixels(b)).mean())
