"""Image files, by a job's public id and the image's number: the PNG exactly as stored, with
its generation data (Discord strips it on upload; this must not)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from db.jobs import list_images
from studio.public_work import public_job
from web.context import CONTEXT

routes = web.RouteTableDef()

#: A job's public id: 32 lowercase hex digits (migration 0009).
PUBLIC_ID = "{public_id:[0-9a-f]{32}}"


def image_path(public_id: str, number: int) -> str:
    """The address of image ``number`` (1-based) of a job."""
    return f"/i/{public_id}/{number}.png"


def inside(images_dir: Path, stored: str) -> Path | None:
    """The stored file, if it is a file inside the data folder's images: a path in the
    database is trusted no further than that."""
    root = images_dir.resolve()
    path = Path(stored).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


async def serve_image(
    request: web.Request, job_id: int, index: int, *, download_name: str
) -> web.FileResponse:
    """Image ``index`` of job ``job_id`` (already found public by the caller) from the data
    folder, as stored; 404 if it is not there."""
    context = request.app[CONTEXT]
    found = [i for i in await list_images(context.db, job_id) if i.index == index]
    path = None if not found else await asyncio.to_thread(inside, context.images_dir, found[0].path)
    if path is None:
        raise web.HTTPNotFound()
    # Revalidated on every use (a 304 when unchanged), so an image taken off the web is
    # gone from every cache's next view.
    headers = {"Cache-Control": "no-cache", "Content-Type": "image/png"}
    if "download" in request.query:
        headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return web.FileResponse(path, headers=headers)


@routes.get(f"/i/{PUBLIC_ID}/{{number:[1-9]}}.png")
async def image(request: web.Request) -> web.FileResponse:
    public_id = request.match_info["public_id"]
    index = int(request.match_info["number"]) - 1
    job = await public_job(request.app[CONTEXT].db, public_id)
    if job is None:
        raise web.HTTPNotFound()
    return await serve_image(
        request, job.id, index, download_name=f"atelier-{public_id[:8]}-{index + 1}.png"
    )
