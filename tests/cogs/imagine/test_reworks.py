"""The buttons that rework an upscaled image (Zoom Out, Custom Zoom, Pan, Make Square,
Upscale (Subtle)/(Creative)) and Remix, end to end over the stand-in on the tiny model."""

from __future__ import annotations

import discord

from db.database import Database
from db.jobs import JobKind, JobRecord, JobStatus, get_job
from tests.discord_standin import FakeDiscord, FakeUser, InteractionRecord, RecordedMessage
from tests.helpers.discord_bots import Bots, button, is_result, job_id_of

PROMPT_INPUT = "prompt"


def is_upscale(message: RecordedMessage) -> bool:
    """An upscaled image's message: the image and the buttons under an upscale."""
    return bool(message.attachments) and any(
        custom_id.startswith("atelier:fav:") for custom_id in message.custom_ids
    )


async def _upscaled(fake: FakeDiscord, user: FakeUser, prompt: str) -> RecordedMessage:
    """U1's result of an /imagine of ``prompt``."""
    return (await _grid_and_upscale(fake, user, prompt))[1]


async def _grid_and_upscale(
    fake: FakeDiscord, user: FakeUser, prompt: str
) -> tuple[RecordedMessage, RecordedMessage]:
    rec = await fake.slash("imagine", {"prompt": prompt}, user=user)
    grid = await rec.wait_original(is_result, timeout=30)
    press = await fake.press(grid.id, button(grid, "u", 0), user=user)
    return grid, await press.wait_original(is_upscale, timeout=30)


async def _job(db: Database, message: RecordedMessage) -> JobRecord:
    job = await get_job(db, job_id_of(message))
    assert job is not None
    return job


def _prompt_of(record: InteractionRecord) -> str:
    """The text the form the bot opened in answer to ``record`` is prefilled with."""
    assert record.modal is not None, "no form was opened"
    (label,) = record.modal["components"]
    assert label["component"]["custom_id"] == PROMPT_INPUT
    return str(label["component"]["value"])


async def _form(
    fake: FakeDiscord, message: RecordedMessage, action: str, user: FakeUser
) -> InteractionRecord:
    press = await fake.press(message.id, button(message, action), user=user)
    await press.wait_acknowledged()
    assert press.modal is not None, (action, press.responses)
    return press


async def _refusal(submitted: InteractionRecord) -> RecordedMessage:
    """The answer to a form whose prompt was refused. A rework is acknowledged publicly
    ("thinking…") before its prompt is checked; the refusal then replaces that placeholder
    with a message only the member sees."""
    answer = await submitted.wait_followup()
    assert answer.ephemeral, answer.content
    assert submitted.original is not None
    assert submitted.original.deleted  # no public "thinking…" left behind
    return answer


async def _count(bot: object, kind: JobKind) -> int:
    row = await bot.db.fetchone(  # type: ignore[attr-defined]
        "SELECT count(*) FROM jobs WHERE kind = ?", (kind.value,)
    )
    return int(row[0])


# --- each button ---------------------------------------------------------------------------


async def test_zoom_pan_and_square_each_make_a_new_grid_with_the_upscale_as_parent(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "a wide valley --ar 2:1 --seed 5")
    source = job_id_of(upscaled)
    labels = upscaled.button_labels
    assert labels[:4] == [
        "Vary (Subtle)",
        "Vary (Strong)",
        "Upscale (Subtle)",
        "Upscale (Creative)",
    ]
    assert labels[4:8] == ["Zoom Out 2×", "Zoom Out 1.5×", "Custom Zoom", "Make Square"]
    assert labels[-2:] == ["Favorite", "Web/Info"]
    pans = [label for label in labels if label in ("⬅️", "➡️", "⬆️", "⬇️")]
    assert "⬆️" in pans  # a 2:1 image may grow upwards

    cases = [
        ("zoom2", JobKind.ZOOM, "Zoom Out 2×"),
        ("zoom15", JobKind.ZOOM, "Zoom Out 1.5×"),
        ("square", JobKind.SQUARE, "Make Square"),
        *(
            (f"pan{way}", JobKind.PAN, "Pan")
            for way, arrow in (("left", "⬅️"), ("right", "➡️"), ("up", "⬆️"), ("down", "⬇️"))
            if arrow in pans
        ),
    ]
    for action, kind, words in cases:
        press = await fake.press(upscaled.id, button(upscaled, action), user=alice)
        await press.wait_acknowledged()
        assert not press.ephemeral, action
        grid = await press.wait_original(is_result, timeout=30)
        assert words in grid.content, (action, grid.content)
        assert grid.button_labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
        job = await _job(bot.db, grid)
        assert job.kind is kind, action
        assert (job.parent_job_id, job.parent_index) == (source, 0)
        assert job.status is JobStatus.DONE


