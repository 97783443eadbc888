"""``<lora:NAME:WEIGHT>`` tags in prompts, as model sites write them."""

from __future__ import annotations

import pytest

from inference.params import ImagineRequest, LoraTag, ParamError, ParseLimits, parse


def one(text: str, limits: ParseLimits | None = None) -> ImagineRequest:
    [request] = parse(text, limits or ParseLimits())
    return request


def test_tags_are_read_in_order_and_removed_from_what_the_encoder_sees() -> None:
    request = one("a fox <lora:PixelArt:0.8> in snow, <lora:ink@2> <lora:glow:-1.5> --ar 3:2")
    assert request.loras == (
        LoraTag("pixelart", None, 0.8, "<lora:PixelArt:0.8>"),
        LoraTag("ink", "2", None, "<lora:ink@2>"),
        LoraTag("glow", None, -1.5, "<lora:glow:-1.5>"),
    )
    assert [part.text for part in request.parts] == ["a fox in snow,"]
    assert request.prompt == "a fox <lora:PixelArt:0.8> in snow, <lora:ink@2> <lora:glow:-1.5>"
    assert request.aspect == (3, 2)


def test_tags_survive_multi_prompts_and_permutations() -> None:
    first, second = parse("a {fox, owl}::2 <lora:ink:1> snow")
    assert [p.text for p in first.parts] == ["a fox", "snow"]
    assert [p.text for p in second.parts] == ["a owl", "snow"]
    assert first.loras == second.loras == (LoraTag("ink", None, 1.0, "<lora:ink:1>"),)


def test_tags_round_trip_through_stored_parameters() -> None:
    request = one("a fox <lora:ink@2:0.25>")
    assert ImagineRequest.from_params(request.to_params()) == request


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a fox <lora:ink:2.5>", "<lora:ink:2.5>: the weight must be a number from -2 to 2"),
        ("a fox <lora:ink:strong>", "<lora:ink:strong>: the weight must be a number"),
        ("a fox <lora:ink:1:0.5>", "<lora:ink:1:0.5>: one weight per LoRA"),
        ("a fox <lora::1>", "<lora::1> names no LoRA; write <lora:NAME:WEIGHT>"),
        ("a fox <lora:in k>", "<lora:in k> names no LoRA"),
        ("a <lora:ink> and <lora:INK:1>", "<lora:INK:1>: the LoRA `ink` is already in the prompt"),
        (
            "a <lora:a><lora:b><lora:c><lora:d><lora:e>",
            "this prompt has 5 LoRA tags; at most 4 per job",
        ),
    ],
)
def test_each_mistake_names_the_tag_and_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(ParamError) as refused:
        parse(text)
    assert str(refused.value).startswith(message)


def test_the_operator_sets_how_many_loras_a_job_may_use() -> None:
    assert len(one("a <lora:a> <lora:b>", ParseLimits(max_loras=2)).loras) == 2
    with pytest.raises(ParamError, match="at most 1 per job"):
        parse("a <lora:a> <lora:b>", ParseLimits(max_loras=1))
    with pytest.raises(ParamError, match="LoRAs are turned off on this bot"):
        parse("a <lora:a>", ParseLimits(max_loras=0))


def test_a_recommended_cfg_yields_to_the_members_own_stylize() -> None:
    assert one("a fox", ParseLimits()).guidance is None
    [recommended] = parse("a fox", defaults={"guidance": 4.5})
    assert recommended.guidance_scale == 4.5
    [own] = parse("a fox --s 100", defaults={"guidance": 4.5})
    assert own.guidance is None
    assert own.guidance_scale == 7.0
