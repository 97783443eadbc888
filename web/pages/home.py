"""``/``: recent public work, each server's running contest and open campaigns, and the
way to everything else."""

from __future__ import annotations

from aiohttp import web

from contests.model import ContestState
from contests.store import guild_contests
from funding.campaigns import CampaignState, list_campaigns, progress
from studio.public_work import galleries, recent_public_jobs
from web.context import CONTEXT
from web.names import names_of
from web.pages.images import image_path
from web.render import render

routes = web.RouteTableDef()

RECENT = 12


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    recent = await recent_public_jobs(db, limit=RECENT)
    servers = []
    for gallery in await galleries(db):
        running = [
            c
            for c in await guild_contests(db, gallery.guild_id, limit=3)
            if c.state in (ContestState.SUBMISSIONS, ContestState.VOTING)
        ]
        campaigns = [
            await progress(db, c)
            for c in await list_campaigns(db, gallery.guild_id, states=(CampaignState.OPEN,))
        ]
        servers.append((gallery, running, campaigns))
    return render(
        request,
        "home.html",
        title="Atelier — the community's image studio",
        description="Recent work, contests, campaigns, leaderboards and models.",
        og_image=image_path(recent[0].public_id, 1) if recent else "/card.png",
        recent=recent,
        names=await names_of(db, (job.owner_id for job in recent)),
        servers=servers,
        image_path=image_path,
    )
