"""Nothing is public by accident: the gallery per server, the member's choice, deleted and
unfinished jobs, and files outside the data folder — each one answers like a job that
never existed."""

from __future__ import annotations

from pathlib import Path

from db.database import Database
from db.guilds import set_gallery
from db.users import UserSettings, save_user_settings
from tests.helpers.web import (
    ALICE,
    BOB,
    CLOSED_GUILD,
    GALLERY_GUILD,
    Site,
    open_gallery,
    public_id_of,
    shown_job,
)

NEVER = "/j/" + "0" * 32


async def assert_gone(site: Site, public_id: str) -> None:
    """The job's page and image answer exactly as a job that never existed."""
    _, never = await site.get(NEVER)
    status, page = await site.get(f"/j/{public_id}")
    assert status == 404
    assert page == never
    status, _, _ = await site.get_bytes(f"/i/{public_id}/1.png")
    assert status == 404
    _, home = await site.get("/")
    assert public_id not in home


async def test_work_of_a_server_without_the_gallery_is_not_on_the_web(
    db: Database, images_dir: Path, site: Site
) -> None:
    job = await shown_job(db, images_dir, guild=CLOSED_GUILD)
    await assert_gone(site, await public_id_of(db, job))
    status, _ = await site.get(f"/m/{ALICE}")
    assert status == 404


async def test_turning_the_gallery_off_takes_everything_off_at_once(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    public_id = await public_id_of(db, await shown_job(db, images_dir))
    status, home = await site.get("/")
    assert status == 200
    assert public_id in home
    await set_gallery(db, GALLERY_GUILD, False, name=None)
    await assert_gone(site, public_id)
    for path in (f"/s/{GALLERY_GUILD}/contests", f"/s/{GALLERY_GUILD}/boards/creators"):
        status, _ = await site.get(path)
        assert status == 404


async def test_a_member_who_keeps_results_private_is_not_on_the_web(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    public_id = await public_id_of(db, await shown_job(db, images_dir))
    other = await public_id_of(db, await shown_job(db, images_dir, BOB, at_minutes=1))
    status, _ = await site.get(f"/j/{public_id}")
    assert status == 200
    await save_user_settings(db, UserSettings(ALICE, public=False))
    await assert_gone(site, public_id)
    status, _ = await site.get(f"/m/{ALICE}")
    assert status == 404
    status, _ = await site.get(f"/j/{other}")
    assert status == 200


async def test_command_line_failed_and_deleted_jobs_are_not_on_the_web(
    db: Database, images_dir: Path, site: Site
) -> None:
    await open_gallery(db)
    local = await shown_job(db, images_dir, guild=None)
    await assert_gone(site, await public_id_of(db, local))
    failed = await shown_job(db, images_dir, at_minutes=1)
    failed_id = await public_id_of(db, failed)
    async with db.transaction() as conn:
        await conn.execute("UPDATE jobs SET status = 'failed' WHERE id = ?", (failed,))
    await assert_gone(site, failed_id)
    deleted = await shown_job(db, images_dir, at_minutes=2)
    deleted_id = await public_id_of(db, deleted)
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM job_messages WHERE job_id = ?", (deleted,))
        await conn.execute("DELETE FROM jobs WHERE id = ?", (deleted,))
    await assert_gone(site, deleted_id)


async def test_a_private_parent_is_not_linked(db: Database, images_dir: Path, site: Site) -> None:
    await open_gallery(db)
    parent = await shown_job(db, images_dir, BOB)
    child = await shown_job(db, images_dir, ALICE, parent=(parent, 0), at_minutes=1)
    await save_user_settings(db, UserSettings(BOB, public=False))
    _, page = await site.get(f"/j/{await public_id_of(db, child)}")
    assert await public_id_of(db, parent) not in page
    assert "Made from a job that is not on the web" in page


async def test_only_files_inside_the_data_folder_are_served(
    db: Database, images_dir: Path, site: Site, tmp_path: Path
) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"not for the web")
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE images SET path = ? WHERE job_id = ? AND idx = 0", (str(outside), job)
        )
        await conn.execute(
            "UPDATE images SET path = ? WHERE job_id = ? AND idx = 1",
            (str(images_dir / ".." / "secret.png"), job),
        )
    public_id = await public_id_of(db, job)
    for number in (1, 2):
        status, body, _ = await site.get_bytes(f"/i/{public_id}/{number}.png")
        assert status == 404
        assert b"not for the web" not in body
    status, _, _ = await site.get_bytes(f"/i/{public_id}/3.png")
    assert status == 200


async def test_job_numbers_do_not_find_pages(db: Database, images_dir: Path, site: Site) -> None:
    await open_gallery(db)
    job = await shown_job(db, images_dir)
    for path in (f"/j/{job}", f"/i/{job}/1.png", f"/j/{job:032d}"):
        status, _ = await site.get(path)
        assert status == 404


async def test_ids_too_big_for_any_record_are_not_found(site: Site) -> None:
    for path in (
        "/m/99999999999999999999",
        "/m/9223372036854775808",
        "/s/9223372036854775808/contests",
        "/s/99999999999999999999/boards/creators",
        "/s/9223372036854775808/campaigns",
        "/contests/999999999999999999",
        "/campaigns/999999999999999999",
    ):
        status, _ = await site.get(path)
        assert status == 404, path
