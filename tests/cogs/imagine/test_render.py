"""The words on a job's message: the prompt as it can be pasted again, and the status lines."""

from __future__ import annotations

from datetime import UTC, datetime
from math import gcd

import pytest

from cogs.imagine import render
from db.jobs import JobKind, JobRecord, JobStatus, Lane
from inference.jobs import (
    EngineDefaults,
    GenerationJob,
    plan_reroll,
    plan_rework,
    plan_upscale,
    plan_variation,
)
from inference.params import parse
from inference.rework import (
    PanDirection,
    Placement,
    pan_placement,
    region_placement,
    square_placement,
    zoom_placement,
)
from tests.helpers.inference import FAST
from tests.helpers.pool import job

OWNER = 123456789012345678
HEAD = "**a cat** — <@1>"


def _text(prompt: str) -> str:
    return render.prompt_text(parse(prompt)[0])


# --- prompt_text ---------------------------------------------------------------------------


def test_a_prompt_with_every_flag_at_its_default_shows_no_flags() -> None:
    assert _text("a cat") == "a cat"
    assert _text("a cat --ar 1:1 --s 100 --c 0 --q 1 --stop 100") == "a cat"


def test_flags_that_change_something_are_shown_so_the_prompt_can_be_pasted_again() -> None:
    typed = "a cat --ar 16:9 --no text, dogs --c 20 --s 250 --q .5 --stop 80 --tile"
    shown = _text(typed)
    assert shown == "a cat --ar 16:9 --no text, dogs --c 20 --s 250 --q 0.5 --stop 80 --tile"
    assert parse(shown) == parse(typed)


def test_operator_level_choices_are_not_repeated_in_the_prompt() -> None:
    # The seed and model are on the result line; steps and sampler are not shown at all.
    assert _text("a cat --seed 7 --model tiny --steps 12 --sampler euler") == "a cat"


def test_markdown_in_a_prompt_is_escaped() -> None:
    assert _text("a *bold* _cat_ ~~x~~ `code` ||spoiler|| back\\slash") == (
        "a \\*bold\\* \\_cat\\_ \\~\\~x\\~\\~ \\`code\\` \\|\\|spoiler\\|\\| back\\\\slash"
    )
    assert _text("a cat --no text_overlay") == "a cat --no text\\_overlay"


def test_a_very_long_prompt_is_cut_with_an_ellipsis() -> None:
    shown = _text("a" * 1999)
    assert len(shown) == render.MAX_PROMPT_CHARS
    assert shown.endswith("a…")


def test_a_long_prompt_full_of_markdown_still_fits_a_discord_message() -> None:
    planned = job("a_" * 999)  # 1998 characters: within the parser's limit
    message = render.running(render.header(planned, OWNER, None, FAST), 99, "standard")
    assert len(message) <= 2000


# --- headers and status lines --------------------------------------------------------------


def test_an_imagine_header_is_the_bold_prompt_and_the_owner() -> None:
    planned = job("a *cat* --ar 2:1")
    assert render.header(planned, OWNER, None, FAST) == f"**a \\*cat\\* --ar 2:1** — <@{OWNER}>"


def test_a_reroll_header_says_so() -> None:
    rerolled = plan_reroll(job("a cat"))
    assert render.header(rerolled, OWNER, 0, FAST) == f"**a cat** — <@{OWNER}> (re-roll)"


def test_a_variation_header_names_its_strength() -> None:
    parent = job("a cat")
    defaults = EngineDefaults(subtle_strength=0.35, strong_strength=0.7)
    subtle = plan_variation(parent, image_path="x.png", strength=0.35)
    strong = plan_variation(parent, image_path="x.png", strength=0.7)
    assert render.header(subtle, OWNER, 1, defaults) == (
        f"**a cat** — Variations (Subtle) by <@{OWNER}>"
    )
    assert render.header(strong, OWNER, 1, defaults) == (
        f"**a cat** — Variations (Strong) by <@{OWNER}>"
    )


def test_an_upscale_header_numbers_the_image_from_one() -> None:
    upscaled = plan_upscale(job("a cat"), index=2, image_path="x.png", defaults=FAST)
    assert render.header(upscaled, OWNER, 2, FAST) == f"**a cat** — Image #3 <@{OWNER}>"
    assert render.header(upscaled, OWNER, None, FAST) == f"**a cat** — Image <@{OWNER}>"


def test_waiting_shows_the_position_when_known() -> None:
    assert render.waiting(HEAD, 3) == f"{HEAD} (Waiting to start, position 3)"
    assert render.waiting(HEAD, None) == f"{HEAD} (Waiting to start)"


def test_running_shows_the_percentage_and_the_lane() -> None:
    assert render.running(HEAD, 31, Lane.STANDARD) == f"{HEAD} (31%) (standard)"
    assert render.running(HEAD, 0, "priority") == f"{HEAD} (0%) (priority)"


def test_done_failed_and_cancelled_lines() -> None:
    grid = job("a cat --seed 9", model="my_model")
    assert render.done(HEAD, grid) == f"{HEAD} · seed 9, model my\\_model, 64×64"
    upscaled = plan_upscale(grid, index=1, image_path="x.png", defaults=FAST)
    assert render.done(HEAD, upscaled) == f"{HEAD} · 128×128, seed 10, model my\\_model"
    assert render.failed(HEAD, "out of memory") == f"{HEAD} — ⚠️ this job failed: out of memory"
    assert render.cancelled(HEAD) == f"{HEAD} — cancelled"


