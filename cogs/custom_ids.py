"""What a custom_id may name, and the one answer to a button or form Atelier cannot use.

Atelier's custom_ids carry only ids (``atelier:u:42:0``, ``contest:vote:7``), read back
when a button is pressed or a form submitted. Discord hands back whatever the message holds,
so a stale message from an older version, or a forged one, may carry anything: a number
beyond what SQLite stores (2⁶³ − 1: binding it raises ``OverflowError``), a prefix nothing
handles, junk. Each gets the same ephemeral answer, through ``handle_error``, and touches
nothing: ``check_custom_id`` for those a handler claims, ``claimed`` for the listener that
answers the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import discord

from core.errors import UserFacingError

#: The largest integer SQLite stores, so the largest row id any custom_id may name.
MAX_ROW_ID = 2**63 - 1

_NUMBER = re.compile(r"[0-9]+")


class StaleCustomId(UserFacingError):
    """A button or form whose custom_id Atelier cannot act on: malformed, out of range, or
    handled by nothing (it may come from an older version, or have been forged)."""

    def __init__(self) -> None:
        super().__init__(
            "This button or form is not one Atelier can use (it may come from an older "
            "version, or what it named is gone); nothing was changed. Use `/show` with a "
            "job's number, or run the command again, to get working buttons."
        )


def custom_id_of(interaction: discord.Interaction[Any]) -> str:
    """The custom_id of the pressed component or submitted form ("" for anything else)."""
    data: Mapping[str, Any] = interaction.data or {}
    return str(data.get("custom_id", ""))


def check_custom_id(custom_id: str) -> None:
    """Raise ``StaleCustomId`` if any number in ``custom_id`` is beyond SQLite's range."""
    for number in _NUMBER.findall(custom_id):
        if len(number.lstrip("0")) > len(str(MAX_ROW_ID)) or int(number) > MAX_ROW_ID:
            raise StaleCustomId


def claimed(
    client: discord.Client, interaction: discord.Interaction[Any], prefixes: Iterable[str]
) -> bool:
    """Whether something answers this component press or form submission: one of the
    client's ``DynamicItem`` templates, a view or modal it holds (discord.py's own lookups,
    repeated), or a handler of its own for custom_ids starting with one of ``prefixes``."""
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = custom_id_of(interaction)
    if custom_id.startswith(tuple(prefixes)):
        return True
    store = client._connection._view_store
    if interaction.type is discord.InteractionType.modal_submit:
        return custom_id in store._modals
    if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
        return True
    key = (int(data.get("component_type", 0)), custom_id)
    message_id = interaction.message.id if interaction.message is not None else None
    return any(key in store._views.get(entity, {}) for entity in (message_id, None))
