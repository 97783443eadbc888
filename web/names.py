"""Members' names on the pages: the name the bot last saw them use (the web cannot ask
Discord), and the words for a member who keeps their results private."""

from __future__ import annotations

from collections.abc import Iterable

from db.database import Database
from db.users import member_names

#: As in Discord's hall of fame and results.
PRIVATE_MEMBER = "a member who keeps their results private"


async def names_of(db: Database, user_ids: Iterable[int]) -> dict[int, str]:
    """A name for each of ``user_ids``: remembered, or "member <id>" for one the bot has
    not seen since names were recorded."""
    wanted = list(set(user_ids))
    found = await member_names(db, wanted)
    return {user_id: found.get(user_id, f"member {user_id}") for user_id in wanted}
