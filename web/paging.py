"""The ``?page=N`` of paged lists."""

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
