"""Who may see a job in Discord: one rule for every place there that shows one (a button,
``/show``, the Info embed). The web studio's rule (``studio.public_work``) is stricter —
its pages have no viewer and no server, so a job is there only when public to everyone.

Job numbers are global across servers and appear in every button's custom_id, so anyone
can name any job; what a job reveals (its prompt, seed, model and images) is shown only
to someone this rule lets see it:

* its owner, anywhere;
* anyone else only if the owner lets their results be public (``/settings``), and only in
  the server the job was made in — not in another server, not in a DM, not for a job
  made in a DM or from the command line.
"""

from __future__ import annotations

from db.database import Database
from db.job_messages import get_job_message
from db.jobs import JobRecord
from db.users import get_user_settings
from studio.errors import StudioError


class JobNotVisibleError(StudioError):
    """The job does not exist, or the asker may not see it here: one answer for both, so
    a forged number tells nothing about whose jobs exist where."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            f"there is no job #{job_id} you can see here (jobs are shown only in the server "
            "they were made in, and never when their owner keeps results private)"
        )


async def can_see(db: Database, job: JobRecord, viewer_id: int, guild_id: int | None) -> bool:
    """Whether ``viewer_id``, asking in ``guild_id`` (None: a DM), may see ``job``."""
    if job.owner_id == viewer_id:
        return True
    if guild_id is None or not (await get_user_settings(db, job.owner_id)).public:
        return False
    place = await get_job_message(db, job.id)
    return place is not None and place.guild_id == guild_id


async def check_visible(
    db: Database, job: JobRecord | None, job_id: int, viewer_id: int, guild_id: int | None
) -> JobRecord:
    """``job`` (the record of ``job_id``, None if there is none) if ``viewer_id`` may see
    it in ``guild_id``; JobNotVisibleError otherwise."""
    if job is None or not await can_see(db, job, viewer_id, guild_id):
        raise JobNotVisibleError(job_id)
    return job
