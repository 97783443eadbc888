"""SQL pieces the leaderboards share (``contests.leaderboards`` and ``contests.boards``)."""

from __future__ import annotations

#: Members who chose to hide their results from public listings.
HIDDEN_MEMBERS = "SELECT user_id FROM user_settings WHERE public = 0"
