"""A member's gallery: their public work, newest first, paged."""

from __future__ import annotations

from aiohttp import web

from studio.public_work import recent_public_jobs
from web.context import CONTEXT
from web.names import names_of
from web.pages.images import image_path
from web.paging import id_in, page_number
from web.render import render

routes = web.RouteTableDef()

PER_PAGE = 24


def member_path(user_id: int) -> str:
    return f"/m/{user_id}"


@routes.get("/m/{user_id:[1-9][0-9]{0,19}}")
async def gallery(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    user_id = id_in(request, "user_id")
    page = page_number(request)
    # One more than a page tells whether there is a next one.
    jobs = await recent_public_jobs(
        db, owner_id=user_id, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE
    )
    if not jobs:  # a private member, an unknown one, or past the last page: all alike
        raise web.HTTPNotFound()
    name = (await names_of(db, [user_id]))[user_id]
    return render(
        request,
        "member.html",
        title=f"{name}'s gallery" + (f" — page {page}" if page > 1 else ""),
        description=f"Work by {name}, newest first.",
        og_image=image_path(jobs[0].public_id, 1),
        name=name,
        user_id=user_id,
        jobs=jobs[:PER_PAGE],
        names={user_id: name},
        page=page,
        more=len(jobs) > PER_PAGE,
        image_path=image_path,
    )