async def test_upscale_subtle_and_creative_make_an_upscale_of_the_upscale(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "a tiny boat --seed 9")
    source = await _job(bot.db, upscaled)
    for action, words in (("upsubtle", "Upscale (Subtle)"), ("upcreative", "Upscale (Creative)")):
        press = await fake.press(upscaled.id, button(upscaled, action), user=alice)
        again = await press.wait_original(is_upscale, timeout=30)
        assert words in again.content
        job = await _job(bot.db, again)
        assert job.kind is JobKind.UPSCALE
        assert (job.parent_job_id, job.parent_index) == (source.id, 0)
        assert job.params["width"] == 2 * source.params["width"]


async def test_custom_zoom_opens_the_prompt_with_its_zoom_and_uses_what_was_typed(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "a lone tree --s 250")
    form = await _form(fake, upscaled, "zoomc", alice)
    assert form.modal is not None
    assert form.modal["title"] == "Custom Zoom"
    prefilled = _prompt_of(form)
    assert prefilled.startswith("a lone tree")
    assert "--stylize 250" in prefilled
    assert prefilled.endswith("--zoom 2")

    # A zoom out of range is refused, naming the flag; nothing is queued.
    refused = await fake.submit_modal(form, {PROMPT_INPUT: "a lone tree --zoom 3"}, user=alice)
    answer = await _refusal(refused)
    assert "--zoom" in answer.content
    assert await _count(bot, JobKind.ZOOM) == 0

    form = await _form(fake, upscaled, "zoomc", alice)
    submitted = await fake.submit_modal(
        form, {PROMPT_INPUT: "a lone tree at dawn --zoom 1.5 --ar 3:2"}, user=alice
    )
    grid = await submitted.wait_original(is_result, timeout=30)
    job = await _job(bot.db, grid)
    assert job.kind is JobKind.ZOOM
    assert job.parent_job_id == job_id_of(upscaled)
    assert job.prompt.startswith("a lone tree at dawn")
    assert job.params["width"] > job.params["height"]  # --ar 3:2


