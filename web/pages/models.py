"""Every registered model and version: kind, status, certification, license, creator, images
made, the campaign behind it (when its server shows its campaigns on the web), a LoRA's
trigger words and weights, the short hash, and the settings its creator recommends."""

from __future__ import annotations

from itertools import groupby

from aiohttp import web

from contests.leaderboards import hidden_members
from funding.campaigns import Campaign, CampaignState, list_campaigns
from registry.versions import ModelVersion, all_versions, images_made
from studio.public_work import galleries
from web.context import CONTEXT
from web.names import PRIVATE_MEMBER, names_of
from web.render import render

routes = web.RouteTableDef()


def details(version: ModelVersion) -> list[tuple[str, str]]:
    """What a member needs to use ``version`` well, as (name, value): for a LoRA its trigger
    words and default weight; the short hash model sites show; the recommended settings
    (steps, sampler, CFG, negative prompt, a LoRA's weight range)."""
    shown = []
    if version.is_lora:
        if version.trigger_words:
            shown.append(("Trigger words", ", ".join(version.trigger_words)))
        shown.append(("Default weight", f"{version.default_weight:g}"))
    if version.short_hash is not None:
        shown.append(("Hash", version.short_hash))
    recommended = version.recommended.lines()
    if recommended:
        shown.append(("Recommended", "; ".join(recommended)))
    return shown


@routes.get("/models")
async def models_page(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    db, now = context.db, context.clock()
    versions = await all_versions(db)
    counts = await images_made(db)
    campaigns: dict[int, Campaign] = {}
    for shown in await galleries(db):
        for campaign in await list_campaigns(db, shown.guild_id, states=tuple(CampaignState)):
            # The live (open or funded) campaign wins over an old failed or cancelled one.
            live = campaign.state in (CampaignState.OPEN, CampaignState.FUNDED)
            if live or campaign.version_id not in campaigns:
                campaigns[campaign.version_id] = campaign
    credited = {v.creator_id for v in versions if v.creator_id is not None}
    # A creator who keeps their results private is named on no page.
    hidden = await hidden_members(db, credited)
    creators = await names_of(db, credited - hidden)
    creators.update(dict.fromkeys(hidden, PRIVATE_MEMBER))
    models = [(name, list(group)) for name, group in groupby(versions, key=lambda v: v.name)]
    return render(
        request,
        "models.html",
        title="Models",
        description=f"{len(models)} models, {len(versions)} versions: status, license, creator.",
        models=models,
        statuses={v.id: v.status_at(now).value.replace("_", " ") for v in versions},
        counts=counts,
        campaigns=campaigns,
        creators=creators,
        details=details,
    )
