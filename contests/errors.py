"""The errors contest rules raise; their text, with its moments filled in, is shown to the
member."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.errors import UserFacingError


class ContestHint(StrEnum):
    """Where a refused member can look next."""

    CONTESTS = "contests"  # the server's contests
    ENTRIES = "entries"  # a contest's entries, with their ids
    THEMES = "themes"  # the theme queue


class ContestError(UserFacingError):
    """A request the contest rules refuse; the message says why and what would work."""


class ReplaceNeeded(ContestError):
    """Entering would replace the member's entry ``entry_id`` (their oldest entry when they
    have as many as allowed, or the entry that is another form of the same image) and needs
    their confirmation."""

    def __init__(self, message: str, *, entry_id: int, **moments: datetime) -> None:
        super().__init__(message, hint=None, **moments)
        self.entry_id = entry_id
