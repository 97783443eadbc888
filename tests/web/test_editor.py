"""Vary (Region)'s editor on the web: a signed link opens it for its member only, until it
expires; its Submit is accepted only from its own page and origin, with a usable mask, and
queues one region job where the image was shown in Discord."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from db.guilds import set_buttons_for_everyone
from db.jobs import JobKind, get_job
from db.users import UserSettings, save_user_settings
from studio.editor_links import EditorLink
from tests.helpers.clock import FakeClock
from tests.helpers.editor import (
    PROMPT,
    SIDE,
    EditorSite,
    editor_site,
    mask_png,
    path,
    upscaled_image,
)
from tests.helpers.web import (
    ALICE,
    BOB,
    GALLERY_GUILD,
    Site,
    open_gallery,
    public_id_of,
    shown_job,
)
from web.pages.editor import EDITOR_CSP, MAX_MASK_BYTES


@pytest.fixture
async def web(
    db: Database, images_dir: Path, clock: FakeClock, tiny_model_dir: Path
) -> AsyncIterator[EditorSite]:
    async with editor_site(db, images_dir, clock, tiny_model_dir) as running:
        yield running


async def region_jobs(db: Database) -> int:
    row = await db.fetchone("SELECT count(*) FROM jobs WHERE kind = ?", (JobKind.REGION.value,))
    assert row is not None
    return int(row[0])


def changed(link: EditorLink, **query: str) -> str:
    """The link's path with parts of its query replaced, as someone editing it would."""
    parts = dict(part.split("=") for part in link.query.split("&"))
    parts.update(query)
    return f"/edit/{link.job_id}?" + "&".join(f"{k}={v}" for k, v in parts.items())


