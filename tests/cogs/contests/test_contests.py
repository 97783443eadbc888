"""A contest through the loopback Discord stand-in: opening, entering with the Submit button
under an upscale, voting with the Vote button, closing on a fake clock, the results and the
ballot file; and who counts as a moderator."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from db.jobs import JobKind
from db.users import UserSettings, save_user_settings
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.discord_standin.payloads import Perm
from tests.helpers.clock import FakeClock
from tests.helpers.contests import make_job
from tests.helpers.discord_bots import Bots, is_result


def is_result_file(message: RecordedMessage) -> bool:
    return bool(message.attachments)


def _in_channel(fake: FakeDiscord, text: str) -> list[RecordedMessage]:
    return [
        m
        for m in fake.channel_messages(fake.channel_id)
        if text in m.content or any(text in str(e) for e in m.embeds)
    ]


async def test_open_submit_vote_close_and_results(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    bot = await bots.start(clock=clock)
    mod = fake.add_user("mod", manage_guild=True)

    opened = await fake.slash(
        "contest open", {"theme": "foxes in snow", "submit_days": 1, "vote_days": 1}, user=mod
    )
    reply = await opened.wait_original()
    assert opened.ephemeral
    assert reply.content.startswith("✅ Contest #1 “foxes in snow” is open")
    opening = await fake.wait_for_message(
        lambda m: bool(m.embeds) and "Contest #1 is open" in m.embeds[0]["title"]
    )
    deadline = int((start + timedelta(days=1)).timestamp())
    assert f"<t:{deadline}:R>" in str(opening.embeds[0]["fields"])
    assert "3 votes per member" in str(opening.embeds[0]["fields"])
    busy = await fake.slash("contest open", {"theme": "owls"}, user=mod)
    refusal = (await busy.wait_original()).content
    assert f"still accepting entries until <t:{deadline}:R>;" in refusal
    assert "UTC" not in refusal

    # Alice makes an image, upscales it, and enters it with the button under the upscale.
    grid = await (await fake.slash("imagine", {"prompt": "a fox"}, user=alice)).wait_original(
        is_result, timeout=30
    )
    job = re.search(r"atelier:u:(\d+):0", " ".join(grid.custom_ids))
    assert job is not None
    upscale = await fake.press(grid.id, f"atelier:u:{job[1]}:0", user=alice)
    upscaled = await upscale.wait_original(lambda m: bool(m.attachments), timeout=30)
    assert "Submit to contest" in upscaled.button_labels
    [submit_id] = [c for c in upscaled.custom_ids if c.startswith("contest:submit:")]
    stranger = await fake.press(upscaled.id, submit_id, user=bob)
    assert "someone else's" in (await stranger.wait_original()).content
    entered = await fake.press(upscaled.id, submit_id, user=alice)
    receipt = await entered.wait_original()
    assert entered.ephemeral
    assert "is entered in Contest #1 “foxes in snow”" in receipt.content
    # /show of the upscale offers the same button while the contest takes entries.
    upscale_job = submit_id.split(":")[2]
    shown = await fake.slash("show", {"job_id": int(upscale_job)}, user=alice)
    assert "Submit to contest" in (await shown.wait_original(is_result_file)).button_labels

    # A day later voting starts: the entry is posted without its author, with a Vote button.
    clock.now = start + timedelta(days=1)
    await bot.phases.tick()
    header = await fake.wait_for_message(lambda m: "Voting is open for Contest #1" in m.content)
    post = await fake.wait_for_message(lambda m: m.content.startswith("**Entry #1**"))
    assert post.id > header.id
    assert alice.mention not in post.content
    assert [a.filename for a in post.attachments] == ["entry-1.png"]
    assert post.button_labels == ["Vote"]

    own = await fake.press(post.id, post.custom_ids[0], user=alice)
    assert "your own entry" in (await own.wait_original()).content
    vote = await fake.press(post.id, post.custom_ids[0], user=bob)
    counted = await vote.wait_original()
    assert vote.ephemeral
    assert "Vote counted for entry #1. You have 2 votes left." in counted.content
    # Times reach Discord as its timestamp markup (each member's own time zone), never UTC.
    closes = int((start + timedelta(days=2)).timestamp())
    assert f"Counts stay hidden until the results (<t:{closes}:R>)." in counted.content
    assert _in_channel(fake, "1 vote") == []  # counts stay hidden until the results
    early = await fake.slash("contest ballots", {"contest": 1}, user=mod)
    assert "published with the results" in (await early.wait_original()).content

    # Voting ends: results with the author, the votes, the voters and the ballot hash.
    clock.now = start + timedelta(days=2)
    await bot.phases.tick()
    results = await fake.wait_for_message(
        lambda m: bool(m.embeds) and "Results of Contest #1" in m.embeds[0]["title"]
    )
    embed = results.embeds[0]
    assert f"Entry #1 by {alice.mention} — 1 vote (+1 point)" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Voters"] == "1"
    published = re.search(r"`([0-9a-f]{64})`", fields["Ballot list SHA-256"])
    assert published is not None
    # The entry's post now names its author and votes, and takes no more votes.
    assert post.content.startswith(f"**Entry #1** by {alice.mention} — 1 vote")
    assert post.custom_ids == []

    ballots = await fake.slash("contest ballots", {"contest": 1}, user=mod)
    answer = await ballots.wait_original()
    [csv_file] = answer.attachments
    assert csv_file.data.decode() == f"voter_id,entry_number\n{bob.id},1\n"
    assert hashlib.sha256(csv_file.data).hexdigest() == published[1]
    # Each announcement once, even after another tick.
    await bot.phases.tick()
    assert len(_in_channel(fake, "Results of Contest #1")) == 1
    assert len(_in_channel(fake, "Contest #1 is open")) == 1
    # Announcements name members without notifying them; only Alice's own job messages may.
    for message in fake.messages.values():
        assert set(message.pinged) <= {alice.id}, message.content


async def test_the_moderator_role_without_manage_server_may_open_a_contest(
    bots: Bots, fake: FakeDiscord, bob: FakeUser
) -> None:
    host_role = fake.add_role("Contest hosts")  # before the bot connects: roles come at login
    host = fake.add_user("host")
    host.roles.append(host_role)
    bot = await bots.start()
    admin = fake.add_user("admin", manage_guild=True)
    set_role = await fake.slash("admin moderator-role", {"role": host_role}, user=admin)
    assert "can now moderate" in (await set_role.wait_original()).content

    refused = await fake.slash("contest open", {"theme": "owls"}, user=bob)
    assert "Only moderators can open contests" in (await refused.wait_original()).content
    assert await bot.db.fetchone("SELECT * FROM contests") is None

    opened = await fake.slash("contest open", {"theme": "owls"}, user=host)
    assert "Contest #1 “owls” is open" in (await opened.wait_original()).content
    await fake.wait_for_message(lambda m: bool(m.embeds) and "owls" in m.embeds[0]["title"])


async def test_replacing_an_entry_asks_first_and_a_disqualified_entrant_is_told_privately(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(datetime.now(UTC))
    bot = await bots.start(clock=clock)
    mod = fake.add_user("mod", manage_guild=True)
    log_channel = await fake.slash(
        "admin channel moderation", {"channel": fake.moderation_channel_id}, user=mod
    )
    await log_channel.wait_original()
    await (await fake.slash("contest open", {"theme": "rain"}, user=mod)).wait_original()
    first, second = [await make_job(bot.db, alice.id, clock.now) for _ in range(2)]
    bobs = await make_job(bot.db, bob.id, clock.now)

    entered = await fake.slash("contest submit", {"job_id": first, "index": 2}, user=alice)
    assert f"Image 2 of job #{first} is entered" in (await entered.wait_original()).content
    again = await fake.slash("contest submit", {"job_id": second}, user=alice)
    ask = await again.wait_original()
    assert "replaces your earlier entry" in ask.content
    voting = int((clock.now + timedelta(days=3)).timestamp())  # submissions last 3 days
    assert f"you can change it until <t:{voting}:R>." in ask.content
    assert ask.button_labels == ["Replace my entry"]
    confirm = await fake.press(ask.id, ask.custom_ids[0], user=alice)
    replaced = await confirm.wait_original()
    assert f"It replaces image 2 of job #{first}" in replaced.content
    assert replaced.custom_ids == []
    await (await fake.slash("contest submit", {"job_id": bobs}, user=bob)).wait_original()
    # Entering the upscale of her entered image swaps it in after the same confirmation.
    upscale = await make_job(
        bot.db, alice.id, clock.now, images=1, kind=JobKind.UPSCALE, parent=(second, 0)
    )
    ask = await (
        await fake.slash("contest submit", {"job_id": upscale}, user=alice)
    ).wait_original()
    assert "voters see the larger version" in ask.content
    confirm = await fake.press(ask.id, ask.custom_ids[0], user=alice)
    assert f"It replaces image 1 of job #{second}" in (await confirm.wait_original()).content

    listing = await fake.slash("contest entries", {"contest": 1}, user=mod)
    listed = (await listing.wait_original()).content
    assert "4 entries" in listed
    assert (
        f"entry **1** (not numbered yet) by {alice.mention}: image 2 of job #{first} — **replaced**"
        in listed
    )

    dq = await fake.slash("contest disqualify", {"entry_id": 4, "reason": "not rain"}, user=mod)
    assert "They were told by DM" in (await dq.wait_followup()).content
    dm = fake.dm_channel_id(alice)
    assert dm is not None
    [told] = fake.channel_messages(dm)
    assert "was disqualified by the moderators: not rain" in told.content
    assert "You can enter another image" in told.content
    back = await fake.slash("contest submit", {"job_id": second}, user=alice)
    assert "not rain; it cannot enter again" in (await back.wait_original()).content

    fake.fail_next("POST", r"^/users/@me/channels$", status=403, code=50007, message="closed")
    dq = await fake.slash("contest disqualify", {"entry_id": 3, "reason": "off topic"}, user=mod)
    assert "were not told" in (await dq.wait_followup()).content
    logged = [m.content for m in fake.channel_messages(fake.moderation_channel_id)]
    assert len(logged) == 2
    assert logged[0].startswith(f"🚫 {mod.mention} disqualified entry 4 (by {alice.mention}")
    assert logged[1].endswith("off topic — the entrant could not be told (DMs closed)")


async def test_phases_missed_while_the_bot_was_down_are_announced_once_on_start(
    bots: Bots, fake: FakeDiscord
) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    bot = await bots.start(clock=clock)
    mod = fake.add_user("mod", manage_guild=True)
    await (await fake.slash("contest theme add", {"theme": "owls"}, user=mod)).wait_original()
    weekday = (start + timedelta(hours=1)).weekday()
    hour = (start + timedelta(hours=1)).hour
    scheduled = await fake.slash(
        "contest schedule",
        {"weekday": weekday, "hour": hour, "submit_days": 1, "vote_days": 1},
        user=mod,
    )
    assert "Weekly contests" in (await scheduled.wait_original()).content
    listed = await (await fake.slash("contest list", user=mod)).wait_original()
    assert listed.content.startswith("Weekly contests: every ")
    assert "**#1** theme picked at opening" in listed.content
    await bots.stop(bot)

    # Down through the opening time: the contest opens at start-up, announced once, and a
    # second restart announces nothing again.
    clock.now = start + timedelta(hours=13)
    bot = await bots.start(clock=clock)
    await fake.wait_for_message(lambda m: bool(m.embeds) and "owls" in m.embeds[0]["title"])
    await bots.stop(bot)
    bot = await bots.start(clock=clock)
    await bot.phases.tick()
    texts = [m.embeds[0]["title"] if m.embeds else m.content for m in fake.channel_messages()]
    assert texts == ["🏆 Contest #1 is open: “owls”"]
    row = await bot.db.fetchone("SELECT state FROM contests WHERE id = 1")
    assert row["state"] == "submissions"


async def test_a_contest_needs_a_channel_the_bot_can_post_in(bots: Bots, fake: FakeDiscord) -> None:
    gallery = fake.add_channel("gallery")
    await fake.deny_bot(gallery, Perm.ATTACH_FILES | Perm.EMBED_LINKS)
    bot = await bots.start()
    mod = fake.add_user("mod", manage_guild=True)

    # Another channel: the bot's permissions there come from its cache of the guild.
    elsewhere = await fake.slash("contest open", {"theme": "owls", "channel": gallery}, user=mod)
    assert (
        f"I can't run a contest in <#{gallery}>: I need the **Attach Files** and "
        "**Embed Links** permissions there"
    ) in (await elsewhere.wait_original()).content
    weekly = await fake.slash(
        "contest schedule", {"weekday": 0, "hour": 12, "channel": gallery}, user=mod
    )
    assert "**Attach Files** and **Embed Links**" in (await weekly.wait_original()).content
    # The channel the command runs in: Discord says what the bot may do there.
    await fake.deny_bot(fake.channel_id, Perm.SEND_MESSAGES)
    here = await fake.slash("contest open", {"theme": "owls"}, user=mod)
    assert "I need the **Send Messages** permission there" in (await here.wait_original()).content
    assert await bot.db.fetchone("SELECT * FROM contests") is None
    assert await bot.db.fetchone("SELECT * FROM contest_schedules") is None

    # Allowed again, the contest opens; when the channel is closed to the bot later, the
    # moderators hear of it once, in the moderation channel.
    await fake.deny_bot(fake.channel_id, 0)
    await (
        await fake.slash(
            "admin channel moderation", {"channel": fake.moderation_channel_id}, user=mod
        )
    ).wait_original()
    await (await fake.slash("contest open", {"theme": "owls"}, user=mod)).wait_original()
    await fake.wait_for_message(lambda m: bool(m.embeds) and "owls" in m.embeds[0]["title"])
    await fake.deny_bot(fake.channel_id, Perm.SEND_MESSAGES)
    for _ in range(2):
        extend = await fake.slash("contest extend", {"contest": 1, "days": 1}, user=mod)
        await extend.wait_original()
    warning = await fake.wait_for_message(
        lambda m: m.channel_id == fake.moderation_channel_id and "can't post" in m.content
    )
    assert warning.content.startswith(f"⚠️ I can't post Contest #1 — “owls” in <#{fake.channel_id}>")
    await bot.phases.tick()  # waits for the second refused post to be handled
    assert len(fake.channel_messages(fake.moderation_channel_id)) == 1


async def test_entries_are_disqualified_by_number_and_a_cancelled_vote_closes_the_posts(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    bot = await bots.start(clock=clock)
    mod = fake.add_user("mod", manage_guild=True)
    carol = fake.add_user("carol")
    opened = await fake.slash(
        "contest open", {"theme": "rain", "submit_days": 1, "vote_days": 2}, user=mod
    )
    await opened.wait_original()
    for user in (alice, bob, carol):
        job = await make_job(bot.db, user.id, clock.now)
        await (await fake.slash("contest submit", {"job_id": job}, user=user)).wait_original()
    early = await fake.slash("contest disqualify", {"entry": 1, "reason": "x"}, user=mod)
    assert "get their numbers when voting starts" in (await early.wait_followup()).content

    clock.now = start + timedelta(days=1)
    await bot.phases.tick()
    posts = [
        await fake.wait_for_message(lambda m, n=n: m.content.startswith(f"**Entry #{n}**"))
        for n in (1, 2, 3)
    ]
    dq = await fake.slash("contest disqualify", {"entry": 2, "reason": "off theme"}, user=mod)
    assert (await dq.wait_followup()).content.startswith("🚫 Entry #2 (id ")
    row = await bot.db.fetchone("SELECT status FROM contest_entries WHERE number = 2")
    assert row["status"] == "disqualified"
    assert posts[1].content == "**Entry #2** was withdrawn by the moderators."
    unknown = await fake.slash("contest disqualify", {"entry": 9, "reason": "x"}, user=mod)
    assert (
        "has no entry #9; its entries are numbered 1–3" in (await unknown.wait_followup()).content
    )

    voter = fake.add_user("voter")
    await (await fake.press(posts[0].id, posts[0].custom_ids[0], user=voter)).wait_original()
    cancel = await fake.slash(
        "contest cancel", {"contest": 1, "reason": "the theme leaked"}, user=mod
    )
    await cancel.wait_original()
    await fake.wait_for_message(lambda m: "was cancelled: the theme leaked" in m.content)
    await bot.phases.tick()  # waits for the cancellation's edits
    for post in (posts[0], posts[2]):
        assert post.custom_ids == []
        assert "(contest cancelled; no votes counted)" in post.content
    assert posts[1].content == "**Entry #2** was withdrawn by the moderators."


async def test_results_caught_up_after_an_outage_keep_private_members_private(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    start = datetime.now(UTC)
    clock = FakeClock(start)
    bot = await bots.start(clock=clock)
    mod = fake.add_user("mod", manage_guild=True)
    opened = await fake.slash(
        "contest open", {"theme": "fog", "submit_days": 1, "vote_days": 1}, user=mod
    )
    await opened.wait_original()
    for user in (alice, bob):
        job = await make_job(bot.db, user.id, clock.now)
        await (await fake.slash("contest submit", {"job_id": job}, user=user)).wait_original()
    await save_user_settings(bot.db, UserSettings(user_id=alice.id, public=False))
    await bots.stop(bot)

    # Down through voting and its end: on start the entries and results come at once.
    clock.now = start + timedelta(days=3)
    bot = await bots.start(clock=clock)
    results = await fake.wait_for_message(
        lambda m: bool(m.embeds) and "Results of Contest #1" in m.embeds[0]["title"]
    )
    await bot.phases.tick()  # waits for the entry posts' edits
    texts = [m.content for m in fake.channel_messages()]
    assert [t for t in texts if "Voting is open" in t] == []
    [header] = [t for t in texts if "Atelier was offline while its voting was due" in t]
    assert "the 2 entries below could not be voted on" in header
    description = results.embeds[0]["description"]
    assert "by a member who keeps their results private — 0 votes" in description
    assert f"by {bob.mention} — 0 votes" in description
    posts = [m for m in fake.channel_messages() if m.content.startswith("**Entry #")]
    assert len(posts) == 2
    assert all(p.custom_ids == [] for p in posts)
    assert sorted("a member who keeps their results private" in p.content for p in posts) == [
        False,
        True,
    ]
    assert alice.mention not in str([(m.content, m.embeds) for m in fake.channel_messages()])
