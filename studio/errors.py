"""The one error type the studio raises: its message is for the user who caused it."""

from core.errors import UserFacingError


class StudioError(UserFacingError):
    """Something the user asked cannot be done; ``str(error)`` says why and what would work."""
