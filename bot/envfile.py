"""The operator's ``.env`` file and ``ATELIER_*`` names, checked before settings are read.

pydantic-settings reads ``.env`` through python-dotenv, which skips a line it cannot parse
with a warning that names no file, fails with a traceback on a file that is not UTF-8, and
ignores a misspelt name (``ATELIER_MODLE``) without a word. These checks come first, so
each of those mistakes is one line naming the file (or the environment), the line or the
name, and what would be accepted.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv.parser import parse_stream

ENV_FILE = Path(".env")


def env_file_problems(path: Path = ENV_FILE) -> list[str]:
    """One line per line of ``path`` that cannot be read (none if the file is absent).

    A line's text is never repeated: it may hold the Discord token."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [f"{path} line {line} is not UTF-8 text; save the file as UTF-8"]
    return [
        f"{path} line {binding.original.line} is not NAME=value (e.g. ATELIER_DEVICES=cpu); "
        "fix or delete it, or start it with # to make it a comment"
        for binding in parse_stream(io.StringIO(text))
        if binding.error
    ]


def env_file_names(path: Path = ENV_FILE) -> list[str]:
    """The names ``path`` sets (call after :func:`env_file_problems` found none)."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    return [binding.key for binding in parse_stream(io.StringIO(text)) if binding.key]


def unknown_names(
    found: Mapping[str, Iterable[str]], prefix: str, known: Iterable[str]
) -> list[str]:
    """One line per name with ``prefix`` (any case, as settings read them) that is not a
    known setting, with the nearest known name; ``found`` maps where the names were found
    (".env", "environment") to the names."""
    prefix = prefix.upper()
    # Compared without the prefix, which every name shares and would make all look alike.
    known_tails = {name.upper().removeprefix(prefix) for name in known}
    problems = []
    for where, names in found.items():
        for name in sorted(set(names)):
            upper = name.upper()
            if not upper.startswith(prefix) or upper.removeprefix(prefix) in known_tails:
                continue
            nearest = difflib.get_close_matches(upper.removeprefix(prefix), known_tails, n=1)
            hint = (
                f"did you mean {prefix}{nearest[0]}?" if nearest else "see README.md, Configuration"
            )
            problems.append(f"{where}: {name} is not a setting; {hint}")
    return problems
