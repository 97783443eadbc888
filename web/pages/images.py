"""Image files, by a job's public id and the image's number: the PNG exactly as stored, with
its generation data (Discord strips it on upload; this must not); and the images a job was
made from (its image prompts, a /blend's images), full size and as small thumbnails."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from core.paths import file_inside
from db.jobs import get_job, list_images
from inference.jobs import ImagePrompt
from studio.input_images import cached_thumbnail
from studio.public_work import public_job
from web.context import CONTEXT

routes = web.RouteTableDef()

#: A job's public id: 32 lowercase hex digits (migration 0009).
PUBLIC_ID = "{public_id:[0-9a-f]{32}}"


def image_path(public_id: str, number: int) -> str:
    """The address of image ``number`` (1-based) of a job."""
    return f"/i/{public_id}/{number}.png"


async def serve_image(
    request: web.Request, job_id: int, index: int, *, download_name: str
) -> web.FileResponse:
    """Image ``index`` of job ``job_id`` (already found public by the caller) from the data
    folder, as stored; 404 if it is not there."""
    context = request.app[CONTEXT]
    found = [i for i in await list_images(context.db, job_id) if i.index == index]
    path = (
        None
        if not found
        else await asyncio.to_thread(file_inside, context.images_dir, found[0].path)
    )
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


def input_path(public_id: str, number: int, *, small: bool = False) -> str:
    """The address of input image ``number`` (1-based) of a job, or of its thumbnail."""
    return f"/i/{public_id}/inputs/{number}{'-small.jpg' if small else '.png'}"


async def _public_input(request: web.Request) -> Path:
    """The stored copy of the input image the address names, if its job is public (the job
    page's own rule) and has that image; 404 otherwise."""
    context = request.app[CONTEXT]
    found = await public_job(context.db, request.match_info["public_id"])
    record = None if found is None else await get_job(context.db, found.id)
    if record is None:
        raise web.HTTPNotFound()
    prompts = [ImagePrompt.from_params(image) for image in record.params.get("image_prompts", [])]
    number = int(request.match_info["number"])
    if number > len(prompts):
        raise web.HTTPNotFound()
    path = await asyncio.to_thread(file_inside, context.inputs_dir, prompts[number - 1].path)
    if path is None:
        raise web.HTTPNotFound()
    return path


@routes.get(f"/i/{PUBLIC_ID}/inputs/{{number:[1-9]}}.png")
async def input_image(request: web.Request) -> web.FileResponse:
    path = await _public_input(request)
    # The studio's checked copy, always a PNG; revalidated like the job's own images.
    return web.FileResponse(
        path, headers={"Cache-Control": "no-cache", "Content-Type": "image/png"}
    )


@routes.get(f"/i/{PUBLIC_ID}/inputs/{{number:[1-9]}}-small.jpg")
async def input_thumbnail(request: web.Request) -> web.Response:
    path = await _public_input(request)
    inputs_dir = request.app[CONTEXT].inputs_dir
    try:
        data = await asyncio.to_thread(cached_thumbnail, inputs_dir, path)
    except (OSError, ValueError):  # not an image, or too large to decode again
        raise web.HTTPNotFound() from None
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "no-cache"})
