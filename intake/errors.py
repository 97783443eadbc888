"""The refusal of an image a member gave."""

from __future__ import annotations

from core.errors import UserFacingError


class ImageRefused(UserFacingError):
    """An image URL or file that intake will not take; the text (one line) names the URL or
    file, what is wrong with it and what would be accepted."""
