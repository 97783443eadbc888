"""Vary (Region)'s web editor over a real Studio (worker pool on the tiny model): a site
whose public address is its own (so the editor's origin check passes for its own pages),
an upscaled image of Alice's to rework, and masks to send."""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from PIL import Image, ImageDraw

from db.database import Database
from db.jobs import JobKind, get_job
from inference.jobs import GenerationJob
from inference.pool.handle import JobHandle
from registry.configured import configured_models
from studio.editor_links import EditorLink, EditorLinks
from studio.models import RegisteredModels
from studio.region_editing import RegionEditor
from tests.helpers.clock import FakeClock
from tests.helpers.pool import PoolMaker, Script
from tests.helpers.studio import StudioMaker
from tests.helpers.web import ALICE, Site, running_site, shown_job

SECRET = b"the-test-secret-of-32-bytes-long"
#: The upscaled image's side: the grid's 64 px, upscaled 2×.
SIDE = 128
PROMPT = "a lighthouse at dusk"


@dataclass
class EditorSite:
    site: Site
    public_url: str
    links: EditorLinks
    editor: RegionEditor
    #: The jobs the editor queued, as the bot would be told of them.
    followed: list[JobHandle] = field(default_factory=list)

    def url(self, link: EditorLink) -> str:
        return f"{self.public_url}{path(link)}"

    async def submit(
        self,
        link: EditorLink,
        mask: bytes,
        *,
        prompt: str = PROMPT,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, object]]:
        """POST the editor's form as its page does (multipart, from the site's origin)."""
        form = aiohttp.FormData()
        form.add_field("mask", mask, filename="mask.png", content_type="image/png")
        form.add_field("prompt", prompt)
        form.add_field("token", self.links.form_token(link) if token is None else token)
        sent = {"Origin": self.public_url} if headers is None else headers
        async with self.site.session.post(self.url(link), data=form, headers=sent) as response:
            return response.status, await response.json()


def path(link: EditorLink) -> str:
    """The editor page of ``link`` on the site."""
    return f"/edit/{link.job_id}?{link.query}"


def free_port() -> int:
    """A port nothing listens on now (the site then listens there, so its public address,
    which the editor checks requests against, is known before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def editor_site(
    db: Database, images_dir: Path, clock: FakeClock, model_dir: Path
) -> AsyncIterator[EditorSite]:
    configured = configured_models({"tiny": str(model_dir)}, "tiny")
    models = RegisteredModels(db, configured.default)
    pools = PoolMaker(db=db, models=models, images_dir=images_dir, script=Script(), clock=clock)
    studio = await StudioMaker(pools, models, configured)()
    links = EditorLinks(SECRET, lifetime=timedelta(minutes=30), clock=clock)
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    editor = RegionEditor(studio, links, public_url)
    try:
        async with running_site(db, images_dir, clock, public_url, editor, port) as site:
            running = EditorSite(site, public_url, links, editor)
            editor.follow_with(running.followed.append)
            yield running
    finally:
        for pool in pools.pools:
            await pool.shutdown(grace_seconds=5)


async def upscaled_image(db: Database, images_dir: Path, owner: int = ALICE) -> int:
    """An upscale (one 128-px image) of a grid, shown in Discord; its job id."""
    grid = await shown_job(db, images_dir, owner, prompt=PROMPT)
    return await shown_job(
        db,
        images_dir,
        owner,
        prompt=PROMPT,
        kind=JobKind.UPSCALE,
        images=1,
        parent=(grid, 0),
        at_minutes=1,
        size=SIDE,
    )


def mask_png(*boxes: tuple[int, int, int, int], size: tuple[int, int] = (SIDE, SIDE)) -> bytes:
    """A mask with ``boxes`` (left, top, right, bottom, inclusive) marked."""
    image = Image.new("L", size, 0)
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle(box, fill=255)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def stored_mask(db: Database, job_id: int) -> Image.Image:
    """The mask stored with region job ``job_id``, as the engine reads it."""
    record = await get_job(db, job_id)
    assert record is not None
    rework = GenerationJob.from_params(record.params).rework
    assert rework is not None
    assert rework.mask is not None
    with Image.open(rework.mask) as mask:
        return mask.convert("L")
