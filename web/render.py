"""Pages from Jinja2 templates (autoescaped: every text a member wrote is shown as text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from web.context import CONTEXT
from web.inputs import listed_title

TEMPLATES = web.AppKey("templates", jinja2.Environment)


def environment() -> jinja2.Environment:
    """The templates packaged in ``web/templates``. Autoescape is on for every template, so
    ``<script>`` in a prompt is shown, not run; a missing value is an error, not blank."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["listed_title"] = listed_title
    return env


def when(moment: datetime) -> str:
    """``2026-12-02 13:05 UTC``: the web has no member time zones (Discord shows local
    times; a page says UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def base_url(request: web.Request) -> str:
    """The address members reach the studio at: ``ATELIER_PUBLIC_URL``, or else the address
    the server listens on (``ATELIER_WEB_HOST``/``ATELIER_WEB_PORT``, as bound). Never the
    request's Host header: a client chooses that, and cards and links must not carry it."""
    configured = request.app[CONTEXT].public_url
    if configured is not None:
        return configured
    transport = request.transport
    listening = None if transport is None else transport.get_extra_info("sockname")
    if not listening:
        raise web.HTTPServiceUnavailable(text="the connection closed")
    host, port = str(listening[0]), int(listening[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def render(
    request: web.Request, template: str, *, status: int = 200, **values: Any
) -> web.Response:
    """The page as HTML. ``values`` must give ``title`` and ``description`` (the Open Graph
    card's text) and may give ``og_image`` (a path; the card falls back to the site's) and
    ``canonical`` (the page's own path, when it is not the request's)."""
    base = base_url(request)
    values.setdefault("og_image", "/card.png")
    path = values.pop("canonical", request.path_qs)
    page = request.app[TEMPLATES].get_template(template)
    html = page.render(base=base, url=f"{base}{path}", **values)
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
