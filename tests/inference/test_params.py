"""The prompt-parameter parser: what Midjourney users type, and what we say when it is wrong."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import replace

import pytest

from inference.params import (
    DEFAULT_SAMPLER,
    SAMPLERS,
    ImagineRequest,
    ParamError,
    ParseLimits,
    PromptPart,
    as_typed,
    parse,
    parse_flags,
    stylize_to_guidance,
    typed_fields,
)

DEFAULT_LIMITS = ParseLimits()
EM_DASH, EN_DASH, FULLWIDTH_FIVE = "\u2014", "\u2013", "\uff15"
AR_RULE = "both sides must be whole numbers ≥ 1, ratio between 1:4 and 4:1"
SAMPLER_CHOICES = "choose one of euler, euler_a, dpm++2m, dpm++2m_karras, ddim, unipc"
NO_HINT = "a comma-separated list of things to leave out, e.g. --no text, watermark"
AT_THE_END = "parameters go at the end of the prompt"
WEIGHT_RULE = "a weight must be a number from -1000 to 1000 with at most 3 decimals"
ALL_FLAGS = (
    "--ar, --seed, --chaos, --stylize, --quality, --stop, --tile, --repeat, --model, --steps, "
    "--sampler, --no, --iw"
)


def one(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> ImagineRequest:
    """The single request ``text`` parses into."""
    requests = parse(text, limits)
    assert len(requests) == 1
    return requests[0]


def error(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> ParamError:
    """The ParamError ``text`` raises."""
    with pytest.raises(ParamError) as info:
        parse(text, limits)
    return info.value


def weights(request: ImagineRequest) -> list[tuple[str, float]]:
    return [(part.text, round(part.weight, 12)) for part in request.parts]


# ---------------------------------------------------------------------------------------------
# Good inputs


def test_plain_prompt_gets_defaults() -> None:
    request = one("a cat in a hat")
    assert request == ImagineRequest(
        prompt="a cat in a hat", parts=(PromptPart("a cat in a hat", 1.0),)
    )
    assert request.negative_prompt == ""
    assert request.aspect == (1, 1)
    assert request.seed is None
    assert (request.chaos, request.stylize, request.quality, request.stop) == (0, 100, 1.0, 100)
    assert (request.tile, request.model, request.steps, request.sampler) == (
        False,
        None,
        None,
        None,
    )


def test_whitespace_is_collapsed() -> None:
    request = one("  a \n cat\t in   a hat   --ar   16:9  ")
    assert request.prompt == "a cat in a hat"
    assert request.aspect == (16, 9)


@pytest.mark.parametrize(
    ("flags", "field", "value"),
    [
        ("--ar 16:9", "aspect", (16, 9)),
        ("--aspect 2:3", "aspect", (2, 3)),
        ("--ar 1:4", "aspect", (1, 4)),
        ("--ar 4:1", "aspect", (4, 1)),
        ("--ar 139:100", "aspect", (139, 100)),
        ("--seed 0", "seed", 0),
        ("--seed 4294967295", "seed", 4294967295),
        ("--seed 007", "seed", 7),
        ("--chaos 0", "chaos", 0),
        ("--chaos 100", "chaos", 100),
        ("--c 50", "chaos", 50),
        ("--stylize 0", "stylize", 0),
        ("--stylize 1000", "stylize", 1000),
        ("--s 750", "stylize", 750),
        ("--quality .25", "quality", 0.25),
        ("--quality 0.25", "quality", 0.25),
        ("--q .5", "quality", 0.5),
        ("--q 0.50", "quality", 0.5),
        ("--q 1", "quality", 1.0),
        ("--q 1.0", "quality", 1.0),
        ("--q 2", "quality", 2.0),
        ("--q 2.", "quality", 2.0),
        ("--stop 10", "stop", 10),
        ("--stop 100", "stop", 100),
        ("--tile", "tile", True),
        ("--model DreamShaper_8", "model", "DreamShaper_8"),
        ("--steps 1", "steps", 1),
        ("--steps 150", "steps", 150),
        ("--sampler euler", "sampler", "euler"),
        ("--sampler euler_a", "sampler", "euler_a"),
        ("--sampler dpm++2m", "sampler", "dpm++2m"),
        ("--sampler dpm++2m_karras", "sampler", "dpm++2m_karras"),
        ("--sampler ddim", "sampler", "ddim"),
        ("--sampler unipc", "sampler", "unipc"),
        ("--sampler EULER_A", "sampler", "euler_a"),
        ("--sampler Euler a", "sampler", "euler_a"),
        ("--sampler DPM++ 2M", "sampler", "dpm++2m"),
        ("--sampler dpm++ 2m karras", "sampler", "dpm++2m_karras"),
        ("--sampler UniPC", "sampler", "unipc"),
        ("--sampler DDIM", "sampler", "ddim"),
    ],
)
def test_each_flag_and_alias(flags: str, field: str, value: object) -> None:
    assert getattr(one(f"a lighthouse at dusk {flags}"), field) == value


def test_every_sampler_display_name_is_accepted() -> None:
    for key, display in SAMPLERS.items():
        assert one(f"x --sampler {display}").sampler == key
    assert DEFAULT_SAMPLER in SAMPLERS


def test_flag_names_are_case_insensitive() -> None:
    request = one("a cat --AR 3:2 --Tile --SEED 4 --Q .5")
    assert (request.aspect, request.tile, request.seed, request.quality) == ((3, 2), True, 4, 0.5)


def test_phone_dashes_count_as_double_hyphen() -> None:
    request = one(f"a cat {EM_DASH}ar 16:9 {EN_DASH}s 50 {EM_DASH}no dogs")
    assert (request.aspect, request.stylize, request.negative_prompt) == ((16, 9), 50, "dogs")


def test_dashes_inside_prose_stay_in_the_prompt() -> None:
    request = one(f"a cat {EM_DASH} sleeping, well-fed, red-blue --ar 2:1")
    assert request.prompt == f"a cat {EM_DASH} sleeping, well-fed, red-blue"
    assert request.aspect == (2, 1)


def test_no_collects_every_item_of_every_occurrence() -> None:
    request = one("a garden --no  text ,, watermark , --ar 3:2 --no blurry   edges")
    assert request.negative_prompt == "text, watermark, blurry edges"
    assert request.aspect == (3, 2)


def test_no_keeps_double_colons_literally() -> None:
    request = one("a garden --no fog::2")
    assert request.negative_prompt == "fog::2"
    assert weights(request) == [("a garden", 1.0)]


def test_every_flag_at_once() -> None:
    request = one(
        "castle --ar 3:2 --seed 1 --c 5 --s 10 --q 2 --stop 50 --tile --model m "
        "--steps 20 --sampler ddim --no moat"
    )
    assert request.to_params() == {
        "prompt": "castle",
        "parts": [{"text": "castle", "weight": 1.0}],
        "negative_prompt": "moat",
        "aspect": [3, 2],
        "seed": 1,
        "chaos": 5,
        "stylize": 10,
        "quality": 2.0,
        "stop": 50,
        "tile": True,
        "model": "m",
        "steps": 20,
        "sampler": "ddim",
        "loras": [],
        "guidance": None,
        "recommended": {},
        "image_urls": [],
        "image_weight": 1.0,
    }


# ---------------------------------------------------------------------------------------------
# Multi-prompts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hot:: dog", [("hot", 0.5), ("dog", 0.5)]),
        ("hot::2 dog", [("hot", 2 / 3), ("dog", 1 / 3)]),
        ("space ship::3 red::-0.5", [("space ship", 1.2), ("red", -0.2)]),
        ("space ship::3 red::-.5", [("space ship", 1.2), ("red", -0.2)]),
        ("a::.5 b::1.5", [("a", 0.25), ("b", 0.75)]),
        ("a:: b::", [("a", 0.5), ("b", 0.5)]),
        ("::2 a", [("a", 1.0)]),
        ("a::-1 b::3", [("a", -0.5), ("b", 1.5)]),
        ("a 16:9 photo", [("a 16:9 photo", 1.0)]),
        ("a::0 b", [("a", 0.0), ("b", 1.0)]),
        ("a::1000 b::-999.999", [("a", 1000 / 0.001), ("b", -999.999 / 0.001)]),
    ],
)
def test_multi_prompt_weights(text: str, expected: list[tuple[str, float]]) -> None:
    request = one(text)
    assert [part.text for part in request.parts] == [text for text, _ in expected]
    assert [part.weight for part in request.parts] == pytest.approx([w for _, w in expected])
    assert sum(part.weight for part in request.parts) == pytest.approx(1.0)


def test_multi_prompt_syntax_is_kept_in_the_prompt() -> None:
    request = one("space  ship::3   red::-0.5 --ar 2:1")
    assert request.prompt == "space ship::3 red::-0.5"


# ---------------------------------------------------------------------------------------------
# Permutations


def prompts(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> list[str]:
    return [request.prompt for request in parse(text, limits)]


def test_permutations_expand_into_separate_jobs() -> None:
    assert prompts("a {red, green, blue} car") == ["a red car", "a green car", "a blue car"]


def test_several_groups_give_the_product_first_group_slowest() -> None:
    assert prompts("{a, b} {1, 2}") == ["a 1", "a 2", "b 1", "b 2"]


def test_nested_groups() -> None:
    assert prompts("{a, {b, c}} x") == ["a x", "b x", "c x"]
    assert prompts("{a {b, c}, d}") == ["a b", "a c", "d"]


def test_escapes_are_literal() -> None:
    assert prompts(r"a \{b\} c\, d {e\,f, g}") == ["a {b} c, d e,f", "a {b} c, d g"]


def test_flags_inside_braces() -> None:
    requests = parse("a cat --ar {1:1, 16:9} --s {50, 500}")
    assert [(r.aspect, r.stylize) for r in requests] == [
        ((1, 1), 50),
        ((1, 1), 500),
        ((16, 9), 50),
        ((16, 9), 500),
    ]


def test_empty_option_is_allowed() -> None:
    assert prompts("a {, big} car") == ["a car", "a big car"]
    assert prompts("a {} car") == ["a car"]


def test_too_many_permutations_fail_fast() -> None:
    started = time.perf_counter()
    err = error("{a,b}" * 30)
    assert time.perf_counter() - started < 1
    assert str(err) == (
        "this prompt would make at least 1073741824 jobs (permutations times --repeat); "
        "the limit is 10"
    )
    assert err.flag is None


def test_permutations_times_repeat_over_the_limit() -> None:
    err = error("a {red, green, blue} car --repeat 4")
    assert str(err) == (
        "this prompt would make 12 jobs (permutations times --repeat); the limit is 10"
    )
    assert len(parse("a {red, green} car --repeat 4")) == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a {b", "unbalanced braces: the '{' in '{b' is never closed"),
        ("a b}", "unbalanced braces: the '}' in 'a b}' has no matching '{'"),
        ("{a, {b}", "is never closed"),
        ("{" * 11 + "a" + "}" * 11, "braces are nested more than 10 deep"),
    ],
)
def test_bad_braces(text: str, message: str) -> None:
    err = error(text)
    assert message in str(err)
    assert err.flag is None


# ---------------------------------------------------------------------------------------------
# Repeat


def test_repeat_with_seed_spaces_the_seeds_by_four() -> None:
    assert [r.seed for r in parse("a cat --seed 5 --repeat 3")] == [5, 9, 13]
    assert [r.seed for r in parse("a cat --seed 4294967294 --r 2")] == [4294967294, 2]


def test_repeat_without_seed_leaves_seeds_random() -> None:
    requests = parse("a cat --r 4")
    assert [r.seed for r in requests] == [None] * 4


def test_repeat_order_all_repeats_of_first_permutation_first() -> None:
    requests = parse("{cat, dog} --repeat 2 --seed 1")
    assert [(r.prompt, r.seed) for r in requests] == [
        ("cat", 1),
        ("cat", 5),
        ("dog", 1),
        ("dog", 5),
    ]


def test_repeat_bound_is_the_operator_setting() -> None:
    assert len(parse("a --repeat 6", ParseLimits(max_repeat=6))) == 6
    err = error("a --repeat 3", ParseLimits(max_repeat=2))
    assert str(err) == "--repeat 3: must be a whole number from 1 to 2"


# ---------------------------------------------------------------------------------------------
# Bad inputs: each message names the flag, the value and what is allowed


@pytest.mark.parametrize(
    ("text", "flag", "message"),
    [
        ("x --ar 0:1", "--ar", f"--ar 0:1: {AR_RULE}"),
        ("x --ar 1.39:1", "--ar", f"--ar 1.39:1: {AR_RULE}"),
        ("x --ar 5:1", "--ar", f"--ar 5:1: {AR_RULE}"),
        ("x --ar 1:5", "--ar", f"--ar 1:5: {AR_RULE}"),
        ("x --aspect 16x9", "--aspect", f"--aspect 16x9: {AR_RULE}"),
        ("x --ar", "--ar", f"--ar needs a value: width:height such as 16:9; {AR_RULE}"),
        ("x --seed -1", "--seed", "--seed -1: must be a whole number from 0 to 4294967295"),
        (
            "x --seed 4294967296",
            "--seed",
            "--seed 4294967296: must be a whole number from 0 to 4294967295",
        ),
        ("x --seed", "--seed", "--seed needs a value: a whole number from 0 to 4294967295"),
        ("x --chaos 150", "--chaos", "--chaos 150: must be a whole number from 0 to 100"),
        ("x --c 1e3", "--c", "--c 1e3: must be a whole number from 0 to 100"),
        ("x --c +5", "--c", "--c +5: must be a whole number from 0 to 100"),
        ("x --c 0x10", "--c", "--c 0x10: must be a whole number from 0 to 100"),
        ("x --c 1_0", "--c", "--c 1_0: must be a whole number from 0 to 100"),
        ("x --c 5.0", "--c", "--c 5.0: must be a whole number from 0 to 100"),
        (
            f"x --c {FULLWIDTH_FIVE}",
            "--c",
            f"--c {FULLWIDTH_FIVE}: must be a whole number from 0 to 100",
        ),
        ("x --stylize 1001", "--stylize", "--stylize 1001: must be a whole number from 0 to 1000"),
        ("x --s lots", "--s", "--s lots: must be a whole number from 0 to 1000"),
        ("x --quality 3", "--quality", "--quality 3: must be one of .25, .5, 1, 2"),
        ("x --q 0.3", "--q", "--q 0.3: must be one of .25, .5, 1, 2"),
        ("x --q 1/2", "--q", "--q 1/2: must be one of .25, .5, 1, 2"),
        ("x --stop 9", "--stop", "--stop 9: must be a whole number from 10 to 100"),
        ("x --stop 101", "--stop", "--stop 101: must be a whole number from 10 to 100"),
        ("x --repeat 0", "--repeat", "--repeat 0: must be a whole number from 1 to 4"),
        ("x --r 5", "--r", "--r 5: must be a whole number from 1 to 4"),
        ("x --steps 0", "--steps", "--steps 0: must be a whole number from 1 to 150"),
        ("x --steps 151", "--steps", "--steps 151: must be a whole number from 1 to 150"),
        ("x --model", "--model", "--model needs a value: a model name"),
        ("x --sampler foo", "--sampler", f"--sampler foo: unknown sampler; {SAMPLER_CHOICES}"),
        ("x --sampler", "--sampler", f"--sampler needs a value: {SAMPLER_CHOICES}"),
        ("x --no", "--no", f"--no needs a value: {NO_HINT}"),
        ("x --no , ,", "--no", f"--no needs a value: {NO_HINT}"),
        (
            "x --ar 16:9 blue sky",
            "--ar",
            f"unexpected text 'blue sky' after --ar 16:9: {AT_THE_END}",
        ),
        ("x --tile please", "--tile", f"unexpected text 'please' after --tile: {AT_THE_END}"),
        ("x --model a b", "--model", f"unexpected text 'b' after --model a: {AT_THE_END}"),
        (
            "x --sampler euler a b",
            "--sampler",
            f"unexpected text 'b' after --sampler euler a: {AT_THE_END}",
        ),
        ("x --s 1 --s 2", "--s", "--s is given twice (first as --s); keep one"),
        ("x --s 1 --stylize 2", "--stylize", "--stylize is given twice (first as --s); keep one"),
        ("x --tile --tile", "--tile", "--tile is given twice (first as --tile); keep one"),
        ("x --ars 16:9", "--ars", "unknown parameter --ars: did you mean --ar?"),
        ("x --stylise 5", "--stylise", "unknown parameter --stylise: did you mean --stylize?"),
        ("x --ar16:9", "--ar16:9", "unknown parameter --ar16:9: did you mean --ar 16:9?"),
        ("x --s750", "--s750", "unknown parameter --s750: did you mean --s 750?"),
        ("x --Zebra", "--zebra", f"unknown parameter --zebra; the parameters are {ALL_FLAGS}"),
    ],
)
def test_bad_flag(text: str, flag: str, message: str) -> None:
    err = error(text)
    assert str(err) == message
    assert err.flag == flag


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the prompt is empty: write what to draw before the parameters"),
        ("   \n ", "the prompt is empty: write what to draw before the parameters"),
        ("--ar 16:9", "the prompt is empty: write what to draw before the parameters"),
        (":: --tile", "the prompt is empty: write what to draw before the parameters"),
        ("::2 ::3", "the prompt is empty: write what to draw before the parameters"),
        ("cat:: dog::-1", "the multi-prompt weights add up to 0; they must add up to more than 0"),
        ("cat::-2 dog", "the multi-prompt weights add up to -1; they must add up to more than 0"),
        ("cat::-1.5", "the multi-prompt weights add up to -1.5; they must add up to more than 0"),
        ("cat::5000 dog", f"::5000: {WEIGHT_RULE}"),
        ("cat::0.0001 dog", f"::0.0001: {WEIGHT_RULE}"),
    ],
)
def test_bad_prompt(text: str, message: str) -> None:
    err = error(text)
    assert str(err).startswith(message)
    assert err.flag is None


def test_weight_decimals_count_without_trailing_zeros() -> None:
    assert weights(one("a::0.50000 b::.5")) == [("a", 0.5), ("b", 0.5)]


def test_prompt_length_limit() -> None:
    limits = ParseLimits(max_prompt_chars=20)
    assert one("x" * 20, limits).prompt == "x" * 20
    err = error("x" * 21, limits)
    assert str(err) == "the prompt is 21 characters long; the limit is 20"
    assert err.flag is None


def test_long_values_are_truncated_in_messages() -> None:
    err = error("x --chaos " + "9" * 500)
    assert str(err) == "--chaos " + "9" * 39 + "…: must be a whole number from 0 to 100"


def test_problems_are_reported_in_reading_order() -> None:
    assert error("--ar 0:1").flag is None  # the empty prompt comes first
    assert error("x --c 500 --s 5000").flag == "--c"


# ---------------------------------------------------------------------------------------------
# Storage and derived values


def test_to_params_from_params_round_trip_through_json() -> None:
    for text in [
        "a cat",
        "space ship::3 red::-0.5 --ar 16:9 --seed 9 --c 20 --s 250 --q .5 --stop 80 --tile "
        "--model sdxl --steps 40 --sampler Euler a --no text, watermark",
    ]:
        request = one(text)
        stored = json.loads(json.dumps(request.to_params()))
        assert ImagineRequest.from_params(stored) == request


def test_from_params_fills_missing_keys_with_defaults() -> None:
    stored = {"prompt": "a cat", "parts": [{"text": "a cat", "weight": 1.0}]}
    assert ImagineRequest.from_params(stored) == one("a cat")


def test_stylize_maps_to_guidance() -> None:
    assert stylize_to_guidance(0) == 9.0
    assert stylize_to_guidance(100) == 7.0
    assert stylize_to_guidance(1000) == 3.0
    assert stylize_to_guidance(50) == 8.0
    assert stylize_to_guidance(550) == 5.0
    values = [stylize_to_guidance(s) for s in range(1001)]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert one("x --s 1000").guidance_scale == 3.0
    assert one("x").guidance_scale == 7.0


@pytest.mark.parametrize(
    ("text", "default_steps", "expected"),
    [
        ("x", 30, 30),
        ("x --q .5", 30, 15),
        ("x --q 2", 30, 60),
        ("x --q .25 --steps 2", 30, 1),
        ("x --steps 40 --q .25", 30, 10),
        ("x --steps 40", 30, 40),
    ],
)
def test_total_steps(text: str, default_steps: int, expected: int) -> None:
    assert one(text).total_steps(default_steps) == expected


# ---------------------------------------------------------------------------------------------
# Defaults: a user's preferences fill in what the prompt leaves open


def test_a_default_applies_when_the_flag_is_absent() -> None:
    (request,) = parse("a cat --ar 2:1", DEFAULT_LIMITS, {"stylize": 250, "model": "anime"})
    assert (request.stylize, request.model) == (250, "anime")
    assert request.aspect == (2, 1)
    assert request.guidance_scale == stylize_to_guidance(250)


@pytest.mark.parametrize(
    ("text", "stylize", "model"),
    [
        ("a cat --s 50", 50, "anime"),
        ("a cat --stylize 0", 0, "anime"),  # an explicit 0 is not "absent"
        ("a cat --model sdxl", 250, "sdxl"),
        (f"a cat {EM_DASH}s 100 {EM_DASH}model sdxl", 100, "sdxl"),
    ],
)
def test_an_explicit_flag_wins_over_a_default(text: str, stylize: int, model: str) -> None:
    (request,) = parse(text, DEFAULT_LIMITS, {"stylize": 250, "model": "anime"})
    assert (request.stylize, request.model) == (stylize, model)


def test_defaults_apply_to_every_permutation_and_repeat() -> None:
    requests = parse("a {cat, dog --s 5} --r 2", DEFAULT_LIMITS, {"stylize": 250})
    assert [(r.prompt, r.stylize) for r in requests] == [
        ("a cat", 250),
        ("a cat", 250),
        ("a dog", 5),
        ("a dog", 5),
    ]


def test_defaults_change_nothing_else() -> None:
    defaults = {"stylize": 250}
    assert parse("a cat", DEFAULT_LIMITS, defaults) == parse("a cat --s 250")
    assert parse("a cat", DEFAULT_LIMITS, {}) == parse("a cat") == parse("a cat", DEFAULT_LIMITS)
    assert defaults == {"stylize": 250}  # the caller's mapping is left alone
    with pytest.raises(ParamError, match="--s 2000: must be a whole number from 0 to 1000"):
        parse("a cat --s 2000", DEFAULT_LIMITS, defaults)


@pytest.mark.parametrize(
    "flags",
    [
        "--no blur, text",
        "--no blur --no text, watermark",
        "--ar 3:2 --s 250 --c 10 --q .5 --stop 50 --tile --seed 7 --no fog",
        "--model tiny --steps 9 --sampler euler a",
    ],
)
def test_flags_read_as_defaults_mean_what_they_mean_in_the_prompt(flags: str) -> None:
    """A /prefer suffix's flags become defaults through ``parse_flags``; each must reach the
    request as if typed in the prompt (``--no`` with commas was once joined letter by letter)."""
    from_defaults = parse("a quiet cat", DEFAULT_LIMITS, parse_flags(flags))
    assert from_defaults == parse(f"a quiet cat {flags}")


@pytest.mark.parametrize(
    "text",
    [
        "a lighthouse",
        "a lighthouse::2 fog <lora:pixelart:0.8> --ar 3:2 --chaos 20 --s 250 --q .5 --stop 80",
        "a red car --tile --model sd15:1 --steps 12 --sampler euler a --no blue, green --seed 3",
    ],
)
def test_a_request_as_typed_parses_back_to_itself(text: str) -> None:
    """What Remix prefills: the request as a member would type it (without its seed)."""
    (request,) = parse(text)
    (again,) = parse(as_typed(request))
    assert again == replace(request, seed=None)
    assert typed_fields(text) >= typed_fields(as_typed(request)) - {"seed"}


# --- image prompts: URLs at the start, attached images, --iw ---------------------------------

FOX_URL = "https://cdn.discordapp.com/attachments/1/2/fox.png"
SNOW_URL = "https://media.discordapp.net/attachments/1/3/snow.jpg"


def test_image_urls_at_the_start_are_image_prompts_and_the_rest_is_the_prompt() -> None:
    request = one(f"{FOX_URL} <{SNOW_URL}> a fox in snow --iw 2")
    assert request.image_urls == (FOX_URL, SNOW_URL)
    assert request.prompt == "a fox in snow"
    assert request.image_weight == 2.0


def test_a_url_after_the_text_is_part_of_the_text() -> None:
    request = one(f"a fox like {FOX_URL}")
    assert request.image_urls == ()
    assert request.prompt == f"a fox like {FOX_URL}"


def test_without_iw_the_images_weigh_one() -> None:
    assert one(f"{FOX_URL} a fox").image_weight == 1.0


def test_every_permutation_and_repeat_keeps_the_image_prompts() -> None:
    requests = parse(f"{FOX_URL} a {{red, blue}} fox --repeat 2 --iw 0.5")
    assert [r.prompt for r in requests] == ["a red fox"] * 2 + ["a blue fox"] * 2
    assert {(r.image_urls, r.image_weight) for r in requests} == {((FOX_URL,), 0.5)}


def test_images_alone_need_no_text() -> None:
    by_url = one(f"{FOX_URL} {SNOW_URL} --iw 3")
    assert (by_url.prompt, by_url.image_urls) == ("", (FOX_URL, SNOW_URL))
    attached = parse("--ar 3:2", attached=2)[0]
    assert (attached.prompt, attached.image_urls, attached.aspect) == ("", (), (3, 2))
    assert parse("", attached=1)[0].prompt == ""


def test_without_images_an_empty_prompt_is_still_refused() -> None:
    with pytest.raises(ParamError, match="the prompt is empty"):
        parse("--ar 3:2")


@pytest.mark.parametrize(("typed", "attached"), [(f"{FOX_URL} " * 6 + "a fox", 0), ("", 6)])
def test_at_most_five_images_per_job(typed: str, attached: int) -> None:
    with pytest.raises(ParamError) as refused:
        parse(typed, attached=attached)
    assert str(refused.value) == (
        "this prompt comes with 6 images (image URLs at its start and attached images "
        "together); at most 5 per job"
    )


def test_urls_and_attached_images_count_together() -> None:
    assert len(parse(f"{FOX_URL} {SNOW_URL} a fox", attached=3)[0].image_urls) == 2
    with pytest.raises(ParamError, match="comes with 6 images"):
        parse(f"{FOX_URL} {SNOW_URL} a fox", attached=4)


@pytest.mark.parametrize("value", ["4", "-1", "3.01", "lots", "1:2"])
def test_iw_outside_zero_to_three_is_refused(value: str) -> None:
    with pytest.raises(ParamError) as refused:
        parse(f"{FOX_URL} a fox --iw {value}")
    assert str(refused.value) == (
        f"--iw {value}: must be a number from 0 to 3 (how much the image prompts count "
        "against the text; 1 by default)"
    )
    assert refused.value.flag == "--iw"


@pytest.mark.parametrize("value", ["0", "3", ".25", "1.5"])
def test_iw_takes_any_number_from_zero_to_three(value: str) -> None:
    assert one(f"{FOX_URL} a fox --iw {value}").image_weight == float(value)


def test_iw_without_any_image_is_refused() -> None:
    with pytest.raises(ParamError) as refused:
        parse("a fox --iw 2")
    assert str(refused.value) == (
        "--iw weighs image prompts against the text, but this prompt has no image: start "
        "the prompt with image URLs (https://…) or attach images, or leave out --iw"
    )
    assert parse("a fox --iw 2", attached=1)[0].image_weight == 2.0


def test_an_iw_default_does_not_refuse_a_prompt_without_images() -> None:
    (request,) = parse("a fox", defaults={"image_weight": 2.0})
    assert request.image_urls == ()


def test_an_image_prompt_typed_again_gives_the_same_request() -> None:
    request = one(f"{FOX_URL} {SNOW_URL} a fox --ar 3:2 --iw 0.5")
    typed = as_typed(request)
    assert typed == f"{FOX_URL} {SNOW_URL} a fox --ar 3:2 --iw 0.5"
    assert parse(typed) == [request]
    blend = parse("--iw 2", attached=2)[0]
    assert as_typed(blend) == "--iw 2"
    assert parse(as_typed(blend), attached=2) == [blend]
