"""The images a job was made from, on its page and at their own addresses: image prompts
with their sources and ``--iw``, a /blend's images, thumbnails — for public jobs only, by
the job's public id and the image's number, never by a path on disk."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from pathlib import Path

import yarl
from PIL import Image

from db.database import Database
from db.users import UserSettings, save_user_settings
from tests.helpers.image_prompts import (
    ATTACHMENT_SOURCE,
    URL_SOURCE,
    give_image_prompts,
    inputs_dir_of,
    write_inputs,
)
from tests.helpers.web import ALICE, Site, open_gallery, public_id_of, shown_job
from web.inputs import inputs_label


def _words(page: str) -> str:
    """The page's text as a reader sees it: tags gone, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _image_prompted(
    db: Database, images_dir: Path, *, blend: bool = False, image_weight: float = 1.5
) -> tuple[int, str]:
    """A public job made from two image prompts (a URL and an attachment), or a /blend of
    three attachments; its id and public id."""
    await open_gallery(db)
    job = await shown_job(db, images_dir, prompt="a fox in the snow", negative="")
    sources = (
        ["attachment:a.png", "attachment:b.png", "attachment:c.png"]
        if blend
        else [URL_SOURCE, ATTACHMENT_SOURCE]
    )
    prompts = write_inputs(inputs_dir_of(images_dir), sources)
    await give_image_prompts(db, job, prompts, image_weight=image_weight, blend=blend)
    return job, await public_id_of(db, job)


async def test_the_page_of_an_image_prompted_job_shows_its_images_sources_and_weight(
    db: Database, images_dir: Path, site: Site
) -> None:
    job, public_id = await _image_prompted(db, images_dir)
    status, page = await site.get(f"/j/{public_id}")
    assert status == 200
    text = _words(page)
    assert "Image prompts" in text
    assert "2 image prompts, weighted against the text with --iw 1.5" in text
    for number in (1, 2):
        assert f'href="/i/{public_id}/inputs/{number}.png"' in page
        assert f'src="/i/{public_id}/inputs/{number}-small.jpg"' in page
    # The URL is shown as text; the browser is never made to fetch a member's URL.
    assert f"1. {URL_SOURCE} SHA-256" in text
    assert 'src="https://' not in page
    assert "src='https://" not in page
    assert "2. an attachment, fox sketch.png SHA-256" in text
    stored = json.loads(
        (await db.fetchall("SELECT params FROM jobs WHERE id = ?", (job,)))[0]["params"]
    )["image_prompts"]
    assert f"SHA-256 {stored[0]['sha256'][:10]}" in text
    # Nothing of the data folder's layout is published.
    assert "image-" + stored[0]["sha256"] not in page
    assert str(inputs_dir_of(images_dir)) not in page


async def test_the_copied_prompt_puts_the_url_first_and_says_attachments_are_not_in_it(
    db: Database, images_dir: Path, site: Site
) -> None:
    _, public_id = await _image_prompted(db, images_dir)
    _, page = await site.get(f"/j/{public_id}")
    copy = html.unescape(page.split('<textarea id="copy" readonly rows="3">')[1]).split("<")[0]
    assert copy.startswith(f"{URL_SOURCE} a fox in the snow ")
    assert "--iw 1.5" in copy
    assert "fox sketch.png" not in copy
    assert "1 of its images was an attachment, which a prompt cannot give again" in _words(page)
    # The copy alone does not make the job again: the attachment is not in it.
    assert "Copy the prompt (it makes this job again)" not in page
    assert "with its attached images given again" in page


async def test_a_blend_is_named_as_one_and_shows_no_empty_prompt(
    db: Database, images_dir: Path, site: Site
) -> None:
    _, public_id = await _image_prompted(db, images_dir, blend=True, image_weight=1.0)
    status, page = await site.get(f"/j/{public_id}")
    assert status == 200
    assert '<h1 class="prompt-title">/blend of 3 images</h1>' in page
    assert "<title>/blend of 3 images" in page
    assert "Blended images" in page
    assert "Image prompts" not in page
    assert "--iw" not in html.unescape(page).split("<textarea")[0]
    assert "3 of its images were attachments" in _words(page)
    assert "Copy the prompt (it makes this job again)" not in page
    for number in (1, 2, 3):
        assert f'src="/i/{public_id}/inputs/{number}-small.jpg"' in page


