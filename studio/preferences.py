"""A user's /prefer suffix and /prefer option macros, applied to what they type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from inference.params import FLAG_NAMES
from studio.errors import StudioError

MAX_OPTIONS = 20
MAX_SUFFIX_CHARS = 300
_OPTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_FIRST_FLAG = re.compile(r"(?<!\S)(?:--|[\u2014\u2013])[A-Za-z]")
_MACRO = re.compile(r"(?<!\S)(?:--|[\u2014\u2013])([A-Za-z0-9][\w-]*)(?!\S)")


def check_option_name(name: str) -> str:
    """The option's name as stored (lowercase, without dashes); StudioError if unusable."""
    name = name.strip().lower().lstrip("-").lstrip("\u2014\u2013")
    if not _OPTION_NAME.match(name):
        raise StudioError(
            "an option name is 1 to 32 letters, digits, `-` or `_`, starting with a letter or "
            "digit, e.g. `portrait`"
        )
    if name in FLAG_NAMES:
        raise StudioError(f"`--{name}` is a built-in parameter; choose another name")
    return name


def check_suffix(suffix: str) -> str:
    suffix = " ".join(suffix.split())
    if len(suffix) > MAX_SUFFIX_CHARS:
        raise StudioError(
            f"the suffix is {len(suffix)} characters; the limit is {MAX_SUFFIX_CHARS}"
        )
    return suffix


@dataclass(frozen=True)
class PreparedPrompt:
    """A prompt with a user's preferences applied, ready for the parser."""

    text: str  # the user's words, then the suffix's words, then the user's flags
    suffix_flags: str  # the suffix's flags: defaults that the prompt's own flags override


def split_flags(text: str) -> tuple[str, str]:
    """``"a cat --ar 2:1 --s 50"`` → ``("a cat", "--ar 2:1 --s 50")``."""
    match = _FIRST_FLAG.search(text)
    if match is None:
        return text.strip(), ""
    return text[: match.start()].strip(), text[match.start() :].strip()


def expand_options(text: str, options: Mapping[str, str]) -> str:
    """Every ``--name`` of the user's options replaced by its flags, once (an option's flags
    are not expanded again, so options cannot loop)."""

    def expand(match: re.Match[str]) -> str:
        flags = options.get(match.group(1).lower())
        return match.group(0) if flags is None else flags

    return _MACRO.sub(expand, text)


def apply_preferences(text: str, *, suffix: str, options: Mapping[str, str]) -> PreparedPrompt:
    """Options expanded in the prompt and in the suffix; the suffix's words join the
    prompt's words (before its flags, where the parser wants text), and the suffix's flags
    become defaults, so ``/prefer suffix --ar 3:2`` never clashes with a prompt's own
    ``--ar 2:1``: the prompt wins."""
    words, flags = split_flags(expand_options(text.strip(), options))
    suffix_words, suffix_flags = split_flags(expand_options(suffix.strip(), options))
    joined = " ".join(part for part in (words, suffix_words, flags) if part)
    return PreparedPrompt(joined, suffix_flags)
