"""A persistent button pressed before its cog is loaded gets an answer, not a failure."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cogs.handlers import handling_cog


class Response:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bool]] = []

    async def send_message(self, text: str, *, ephemeral: bool) -> None:
        self.sent.append((text, ephemeral))


def _interaction(cogs: dict[str, object]) -> Any:
    return SimpleNamespace(client=SimpleNamespace(get_cog=cogs.get), response=Response())


async def test_a_press_before_the_cog_is_loaded_is_told_to_try_again() -> None:
    interaction = _interaction({})
    assert await handling_cog(interaction, "Contests") is None
    assert interaction.response.sent == [("Atelier is starting up; try again in a moment.", True)]


async def test_a_loaded_cog_handles_the_press_silently() -> None:
    cog = object()
    interaction = _interaction({"Contests": cog})
    assert await handling_cog(interaction, "Contests") is cog
    assert interaction.response.sent == []
