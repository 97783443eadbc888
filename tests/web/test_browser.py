"""The web studio in a real browser: headless Chromium (Debian's ``chromium`` package, driven
by Playwright through ``executable_path``; nothing is downloaded) follows links, loads the
images, and is photographed at phone and desktop widths."""

from __future__ import annotations

import asyncio
import hashlib
import math
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from db.database import Database
from db.guilds import set_gallery
from db.jobs import JobKind
from db.users import remember_name
from funding.ledger import pledge
from tests.helpers.campaigns import GUILD as CAMPAIGN_GUILD
from tests.helpers.campaigns import T0, interaction, open_campaign
from tests.helpers.clock import FakeClock
from tests.helpers.editor import SIDE, editor_site, stored_mask, upscaled_image
from tests.helpers.image_prompts import (
    ATTACHMENT_SOURCE,
    give_image_prompts,
    inputs_dir_of,
    write_inputs,
)
from tests.helpers.registry import new_version
from tests.helpers.web import (
    ALICE,
    BOB,
    Site,
    contest_with_entries,
    name_members,
    open_gallery,
    public_id_of,
    shown_job,
    vote_and_close,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the browser tests need Chromium: install the Debian package `chromium` "
    "(apt-get install chromium)",
)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PROMPT = "a <b>lighthouse</b> at dusk, <script>alert('x')</script> " + "waves " * 40


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], timeout=30_000
        )
        try:
            yield launched
        finally:
            await launched.close()


