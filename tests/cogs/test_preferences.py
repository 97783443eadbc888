"""/settings, /prefer, /info, /show, /models, and the buttons under an upscale."""

from __future__ import annotations

import pytest

from cogs.errors import APOLOGY
from db.database import Database
from db.users import StylizePreset, UserSettings, VariationStrength, get_user_settings
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of


async def test_settings_panel_saves_each_choice(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("settings", {}, user=alice)
    panel = await rec.wait_original()
    assert rec.ephemeral
    assert panel.custom_ids == [
        "settings:model",
        "settings:stylize",
        "settings:variation",
        "settings:public",
    ]
    for custom_id, values in (
        ("settings:stylize", ["very_high"]),
        ("settings:variation", ["strong"]),
    ):
        await (await fake.select(panel.id, custom_id, values, user=alice)).wait_acknowledged()
    await (await fake.press(panel.id, "settings:public", user=alice)).wait_acknowledged()

    saved = await get_user_settings(bot.db, alice.id)
    assert saved.stylize is StylizePreset.VERY_HIGH
    assert saved.variation is VariationStrength.STRONG
    assert saved.public is False
    assert "very high" in fake.messages[panel.id].content

    job = await fake.slash("imagine", {"prompt": "a fox"}, user=alice)
    grid = await job.wait_original(is_result, timeout=30)
    stored = await bot.db.fetchone("SELECT params FROM jobs WHERE id = ?", (job_id_of(grid),))
    assert '"stylize":750' in stored["params"]


async def test_a_settings_panel_that_fails_apologises_and_saves_nothing(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def disk_full(db: Database, settings: UserSettings) -> None:
        raise OSError("database or disk is full")

    monkeypatch.setattr("cogs.preferences.save_user_settings", disk_full)
    bot = await bots.start()
    panel = await (await fake.slash("settings", {}, user=alice)).wait_original()
    chosen = await fake.select(panel.id, "settings:stylize", ["very_high"], user=alice)
    answer = await chosen.wait_original()
    assert chosen.ephemeral
    assert answer.content == APOLOGY
    assert (await get_user_settings(bot.db, alice.id)).stylize is None


async def test_settings_offers_the_registrys_released_models_only(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    mod = fake.add_user("mod", manage_guild=True)
    for name in ("ink", "next"):
        added = await fake.slash(
            "models add",
            {"name": name, "version": "1", "source": str(bots.model_dir), "family": "sd1"},
            user=mod,
        )
        await added.wait_original()
    released = await fake.slash("models release", {"model": "ink:1"}, user=mod)
    await released.wait_original()

    panel = await (await fake.slash("settings", {}, user=alice)).wait_original()
    menu = panel.component("settings:model")
    assert menu is not None
    offered = [option["value"] for option in menu["options"]]
    assert "ink" in offered
    assert "tiny" in offered
    assert "next" not in offered  # still upcoming

    chosen = await fake.select(panel.id, "settings:model", ["ink"], user=alice)
    await chosen.wait_acknowledged()
    job = await fake.slash("imagine", {"prompt": "a fox"}, user=alice)
    grid = await job.wait_original(is_result, timeout=30)
    assert "ink" in grid.content


async def test_prefer_suffix_and_options_shape_the_prompt(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    await (await fake.slash("prefer suffix", {"text": "--c 20"}, user=alice)).wait_original()
    rec = await fake.slash(
        "prefer option set", {"name": "wide", "flags": "--ar 2:1 --s 300"}, user=alice
    )
    assert "--wide" in (await rec.wait_original()).content
    bad = await fake.slash("prefer option set", {"name": "ar", "flags": "--s 1"}, user=alice)
    assert "built-in" in (await bad.wait_original()).content
    bad_flags = await fake.slash(
        "prefer option set", {"name": "odd", "flags": "--c 500"}, user=alice
    )
    assert "--c" in (await bad_flags.wait_original()).content
    listing = await fake.slash("prefer option list", {}, user=alice)
    assert "--wide" in (await listing.wait_original()).content

    job = await fake.slash("imagine", {"prompt": "a valley --wide"}, user=alice)
    grid = await job.wait_original(is_result, timeout=30)
    assert "--ar 2:1" in grid.content
    assert "--c 20" in grid.content
    assert "--s 300" in grid.content
    row = await bot.db.fetchone("SELECT prompt FROM jobs WHERE id = ?", (job_id_of(grid),))
    assert row["prompt"] == "a valley"

    deleted = await fake.slash("prefer option delete", {"name": "wide"}, user=alice)
    assert "deleted" in (await deleted.wait_original()).content


async def test_a_suffix_no_with_commas_reaches_the_job_as_written(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    suffix = await fake.slash("prefer suffix", {"text": "--no blur, text"}, user=alice)
    await suffix.wait_original()
    job = await fake.slash("imagine", {"prompt": "a quiet cat"}, user=alice)
    grid = await job.wait_original(is_result, timeout=30)
    assert "--no blur, text" in grid.content
    row = await bot.db.fetchone("SELECT params FROM jobs WHERE id = ?", (job_id_of(grid),))
    assert '"negative_prompt":"blur, text"' in row["params"]


async def test_info_lists_waiting_jobs_and_usage(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    done = await fake.slash("imagine", {"prompt": "first"}, user=alice)
    await done.wait_original(is_result, timeout=30)
    bots.script.step_delay = 0.3
    running = await fake.slash("imagine", {"prompt": "running --steps 20"}, user=alice)
    await running.wait_original(lambda m: "%" in m.content, timeout=30)
    waiting = await fake.slash("imagine", {"prompt": "waiting"}, user=alice)
    await waiting.wait_original(lambda m: "Waiting" in m.content)

    rec = await fake.slash("info", {}, user=alice)
    info = await rec.wait_original()
    assert rec.ephemeral
    fields = {field["name"]: field["value"] for field in info.embeds[0]["fields"]}
    assert "running" in fields["Jobs"]
    assert "waiting, position 1" in fields["Jobs"]
    assert fields["Images today"] == "4"
    assert fields["Images in total"] == "4"
    assert fields["Lane"] == "standard"
    assert fields["Workers"] == "cpu"
    bots.script.step_delay = 0.0


async def test_show_reposts_a_finished_job_with_working_buttons(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a pier"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    job_id = job_id_of(grid)
    shown = await fake.slash("show", {"job_id": job_id}, user=alice)
    again = await shown.wait_original(is_result, timeout=30)
    assert again.attachments[0].data == grid.attachments[0].data
    press = await fake.press(again.id, button(again, "u", 3), user=alice)
    await press.wait_original(lambda m: bool(m.attachments), timeout=30)
    missing = await fake.slash("show", {"job_id": 9999}, user=alice)
    assert "there is no job #9999" in (await missing.wait_original()).content


async def test_favorite_once_info_and_models(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a lamp --seed 11"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    up = await fake.press(grid.id, button(grid, "u", 1), user=alice)
    upscaled = await up.wait_original(lambda m: bool(m.attachments), timeout=30)

    first = await fake.press(upscaled.id, button(upscaled, "fav"), user=alice)
    second = await fake.press(upscaled.id, button(upscaled, "fav"), user=alice)
    texts = sorted([(await first.wait_original()).content, (await second.wait_original()).content])
    assert "Added" in texts[0]
    assert "Already" in texts[1]
    count = await bot.db.fetchone("SELECT count(*) FROM favorites")
    assert count[0] == 1

    info = await fake.press(upscaled.id, button(upscaled, "info"), user=alice)
    embed = (await info.wait_original()).embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Seed"] == "12"  # image 2 of a grid seeded 11
    assert f"upscale of image 2 of #{job_id_of(grid)}" in fields["Lineage"]

    models = await fake.slash("models list", {}, user=alice)
    listing = (await models.wait_original(lambda m: not m.loading)).embeds[0]
    # It counts every image made: "thinking…" first, only for the member who asked.
    assert (models.response_type, models.ephemeral) == (5, True)
    fields = {field["name"]: field["value"] for field in listing["fields"]}
    # The configured models, entered into the registry: "tiny", and the default model
    # (ATELIER_MODEL names a folder, which becomes a model named after it).
    assert "`1` · available" in fields["tiny"]
    assert "images made: 5" in fields["tiny-sd (default)"]  # the grid's four, the upscale
