"""Contest pages: a server's contests and hall of fame; one contest in its phase — blind,
shuffled entries while voting, the ranking with authors, points, the ballot hash and the
ballot CSV once it closed."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from aiohttp import web

from contests.boards.hall_of_fame import hall_of_fame
from contests.leaderboards import hidden_members
from contests.model import Contest, ContestState
from contests.results import ballot_csv, counted_ballots, standings
from contests.store import entries, get_contest, guild_contests
from studio.public_work import Gallery, gallery, public_ids
from web.context import CONTEXT
from web.names import PRIVATE_MEMBER, names_of
from web.pages.images import image_path, serve_image
from web.paging import id_in
from web.render import render

routes = web.RouteTableDef()

#: The cookie that keeps one visitor's shuffled order of a contest's entries stable.
VISITOR_COOKIE = "atelier_visitor"
_VISITOR = re.compile(r"[0-9a-f]{32}")
#: How many of a server's contests its contests page lists.
LISTED = 20
FAMED = 10
#: The places that earn points, as Discord's results show them.
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


async def _shown_contest(request: web.Request) -> tuple[Contest, Gallery]:
    """The contest in the address, if its server's gallery is on; else 404."""
    db = request.app[CONTEXT].db
    contest = await get_contest(db, int(request.match_info["contest_id"]))
    shown = None if contest is None else await gallery(db, contest.guild_id)
    if contest is None or shown is None or contest.state is ContestState.SCHEDULED:
        raise web.HTTPNotFound()
    return contest, shown


def visitor_order(visitor: str, contest_id: int, number: int) -> str:
    """The sort key of entry ``number`` for one visitor: stable for them, different for
    others, and telling nothing about the author or the votes."""
    return hashlib.sha256(f"{visitor}:{contest_id}:{number}".encode()).hexdigest()


@routes.get("/s/{guild_id:[1-9][0-9]{0,19}}/contests")
async def server_contests(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    shown = await gallery(db, id_in(request, "guild_id"))
    if shown is None:
        raise web.HTTPNotFound()
    listed = [
        c
        for c in await guild_contests(db, shown.guild_id, limit=LISTED)
        if c.state is not ContestState.SCHEDULED
    ]
    famed = await hall_of_fame(db, shown.guild_id, limit=FAMED)
    winners = [w for f in famed for w in f.winners if not w.hidden]
    names = await names_of(db, (w.user_id for w in winners))
    linked = await public_ids(db, (w.job_id for w in winners))
    return render(
        request,
        "contests.html",
        title=f"Contests of {shown.name}",
        description=f"{shown.name}'s contests and hall of fame.",
        server=shown,
        contests=listed,
        famed=famed,
        names=names,
        linked=linked,
        private_member=PRIVATE_MEMBER,
        image_path=image_path,
    )


@routes.get("/contests/{contest_id:[1-9][0-9]{0,17}}")
async def contest_page(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    contest, shown = await _shown_contest(request)
    values: dict[str, Any] = {}
    visitor = request.cookies.get(VISITOR_COOKIE, "")
    new_visitor = not _VISITOR.fullmatch(visitor)
    if new_visitor:
        visitor = secrets.token_hex(16)
    if contest.state is ContestState.VOTING:
        numbers = [e.number for e in await entries(db, contest.id) if e.number is not None]
        values["ballot"] = sorted(numbers, key=lambda n: visitor_order(visitor, contest.id, n))
    elif contest.state is ContestState.SUBMISSIONS:
        values["entered"] = len(await entries(db, contest.id))
    elif contest.state is ContestState.CLOSED:
        results = await standings(db, contest.id)
        linked = await public_ids(db, (s.job_id for s in results))
        names = await names_of(db, (s.user_id for s in results))
        hidden = await hidden_members(db, (s.user_id for s in results))
        values["results"] = [
            (s, PRIVATE_MEMBER if s.user_id in hidden else names[s.user_id], linked.get(s.job_id))
            for s in results
        ]
        winner = next((s for s in results if s.place == 1 and s.job_id in linked), None)
        if winner is not None:  # the card shows the winning image
            values["og_image"] = image_path(linked[winner.job_id], winner.image_index + 1)
    response = render(
        request,
        "contest.html",
        title=contest.title,
        description=f"{shown.name}: {contest.title}, {contest.state.value}.",
        contest=contest,
        server=shown,
        image_path=image_path,
        medals=MEDALS,
        **values,
    )
    if new_visitor and contest.state is ContestState.VOTING:
        # Secure when members reach the studio over https (through the reverse proxy).
        public_url = request.app[CONTEXT].public_url
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=90 * 86400,
            httponly=True,
            samesite="Lax",
            secure=public_url is not None and public_url.lower().startswith("https://"),
        )
    return response


@routes.get("/contests/{contest_id:[1-9][0-9]{0,17}}/entries/{number:[1-9][0-9]{0,3}}.png")
async def entry_image(request: web.Request) -> web.FileResponse:
    """An entry's image by its anonymous number: during voting a page must not link to the
    job (its page names the author)."""
    contest, _ = await _shown_contest(request)
    if contest.state not in (ContestState.VOTING, ContestState.CLOSED):
        raise web.HTTPNotFound()
    number = int(request.match_info["number"])
    db = request.app[CONTEXT].db
    entry = next((e for e in await entries(db, contest.id) if e.number == number), None)
    if entry is None or entry.job_id not in await public_ids(db, [entry.job_id]):
        raise web.HTTPNotFound()
    return await serve_image(
        request,
        entry.job_id,
        entry.image_index,
        download_name=f"contest-{contest.id}-entry-{number}.png",
    )


@routes.get("/contests/{contest_id:[1-9][0-9]{0,17}}/ballots.csv")
async def ballots(request: web.Request) -> web.Response:
    """The published ballot list: its SHA-256 is the hash on the results page."""
    contest, _ = await _shown_contest(request)
    if contest.state is not ContestState.CLOSED:
        raise web.HTTPNotFound()
    text = ballot_csv(await counted_ballots(request.app[CONTEXT].db, contest.id))
    return web.Response(
        body=text.encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="contest-{contest.id}-ballots.csv"',
            "Cache-Control": "no-cache",
        },
    )