async def fits_the_width(page: Page) -> bool:
    """Nothing sticks out sideways: a phone reader never scrolls horizontally."""
    return bool(
        await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


async def test_home_to_job_images_prompt_contest_and_campaign(
    db: Database, images_dir: Path, clock: FakeClock, site: Site, browser: Browser, tmp_path: Path
) -> None:
    await open_gallery(db)
    await name_members(db)
    grid = await shown_job(db, images_dir, ALICE, prompt=PROMPT, size=256)
    await shown_job(
        db,
        images_dir,
        ALICE,
        kind=JobKind.UPSCALE,
        images=1,
        parent=(grid, 2),
        at_minutes=2,
        size=512,
    )
    await shown_job(db, images_dir, BOB, prompt="a fox in the snow", at_minutes=3, size=256)
    for user_id in (41, 42, 43, 51, 52):
        await remember_name(db, user_id, f"Member{user_id}", T0)
    votes = {41: [51, 52], 42: [51], 43: []}
    contest, entries = await contest_with_entries(db, images_dir, clock, votes)
    await vote_and_close(db, clock, votes, entries)
    voting, _ = await contest_with_entries(db, images_dir, clock, {41: [], 42: [], 43: []})
    await set_gallery(db, CAMPAIGN_GUILD, True, name="Dreamers")
    await new_version(db, "dreamy:v2")
    campaign = await open_campaign(db, model="dreamy:v2", goal="100")
    await pledge(
        db,
        campaign.id,
        ALICE,
        "42.50",
        anonymous=False,
        interaction_id=interaction(),
        now=T0 + timedelta(hours=1),
    )
    shots = tmp_path / "screenshots"
    base = site.server.url

    page = await browser.new_page(viewport=DESKTOP)
    await page.goto(base + "/")
    await page.click("ul.tiles li:last-child > a")  # the oldest: the grid with the odd prompt
    await page.wait_for_url("**/j/*")
    widths = await page.eval_on_selector_all(
        "img", "images => images.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert len(widths) == 8  # the 2×2 grid and each image at full size
    assert all(width == 256 for width in widths)
    shown = await page.inner_text("h1")
    assert "a <b>lighthouse</b> at dusk, <script>alert('x')</script>" in shown
    assert await page.locator("b, script").count() == 0  # text, not markup
    assert PROMPT.strip() in await page.input_value("#copy")

    await page.goto(f"{base}/contests/{contest}")
    published = (await page.inner_text("#ballot-hash")).strip()
    assert len(published) == 64
    async with page.expect_download() as download_info:
        await page.click("#ballot-csv")
    saved = await (await download_info.value).path()
    body = await asyncio.to_thread(Path(saved).read_bytes)
    assert hashlib.sha256(body).hexdigest() == published

    await page.goto(f"{base}/campaigns/{campaign.id}")
    bar = page.locator("progress#progress")
    assert await bar.is_visible()
    assert await bar.get_attribute("value") == "4250"
    await page.close()

    pages = {
        "home": "/",
        "job": await page_of_first_job(browser, base),
        "member": f"/m/{ALICE}",
        "contest": f"/contests/{contest}",
        "voting": f"/contests/{voting}",
        "campaign": f"/campaigns/{campaign.id}",
        "board": f"/s/{5000}/boards/creators?window=all",
        "models": "/models",
        "not-found": "/j/" + "0" * 32,
    }
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        for scheme in ("light", "dark"):
            context = await browser.new_context(viewport=viewport, color_scheme=scheme)
            page = await context.new_page()
            for name, path in pages.items():
                await page.goto(base + path)
                assert await fits_the_width(page), f"{name} is wider than a {label}"
                await page.screenshot(path=shots / f"{name}-{label}-{scheme}.png", full_page=True)
            await context.close()


async def page_of_first_job(browser: Browser, base: str) -> str:
    page = await browser.new_page()
    await page.goto(base + "/")
    href = await page.get_attribute("ul.tiles li:last-child > a", "href")
    await page.close()
    assert href is not None
    return href


async def test_a_mask_drawn_with_the_mouse_is_queued_where_it_was_drawn(
    db: Database, images_dir: Path, clock: FakeClock, browser: Browser, tiny_model_dir: Path
) -> None:
    async with editor_site(db, images_dir, clock, tiny_model_dir) as web:
        job = await upscaled_image(db, images_dir)
        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(web.url(web.links.make(job, ALICE)))
        await page.wait_for_load_state("load")  # the image is in
        box = await page.locator("#mask").bounding_box()
        assert box is not None
        scale = box["width"] / SIDE

        async def drag(*points: tuple[float, float]) -> None:
            """Press at the first point and move through the others (image pixels)."""
            (x, y), *rest = points
            await page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
            await page.mouse.down()
            for x, y in rest:
                await page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=10)
            await page.mouse.up()

        await page.eval_on_selector("#size", "size => { size.value = '10'; }")
        await drag((20, 30), (100, 30))  # a brush stroke, 10 px wide
        await page.check("input[value=erase]")
        await drag((60, 15), (60, 45))  # erased across the stroke, as wide
        await page.check("input[value=rect]")
        await drag((30, 70), (90, 110))  # a rectangle
        await page.check("input[value=lasso]")
        await drag((100, 60), (125, 60), (110, 125))  # a lasso, then taken back
        await page.click("#undo")
        await page.click("#submit")
        # (The page's policy allows no evaluated script: Playwright waits on locators.)
        said = page.locator("#result")
        await said.filter(has_text="is queued").wait_for()
        (queued,) = web.followed
        text = await said.inner_text()
        assert f"Job #{queued.job_id} is queued" in text
        assert "posted in Discord as a reply to this image" in text
        assert await said.locator("a").first.inner_text() == "Open the message in Discord"
        mask = await stored_mask(db, queued.job_id)

    assert mask.size == (SIDE, SIDE)
    marked = {(x, y) for y in range(SIDE) for x in range(SIDE) if mask.getpixel((x, y))}

    def stroke(x: float, y: float) -> float:
        """How far from the brush stroke's middle line."""
        return math.dist((min(max(x, 20), 100), 30), (x, y))

    def erased(x: float, y: float) -> float:
        return math.dist((60, min(max(y, 15), 45)), (x, y))

    def in_rectangle(x: float, y: float, margin: float) -> bool:
        return 30 - margin <= x <= 90 + margin and 70 - margin <= y <= 110 + margin

    # A pixel and a half of leeway at every edge, for antialiasing and rounding.
    for x, y in ((x + 0.5, y + 0.5) for x in range(SIDE) for y in range(SIDE)):
        pixel = (int(x), int(y))
        if (stroke(x, y) <= 3.5 and erased(x, y) > 6.5) or in_rectangle(x, y, -1.5):
            assert pixel in marked, pixel  # surely marked
        if (stroke(x, y) > 6.5 or erased(x, y) <= 3.5) and not in_rectangle(x, y, 1.5):
            assert pixel not in marked, pixel  # surely not marked


async def test_an_image_not_posted_in_discord_is_not_said_to_get_a_reply_there(
    db: Database, images_dir: Path, clock: FakeClock, browser: Browser, tiny_model_dir: Path
) -> None:
    async with editor_site(db, images_dir, clock, tiny_model_dir) as web:
        grid = await shown_job(db, images_dir, ALICE, guild=None)
        job = await shown_job(
            db,
            images_dir,
            ALICE,
            guild=None,  # made from the command line: no Discord message to reply to
            kind=JobKind.UPSCALE,
            images=1,
            parent=(grid, 0),
            at_minutes=1,
            size=SIDE,
        )
        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(web.url(web.links.make(job, ALICE)))
        await page.wait_for_load_state("load")
        box = await page.locator("#mask").bounding_box()
        assert box is not None
        await page.check("input[value=rect]")
        await page.mouse.move(box["x"] + 5, box["y"] + 5)
        await page.mouse.down()
        await page.mouse.move(box["x"] + 40, box["y"] + 40, steps=5)
        await page.mouse.up()
        await page.click("#submit")
        said = page.locator("#result")
        await said.filter(has_text="is queued").wait_for()
        (queued,) = web.followed
        text = await said.inner_text()
    assert f"Job #{queued.job_id} is queued" in text
    assert "reply" not in text
    assert "not posted in Discord" in text
    assert f"/show {queued.job_id}" in text


async def test_a_job_pages_input_thumbnails_load_from_the_site_alone(
    db: Database, images_dir: Path, site: Site, browser: Browser
) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir, ALICE, prompt="a fox in the snow")
    long_url = "https://cdn.discordapp.com/attachments/1/2/" + "fox" * 60 + ".png"
    prompts = write_inputs(inputs_dir_of(images_dir), [long_url, ATTACHMENT_SOURCE])
    await give_image_prompts(db, job, prompts, image_weight=2)
    page = await browser.new_page(viewport=PHONE)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    await page.goto(f"{site.server.url}/j/{await public_id_of(db, job)}")
    widths = await page.eval_on_selector_all(
        "ul.inputs img", "images => images.map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert widths == [256, 256]
    assert long_url in await page.inner_text("#inputs")
    assert await fits_the_width(page)  # the long URL wraps
    assert all(url.startswith(site.server.url) for url in asked), asked