def _record(
    job_id: int,
    kind: JobKind,
    parent: int | None = None,
    index: int | None = None,
    planned: GenerationJob | None = None,
) -> JobRecord:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return JobRecord(
        id=job_id,
        kind=kind,
        owner_id=OWNER,
        prompt="a cat",
        params={} if planned is None else planned.to_params(),
        model="tiny",
        parent_job_id=parent,
        parent_index=index,
        status=JobStatus.DONE,
        error=None,
        created_at=when,
        started_at=when,
        finished_at=when,
        device="cpu",
        gpu_seconds=1.0,
        lane=Lane.STANDARD,
    )


def test_lineage_steps_are_described_with_one_based_image_numbers() -> None:
    assert render.describe(_record(12, JobKind.IMAGINE), FAST) == "#12 imagine"
    assert render.describe(_record(13, JobKind.REROLL, 12, 0), FAST) == "#13 re-roll of #12"
    upscaled = plan_upscale(job("a cat"), index=1, image_path="x.png", defaults=FAST)
    assert render.describe(_record(15, JobKind.UPSCALE, 12, 1, upscaled), FAST) == (
        "#15 upscale of image 2 of #12"
    )
    assert render.describe(_record(16, JobKind.VARIATION, 15, 0), FAST) == (
        "#16 variation of image 1 of #15"
    )


# --- reworks -------------------------------------------------------------------------------

#: An upscale, 256×128, reworked on a model whose native side is 512 (sides of 64s).
UPSCALED = plan_upscale(job("a barn --ar 2:1"), index=0, image_path="x.png", defaults=FAST)
SOURCE = (UPSCALED.width, UPSCALED.height)
NATIVE = 512


def _rework(kind: JobKind, placement: Placement) -> GenerationJob:
    return plan_rework(UPSCALED, kind=kind, image_path="x.png", placement=placement, defaults=FAST)


@pytest.mark.parametrize(
    ("factor", "aspect", "shown"),
    [
        (2.0, None, "Zoom Out 2×"),
        (1.5, None, "Zoom Out 1.5×"),
        (1.3, None, "Zoom Out 1.3×"),  # Custom Zoom with --zoom alone
        (1.0, (3, 1), "Custom Zoom"),  # a new shape: no one factor to show
        (1.5, (1, 1), "Custom Zoom"),
    ],
)
def test_a_zoom_header_and_lineage_name_its_factor(
    factor: float, aspect: tuple[int, int] | None, shown: str
) -> None:
    zoomed = _rework(JobKind.ZOOM, zoom_placement(SOURCE, NATIVE, factor, aspect))
    width, height = zoomed.width, zoomed.height
    ratio = (
        ""
        if width == height
        else f" --ar {width // gcd(width, height)}:{height // gcd(width, height)}"
    )
    # The header's --ar is the new canvas's own shape.
    assert render.header(zoomed, OWNER, 0, FAST) == (f"**a barn{ratio}** — {shown} by <@{OWNER}>")
    record = _record(18, JobKind.ZOOM, 15, 0, zoomed)
    assert render.describe(record, FAST) == f"#18 {shown} of #15"
    assert render.made_from(record, FAST) == f"{shown} of #15"


@pytest.mark.parametrize(
    ("direction", "arrow"),
    [
        (PanDirection.LEFT, "⬅️"),
        (PanDirection.RIGHT, "➡️"),
        (PanDirection.UP, "⬆️"),
        (PanDirection.DOWN, "⬇️"),
    ],
)
def test_a_pan_header_shows_its_arrow(direction: PanDirection, arrow: str) -> None:
    panned = _rework(JobKind.PAN, pan_placement(SOURCE, NATIVE, direction, 2048))
    assert render.header(panned, OWNER, 0, FAST).endswith(f"— Pan {arrow} by <@{OWNER}>")
    assert render.describe(_record(19, JobKind.PAN, 15, 0, panned), FAST) == (
        f"#19 Pan {arrow} of #15"
    )


def test_square_region_and_refined_upscales_say_what_they_are() -> None:
    squared = _rework(JobKind.SQUARE, square_placement(SOURCE, NATIVE))
    assert render.header(squared, OWNER, 0, FAST).endswith(f"— Make Square by <@{OWNER}>")
    region = _rework(JobKind.REGION, region_placement(SOURCE, NATIVE))
    assert render.header(region, OWNER, 0, FAST).endswith(f"— Vary (Region) by <@{OWNER}>")
    for mode, strength in (
        ("Subtle", FAST.upscale_subtle_strength),
        ("Creative", FAST.upscale_creative_strength),
    ):
        refined = plan_upscale(
            UPSCALED, index=0, image_path="x.png", defaults=FAST, strength=strength
        )
        assert render.header(refined, OWNER, 0, FAST).endswith(f"— Upscale ({mode}) by <@{OWNER}>")
        record = _record(20, JobKind.UPSCALE, 15, 0, refined)
        assert render.describe(record, FAST) == f"#20 Upscale ({mode}) of #15"
    # U1 and an older version's Upscale 2× are plain upscales.
    assert render.made_from(_record(21, JobKind.UPSCALE, 12, 0, UPSCALED), FAST) is None
