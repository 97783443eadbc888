"""A user's /prefer suffix and /prefer option macros, applied to what they type."""

from __future__ import annotations

import re
from collections.abc import Mapping

from inference.params import FLAG_NAMES
from studio.errors import StudioError

MAX_OPTIONS = 20
MAX_SUFFIX_CHARS = 300
_OPTION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
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


def apply_preferences(text: str, *, suffix: str, options: Mapping[str, str]) -> str:
    """The prompt as the parser should see it: the suffix appended, then every ``--name`` of
    the user's options replaced by its flags (once: an option's flags are not expanded
    again, so options cannot loop)."""
    full = f"{text.strip()} {suffix}".strip() if suffix else text.strip()

    def expand(match: re.Match[str]) -> str:
        flags = options.get(match.group(1).lower())
        return match.group(0) if flags is None else flags

    return _MACRO.sub(expand, full)
