"""The stylesheet and the site's Open Graph card: fixed files, named in code, never a path
taken from the request."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from importlib import resources

from aiohttp import web
from PIL import Image, ImageDraw

routes = web.RouteTableDef()

_STATIC = {"style.css": "text/css", "editor.js": "text/javascript"}


@cache
def _packaged(name: str) -> bytes:
    return resources.files("web").joinpath("static", name).read_bytes()


@cache
def site_card() -> bytes:
    """The card shown when a page has no image of its own: the site's name on a plain
    ground, drawn once (1200×630, the size link previews expect)."""
    card = Image.new("RGB", (1200, 630), (24, 24, 32))
    draw = ImageDraw.Draw(card)
    draw.text((80, 250), "Atelier", fill=(240, 240, 245), font_size=120)
    draw.text((84, 400), "a community image studio", fill=(170, 170, 190), font_size=44)
    out = io.BytesIO()
    card.save(out, format="PNG")
    return out.getvalue()


def _cached(request: web.Request, body: bytes, content_type: str) -> web.Response:
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=3600"}
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    content_type = _STATIC.get(request.match_info["name"])
    if content_type is None:
        raise web.HTTPNotFound()
    return _cached(request, _packaged(request.match_info["name"]), content_type)


@routes.get("/card.png")
async def card(request: web.Request) -> web.Response:
    return _cached(request, site_card(), "image/png")
