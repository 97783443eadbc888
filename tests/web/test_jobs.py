"""A job's page and its images: everything about the job, the PNG exactly as stored."""

from __future__ import annotations

import html
from pathlib import Path

from db.database import Database
from db.jobs import JobKind
from db.users import add_favorite
from inference.jobs import LoraUse
from tests.helpers.clock import T0
from tests.helpers.web import (
    ALICE,
    BOB,
    Site,
    name_members,
    open_gallery,
    public_id_of,
    shown_job,
)


async def test_a_job_page_shows_prompt_parameters_seeds_model_and_hearts(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    await name_members(db)
    job = await shown_job(db, images_dir, prompt="a lighthouse at dusk", negative="fog")
    await add_favorite(db, BOB, job, 2, T0)
    status, page = await site.get(f"/j/{await public_id_of(db, job)}")
    assert status == 200
    assert "a lighthouse at dusk" in page
    assert "fog" in page
    for seed in (1234, 1235, 1236, 1237):
        assert f"Seed {seed}" in page
    assert '<a href="/models#tiny">tiny:1</a>' in page
    assert "euler_a" in page
    assert "64×64" in page
    assert "Stylize" in page
    assert 'by <a href="/m/31">Alice</a>' in page
    assert "❤ 1" in page  # image 3's heart
    # The text to copy makes the same job again.
    assert "a lighthouse at dusk --no fog --s 250 --seed 1234 --steps 4 --sampler euler_a" in (
        html.unescape(page)
    )
    assert 'property="og:image"' in page
    assert "og:title" in page


async def test_the_png_is_served_byte_for_byte_with_its_generation_data(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    public_id = await public_id_of(db, job)
    status, body, headers = await site.get_bytes(f"/i/{public_id}/2.png")
    assert status == 200
    assert body == (images_dir / str(job) / f"{job}-2.png").read_bytes()
    assert b"parameters" in body
    assert b"Seed: 1235" in body
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "ETag" in headers
    assert "Cache-Control" in headers
    async with site.session.get(
        f"{site.server.url}/i/{public_id}/2.png", headers={"If-None-Match": headers["ETag"]}
    ) as again:
        assert again.status == 304
    async with site.session.get(f"{site.server.url}/i/{public_id}/2.png?download") as download:
        assert "attachment" in download.headers["Content-Disposition"]
        assert await download.read() == body


async def test_lineage_links_parent_and_children(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    grid = await shown_job(db, images_dir)
    upscale = await shown_job(
        db, images_dir, kind=JobKind.UPSCALE, images=1, parent=(grid, 1), at_minutes=1
    )
    _, grid_page = await site.get(f"/j/{await public_id_of(db, grid)}")
    assert f'href="/j/{await public_id_of(db, upscale)}">Upscale</a>' in grid_page
    _, upscale_page = await site.get(f"/j/{await public_id_of(db, upscale)}")
    assert f'<a href="/j/{await public_id_of(db, grid)}">image 2 of its parent</a>' in upscale_page


async def test_member_text_is_shown_as_text(db: Database, images_dir: Path, site: Site) -> None:
    await open_gallery(db)
    long = "<script>alert(1)</script><b>bold</b> " + "x" * 6000
    job = await shown_job(db, images_dir, prompt=long, negative="<img src=x onerror=alert(2)>")
    status, page = await site.get(f"/j/{await public_id_of(db, job)}")
    assert status == 200
    assert "<script>alert(1)" not in page
    assert "<b>bold" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "x" * 6000 in page


async def test_every_response_carries_the_security_headers(site: Site) -> None:
    for path in ("/", "/models", "/j/" + "0" * 32, "/static/style.css", "/card.png"):
        async with site.session.get(site.server.url + path) as response:
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp
            assert "script-src" not in csp
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_only_get_pages(db: Database, images_dir: Path, site: Site) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    async with site.session.post(f"{site.server.url}/j/{await public_id_of(db, job)}") as post:
        assert post.status == 405


async def test_a_new_job_gets_its_own_unguessable_id(db: Database, images_dir: Path) -> None:
    first = await public_id_of(db, await shown_job(db, images_dir))
    second = await public_id_of(db, await shown_job(db, images_dir, ALICE, at_minutes=1))
    assert len(first) == len(second) == 32
    assert first != second
    assert int(first, 16)
    assert int(second, 16)


async def test_pages_without_an_image_of_their_own_show_the_sites_card(site: Site) -> None:
    _, page = await site.get("/models")
    assert f'property="og:image" content="{site.server.url}/card.png"' in page
    status, card, headers = await site.get_bytes("/card.png")
    assert status == 200
    assert card.startswith(b"\x89PNG")
    assert headers["Content-Type"] == "image/png"


async def test_a_lora_job_page_names_its_loras_cfg_and_the_recommendations_it_took(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    prompt = "a fox <lora:inkwash@2:0.7>"
    job = await shown_job(
        db,
        images_dir,
        prompt=prompt,
        negative="blurry",
        loras=(LoraUse("inkwash:2", "/loras/inkwash.safetensors", None, 0.7, "ab" * 32),),
        guidance=5.5,
        recommended=(("steps", "4"), ("cfg", "5.5"), ("negative_prompt", "blurry")),
    )
    status, page = await site.get(f"/j/{await public_id_of(db, job)}")
    assert status == 200
    text = html.unescape(page)
    assert '<dt>LoRAs</dt><dd><a href="/models#inkwash:2">inkwash@2 ×0.7</a></dd>' in text
    assert "<dt>CFG</dt><dd>5.5</dd>" in text
    assert "<li>steps 4</li><li>CFG 5.5</li><li>negative prompt: blurry</li>" in text
    for repr_text in ("[", "{", "Loras", "Recommended:", "Guidance"):
        assert repr_text not in text.split('<dl class="params">')[1].split("</dl>")[0]
    # No flag sets a CFG: the page does not promise the copied prompt makes this job again.
    assert "it makes this job again" not in text
    assert "no flag sets" in text
    assert f"{prompt} --no blurry --s 250 --seed" in text


async def test_a_plain_job_page_shows_no_empty_lists_or_dicts(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    status, page = await site.get(f"/j/{await public_id_of(db, job)}")
    assert status == 200
    parameters = page.split('<dl class="params">')[1].split("</dl>")[0]
    for repr_text in ("[]", "{}", "None", "LoRAs", "CFG", "Recommended"):
        assert repr_text not in parameters
    assert "it makes this job again" in page


async def test_without_a_public_url_cards_use_the_servers_address_not_the_host_header(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    public_id = await public_id_of(db, await shown_job(db, images_dir))
    status, page = await site.get(f"/j/{public_id}", headers={"Host": "evil.example"})
    assert status == 200
    assert "evil.example" not in page
    assert f'property="og:url" content="{site.server.url}/j/{public_id}"' in page
    assert f'property="og:image" content="{site.server.url}/i/{public_id}/1.png"' in page
