"""The errors contest rules raise; their text is shown to the member as it is."""

from __future__ import annotations

from core.errors import UserFacingError


class ContestError(UserFacingError):
    """A request the contest rules refuse; ``str(error)`` says why and what would work."""


class ReplaceNeeded(ContestError):
    """Entering would replace the member's entry ``entry_id`` (their oldest entry when they
    have as many as allowed, or the entry that is another form of the same image) and needs
    their confirmation."""

    def __init__(self, message: str, *, entry_id: int) -> None:
        super().__init__(message)
        self.entry_id = entry_id
