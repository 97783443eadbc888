"""The web studio over a real socket on 127.0.0.1, and public work to show on it: finished
jobs with real PNG files (with generation data) posted in a server whose gallery is on."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

from contests import lifecycle
from contests.entries import submit_entry
from contests.voting import press_vote
from db.database import Database
from db.guilds import set_gallery
from db.jobs import (
    ImageRecord,
    JobKind,
    JobStatus,
    insert_images,
    insert_job,
    mark_finished,
    mark_running,
)
from db.users import remember_name
from inference.jobs import GenerationJob, LoraUse
from inference.params import ImagineRequest, PromptPart
from studio.region_editing import RegionEditor
from tests.helpers.clock import T0, FakeClock
from web.app import create_web_app
from web.context import WebContext
from web.server import WebServer

GALLERY_GUILD = 5000
CLOSED_GUILD = 5001
ALICE, BOB = 31, 32


@dataclass
class Site:
    """A running web studio and a client session to it."""

    server: WebServer
    session: aiohttp.ClientSession

    async def get(self, path: str, **kwargs: object) -> tuple[int, str]:
        async with self.session.get(self.server.url + path, **kwargs) as response:  # type: ignore[arg-type]
            return response.status, await response.text()

    async def get_bytes(self, path: str) -> tuple[int, bytes, aiohttp.typedefs.LooseHeaders]:
        async with self.session.get(self.server.url + path) as response:
            return response.status, await response.read(), response.headers


@contextlib.asynccontextmanager
async def running_site(
    db: Database,
    images_dir: Path,
    clock: FakeClock,
    public_url: str | None = None,
    region_editor: RegionEditor | None = None,
    port: int = 0,
) -> AsyncIterator[Site]:
    server = WebServer(
        create_web_app(WebContext(db, images_dir, clock, public_url, region_editor)),
        host="127.0.0.1",
        port=port,
    )
    await server.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
            yield Site(server, session)
    finally:
        await server.stop()


def png_bytes(seed: int, parameters: str, size: int = 64) -> bytes:
    """A small PNG with an A1111 ``parameters`` text chunk, as the engine writes them."""
    ground = Image.radial_gradient("L").resize((size, size))
    image = ImageOps.colorize(
        ground, black=((seed * 37) % 256, (seed * 91) % 256, 120), white=(250, 240, 220)
    )
    info = PngInfo()
    info.add_text("parameters", parameters)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


async def shown_job(
    db: Database,
    images_dir: Path,
    owner: int = ALICE,
    *,
    guild: int | None = GALLERY_GUILD,
    prompt: str = "a lighthouse at dusk",
    negative: str = "fog",
    kind: JobKind = JobKind.IMAGINE,
    images: int = 4,
    parent: tuple[int, int] | None = None,
    at_minutes: int = 0,
    size: int = 64,
    loras: tuple[LoraUse, ...] = (),
    **request_fields: object,
) -> int:
    """A finished job of ``owner`` with ``images`` real PNG files, posted in ``guild`` (None:
    made from the command line), its parameters stored as the engine stores them;
    ``request_fields`` set more of the request (``guidance``, ``recommended``...)."""
    at = T0 + timedelta(minutes=at_minutes)
    seed = 1234 + at_minutes
    request = ImagineRequest(
        prompt=prompt,
        parts=(PromptPart(prompt, 1.0),),
        negative_prompt=negative,
        seed=seed,
        stylize=250,
        **request_fields,  # type: ignore[arg-type]
    )
    params = GenerationJob(
        kind=kind,
        request=request,
        model="tiny:1",
        seed=seed,
        width=size,
        height=size,
        steps=4,
        sampler="euler_a",
        num_images=images,
        loras=loras,
    ).to_params()
    async with db.transaction() as conn:
        job_id = await insert_job(
            conn,
            kind=kind,
            owner_id=owner,
            prompt=prompt,
            params=params,
            model="tiny:1",
            created_at=at,
            parent_job_id=None if parent is None else parent[0],
            parent_index=None if parent is None else parent[1],
        )
        if guild is not None:
            await conn.execute(
                "INSERT INTO job_messages (job_id, guild_id, channel_id, message_id)"
                " VALUES (?, ?, 1, ?)",
                (job_id, guild, job_id),
            )
        await mark_running(conn, job_id, device="cpu", started_at=at)
        await mark_finished(
            conn,
            job_id,
            status=JobStatus.DONE,
            finished_at=at + timedelta(seconds=5),
            gpu_seconds=1,
        )
        records = []
        for index in range(images):
            path = images_dir / str(job_id) / f"{job_id}-{index + 1}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = f"{prompt}\nNegative prompt: {negative}\nSteps: 4, Seed: {seed + index}"
            path.write_bytes(png_bytes(seed + index, text, size))
            records.append(ImageRecord(job_id, index, str(path), seed + index, size, size))
        await insert_images(conn, records)
    return job_id


async def open_gallery(
    db: Database, guild: int = GALLERY_GUILD, name: str = "Lighthouse Club"
) -> None:
    await set_gallery(db, guild, True, name=name)


async def name_members(db: Database) -> None:
    await remember_name(db, ALICE, "Alice", T0)
    await remember_name(db, BOB, "Bob", T0)


async def public_id_of(db: Database, job_id: int) -> str:
    row = await db.fetchone("SELECT public_id FROM jobs WHERE id = ?", (job_id,))
    assert row is not None
    return str(row[0])


_interactions = itertools.count(90_000)


async def contest_with_entries(
    db: Database, images_dir: Path, clock: FakeClock, votes: dict[int, list[int]]
) -> tuple[int, dict[int, int]]:
    """A contest in the gallery's server with one public entry per member in ``votes``,
    brought to voting; returns its id and entrant → entry id. ``votes[entrant]`` are the
    voters of that entrant's entry, cast by :func:`vote_and_close`."""
    contest = await lifecycle.open_contest(
        db,
        guild_id=GALLERY_GUILD,
        channel_id=1,
        theme="foxes in snow",
        submit_days=2,
        vote_days=2,
        opened_by=1,
        now=clock.now,
    )
    entries: dict[int, int] = {}
    for minute, entrant in enumerate(votes, start=1):
        opened = int((clock.now - T0).total_seconds() // 60)
        job = await shown_job(db, images_dir, entrant, at_minutes=opened + minute)
        entered = await submit_entry(
            db,
            guild_id=GALLERY_GUILD,
            user_id=entrant,
            job_id=job,
            image_index=0,
            member_since=T0 - timedelta(days=365),
            now=clock.advance(hours=1),
            interaction_id=next(_interactions),
        )
        entries[entrant] = entered.entry.id
    await lifecycle.advance(db, clock.advance(days=2))
    return contest.id, entries


async def vote_and_close(
    db: Database, clock: FakeClock, votes: dict[int, list[int]], entries: dict[int, int]
) -> None:
    for entrant, voters in votes.items():
        for voter in voters:
            await press_vote(
                db,
                entry_id=entries[entrant],
                voter_id=voter,
                interaction_id=next(_interactions),
                member_since=T0 - timedelta(days=365),
                now=clock.advance(minutes=1),
            )
    await lifecycle.advance(db, clock.advance(days=2))
