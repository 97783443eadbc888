"""Banned words: whole-word, case-insensitive matching, and how admins' lists are read."""

from __future__ import annotations

import pytest

from studio.errors import StudioError
from studio.moderation import MAX_WORD_CHARS, matched_words, normalise_words


@pytest.mark.parametrize(
    "prompt",
    [
        "a party in the park",  # "art" inside a word
        "smart cars",
        "artist at work",
        "art_deco poster",  # underscores are part of a word
        "",
    ],
)
def test_a_word_inside_another_word_does_not_match(prompt: str) -> None:
    assert matched_words(prompt, ["art"]) == []


@pytest.mark.parametrize(
    "prompt",
    ["art", "modern art", "Art deco", "ART!", "pop-art poster", "(art)", "an art's charm"],
)
def test_a_whole_word_matches_in_any_case_and_next_to_punctuation(prompt: str) -> None:
    assert matched_words(prompt, ["art"]) == ["art"]


def test_matching_ignores_case_and_trailing_punctuation() -> None:
    assert matched_words("Gore, everywhere", ["gore"]) == ["gore"]
    assert matched_words("so much GORE", ["gore"]) == ["gore"]
    assert matched_words("gorgeous gorey sunset", ["gore"]) == []


@pytest.mark.parametrize(
    "prompt", ["a dead body", "a DEAD   Body", "dead\tbody, at dawn", "the dead\nbody"]
)
def test_a_phrase_matches_with_any_spacing(prompt: str) -> None:
    assert matched_words(prompt, ["dead body"]) == ["dead body"]


def test_a_phrase_needs_its_words_together_and_whole() -> None:
    assert matched_words("a dead tree by a body of water", ["dead body"]) == []
    assert matched_words("undead body", ["dead body"]) == []
    assert matched_words("dead bodybuilder", ["dead body"]) == []
    assert matched_words("deadbody", ["dead body"]) == []


def test_every_match_is_reported_in_list_order() -> None:
    banned = ["blood", "gore", "art", "dead body"]
    assert matched_words("Gore and a dead body, blood", banned) == ["blood", "gore", "dead body"]


def test_regex_characters_in_a_word_are_literal() -> None:
    assert matched_words("learning c++ fast", ["c++"]) == ["c++"]
    assert matched_words("a.b.c", ["a*"]) == []
    assert matched_words("axxb", ["a.b"]) == []
    assert matched_words("x a.b y", ["a.b"]) == ["a.b"]


def test_non_latin_words_match_whole_words_only() -> None:
    assert matched_words("Кровь на снегу", ["кровь"]) == ["кровь"]
    assert matched_words("кровавый закат", ["кровь"]) == []
    assert matched_words("café noir", ["caf"]) == []


def test_words_are_lowercased_trimmed_collapsed_and_deduplicated() -> None:
    assert normalise_words("Gore, blood ,  Dead   Body") == ["gore", "blood", "dead body"]
    assert normalise_words("gore, GORE , Gore") == ["gore"]
    assert normalise_words(",gore,,\tblood,") == ["gore", "blood"]


@pytest.mark.parametrize("text", ["", "   ", ",", " , ,, "])
def test_no_words_at_all_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(StudioError, match="one or more words, separated by commas"):
        normalise_words(text)


def test_an_entry_without_letters_or_digits_is_refused_by_name() -> None:
    with pytest.raises(StudioError, match="“!!!” has no letters or digits"):
        normalise_words("gore, !!!")
    with pytest.raises(StudioError) as caught:
        normalise_words("!" * 6000)  # quoted back shortened, whatever its length
    assert len(str(caught.value)) < 150


def test_an_overlong_entry_is_refused_with_the_limit() -> None:
    assert normalise_words("x" * MAX_WORD_CHARS) == ["x" * MAX_WORD_CHARS]
    with pytest.raises(StudioError, match=f"longer than {MAX_WORD_CHARS} characters"):
        normalise_words("gore, " + "x" * (MAX_WORD_CHARS + 1))


def test_normalised_words_match_what_they_were_written_for() -> None:
    words = normalise_words("Gore, Dead  Body")
    assert matched_words("GORE with a dead body", words) == ["gore", "dead body"]
