"""Leaderboards of a server: creators, backers, models and trending, over a week, a month or
all time — the boards ``/leaderboard`` shows, computed by the same functions."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contests.boards.trending import trending_board
from contests.leaderboards import (
    Board,
    Window,
    creators_board,
    hidden_members,
    models_board,
    rank_backers,
    ranked,
)
from funding.backers import backer_board
from funding.money import format_minor
from studio.public_work import gallery, public_ids
from web.context import CONTEXT
from web.names import names_of
from web.pages.images import image_path
from web.paging import id_in
from web.render import render

routes = web.RouteTableDef()

#: Rows shown per board (the page is one screen of a phone or two). Only those are ranked:
#: a row's place depends on the rows above it alone (a board can have thousands of rows,
#: and ranking them all held the event loop for milliseconds).
SHOWN = 50


@routes.get("/s/{guild_id:[1-9][0-9]{0,19}}/boards/{board:[a-z]+}")
async def board_page(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    db, now = context.db, context.clock()
    shown = await gallery(db, id_in(request, "guild_id"))
    try:
        board = Board(request.match_info["board"])
        window = Window(request.query.get("window", board.default_window.value))
    except ValueError:
        raise web.HTTPNotFound() from None
    if shown is None:
        raise web.HTTPNotFound()
    guild_id = shown.guild_id
    values: dict[str, Any] = {}
    if board is Board.CREATORS:
        creators = ranked(
            (await creators_board(db, guild_id=guild_id, window=window, now=now))[:SHOWN],
            key=lambda s: (s.score,),
        )
        values["rows"] = creators
        values["names"] = await names_of(db, (p.row.user_id for p in creators))
    elif board is Board.MODELS:
        values["rows"] = ranked(
            (await models_board(db, guild_id=guild_id, window=window, now=now))[:SHOWN],
            key=lambda s: (s.images, s.wins),
        )
    elif board is Board.TRENDING:
        window = Window.WEEK  # trending always covers the last 7 days
        trending = ranked(
            (await trending_board(db, guild_id=guild_id, now=now))[:SHOWN],
            key=lambda t: (round(t.score * 100),),
        )
        values["rows"] = trending
        values["names"] = await names_of(db, (p.row.owner_id for p in trending))
        values["linked"] = await public_ids(db, (p.row.job_id for p in trending))
    else:
        totals = await backer_board(db, since=window.since(now), guild_id=guild_id)
        hidden = await hidden_members(db, (t.user_id for t in totals))
        backers = [
            (code, p) for code, ranks in rank_backers(totals, hidden).items() for p in ranks
        ][:SHOWN]
        values["rows"] = backers
        values["names"] = await names_of(db, (p.row.user_id for _, p in backers))
        values["money"] = format_minor
    return render(
        request,
        "board.html",
        title=f"{board.value.capitalize()} — {shown.name}",
        description=f"{shown.name}'s {board.value} leaderboard, {window.label}.",
        server=shown,
        board=board.value,
        boards=[b.value for b in Board],
        window=window,
        windows=list(Window),
        image_path=image_path,
        **values,
    )
