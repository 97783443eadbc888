"""Numbers in addresses: the ``?page=N`` of paged lists and the ids in paths."""

from __future__ import annotations

from aiohttp import web

#: Far beyond any real gallery; keeps OFFSET (and the database's work) bounded.
MAX_PAGE = 10_000


def page_number(request: web.Request) -> int:
    """The page asked for, 1 when none; anything else than 1…MAX_PAGE is not a page."""
    raw = request.query.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise web.HTTPNotFound()
    return int(raw)


#: SQLite integers (and Discord ids) are below 2⁶³; a bigger number in an address names
#: nothing (and must not reach SQLite, which would refuse it).
_ID_LIMIT = 2**63


def id_in(request: web.Request, name: str) -> int:
    """The id matched as ``name`` in the address (digits, by the route); 404 if too big."""
    value = int(request.match_info[name])
    if value >= _ID_LIMIT:
        raise web.HTTPNotFound()
    return value
