"""The web studio's aiohttp application: its pages, the security headers every response
carries, and one "not found" page for everything that is missing or not public."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from web.context import CONTEXT, WebContext
from web.pages import PAGES
from web.render import TEMPLATES, environment, render

#: Nothing but this site's own images and stylesheet; no scripts at all, no framing. A page
#: that needs more (the region editor's script) sets its own policy, which is kept.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(_SECURITY_HEADERS)
        raise
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def not_found_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every 404 is this one page, so a job that is not public answers exactly like one
    that never existed."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render(
            request,
            "not_found.html",
            status=404,
            canonical="/",  # the address asked for is not repeated: every 404 is the same
            title="Not found",
            description="There is nothing to see at this address.",
        )


def create_web_app(
    context: WebContext,
    *,
    routes: Iterable[web.AbstractRouteDef] = (),
    middlewares: Iterable[Middleware] = (),
) -> web.Application:
    """The studio's pages, plus the caller's ``routes`` (e.g. health and metrics) and
    ``middlewares`` (outermost first: they see every request, 404s included)."""
    app = web.Application(middlewares=[*middlewares, security_headers, not_found_page])
    app[CONTEXT] = context
    app[TEMPLATES] = environment()
    for page in PAGES:
        app.add_routes(page)
    app.add_routes(list(routes))
    return app
