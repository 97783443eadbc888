"""SQL pieces the leaderboards share (``contests.leaderboards`` and ``contests.boards``)."""

from __future__ import annotations

#: Members who chose to hide their results from public listings.
HIDDEN_MEMBERS = "SELECT user_id FROM user_settings WHERE public = 0"

#: What the models board credits a job's images and wins to, as (column, join): its
#: checkpoint's version key (``jobs.model``), and each LoRA version it ran with
#: (``job_loras``, unique per job and version).
CREDITS = (
    ("j.model", ""),
    ("l.version_key", " JOIN job_loras l ON l.job_id = j.id"),
)
