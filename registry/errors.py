"""The one error the model registry raises: its message is meant for the member."""

from __future__ import annotations

from core.errors import UserFacingError


class RegistryError(UserFacingError):
    """A model or version that cannot be found, used, added or changed; the text says why
    and what would be accepted."""
