"""/prefer option names, /prefer suffix, and how both are applied to what a user types."""

from __future__ import annotations

import pytest

from inference.params import FLAG_NAMES, ParamError, parse, parse_flags
from studio.errors import StudioError
from studio.preferences import (
    MAX_SUFFIX_CHARS,
    PreparedPrompt,
    apply_preferences,
    check_option_name,
    check_suffix,
    split_flags,
)

EM_DASH, EN_DASH = "\u2014", "\u2013"


# --- option names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("portrait", "portrait"),
        ("Portrait", "portrait"),
        ("--wide", "wide"),
        (f"{EM_DASH}wide", "wide"),
        ("  film  ", "film"),
        ("my-opt_2", "my-opt_2"),
        ("9x16", "9x16"),
        ("a" * 32, "a" * 32),
    ],
)
def test_an_option_name_is_stored_lowercase_without_dashes(typed: str, stored: str) -> None:
    assert check_option_name(typed) == stored


@pytest.mark.parametrize("name", ["ar", "s", "AR", "--s", "no", "tile", "stylize", "c", "r"])
def test_built_in_flag_names_are_refused(name: str) -> None:
    with pytest.raises(StudioError, match="is a built-in parameter; choose another name"):
        check_option_name(name)


def test_every_built_in_flag_is_refused() -> None:
    for flag in FLAG_NAMES:
        with pytest.raises(StudioError, match=f"`--{flag}` is a built-in"):
            check_option_name(flag)


@pytest.mark.parametrize(
    "name", ["", "--", "my option", "a.b", "_x", "-", "wide!", "ü", "a" * 33, "x/y"]
)
def test_names_with_other_characters_are_refused(name: str) -> None:
    with pytest.raises(StudioError, match="1 to 32 letters, digits"):
        check_option_name(name)


# --- suffix --------------------------------------------------------------------------------


def test_a_suffix_has_its_spacing_collapsed() -> None:
    assert check_suffix("  --ar 3:2    --s\t250 ") == "--ar 3:2 --s 250"
    assert check_suffix("   ") == ""


def test_an_overlong_suffix_is_refused_with_its_length_and_the_limit() -> None:
    assert check_suffix("x" * MAX_SUFFIX_CHARS) == "x" * MAX_SUFFIX_CHARS
    with pytest.raises(StudioError, match=f"is {MAX_SUFFIX_CHARS + 1} characters; the limit is"):
        check_suffix("x" * (MAX_SUFFIX_CHARS + 1))


# --- applying them -------------------------------------------------------------------------


def prepared(text: str, suffix: str = "", **options: str) -> PreparedPrompt:
    return apply_preferences(text, suffix=suffix, options=options)


def test_without_preferences_the_prompt_is_unchanged_but_trimmed() -> None:
    assert prepared("  a cat --ar 2:1 ") == PreparedPrompt("a cat --ar 2:1", "")


def test_split_flags_cuts_at_the_first_flag() -> None:
    assert split_flags("a cat --ar 2:1 --s 50") == ("a cat", "--ar 2:1 --s 50")
    assert split_flags(f"a cat {EM_DASH}ar 2:1") == ("a cat", f"{EM_DASH}ar 2:1")
    assert split_flags("a well-lit cat") == ("a well-lit cat", "")
    assert split_flags("--s 50") == ("", "--s 50")


def test_suffix_words_join_the_prompt_before_its_flags() -> None:
    result = prepared("a cat --ar 2:1", suffix="in watercolor")
    assert result == PreparedPrompt("a cat in watercolor --ar 2:1", "")
    assert parse(result.text)[0].prompt == "a cat in watercolor"


def test_suffix_flags_are_defaults_that_the_prompt_overrides() -> None:
    result = prepared("a cat --ar 2:1", suffix="soft light --ar 3:2 --s 250")
    assert result == PreparedPrompt("a cat soft light --ar 2:1", "--ar 3:2 --s 250")
    request = parse(result.text, defaults=parse_flags(result.suffix_flags))[0]
    assert (request.prompt, request.aspect, request.stylize) == ("a cat soft light", (2, 1), 250)


def test_parse_flags_takes_only_flags() -> None:
    assert parse_flags("--ar 3:2 --no blur --no text") == {
        "aspect": (3, 2),
        "negative_prompt": "blur, text",
    }
    assert parse_flags("") == {}
    with pytest.raises(ParamError, match="not a parameter"):
        parse_flags("words --ar 3:2")
    with pytest.raises(ParamError, match="--repeat"):
        parse_flags("--repeat 2")
    with pytest.raises(ParamError, match="--c"):
        parse_flags("--c 500")


def test_an_option_is_replaced_by_its_flags() -> None:
    result = prepared("a cat --wide", wide="--ar 16:9 --s 250")
    assert result.text == "a cat --ar 16:9 --s 250"
    assert parse(result.text)[0].aspect == (16, 9)


def test_options_are_found_in_any_case_with_phone_dashes_and_in_the_suffix() -> None:
    options = {"wide": "--ar 16:9", "film": "--s 250"}
    assert prepared("a cat --WIDE", **options).text == "a cat --ar 16:9"
    assert prepared(f"a cat {EM_DASH}wide", **options).text == "a cat --ar 16:9"
    assert prepared(f"a cat {EN_DASH}wide", **options).text == "a cat --ar 16:9"
    assert prepared("a cat", suffix="--film", **options) == PreparedPrompt("a cat", "--s 250")
    assert prepared("a cat --wide", suffix="--film", **options) == PreparedPrompt(
        "a cat --ar 16:9", "--s 250"
    )


def test_an_option_is_expanded_once_so_options_cannot_loop() -> None:
    options = {"loop": "--loop --s 50", "ping": "--pong", "pong": "--ping"}
    assert prepared("a cat --loop", **options).text == "a cat --loop --s 50"
    assert prepared("a cat --ping", **options).text == "a cat --pong"


def test_unknown_flags_are_left_for_the_parser() -> None:
    assert prepared("a cat --x 3 --wide", wide="--ar 16:9").text == "a cat --x 3 --ar 16:9"


def test_only_whole_dashed_words_are_options() -> None:
    for text in ["a wide cat", "a cat--wide", "a cat --wider", "a cat --wide,", "a cat -wide"]:
        assert prepared(text, wide="--ar 16:9").text == text
