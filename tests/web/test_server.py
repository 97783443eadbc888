"""The web server: it listens where it is told, says clearly when it cannot, and takes the
caller's extra routes and middlewares."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from db.database import Database
from tests.helpers.clock import FakeClock
from tests.helpers.web import Site
from web.app import create_web_app
from web.context import WebContext
from web.server import WebListenError, WebServer


async def test_an_address_in_use_is_named_with_the_settings(
    db: Database, images_dir: Path, clock: FakeClock, site: Site
) -> None:
    taken = WebServer(
        create_web_app(WebContext(db, images_dir, clock)), host="127.0.0.1", port=site.server.port
    )
    with pytest.raises(WebListenError, match=r"127\.0\.0\.1:\d+ \(ATELIER_WEB_HOST"):
        await taken.start()


async def test_extra_routes_and_middlewares_are_served(
    db: Database, images_dir: Path, clock: FakeClock
) -> None:
    seen: list[str] = []

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        seen.append(request.path)
        return await handler(request)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    server = WebServer(
        create_web_app(
            WebContext(db, images_dir, clock),
            routes=[web.get("/healthz", health)],
            middlewares=[count],
        ),
        host="127.0.0.1",
        port=0,
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/healthz") as response:
                assert await response.text() == "ok"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
            async with session.get(server.url + "/nothing-here") as response:
                assert response.status == 404
    finally:
        await server.stop()
    assert seen == ["/healthz", "/nothing-here"]
