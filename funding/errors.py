"""The one error the funding domain raises: its message is meant for the member."""

from __future__ import annotations

from enum import StrEnum

from core.errors import UserFacingError


class FundingHint(StrEnum):
    """Where a refused member can look next."""

    CAMPAIGNS = "campaigns"  # the server's campaigns


class FundingError(UserFacingError):
    """A campaign or pledge request that cannot be carried out; ``str(err)`` says why and
    what would be accepted, in words fit to show the member who asked."""
