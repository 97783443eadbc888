"""The home page, members' galleries, the leaderboards and the models page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

from db.database import Database
from db.jobs import JobKind
from db.users import UserSettings, add_favorite, save_user_settings
from registry.recommended import Recommended
from registry.versions import (
    ModelKind,
    NewVersion,
    VersionEdit,
    add_version,
    edit_version,
    set_certified,
)
from tests.helpers.clock import T0, FakeClock
from tests.helpers.registry import new_version
from tests.helpers.web import (
    ALICE,
    BOB,
    GALLERY_GUILD,
    Site,
    name_members,
    open_gallery,
    public_id_of,
    shown_job,
)
from web.names import PRIVATE_MEMBER
from web.pages.members import PER_PAGE


async def test_home_shows_recent_public_work_newest_first_and_links_everything(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    await name_members(db)
    older = await public_id_of(db, await shown_job(db, images_dir, ALICE, prompt="first light"))
    newer = await public_id_of(
        db, await shown_job(db, images_dir, BOB, prompt="last light", at_minutes=5)
    )
    status, page = await site.get("/")
    assert status == 200
    assert page.index(newer) < page.index(older)
    assert f'<img src="/i/{newer}/1.png"' in page
    assert "last light" in page
    assert "Lighthouse Club" in page
    for link in (
        f"/s/{GALLERY_GUILD}/contests",
        f"/s/{GALLERY_GUILD}/campaigns",
        f"/s/{GALLERY_GUILD}/boards/creators",
        "/models",
    ):
        assert f'href="{link}"' in page
    assert f'property="og:image" content="{site.server.url}/i/{newer}/1.png"' in page


async def test_a_members_gallery_is_their_public_work_newest_first_in_pages(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    await name_members(db)
    made = [
        await public_id_of(db, await shown_job(db, images_dir, ALICE, images=1, at_minutes=m))
        for m in range(PER_PAGE + 3)
    ]
    await shown_job(db, images_dir, BOB, prompt="not alice's")
    status, first = await site.get(f"/m/{ALICE}")
    assert status == 200
    assert "Alice's gallery" in first
    shown = re.findall(r'href="/j/([0-9a-f]{32})"', first)
    assert shown == list(reversed(made))[:PER_PAGE]
    assert f'href="/m/{ALICE}?page=2"' in first
    assert "not alice's" not in first
    _, second = await site.get(f"/m/{ALICE}?page=2")
    assert re.findall(r'href="/j/([0-9a-f]{32})"', second) == list(reversed(made))[PER_PAGE:]
    for bad in ("?page=3", "?page=0", "?page=x", "?page=-1"):
        status, _ = await site.get(f"/m/{ALICE}{bad}")
        assert status == 404


async def test_boards_show_creators_models_trending_and_backers_by_window(
    db: Database, images_dir: Path, clock: FakeClock, site: Site
) -> None:
    await open_gallery(db)
    await name_members(db)
    grid = await shown_job(db, images_dir, ALICE)
    upscale = await shown_job(
        db, images_dir, ALICE, kind=JobKind.UPSCALE, images=1, parent=(grid, 0), at_minutes=1
    )
    for fan in (201, 202, 203):
        await add_favorite(db, fan, upscale, 0, T0 + timedelta(minutes=5))
    clock.now = T0 + timedelta(hours=1)
    status, creators = await site.get(f"/s/{GALLERY_GUILD}/boards/creators?window=week")
    assert status == 200
    assert re.search(
        r'<a href="/m/31">Alice</a></td><td class="num">0</td><td class="num">3', creators
    )
    _, models = await site.get(f"/s/{GALLERY_GUILD}/boards/models?window=all")
    assert '<a href="/models#tiny">tiny</a></td><td>1</td><td class="num">5</td>' in models
    _, trending = await site.get(f"/s/{GALLERY_GUILD}/boards/trending")
    assert f'href="/j/{await public_id_of(db, upscale)}"' in trending
    assert "❤ 3" in trending
    status, backers = await site.get(f"/s/{GALLERY_GUILD}/boards/backers")
    assert status == 200
    assert "Nobody on this board yet." in backers
    clock.now = T0 + timedelta(days=20)
    _, later = await site.get(f"/s/{GALLERY_GUILD}/boards/creators?window=week")
    assert "Nobody on this board yet." in later
    for bad in ("/boards/creators?window=year", "/boards/likes"):
        status, _ = await site.get(f"/s/{GALLERY_GUILD}{bad}")
        assert status == 404


async def test_the_models_page_lists_every_version(
    db: Database, images_dir: Path, site: Site
) -> None:
    version = await new_version(db, "dreamy:2", creator_id=ALICE)
    await set_certified(db, version.key, certified=True, moderator_id=1)
    await name_members(db)
    status, page = await site.get("/models")
    assert status == 200
    assert 'id="dreamy"' in page
    assert "<strong>2</strong> ✔ certified" in page
    assert "upcoming" in page
    assert '<a href="https://example.org/license" rel="nofollow noopener">CreativeML' in page
    assert '<td data-label="Creator">Alice</td>' in page


async def test_the_models_page_shows_kinds_lora_facts_hashes_and_recommended_settings(
    db: Database, site: Site, tiny_lora_files: dict[str, Path]
) -> None:
    path = tiny_lora_files["kohya"]
    lora = await add_version(
        db,
        NewVersion(
            name="pixelart",
            version="1",
            source=str(path),
            family="sd1",
            kind=ModelKind.LORA,
            trigger_words="pixel art, 8-bit",
            default_weight=0.7,
            recommended=Recommended(
                steps=20, sampler="euler_a", cfg=5.5, weight_min=0.4, weight_max=0.9
            ),
        ),
        added_by=1,
        now=T0,
    )
    checkpoint = await new_version(db, "dreamy:2")
    await edit_version(
        db,
        checkpoint.key,
        VersionEdit(recommended=Recommended(steps=30, cfg=7.5, negative_prompt="blurry")),
    )
    status, page = await site.get("/models")
    assert status == 200
    text = html.unescape(page)
    assert "<strong>1</strong> <small>(LoRA, sd1)</small>" in text
    assert "<strong>2</strong> <small>(checkpoint, sd1)</small>" in text
    assert lora.sha256 is not None
    assert (
        "<span>Trigger words: pixel art, 8-bit</span> · <span>Default weight: 0.7</span>"
        f" · <span>Hash: {lora.sha256[:10]}</span>"
        " · <span>Recommended: steps 20; sampler euler_a; CFG 5.5; weight 0.4–0.9</span>"
    ) in text
    assert "<span>Recommended: steps 30; CFG 7.5; negative: blurry</span>" in text


async def test_the_models_page_does_not_name_a_creator_who_keeps_results_private(
    db: Database, site: Site
) -> None:
    await name_members(db)
    await new_version(db, "dreamy:2", creator_id=ALICE)
    await new_version(db, "sunny:1", creator_id=BOB)
    await save_user_settings(db, UserSettings(ALICE, public=False))
    status, page = await site.get("/models")
    assert status == 200
    assert "Alice" not in page
    assert f'<td data-label="Creator">{PRIVATE_MEMBER}</td>' in page
    assert '<td data-label="Creator">Bob</td>' in page
