"""Domain code speaks in plain values: no Discord markup in the text it hands out.

Timestamps (``<t:…>``), mentions (``<@…>``, ``<#…>``, ``<@&…>``) and slash-command names
belong to the cogs, which format the datetimes, ids and amounts the domain returns (so the
CLI and logs can show the same refusal in plain UTC). These tests read the string literals
of the domain packages (docstrings excepted: they may explain a command) and fail on any
that slips back in.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Packages whose text members may read; none of them knows about Discord.
DOMAIN = ("contests", "funding", "studio", "registry", "inference", "db", "intake")
#: Packages that once formatted times themselves; ``core.errors.plain_time`` is the one place.
NO_OWN_TIME_FORMAT = ("contests", "funding", "studio", "registry")

DISCORD_MARKUP = re.compile(r"<t:|<@|<#")
#: ``/imagine``, ``/campaign list``, `` `/pledge` ``: a slash that starts a word.
SLASH_COMMAND = re.compile(r"(?:^|[\s`(“\"'])/[a-z][a-z-]*\b")


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """Each string literal of ``path`` but its docstrings (f-strings piece by piece)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def _sources(packages: tuple[str, ...]) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def _found(packages: tuple[str, ...], pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in _sources(packages)
        for line, text in _strings(path)
        if pattern.search(text)
    ]


def test_the_scan_reads_every_domain_package() -> None:
    for package in DOMAIN:
        assert _sources((package,)), f"{package}/ has no Python files: was it moved?"


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("opens <t:1796384611:R>", True),
        ("by <@1234>", True),
        ("in <#1234>", True),
        ("role <@&1234>", True),
        ("nothing to see", False),
    ],
)
def test_the_markup_pattern(text: str, flagged: bool) -> None:
    assert bool(DISCORD_MARKUP.search(text)) is flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("; /contest list shows them.", True),
        ("; `/campaign list` shows them.", True),
        ("/imagine … --model x", True),
        ("(moderators: /contest theme add)", True),
        ("a folder org/model or models/tiny", False),
        ("https://example.com/x", False),
        ("1/2 of the goal, 3 / 4", False),
    ],
)
def test_the_command_pattern(text: str, flagged: bool) -> None:
    assert bool(SLASH_COMMAND.search(text)) is flagged


def test_domain_text_has_no_discord_markup() -> None:
    assert _found(DOMAIN, DISCORD_MARKUP) == []


def test_domain_text_names_no_slash_commands() -> None:
    assert _found(DOMAIN, SLASH_COMMAND) == []


def test_domain_code_formats_no_times_itself() -> None:
    """Moments stay datetimes; Discord shows them with ``cogs.timestamps.discord_time``,
    plain text with ``core.errors.plain_time``."""
    calls = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _sources(NO_OWN_TIME_FORMAT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "strftime"
    ]
    assert calls == []
