"""Banned words: a server's list, matched on whole words, case-insensitively."""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import quoted
from db.database import Database
from db.guilds import BlockedPrompt, get_blocked_prompt
from studio.errors import StudioError

MAX_WORD_CHARS = 60


def matched_words(prompt: str, banned: Iterable[str]) -> list[str]:
    """The banned words (or phrases) that occur in ``prompt`` as whole words, in list order.

    "art" does not match "party"; "Gore" matches "gore," and "GORE".
    """
    found = []
    for word in banned:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(part) for part in word.split()) + r"(?!\w)"
        if re.search(pattern, prompt, flags=re.IGNORECASE):
            found.append(word)
    return found


def normalise_words(text: str) -> list[str]:
    """``"Gore, blood ,  Dead Body"`` → ``["gore", "blood", "dead body"]``: comma separated
    entries, lowercased, inner spaces collapsed, duplicates dropped. Raises StudioError for
    an entry that could never match."""
    words: list[str] = []
    for raw in text.split(","):
        word = " ".join(raw.lower().split())
        if not word:
            continue
        if not re.search(r"\w", word):
            raise StudioError(
                f"{quoted(word)} has no letters or digits, so it could never match a word"
            )
        if len(word) > MAX_WORD_CHARS:
            raise StudioError(f"{quoted(word)} is longer than {MAX_WORD_CHARS} characters")
        if word not in words:
            words.append(word)
    if not words:
        raise StudioError("give one or more words, separated by commas, e.g. `gore, blood`")
    return words


async def own_blocked_prompt(db: Database, blocked_id: int, user_id: int) -> BlockedPrompt:
    """The blocked prompt ``user_id`` may appeal. Another member's and one that is not on
    record get the same refusal, so a forged appeal learns nothing about either."""
    blocked = await get_blocked_prompt(db, blocked_id)
    if blocked is None or blocked.user_id != user_id:
        raise StudioError(
            "Only the person whose prompt was blocked can appeal it, while it is on record."
        )
    return blocked