async def test_the_link_opens_the_editor_with_the_image_and_the_prompt(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    job = await upscaled_image(db, images_dir)
    link = web.links.make(job, ALICE)
    async with web.site.session.get(web.url(link)) as response:
        assert response.status == 200
        assert response.headers["Content-Security-Policy"] == EDITOR_CSP
        assert response.headers["Cache-Control"] == "no-store"
        # The address carries the signed link: no other site learns it as a referrer.
        assert response.headers["Referrer-Policy"] == "same-origin"
        page = html.unescape(await response.text())
    assert f"Vary (Region) · job #{job}" in page
    assert f'data-width="{SIDE}" data-height="{SIDE}"' in page
    assert f">{PROMPT}" in page  # the prompt, prefilled to edit
    assert '<script src="/static/editor.js"></script>' in page
    assert f"/edit/{job}/image?{link.query}" in page
    assert link.signature not in page.split("<body>")[0]  # not in the card's address
    status, image, headers = await web.site.get_bytes(f"/edit/{job}/image?{link.query}")
    assert status == 200
    assert image == (images_dir / str(job) / f"{job}-1.png").read_bytes()
    status, _, headers = await web.site.get_bytes("/static/editor.js")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")


async def test_expired_forged_and_foreign_links_are_refused_with_a_page(
    db: Database, images_dir: Path, web: EditorSite, clock: FakeClock
) -> None:
    job = await upscaled_image(db, images_dir)
    bobs = await upscaled_image(db, images_dir, BOB)
    link = web.links.make(job, ALICE)
    cases = {
        changed(link, member=str(BOB)): 403,  # Alice's link, claimed by Bob
        changed(link, sig="0" * 64): 403,
        f"/edit/{bobs}?{link.query}": 403,  # Alice's link, for Bob's image
        f"/edit/{job}": 403,
        changed(link, member="%C2%B2"): 403,  # '²', a digit to str.isdigit() only
        changed(link, expires="%C2%B9%C2%B2"): 403,
    }
    for address, expected in cases.items():
        status, body, headers = await web.site.get_bytes(address)
        assert status == expected, address
        assert headers["Referrer-Policy"] == "same-origin"  # the refusal's address too
        page = body.decode()
        assert "This editor link is not valid" in page
        image = address.replace("?", "/image?") if "?" in address else address + "/image"
        status, _ = await web.site.get(image)
        assert status == expected
    # A genuine link for Bob to Alice's image: signed, but not his to rework.
    status, page = await web.site.get(path(web.links.make(job, BOB)))
    assert status == 403
    assert f"Job #{job} belongs to someone else" in page
    clock.advance(minutes=30)
    status, page = await web.site.get(path(link))
    assert status == 410
    assert "This editor link expired at 2026-11-23 18:30 UTC" in html.unescape(page)
    status, _ = await web.site.get(f"/edit/{job}/image?{link.query}")
    assert status == 410


async def test_a_submit_queues_one_region_job_replying_where_the_image_was(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    await open_gallery(db)
    job = await upscaled_image(db, images_dir)
    link = web.links.make(job, ALICE)
    status, answer = await web.submit(link, mask_png((10, 20, 40, 50)), prompt=PROMPT + " --s 50")
    assert status == 200, answer
    new = answer["job_id"]
    assert isinstance(new, int)
    record = await get_job(db, new)
    assert record is not None
    assert (record.kind, record.owner_id, record.parent_job_id) == (JobKind.REGION, ALICE, job)
    assert record.params["request"]["stylize"] == 50  # the edited prompt's parameters
    assert answer["message_url"] == f"https://discord.com/channels/{GALLERY_GUILD}/1/{job}"
    assert answer["page_url"] == f"{web.public_url}/j/{await public_id_of(db, new)}"
    assert [handle.job_id for handle in web.followed] == [new]


async def test_cross_site_and_tokenless_submits_queue_nothing(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    job = await upscaled_image(db, images_dir)
    link = web.links.make(job, ALICE)
    other = web.links.make(await upscaled_image(db, images_dir), ALICE)
    mask = mask_png((0, 0, 9, 9))
    for headers in (
        {},  # neither Origin nor Referer
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/edit"},
        {"Origin": web.public_url.replace("127.0.0.1", "localhost")},
    ):
        status, answer = await web.submit(link, mask, headers=headers)
        assert status == 403, headers
        assert "sent from another site" in str(answer["error"])
    status, _ = await web.submit(link, mask, headers={"Referer": web.url(link)})
    assert status == 200  # a browser that sends no Origin: its Referer says where it was
    for token in ("", web.links.form_token(link)):  # none, or another link's
        status, answer = await web.submit(other, mask, token=token)
        assert status == 403
        assert "not sent from the editor page of this link" in str(answer["error"])
    assert await region_jobs(db) == 1
    assert len(web.followed) == 1


async def test_bad_masks_and_refused_prompts_are_said_and_queue_nothing(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    job = await upscaled_image(db, images_dir)
    link = web.links.make(job, ALICE)
    for mask, status_wanted, said in (
        (mask_png(), 422, "Nothing is marked"),
        (mask_png((0, 0, 9, 9), size=(64, 64)), 422, "The mask is 64×64 but the image is"),
        (b"GIF89a", 422, "must be a PNG"),
        (b"\0" * (MAX_MASK_BYTES + 1), 413, "too large"),
    ):
        status, answer = await web.submit(link, mask)
        assert status == status_wanted, answer
        assert said in str(answer["error"])
    status, answer = await web.submit(link, mask_png((0, 0, 9, 9)), prompt="a fox --steps 9999")
    assert status == 400
    assert "--steps" in str(answer["error"])
    assert await region_jobs(db) == 0
    assert web.followed == []


async def test_another_members_image_cannot_be_submitted(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    job = await upscaled_image(db, images_dir)
    grid = await shown_job(db, images_dir, ALICE, at_minutes=5)
    for link in (web.links.make(job, BOB), web.links.make(grid, ALICE)):
        status, answer = await web.submit(link, mask_png((0, 0, 9, 9)))
        assert status == 400
        assert "Vary (Region)" in str(answer["error"]) or "someone else" in str(answer["error"])
    assert await region_jobs(db) == 0


async def test_a_link_for_someone_else_stops_working_once_the_owner_goes_private(
    db: Database, images_dir: Path, web: EditorSite
) -> None:
    """Where the server lets everyone press the buttons, Bob may rework Alice's image, as
    under its message in Discord, while Alice's results are public; once she keeps them
    private, his link shows and queues nothing, and hers still works."""
    job = await upscaled_image(db, images_dir)
    await set_buttons_for_everyone(db, GALLERY_GUILD, True)
    bobs = web.links.make(job, BOB)
    status, _ = await web.site.get(path(bobs))
    assert status == 200

    await save_user_settings(db, UserSettings(ALICE, public=False))
    status, page = await web.site.get(path(bobs))
    assert status == 403
    assert f"there is no job #{job} you can see here" in page
    status, _ = await web.site.get(f"/edit/{job}/image?{bobs.query}")
    assert status == 403
    status, answer = await web.submit(bobs, mask_png((0, 0, 9, 9)))
    assert status == 403
    assert f"there is no job #{job} you can see here" in str(answer["error"])
    assert await region_jobs(db) == 0
    status, _ = await web.site.get(path(web.links.make(job, ALICE)))
    assert status == 200


async def test_without_the_editor_its_addresses_are_not_found(
    db: Database, images_dir: Path, site: Site
) -> None:
    """``atelier web`` alone (no workers to queue on) serves no editor, links or not."""
    job = await upscaled_image(db, images_dir)
    status, page = await site.get(f"/edit/{job}?member={ALICE}&expires=9999999999&sig=00")
    assert status == 404
    assert "Not found" in page