async def test_a_text_job_page_has_no_input_images(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    _, page = await site.get(f"/j/{await public_id_of(db, job)}")
    assert "/inputs/" not in page
    assert "Image prompts" not in page
    assert "--iw" not in page


async def test_an_input_image_is_served_as_stored_and_as_a_small_jpeg(
    db: Database, images_dir: Path, site: Site
) -> None:
    job, public_id = await _image_prompted(db, images_dir)
    row = await db.fetchone("SELECT params FROM jobs WHERE id = ?", (job,))
    assert row is not None
    stored = json.loads(row["params"])["image_prompts"][1]

    status, body, headers = await site.get_bytes(f"/i/{public_id}/inputs/2.png")
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == stored["sha256"]  # the copy as stored
    assert headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"

    status, small, headers = await site.get_bytes(f"/i/{public_id}/inputs/2-small.jpg")
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(small)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= 256
        assert thumbnail.size == (256, 171)  # the 300×200 copy, its shape kept
    # Kept once made: the same bytes again, from the inputs' thumbnails.
    assert len(list((inputs_dir_of(images_dir) / "small").glob("*.jpg"))) == 1
    assert (await site.get_bytes(f"/i/{public_id}/inputs/2-small.jpg"))[1] == small


async def test_inputs_of_jobs_that_are_not_public_are_not_found(
    db: Database, images_dir: Path, site: Site
) -> None:
    _, public_id = await _image_prompted(db, images_dir)
    assert (await site.get_bytes(f"/i/{public_id}/inputs/1.png"))[0] == 200
    await save_user_settings(db, UserSettings(ALICE, public=False))
    _, never, _ = await site.get_bytes("/j/" + "0" * 32)
    for path in ("1.png", "1-small.jpg"):
        status, body, _ = await site.get_bytes(f"/i/{public_id}/inputs/{path}")
        assert status == 404
        assert body == never  # as if it never existed
    assert (await site.get_bytes("/i/" + "0" * 32 + "/inputs/1.png"))[0] == 404


async def test_only_the_jobs_own_numbered_inputs_are_served(
    db: Database, images_dir: Path, site: Site
) -> None:
    _, public_id = await _image_prompted(db, images_dir)
    text_job = await public_id_of(db, await shown_job(db, images_dir, at_minutes=1))
    base = f"/i/{public_id}/inputs"
    for path in (
        f"{base}/3.png",  # the job has two
        f"{base}/0.png",
        f"{base}/10.png",
        f"{base}/-1.png",
        f"{base}/1.jpg",
        f"{base}/1-small.png",
        f"{base}/1.png.png",
        f"{base}/%2e%2e%2f1.png",
        f"{base}/..%2f..%2f1.png",
        f"/i/{text_job}/inputs/1.png",  # a job made from text alone
        f"/i/{text_job}/inputs/1-small.jpg",
    ):
        async with site.session.get(yarl.URL(site.server.url + path, encoded=True)) as response:
            assert response.status == 404, path


async def test_a_stored_path_outside_the_inputs_is_not_served(
    db: Database, images_dir: Path, site: Site, tmp_path: Path
) -> None:
    job, public_id = await _image_prompted(db, images_dir)
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"not for the web")
    row = await db.fetchone("SELECT params FROM jobs WHERE id = ?", (job,))
    assert row is not None
    params = json.loads(row["params"])
    params["image_prompts"][0]["path"] = str(outside)
    params["image_prompts"][1]["path"] = str(inputs_dir_of(images_dir) / ".." / "secret.png")
    async with db.transaction() as conn:
        await conn.execute("UPDATE jobs SET params = ? WHERE id = ?", (json.dumps(params), job))
    for path in ("1.png", "2.png", "1-small.jpg", "2-small.jpg"):
        status, body, _ = await site.get_bytes(f"/i/{public_id}/inputs/{path}")
        assert status == 404, path
        assert b"not for the web" not in body


async def test_a_blend_is_named_in_the_listings(db: Database, images_dir: Path, site: Site) -> None:
    await _image_prompted(db, images_dir, blend=True)
    for path in ("/", f"/m/{ALICE}"):
        _, page = await site.get(path)
        assert '<span class="prompt">/blend of 3 images</span>' in page, path
        assert 'alt="/blend of 3 images"' in page


def test_one_image_without_words_is_named_an_image_prompt_not_a_blend() -> None:
    assert inputs_label(1, blend=True) == "1 image prompt"
    assert inputs_label(2, blend=True) == "/blend of 2 images"
