"""/info's job list stays within one embed field however many jobs a member has."""

from __future__ import annotations

from cogs.imagine.cog import _within_field


def test_few_jobs_are_all_listed() -> None:
    lines = [f"#{n} waiting, position {n} — a fox" for n in range(1, 4)]
    assert _within_field(lines) == "\n".join(lines)
    assert _within_field([]) == "Nothing queued or running."


def test_many_jobs_end_with_how_many_more() -> None:
    lines = [f"#{n} waiting, position {n}, starts in ~3 min — a long prompt" for n in range(100)]
    text = _within_field(lines)
    assert len(text) <= 1024
    shown = text.splitlines()
    assert shown[0] == lines[0]
    assert shown[-1] == f"… and {100 - (len(shown) - 1)} more"
