"""Campaign pages: goal, pledged total and progress bar, deadline, status, and the backers
who chose to be named, by name only; anonymous backers are counted, never named. No
backer's amount is shown: beside the total, the named amounts would give away the
anonymous ones'."""

from __future__ import annotations

from aiohttp import web

from contests.leaderboards import hidden_members
from funding.backers import campaign_backers
from funding.campaigns import CampaignState, get_campaign, list_campaigns, progress
from funding.errors import FundingError
from studio.public_work import gallery
from web.context import CONTEXT
from web.names import names_of
from web.paging import id_in
from web.render import render

routes = web.RouteTableDef()


@routes.get("/s/{guild_id:[1-9][0-9]{0,19}}/campaigns")
async def server_campaigns(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    shown = await gallery(db, id_in(request, "guild_id"))
    if shown is None:
        raise web.HTTPNotFound()
    found = await list_campaigns(db, shown.guild_id, states=tuple(CampaignState))
    listed = [await progress(db, c) for c in found]
    listed.sort(key=lambda p: (p.campaign.state is not CampaignState.OPEN, -p.campaign.id))
    return render(
        request,
        "campaigns.html",
        title=f"Campaigns of {shown.name}",
        description=f"Model versions {shown.name} is funding.",
        server=shown,
        campaigns=listed,
    )


@routes.get("/campaigns/{campaign_id:[1-9][0-9]{0,17}}")
async def campaign_page(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    try:
        campaign = await get_campaign(db, int(request.match_info["campaign_id"]))
    except FundingError:
        raise web.HTTPNotFound() from None
    shown = await gallery(db, campaign.guild_id)
    if shown is None:
        raise web.HTTPNotFound()
    state = await progress(db, campaign)
    backers = await campaign_backers(db, campaign.id)
    # A member who keeps their results private is not named either.
    hidden = await hidden_members(db, (b.user_id for b in backers))
    named = [b for b in backers if not b.anonymous and b.user_id not in hidden]
    names = await names_of(db, (b.user_id for b in named))
    return render(
        request,
        "campaign.html",
        title=f"{campaign.title} — {campaign.model_key}",
        description=(
            f"{state.percent}% of {campaign.money(campaign.goal_minor)} pledged; "
            f"{campaign.state.value}, deadline {campaign.deadline:%Y-%m-%d}."
        ),
        server=shown,
        state=state,
        campaign=campaign,
        named=[names[b.user_id] for b in named],
        anonymous=len(backers) - len(named),
        model_name=campaign.model_key.partition(":")[0],
    )