async def test_custom_zoom_submitted_unchanged_keeps_the_suffix_once(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    suffix = await fake.slash("prefer suffix", {"text": "cinematic lighting"}, user=alice)
    await suffix.wait_original()
    upscaled = await _upscaled(fake, alice, "a fox")
    form = await _form(fake, upscaled, "zoomc", alice)
    prefilled = _prompt_of(form)
    assert prefilled.startswith("a fox cinematic lighting")
    submitted = await fake.submit_modal(form, {PROMPT_INPUT: prefilled}, user=alice)
    job = await _job(bot.db, await submitted.wait_original(is_result, timeout=30))
    assert job.kind is JobKind.ZOOM
    assert job.prompt.count("cinematic lighting") == 1


# --- Remix ---------------------------------------------------------------------------------


async def test_remix_opens_the_prompt_before_v_vary_zoom_pan_and_reroll(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    grid_message, upscaled = await _grid_and_upscale(fake, alice, "a red barn --ar 3:2 --c 10")

    turned = await fake.slash("prefer remix", {"mode": "on"}, user=alice)
    assert "Remix is on" in (await turned.wait_original()).content

    # Every remixable button opens the prompt, with its parameters, and queues nothing yet.
    before = await _jobs(bot)
    for message, action in (
        (grid_message, "v"),
        (grid_message, "reroll"),
        (upscaled, "subtle"),
        (upscaled, "strong"),
        (upscaled, "zoom2"),
        (upscaled, "zoom15"),
        (upscaled, "panup"),
    ):
        form = await _form(fake, message, action, alice)
        text = _prompt_of(form)
        assert text.startswith("a red barn"), (action, text)
        assert "--ar 3:2" in text
        assert "--chaos 10" in text
    assert await _jobs(bot) == before

    # The edited prompt is the new job's.
    form = await _form(fake, grid_message, "v", alice)
    submitted = await fake.submit_modal(form, {PROMPT_INPUT: "a blue barn --ar 3:2"}, user=alice)
    varied = await submitted.wait_original(is_result, timeout=30)
    job = await _job(bot.db, varied)
    assert job.kind is JobKind.VARIATION
    assert job.prompt == "a blue barn"
    assert "a blue barn" in varied.content

    form = await _form(fake, upscaled, "zoom2", alice)
    submitted = await fake.submit_modal(form, {PROMPT_INPUT: "a barn in snow --ar 3:2"}, user=alice)
    zoomed = await submitted.wait_original(is_result, timeout=30)
    job = await _job(bot.db, zoomed)
    assert job.kind is JobKind.ZOOM
    assert job.prompt == "a barn in snow"

    # Make Square and the upscales have nothing to remix: they start at once.
    press = await fake.press(upscaled.id, button(upscaled, "square"), user=alice)
    await press.wait_acknowledged()
    assert press.modal is None
    await press.wait_original(is_result, timeout=30)

    # Off again: V1 starts at once with the prompt as it was.
    turned = await fake.slash("prefer remix", {"mode": "off"}, user=alice)
    assert "Remix is off" in (await turned.wait_original()).content
    press = await fake.press(grid_message.id, button(grid_message, "v", 0), user=alice)
    await press.wait_acknowledged()
    assert press.modal is None
    again = await press.wait_original(is_result, timeout=30)
    assert (await _job(bot.db, again)).prompt == "a red barn"


async def test_a_remixed_prompt_is_checked_like_imagines(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    moderator = fake.add_user("mod", manage_guild=True)
    added = await fake.slash("admin banned-words add", {"words": "gore"}, user=moderator)
    await added.wait_original()
    upscaled = await _upscaled(fake, alice, "a quiet lake")
    await (await fake.slash("prefer remix", {"mode": "on"}, user=alice)).wait_original()
    before = await _jobs(bot)

    for action, text, expected in (
        ("subtle", "a quiet lake full of gore", "gore"),
        ("zoom2", "a quiet lake --ar 9:1", "--ar"),
        ("panup", "a quiet lake --chaos 500", "--chaos"),
        ("strong", " ", "prompt"),
    ):
        form = await _form(fake, upscaled, action, alice)
        submitted = await fake.submit_modal(form, {PROMPT_INPUT: text}, user=alice)
        answer = await _refusal(submitted)
        assert answer.content.startswith("⚠️") or answer.content.startswith("🚫"), answer.content
        assert expected in answer.content, (action, answer.content)
    assert await _jobs(bot) == before


# --- who may press, and restarts -----------------------------------------------------------


async def test_only_the_owner_may_press_rework_buttons_or_submit_their_forms(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "alice's garden --ar 2:1")
    before = await _jobs(bot)
    for action in ("zoom2", "zoom15", "zoomc", "square", "upsubtle", "upcreative", "panup"):
        press = await fake.press(upscaled.id, button(upscaled, action), user=bob)
        refusal = await press.wait_original()
        assert press.ephemeral, action
        assert press.modal is None, action
        assert f"<@{alice.id}>" in refusal.content, action
    # A form alice opened, submitted by bob (a forged submission): refused alike.
    form = await _form(fake, upscaled, "zoomc", alice)
    forged = await fake.submit_modal(form, {PROMPT_INPUT: "bob's garden --zoom 2"}, user=bob)
    refusal = await forged.wait_original()
    assert forged.ephemeral
    assert f"<@{alice.id}>" in refusal.content
    assert await _jobs(bot) == before


async def test_rework_buttons_and_an_open_form_from_before_a_restart_still_work(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await bots.start()
    upscaled = await _upscaled(fake, alice, "an old mill --ar 2:1")
    form = await _form(fake, upscaled, "zoomc", alice)
    await bots.stop(first)

    second = await bots.start()
    submitted = await fake.submit_modal(form, {PROMPT_INPUT: "an old mill --zoom 1.2"}, user=alice)
    zoomed = await submitted.wait_original(is_result, timeout=30)
    assert (await _job(second.db, zoomed)).kind is JobKind.ZOOM
    assert not submitted.ephemeral  # answered once, by the job: not as a stale form first
    assert [version["content"] for version in zoomed.history if "⚠️" in version["content"]] == []
    press = await fake.press(upscaled.id, button(upscaled, "square"), user=alice)
    squared = await press.wait_original(is_result, timeout=30)
    job = await _job(second.db, squared)
    assert job.kind is JobKind.SQUARE
    assert job.parent_job_id == job_id_of(upscaled)


async def test_the_first_rework_after_a_restart_is_acknowledged_while_the_model_loads(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    first = await bots.start()
    upscaled = await _upscaled(fake, alice, "a lighthouse --ar 2:1")
    form = await _form(fake, upscaled, "zoomc", alice)
    await bots.stop(first)

    bots.script.loading.clear()  # the new process's model load takes as long as the test says
    second = await bots.start()
    before = await _jobs(second)
    press = await fake.press(upscaled.id, button(upscaled, "square"), user=alice)
    submitted = await fake.submit_modal(form, {PROMPT_INPUT: "a lighthouse --zoom 1.5"}, user=alice)
    for answer in (press, submitted):
        # Within Discord's 3 seconds (the stand-in refuses later callbacks), as "thinking…".
        await answer.wait_acknowledged()
        assert not answer.ephemeral
        assert (await answer.wait_original()).loading
    assert await _jobs(second) == before  # nothing could be planned before the model loaded
    bots.script.loading.set()
    squared = await press.wait_original(is_result, timeout=30)
    zoomed = await submitted.wait_original(is_result, timeout=30)
    assert (await _job(second.db, squared)).kind is JobKind.SQUARE
    assert (await _job(second.db, zoomed)).kind is JobKind.ZOOM


# --- progress, cancel, /info, /show --------------------------------------------------------


async def test_a_zoom_shows_what_it_is_and_its_progress_in_info_and_can_be_cancelled(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "a harbour at night")
    source = job_id_of(upscaled)
    bots.script.step_delay = 0.3
    press = await fake.press(upscaled.id, button(upscaled, "zoom2"), user=alice)
    running = await press.wait_original(lambda m: "%" in m.content, timeout=30)
    assert "Zoom Out 2×" in running.content
    zoom_id = job_id_of(running)

    info = await fake.slash("info", {}, user=alice)
    embed = (await info.wait_original()).embeds[0]
    jobs = next(field["value"] for field in embed["fields"] if field["name"] == "Jobs")
    assert f"#{zoom_id} running" in jobs
    assert f"Zoom Out 2× of #{source}" in jobs

    cancel = await fake.press(running.id, button(running, "cancel"), user=alice)
    await cancel.wait_acknowledged()
    await press.wait_original(lambda m: m.content.endswith("cancelled"), timeout=30)
    job = await get_job(bot.db, zoom_id)
    assert job is not None
    assert job.status is JobStatus.CANCELLED
    bots.script.step_delay = 0.0


async def test_show_and_web_info_name_a_pans_kind_and_lineage(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    upscaled = await _upscaled(fake, alice, "a long road --ar 2:1")
    press = await fake.press(upscaled.id, button(upscaled, "panup"), user=alice)
    panned = await press.wait_original(is_result, timeout=30)
    pan_id = job_id_of(panned)
    assert "Pan ⬆️" in panned.content

    shown = await fake.slash("show", {"job_id": pan_id}, user=alice)
    again = await shown.wait_original(is_result, timeout=30)
    assert "Pan ⬆️" in again.content
    assert again.button_labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]

    # Web/Info of an upscale of the pan: the whole lineage, each step named.
    up = await fake.press(again.id, button(again, "u", 1), user=alice)
    pan_upscale = await up.wait_original(is_upscale, timeout=30)
    info = await fake.press(pan_upscale.id, button(pan_upscale, "info"), user=alice)
    embed = (await info.wait_original()).embeds[0]
    lineage = next(field["value"] for field in embed["fields"] if field["name"] == "Lineage")
    assert f"#{pan_id} Pan ⬆️ of #{job_id_of(upscaled)}" in lineage


# --- helpers -------------------------------------------------------------------------------


async def _jobs(bot: object) -> list[int]:
    rows = await bot.db.fetchall("SELECT id FROM jobs ORDER BY id")  # type: ignore[attr-defined]
    return [int(row["id"]) for row in rows]


async def test_an_upscale_2x_button_left_by_an_older_version_still_upscales(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    bot = await bots.start()
    upscaled = await _upscaled(fake, alice, "an old lantern")
    source = job_id_of(upscaled)
    # The message as the version before Upscale (Subtle)/(Creative) posted it.
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Upscale 2×", custom_id=f"atelier:upscale:{source}:0"))
    channel = bot.get_partial_messageable(fake.channel_id, guild_id=fake.guild_id)
    old = await channel.send("an old message", view=view)
    view.stop()
    press = await fake.press(old.id, f"atelier:upscale:{source}:0", user=alice)
    again = await press.wait_original(is_upscale, timeout=30)
    job = await _job(bot.db, again)
    assert job.kind is JobKind.UPSCALE
    assert job.parent_job_id == source
