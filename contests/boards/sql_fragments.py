"""SQL pieces the leaderboards share (``contests.leaderboards`` and ``contests.boards``)."""

from __future__ import annotations

#: Members who chose to hide their results from public listings.
HIDDEN_MEMBERS = "SELECT user_id FROM user_settings WHERE public = 0"

#: CTEs giving the origin of each liked image, for a ``WITH RECURSIVE`` query that defines
#: ``liked (job_id, idx)`` before it. ``walk`` goes up the parent links while the job is an
#: upscale, carrying the index of the parent image each step enlarged (``parent_index``);
#: UNION drops repeats, so even a corrupted cycle ends. The row reached that is not an
#: upscale, or has no parent, is the origin (the rule of ``contests.provenance``).
#: ``origins`` gives each liked (job_id, idx) its origin image (origin_id, origin_idx), the
#: origin's owner (the image's creator) and when the origin was made. The query binds
#: ``:upscale`` to ``JobKind.UPSCALE.value``.
ORIGINS = """
walk (job_id, idx, at_id, at_idx) AS (
    SELECT job_id, idx, job_id, idx FROM liked
    UNION
    SELECT w.job_id, w.idx, p.parent_job_id, p.parent_index
    FROM walk w JOIN jobs p ON p.id = w.at_id
    WHERE p.kind = :upscale AND p.parent_job_id IS NOT NULL
),
origins (job_id, idx, origin_id, origin_idx, owner_id, made_at) AS (
    SELECT w.job_id, w.idx, o.id, w.at_idx, o.owner_id, coalesce(o.finished_at, o.created_at)
    FROM walk w JOIN jobs o ON o.id = w.at_id
    WHERE o.kind != :upscale OR o.parent_job_id IS NULL
)
"""

#: What the models board credits a job's images and wins to, as (column, join): its
#: checkpoint's version key (``jobs.model``), and each LoRA version it ran with
#: (``job_loras``, unique per job and version).
CREDITS = (
    ("j.model", ""),
    ("l.version_key", " JOIN job_loras l ON l.job_id = j.id"),
)
