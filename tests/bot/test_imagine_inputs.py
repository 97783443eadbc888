"""``atelier imagine``'s report of a job made from images: each image prompt (or a /blend's
image) with where it came from and its SHA-256, under the grid it made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import bot.local_imagine
from bot.cli import main
from bot.local_imagine import MadeRun, PlannedRun, input_lines
from inference.engine import SavedImage
from inference.jobs import GenerationJob, ImagePrompt
from inference.models import ModelRef
from inference.pool.events import JobResult
from tests.helpers.pool import job

URL = "https://cdn.discordapp.com/attachments/1/2/fox.png"
PROMPTS = (
    ImagePrompt(path="/data/inputs/a.png", sha256="ab" * 32, source=URL),
    ImagePrompt(path="/data/inputs/b.png", sha256="cd" * 32, source="attachment:sketch.png"),
)


def _image_prompted(weight: float = 1.5) -> GenerationJob:
    planned = job("a fox")
    return replace(
        planned,
        request=replace(planned.request, image_urls=(URL,), image_weight=weight),
        image_prompts=PROMPTS,
    )


def test_an_image_prompted_job_lists_its_images_with_source_and_short_hash() -> None:
    assert input_lines(_image_prompted()) == [
        "2 image prompts (--iw 1.5):",
        f"  1. {URL} (sha256 ababababab)",
        "  2. attachment sketch.png (sha256 cdcdcdcdcd)",
    ]


def test_a_blend_is_named_and_a_text_job_lists_nothing() -> None:
    planned = _image_prompted(1.0)
    blend = replace(planned, request=replace(planned.request, prompt="", parts=()))
    assert input_lines(blend)[0] == "/blend of 2 images:"
    assert input_lines(job("a fox")) == []


def test_the_command_prints_the_image_prompts_under_the_grid(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    planned = _image_prompted()
    grid = clean_env / "grid.png"
    image = SavedImage(index=0, seed=7, path=clean_env / "grid-1.png", width=64, height=64)
    made = MadeRun(
        PlannedRun(planned.request, ModelRef("tiny", "./tiny"), grid, [image.path]),
        planned,
        JobResult(1, (image,), grid, "cpu", 0.1, 0.0),
    )

    async def imagined(prompt: str, **_: Any) -> list[MadeRun]:
        return [made]

    monkeypatch.setattr(bot.local_imagine, "imagine", imagined)
    assert main(["imagine", f"{URL} a fox --iw 1.5", "--out", str(grid)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{grid}: seeds 7",
        "  2 image prompts (--iw 1.5):",
        f"    1. {URL} (sha256 ababababab)",
        "    2. attachment sketch.png (sha256 cdcdcdcdcd)",
        f"  {image.path} (64×64, seed 7)",
    ]
