"""Links from Discord messages to the web studio's pages.

Only with ``ATELIER_PUBLIC_URL`` set, and only to a page that is there: a job that is
public on the web (``studio.public_work``), a contest, campaign or board of a server whose
gallery is on. Otherwise every function answers None and the message stays as it was
without the web studio.
"""

from __future__ import annotations

from cogs.resources import Resources
from studio.public_work import gallery, public_ids


async def job_page(resources: Resources, job_id: int) -> str | None:
    base = resources.settings.public_url
    if base is None:
        return None
    public_id = (await public_ids(resources.db, [job_id])).get(job_id)
    return None if public_id is None else f"{base}/j/{public_id}"


async def server_page(resources: Resources, guild_id: int | None, path: str) -> str | None:
    """``path`` (e.g. ``/contests/3``) on the web, if the server ``guild_id`` shows its
    pages there."""
    base = resources.settings.public_url
    if base is None or guild_id is None or await gallery(resources.db, guild_id) is None:
        return None
    return f"{base}{path}"
