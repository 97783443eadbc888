"""Links from Discord messages to the web studio's pages.

Only with ``ATELIER_PUBLIC_URL`` set (``public_url``), and only to a page that is there: a
job that is public on the web (``studio.public_work``), a member's gallery with public work
in it, a contest, campaign or board of a server whose gallery is on. Otherwise every
function answers None and the message stays as it was without the web studio.
"""

from __future__ import annotations

from db.database import Database
from studio.editor_links import EditorLink
from studio.public_work import gallery, public_ids, recent_public_jobs


async def job_page(db: Database, public_url: str | None, job_id: int) -> str | None:
    if public_url is None:
        return None
    public_id = (await public_ids(db, [job_id])).get(job_id)
    return None if public_id is None else f"{public_url}/j/{public_id}"


def editor_page(public_url: str, link: EditorLink) -> str:
    """The region editor of the link's image, for the link's member (``web.pages.editor``)."""
    return f"{public_url}/edit/{link.job_id}?{link.query}"


async def member_page(db: Database, public_url: str | None, user_id: int) -> str | None:
    if public_url is None or not await recent_public_jobs(db, owner_id=user_id, limit=1):
        return None
    return f"{public_url}/m/{user_id}"


async def server_page(
    db: Database, public_url: str | None, guild_id: int | None, path: str
) -> str | None:
    """``path`` (e.g. ``/contests/3``) on the web, if the server ``guild_id`` shows its
    pages there."""
    if public_url is None or guild_id is None or await gallery(db, guild_id) is None:
        return None
    return f"{public_url}{path}"
