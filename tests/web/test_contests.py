"""Contest pages: blind, shuffled entries per visitor during voting; results with authors,
points, the ballot hash and a CSV whose SHA-256 is that hash; the hall of fame."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import aiohttp

from db.database import Database
from db.users import UserSettings, remember_name, save_user_settings
from tests.helpers.clock import T0, FakeClock
from tests.helpers.web import (
    GALLERY_GUILD,
    Site,
    contest_with_entries,
    open_gallery,
    running_site,
    vote_and_close,
)

ENTRANTS = {41: [51, 52, 53], 42: [51], 43: [], 44: [52], 45: [], 46: [53]}


async def named(db: Database) -> None:
    for user_id in (*ENTRANTS, 51, 52, 53):
        await remember_name(db, user_id, f"Member{user_id}", T0)


async def entry_order(site: Site, contest: int, visitor: str | None) -> list[int]:
    cookies = {} if visitor is None else {"atelier_visitor": visitor}
    async with (
        aiohttp.ClientSession(cookies=cookies) as session,
        session.get(f"{site.server.url}/contests/{contest}") as response,
    ):
        page = await response.text()
    return [int(n) for n in re.findall(r"/contests/\d+/entries/(\d+)\.png", page)]


async def test_voting_is_blind_and_each_visitor_keeps_an_order_of_their_own(
    db: Database, images_dir: Path, clock: FakeClock, site: Site
) -> None:
    await open_gallery(db)
    await named(db)
    contest, _ = await contest_with_entries(db, images_dir, clock, ENTRANTS)
    status, page = await site.get(f"/contests/{contest}")
    assert status == 200
    assert "voting" in page
    for user_id in ENTRANTS:
        assert f"Member{user_id}" not in page
        assert f"/m/{user_id}" not in page
    assert "/j/" not in page  # a job's page names its author

    first = await entry_order(site, contest, "a" * 32)
    assert sorted(first) == [1, 2, 3, 4, 5, 6]
    assert await entry_order(site, contest, "a" * 32) == first
    others = {tuple(await entry_order(site, contest, c * 32)) for c in "bcdef"}
    assert len(others | {tuple(first)}) > 1

    # A first visit is given its cookie, so the order it saw stays (a jar that, like a
    # browser's, keeps cookies of an address such as 127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{site.server.url}/contests/{contest}") as response:
            seen = re.findall(r"/entries/(\d+)\.png", await response.text())
        async with session.get(f"{site.server.url}/contests/{contest}") as response:
            assert re.findall(r"/entries/(\d+)\.png", await response.text()) == seen

    status, body, headers = await site.get_bytes(f"/contests/{contest}/entries/1.png")
    assert status == 200
    assert body.startswith(b"\x89PNG")
    assert headers["Content-Type"] == "image/png"
    status, _ = await site.get(f"/contests/{contest}/ballots.csv")
    assert status == 404  # published with the results only


async def test_results_show_ranking_points_authors_and_a_checkable_ballot_hash(
    db: Database, images_dir: Path, clock: FakeClock, site: Site
) -> None:
    await open_gallery(db)
    await named(db)
    await save_user_settings(db, UserSettings(44, public=False))
    contest, entries = await contest_with_entries(db, images_dir, clock, ENTRANTS)
    await vote_and_close(db, clock, ENTRANTS, entries)
    status, page = await site.get(f"/contests/{contest}")
    assert status == 200
    winner = re.search(r"<tr>.*?</tr>", page.split("<tbody>")[1], re.S)
    assert winner is not None
    assert "Member41" in winner[0]
    assert "🥇" in winner[0]
    assert ">3</td>" in winner[0]
    assert ">11</td>" in winner[0]  # 10 for first place + 1 for entering
    assert "Member44" not in page
    assert "a member who keeps their results private" in page
    published = re.search(r'id="ballot-hash">([0-9a-f]{64})<', page)
    assert published is not None
    status, body, headers = await site.get_bytes(f"/contests/{contest}/ballots.csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert hashlib.sha256(body).hexdigest() == published[1]
    assert body.decode().splitlines()[0] == "voter_id,entry_number"
    assert len(body.decode().splitlines()) == 1 + 6  # six counted votes

    status, fame = await site.get(f"/s/{GALLERY_GUILD}/contests")
    assert status == 200
    assert "“foxes in snow”" in fame
    assert "Member41" in fame


async def test_a_contest_of_a_server_without_the_gallery_is_not_found(
    db: Database, images_dir: Path, clock: FakeClock, site: Site
) -> None:
    contest, _ = await contest_with_entries(db, images_dir, clock, {41: [], 42: []})
    for path in (
        f"/contests/{contest}",
        f"/contests/{contest}/entries/1.png",
        f"/s/{GALLERY_GUILD}/contests",
    ):
        status, _ = await site.get(path)
        assert status == 404


async def test_the_visitor_cookie_is_secure_when_the_public_url_is_https(
    db: Database, images_dir: Path, clock: FakeClock
) -> None:
    await open_gallery(db)
    contest, _ = await contest_with_entries(db, images_dir, clock, ENTRANTS)
    for public_url, secure in (("https://atelier.example.org", True), (None, False)):
        async with (
            running_site(db, images_dir, clock, public_url) as site,
            site.session.get(f"{site.server.url}/contests/{contest}") as response,
        ):
            assert response.status == 200
            morsel = response.cookies["atelier_visitor"]
        assert bool(morsel["secure"]) is secure
        assert morsel["httponly"]
        assert morsel["samesite"] == "Lax"
