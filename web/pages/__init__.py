"""The pages, one small module each; every module's ``routes`` is added to the app."""

from __future__ import annotations

from aiohttp import web

from web.pages import (
    boards,
    campaigns,
    contests,
    editor,
    home,
    images,
    jobs,
    members,
    models,
    static,
)

PAGES: tuple[web.RouteTableDef, ...] = (
    static.routes,
    home.routes,
    jobs.routes,
    images.routes,
    members.routes,
    contests.routes,
    campaigns.routes,
    boards.routes,
    models.routes,
    editor.routes,
)
