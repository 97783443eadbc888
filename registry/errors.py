"""The one error the model registry raises: its message is meant for the member."""

from __future__ import annotations

from enum import StrEnum

from core.errors import UserFacingError


class RegistryHint(StrEnum):
    """What a refused moderator can do instead."""

    EDIT = "edit"  # change a version's fields
    ADD = "add"  # register a new version


class RegistryError(UserFacingError):
    """A model or version that cannot be found, used, added or changed; the text says why
    and what would be accepted."""
