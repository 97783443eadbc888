"""/models and early access through the loopback Discord stand-in: a moderator adds and
releases a version, its backer uses it (in the priority lane) while others are told when
it opens, the release and the end of early access are announced once, also after
downtime or when Discord refused the post; outside the operator's home server moderators
neither change the registry nor use early access."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from db.jobs import Lane, get_job
from funding.releases import release_version
from registry.versions import VersionStatus, all_versions, find_version
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.campaigns import T0
from tests.helpers.clock import FakeClock
from tests.helpers.discord_bots import Bots, is_result, job_id_of
from tests.helpers.registry import funded_campaign_for, new_version

#: After the campaign's 10-day deadline, when the version is released.
RELEASE_DAY = T0 + timedelta(days=11)


async def test_backers_use_an_early_access_version_first_then_everyone(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(RELEASE_DAY)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    maker = fake.add_user("maker")
    added = await fake.slash(
        "models add",
        {
            "name": "Tiny",
            "version": "2",
            "source": str(bots.model_dir),
            "family": "sd1",
            "creator": maker,
        },
        user=mod,
    )
    assert "Added **tiny:2** (upcoming)" in (await added.wait_original()).content
    early = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=alice)
    assert "`tiny:2` is not released yet" in (await early.wait_original()).content

    await funded_campaign_for(
        bot.db,
        "tiny:2",
        {alice.id: "100"},
        early_access_days=3,
        guild_id=fake.guild_id,
        channel_id=fake.channel_id,
        owner_id=maker.id,
    )
    # Discord fails the release announcement: it is kept and posted a minute later.
    fake.fail_next("POST", rf"^/channels/{fake.channel_id}/messages$", status=503)
    released = await fake.slash("models release", {"model": "tiny:2"}, user=mod)
    opens = int((RELEASE_DAY + timedelta(days=3)).timestamp())
    assert f"everyone else can use it <t:{opens}:R>" in (await released.wait_original()).content
    posts = f"/channels/{fake.channel_id}/messages"
    await fake.wait_for(lambda: any(r.status == 503 and r.path == posts for r in fake.requests))
    assert not [m for m in fake.channel_messages(fake.channel_id) if "is released" in m.content]
    clock.now = RELEASE_DAY + timedelta(minutes=1)
    await bot.phases.tick()
    await fake.wait_for_message(
        lambda m: m.channel_id == fake.channel_id and "**tiny:2** is released" in m.content
    )

    # The backer gets images, in the priority lane; someone else is told when it opens.
    backed = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=alice)
    grid = await backed.wait_original(is_result, timeout=30)
    job = await get_job(bot.db, job_id_of(grid))
    assert job is not None
    assert (job.model, job.lane) == ("tiny:2", Lane.PRIORITY)
    assert any("(priority)" in version["content"] for version in grid.history)
    refused = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=bob)
    refusal = await refused.wait_original()
    assert refused.ephemeral
    assert f"opens to everyone <t:{opens}:R>" in refusal.content
    assert "UTC" not in refusal.content  # Discord shows each member their own time
    info = await fake.slash("info", {}, user=alice)
    lanes = {f["name"]: f["value"] for f in (await info.wait_original()).embeds[0]["fields"]}
    assert lanes["Lane"].startswith("priority")
    # A bare name gives Bob the newest version he may use: the configured one, standard lane.
    plain = await fake.slash("imagine", {"prompt": "a dog --model tiny"}, user=bob)
    job = await get_job(bot.db, job_id_of(await plain.wait_original(is_result, timeout=30)))
    assert job is not None
    assert (job.model, job.lane) == ("tiny:1", Lane.STANDARD)

    # Three days later the timer opens it to everyone, and says so once in the channel.
    clock.now = RELEASE_DAY + timedelta(days=3)
    await bot.phases.tick()
    await bot.phases.tick()
    await fake.wait_for_message(lambda m: "**tiny:2** is now available" in m.content)
    opened = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=bob)
    job = await get_job(bot.db, job_id_of(await opened.wait_original(is_result, timeout=30)))
    assert job is not None
    assert (job.model, job.lane) == ("tiny:2", Lane.STANDARD)
    for said in ("is now available", "**tiny:2** is released"):
        assert len([m for m in fake.channel_messages(fake.channel_id) if said in m.content]) == 1


async def test_early_access_that_ended_during_downtime_opens_at_start_up_announced_once(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(RELEASE_DAY)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    maker = fake.add_user("maker")
    added = await fake.slash(
        "models add",
        {
            "name": "tiny",
            "version": "2",
            "source": str(bots.model_dir),
            "family": "sd1",
            "creator": maker,
        },
        user=mod,
    )
    await added.wait_original()
    await funded_campaign_for(
        bot.db,
        "tiny:2",
        {alice.id: "100"},
        early_access_days=2,
        guild_id=fake.guild_id,
        channel_id=fake.channel_id,
        owner_id=maker.id,
    )
    released = await fake.slash(
        "models release", {"model": "tiny:2", "early_access_days": 1}, user=mod
    )
    await released.wait_original()
    await bots.stop(bot)

    clock.now = RELEASE_DAY + timedelta(days=5)  # down for five days
    bot = await bots.start(clock=clock)
    await fake.wait_for_message(lambda m: "**tiny:2** is now available" in m.content)
    assert bot.db is not None
    assert (await find_version(bot.db, "tiny:2")).status is VersionStatus.AVAILABLE
    await bot.phases.tick()
    listing = await fake.slash("models info", {"model": "tiny:2"}, user=bob)
    shown = await listing.wait_original(lambda m: not m.loading)
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["Status"] == "available"
    announcements = [
        m for m in fake.channel_messages(fake.channel_id) if "is now available" in m.content
    ]
    assert len(announcements) == 1


async def test_members_may_look_but_only_moderators_change_the_registry(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    await bots.start()
    mod = fake.add_user("mod", manage_guild=True)
    refused_add = await fake.slash(
        "models add",
        {"name": "mine", "version": "1", "source": "org/mine", "family": "sd1"},
        user=alice,
    )
    assert "Only moderators can add models" in (await refused_add.wait_original()).content
    assert refused_add.ephemeral
    for command, options in (
        ("models edit", {"model": "tiny:1", "description": "mine now"}),
        ("models certify", {"model": "tiny:1"}),
        ("models release", {"model": "tiny:1"}),
        ("models retire", {"model": "tiny:1"}),
    ):
        rec = await fake.slash(command, options, user=alice)
        assert "🔒 Only moderators" in (await rec.wait_original()).content, command

    bad = await fake.slash(
        "models add",
        {"name": "my model", "version": "1", "source": "org/m", "family": "sd1"},
        user=mod,
    )
    assert "not a valid model name" in (await bad.wait_original()).content
    link = await fake.slash(
        "models add",
        {
            "name": "mine",
            "version": "1",
            "source": "org/mine",
            "family": "flux",
            "license_url": "javascript:alert(1)",
        },
        user=mod,
    )
    assert "http:// or https://" in (await link.wait_original()).content
    missing = await fake.slash(
        "models add",
        {"name": "mine", "version": "1", "source": "./nowhere.safetensors", "family": "sd1"},
        user=mod,
    )
    assert "is not a model Atelier can use" in (await missing.wait_original()).content

    certified = await fake.slash("models certify", {"model": "tiny:1"}, user=mod)
    assert "now certified ✔" in (await certified.wait_original()).content
    info = await fake.slash("models info", {"model": "tiny"}, user=alice)
    embed = (await info.wait_original(lambda m: not m.loading)).embeds[0]
    assert embed["title"] == "tiny:1 ✔"
    # It counts every image made: "thinking…" first, only for the member who asked.
    assert (info.response_type, info.ephemeral) == (5, True)
    choices = await fake.autocomplete("models info", {"model": "ti"}, "model", user=alice)
    await choices.wait_acknowledged()
    assert {"tiny", "tiny:1"} <= {choice["value"] for choice in choices.choices or []}
    retired = await fake.slash("models retire", {"model": "tiny:1"}, user=mod)
    assert "is retired" in (await retired.wait_original()).content
    gone = await fake.slash("imagine", {"prompt": "a cat --model tiny"}, user=alice)
    assert re.search(
        r"`tiny:1` is retired; available: `tiny-sd`", (await gone.wait_original()).content
    )


async def test_outside_the_home_server_moderators_neither_change_the_registry_nor_skip_backing(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    # The bot's home server is another one; in this server "mod" has Manage Server.
    clock = FakeClock(RELEASE_DAY)
    bot = await bots.start(clock=clock, home_guild_ids=str(fake.guild_id + 1))
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    await new_version(bot.db, "tiny:2", source=str(bots.model_dir))
    await funded_campaign_for(bot.db, "tiny:2", {alice.id: "100"}, early_access_days=3)
    await release_version(bot.db, "tiny:2", early_access_days=None, now=RELEASE_DAY)
    before = await all_versions(bot.db)

    for command, options in (
        ("models add", {"name": "mine", "version": "1", "source": "org/mine", "family": "sd1"}),
        ("models edit", {"model": "tiny:1", "description": "ours now"}),
        ("models certify", {"model": "tiny:1"}),
        ("models release", {"model": "tiny:2"}),
        ("models retire", {"model": "tiny:1"}),
    ):
        rec = await fake.slash(command, options, user=mod)
        refusal = await rec.wait_original()
        assert rec.ephemeral, command
        assert "managed in the operator's home server" in refusal.content, command

    assert await all_versions(bot.db) == before
    # Early access is for the backers (Alice); this server's moderator is not let in.
    refused = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=mod)
    assert "is in early access for the backers" in (await refused.wait_original()).content
    backed = await fake.slash("imagine", {"prompt": "a cat --model tiny:2"}, user=alice)
    await backed.wait_original(is_result, timeout=30)
    # Nor may they start a campaign for someone else's upcoming version (it would decide
    # that version's early access in every server).
    await new_version(bot.db, "tiny:3", source=str(bots.model_dir))
    campaign = await fake.slash(
        "campaign create",
        {"model": "tiny:3", "goal": "100", "currency": "USD", "deadline": "7"},
        user=mod,
    )
    refusal = await campaign.wait_original(lambda m: bool(m.content))
    assert (
        "Only the creator of `tiny:3` or a moderator of Atelier's home server (from there) "
        "can start a campaign for it." in refusal.content
    )
    tiny3 = await find_version(bot.db, "tiny:3")
    assert (
        await bot.db.fetchone("SELECT id FROM campaigns WHERE version_id = ?", (tiny3.id,)) is None
    )


async def test_a_source_must_be_a_model_and_refusals_reveal_nothing_about_other_paths(
    bots: Bots, fake: FakeDiscord, tmp_path: Path
) -> None:
    """``/etc/passwd``, a missing file, a folder that is no model and a text file named
    like weights get the same answer (only the path typed differs); nothing is added."""
    bot = await bots.start()
    mod = fake.add_user("mod", manage_guild=True)
    (tmp_path / "not-a-model").mkdir()
    fake_weights = tmp_path / "fake.safetensors"
    fake_weights.write_text("root:x:0:0:root:/root:/bin/bash\n")
    answers = []
    for source in (
        "/etc/passwd",
        "/etc",
        str(tmp_path / "missing.safetensors"),
        str(tmp_path / "not-a-model"),
        str(fake_weights),
        "../../etc/passwd",
    ):
        rec = await fake.slash(
            "models add",
            {"name": "leak", "version": "1", "source": source, "family": "sd1"},
            user=mod,
        )
        answer = await rec.wait_original()
        assert rec.ephemeral
        assert "root:" not in answer.content
        answers.append(answer.content.replace(source[:80], "PATH"))
    assert len(set(answers)) == 1, answers
    assert answers[0].startswith("⚠️ `PATH` is not a model Atelier can use")
    assert bot.db is not None
    assert not [v for v in await all_versions(bot.db) if v.name == "leak"]

    accepted = await fake.slash(
        "models add",
        {"name": "leak", "version": "1", "source": str(bots.model_dir), "family": "sd1"},
        user=mod,
    )
    assert "✅ Added **leak:1**" in (await accepted.wait_original()).content
    moved = await fake.slash("models edit", {"model": "leak:1", "source": "/etc"}, user=mod)
    refusal = await moved.wait_original(lambda m: bool(m.content))  # after "thinking…"
    assert refusal.content.startswith("⚠️ `/etc` is not a model")
