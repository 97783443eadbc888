"""The words on jobs made from images: image prompts with their ``--iw``, and a /blend (images,
no text) named as one — never an empty bold prompt."""

from __future__ import annotations

from dataclasses import replace

from cogs.imagine import render
from inference.jobs import GenerationJob, ImagePrompt, plan_reroll, plan_upscale
from tests.helpers.inference import FAST
from tests.helpers.pool import job

OWNER = 42
URL = "https://cdn.discordapp.com/attachments/1/2/red_fox.png"


def _prompts(*sources: str) -> tuple[ImagePrompt, ...]:
    return tuple(
        ImagePrompt(path=f"/data/inputs/{n}.png", sha256=f"{n}" * 64, source=source)
        for n, source in enumerate(sources, start=1)
    )


def _image_prompted(prompt: str = "a fox", weight: float = 1.0, *sources: str) -> GenerationJob:
    planned = job(prompt)
    return replace(
        planned,
        request=replace(planned.request, image_urls=(URL,), image_weight=weight),
        image_prompts=_prompts(*(sources or (URL, "attachment:sketch.png"))),
    )


def _blend(count: int = 3) -> GenerationJob:
    planned = job("x --ar 2:3")
    return replace(
        planned,
        request=replace(planned.request, prompt="", parts=()),
        image_prompts=_prompts(*(f"attachment:{n}.png" for n in range(count))),
    )


def test_an_image_prompted_header_counts_its_images_and_shows_a_changed_iw() -> None:
    assert render.header(_image_prompted(), OWNER, None, FAST) == (
        f"**a fox** + 2 image prompts — <@{OWNER}>"
    )
    one = _image_prompted("a fox", 2, URL)
    assert (
        render.header(one, OWNER, None, FAST) == f"**a fox --iw 2** + 1 image prompt — <@{OWNER}>"
    )
    assert render.header(plan_reroll(one), OWNER, 0, FAST) == (
        f"**a fox --iw 2** + 1 image prompt — <@{OWNER}> (re-roll)"
    )


def test_a_blend_header_names_the_blend_and_has_no_empty_prompt() -> None:
    blend = _blend()
    head = render.header(blend, OWNER, None, FAST)
    assert head == f"**/blend of 3 images --ar 2:3** — <@{OWNER}>"
    assert "****" not in render.done(head, blend)
    upscaled = plan_upscale(blend, index=0, image_path="x.png", defaults=FAST)
    assert render.header(upscaled, OWNER, 0, FAST) == (
        f"**/blend of 3 images --ar 2:3** — Image #1 <@{OWNER}>"
    )


def test_a_text_job_says_nothing_of_images() -> None:
    planned = job("a fox")
    assert render.header(planned, OWNER, None, FAST) == f"**a fox** — <@{OWNER}>"
    assert render.inputs_field(planned) is None
    assert render.inputs_below(planned, 0) == ""
    assert render.summary(planned, 60) == "a fox"


def test_the_info_field_lists_each_image_its_source_and_hash() -> None:
    field = render.inputs_field(_image_prompted("a fox", 1.5))
    assert field == (
        "2 image prompts, --iw 1.5",
        f"1. `{URL}` · sha256 1111111111\n2. `attachment sketch.png` · sha256 2222222222",
    )
    blend = render.inputs_field(_blend(2))
    assert blend is not None
    assert blend[0] == "/blend of 2 images"


def test_five_long_urls_fit_one_embed_field() -> None:
    long = "https://cdn.discordapp.com/" + "a" * 900 + "`*_.png"
    field = render.inputs_field(_image_prompted("a fox", 1.0, *[long] * 5))
    assert field is not None
    assert len(field[1]) <= 1024
    assert field[1].count("\n") == 4
    assert "``" not in field[1]  # a backtick in a URL cannot end the code span


def test_info_lines_and_the_line_under_a_reposted_job() -> None:
    image_prompted = _image_prompted("a fox", 0.5)
    assert render.summary(image_prompted, 60) == "a fox --iw 0.5 + 2 image prompts"
    assert render.summary(_blend(), 60) == "/blend of 3 images --ar 2:3"
    assert render.inputs_below(image_prompted, 2) == "\n2 image prompts (--iw 0.5): attached below"
    assert render.inputs_below(_blend(), 3) == "\n/blend of 3 images: attached below"
    assert render.inputs_below(_blend(), 1) == (
        "\n/blend of 3 images: 1 of 3 attached below, the others no longer stored"
    )
    assert render.inputs_below(_blend(), 0) == "\n/blend of 3 images: no longer stored"


def test_one_image_without_words_is_named_an_image_prompt_not_a_blend() -> None:
    alone = _blend(1)
    assert render.header(alone, OWNER, None, FAST) == f"**1 image prompt --ar 2:3** — <@{OWNER}>"
    assert render.summary(alone, 60) == "1 image prompt --ar 2:3"
