"""``cogs.fitting``: text and embeds that always fit Discord's limits."""

from __future__ import annotations

from pathlib import Path

import discord

from cogs.fitting import (
    EMBED_CHARS,
    FIELD_VALUE_CHARS,
    FIELDS,
    MESSAGE_CHARS,
    REPLY_FILE,
    Embed,
    fit_message,
)


def test_text_that_fits_is_sent_as_it_is() -> None:
    text = "x" * MESSAGE_CHARS
    assert fit_message(text).content == text
    assert fit_message(text).file is None


def test_long_text_keeps_whole_lines_and_comes_complete_in_a_file() -> None:
    lines = [f"line {n:04d} " + "y" * 40 for n in range(100)]
    text = "\n".join(lines)
    fitted = fit_message(text)
    assert len(fitted.content) <= MESSAGE_CHARS
    shown = fitted.content.split("\n")
    assert shown[:-1] == lines[: len(shown) - 1]  # whole lines only
    assert "attached file" in shown[-1]
    assert fitted.file is not None
    assert fitted.file.filename == REPLY_FILE
    assert fitted.file.fp.read().decode() == text


def test_one_enormous_line_is_cut() -> None:
    fitted = fit_message("z" * 10_000)
    assert len(fitted.content) <= MESSAGE_CHARS
    assert fitted.content.startswith("zzz")


def test_an_embed_keeps_to_every_limit_when_sent() -> None:
    embed = Embed(title="t" * 300, description="d" * 5000)
    for n in range(30):
        embed.add_field(name=f"field {n}" + "n" * 300, value="v" * 2000)
    embed.set_footer(text="f" * 3000)
    embed.set_author(name="a" * 300)
    data = embed.to_dict()
    assert len(data["title"]) == 256
    assert data["title"].endswith("…")
    assert len(data.get("description", "")) <= 4096
    fields = data["fields"]
    assert len(fields) <= FIELDS
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= FIELD_VALUE_CHARS for f in fields)
    assert len(data["footer"]["text"]) <= 2048
    assert len(data["author"]["name"]) <= 256
    total = (
        len(data["title"])
        + len(data.get("description", ""))
        + len(data["footer"]["text"])
        + len(data["author"]["name"])
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
    )
    assert total <= EMBED_CHARS
    assert len(embed.fields) == 30  # the embed itself is left as it was built


def test_an_embed_within_limits_is_sent_unchanged() -> None:
    embed = Embed(title="Job #1", description="a fox")
    embed.add_field(name="Seed", value="42")
    assert embed.to_dict() == discord.Embed.to_dict(embed)


def test_every_cog_builds_its_embeds_through_fitting() -> None:
    """One mechanism: an embed built as a plain ``discord.Embed`` would skip the limits."""
    cogs = Path(__file__).parents[2] / "cogs"
    plain = [
        str(path)
        for path in cogs.rglob("*.py")
        if path.name != "fitting.py" and "discord.Embed(" in path.read_text()
    ]
    assert plain == []
