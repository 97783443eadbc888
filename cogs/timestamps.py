"""The one way Atelier shows a moment in Discord."""

from __future__ import annotations

from datetime import datetime


def discord_time(moment: datetime) -> str:
    """Discord's timestamp markup, relative ("in 3 days", "2 hours ago"): every member sees
    it in their own time zone and language, and hovering shows the exact date and time."""
    return f"<t:{int(moment.timestamp())}:R>"
