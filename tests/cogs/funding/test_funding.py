"""Campaigns through the loopback Discord stand-in: the campaign message, pledging through
the modal, withdrawing, the deadline on a fake clock, the funded announcement and the
backer role; which roles may be backer roles, and the check again when the role is given
(it may have changed since); what happens when the bot may not give
roles (or tell anyone), when Discord fails on one campaign's check, or when a campaign
fails; pledge forms across a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from db.database import Database
from db.guilds import set_moderation_channel, set_moderator_role
from funding.settlement import pending_notices
from registry.versions import NewVersion, add_version
from tests.discord_standin import FakeDiscord, FakeUser, RecordedMessage
from tests.discord_standin.payloads import Perm
from tests.helpers.campaigns import T0
from tests.helpers.clock import FakeClock
from tests.helpers.discord_bots import Bots
from tests.helpers.registry import funded_campaign_for, new_version


def _give_manage_roles(fake: FakeDiscord, user: FakeUser) -> None:
    """Make ``user`` a moderator with Manage Roles (through a role of their own, which the
    bot learns of when it connects: call this before the bot starts)."""
    user.manage_guild = True
    user.roles.append(fake.add_role("Role managers", permissions=Perm.EVERYONE | Perm.MANAGE_ROLES))


async def _upcoming(db: Database, creator: FakeUser) -> None:
    await add_version(
        db,
        NewVersion(
            name="dreamy", version="2", source="org/dreamy", family="sd1", creator_id=creator.id
        ),
        added_by=creator.id,
        now=T0,
    )


def _campaign_message(fake: FakeDiscord) -> RecordedMessage:
    [message] = [
        m
        for m in fake.channel_messages(fake.channel_id)
        if m.embeds and "campaign:" in str(m.custom_ids)
    ]
    return message


def _pledged(message: RecordedMessage) -> str:
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    return str(fields["Pledged"])


async def _create(fake: FakeDiscord, creator: FakeUser, **options: object) -> RecordedMessage:
    rec = await fake.slash(
        "campaign create",
        {"model": "dreamy:2", "goal": "50", "currency": "USD", "deadline": "3", **options},
        user=creator,
    )
    reply = await rec.wait_original(lambda m: not m.loading)
    assert reply.content.startswith("✅ Campaign #1 for `dreamy:2` is open"), reply.content
    deadline = int((T0 + timedelta(days=3)).timestamp())
    assert f"Ends <t:{deadline}:R>" in reply.content
    return _campaign_message(fake)


async def test_create_pledge_withdraw_and_the_deadline_funds_it(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(T0)
    backers_role = fake.add_role("Backers")  # roles reach the bot when it connects
    moderator = fake.add_user("mod")
    _give_manage_roles(fake, moderator)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    await _upcoming(bot.db, alice)

    # A backer role is a moderator's call; Alice made the model, a moderator starts it.
    message = await _create(fake, moderator, backer_role=backers_role, description="Sharper hands")
    embed = message.embeds[0]
    assert embed["title"] == "dreamy:2"
    assert embed["description"] == "Sharper hands"
    assert embed["image"]["url"] == "attachment://progress.png"
    assert [a.filename for a in message.attachments] == ["progress.png"]
    assert _pledged(message) == "0.00 USD of 50.00 USD (0%) · 0 backers"
    deadline = int((T0 + timedelta(days=3)).timestamp())
    assert f"<t:{deadline}:R>" in str(embed["fields"])
    assert message.custom_ids == ["campaign:pledge:1", "campaign:withdraw:1"]

    # Bob pledges through the Pledge button's modal.
    clock.now = T0 + timedelta(hours=1)
    press = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await press.wait_acknowledged()
    assert press.modal is not None
    assert press.modal["title"] == "Pledge to dreamy:2"
    submitted = await fake.submit_modal(press, {"amount": "20", "shown_as": ["public"]}, user=bob)
    reply = await submitted.wait_original()
    assert reply.ephemeral
    assert "You pledged 20.00 USD to **dreamy:2**" in reply.content
    await fake.wait_for(lambda: "20.00 USD of 50.00 USD (40%) · 1 backer" in _pledged(message))

    # A bad amount in the modal is refused with the reason and changes nothing.
    again = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await again.wait_acknowledged()
    assert again.modal is not None
    amount_input, shown_as = (label["component"] for label in again.modal["components"])
    assert amount_input["value"] == "20.00"  # pre-filled with the current pledge
    assert [o["value"] for o in shown_as["options"] if o.get("default")] == ["public"]
    bad = await fake.submit_modal(again, {"amount": "5.555"}, user=bob)
    assert "has 3 decimals, but USD has 2" in (await bad.wait_original()).content

    # Withdraw, then back for 60 (over the goal).
    withdrawn = await fake.press(message.id, "campaign:withdraw:1", user=bob)
    assert "You withdrew your pledge of 20.00 USD" in (await withdrawn.wait_original()).content
    await fake.wait_for(lambda: "0.00 USD of 50.00 USD (0%) · 0 backers" in _pledged(message))
    press = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await press.wait_acknowledged()
    anonymous = await fake.submit_modal(
        press, {"amount": "60", "shown_as": ["anonymous"]}, user=bob
    )
    assert "You are shown as an anonymous backer" in (await anonymous.wait_original()).content
    await fake.wait_for(lambda: "60.00 USD of 50.00 USD (120%) · 1 backer" in _pledged(message))

    # The model's creator may not pledge to its campaign: told at the press, with no form.
    own = await fake.press(message.id, "campaign:pledge:1", user=alice)
    assert "You created this campaign" in (await own.wait_original()).content
    assert own.modal is None

    # The deadline passes: funded, announced once, the backer gets the role.
    clock.now = T0 + timedelta(days=3)
    await bot.phases.tick()
    announcement = await fake.wait_for_message(lambda m: m.content.startswith("🎉"))
    assert announcement.channel_id == fake.channel_id
    assert "60.00 USD pledged of a 50.00 USD goal (120%) by 1 backer" in announcement.content
    assert bob.roles == [backers_role]
    await fake.wait_for(lambda: not message.custom_ids)  # the buttons are gone
    assert "Funded" in str(message.embeds[0]["fields"])
    await bot.phases.tick()
    assert len([m for m in fake.channel_messages() if m.content.startswith("🎉")]) == 1

    late = await fake.slash("pledge", {"campaign": 1, "amount": "10"}, user=bob)
    assert "is funded; pledges can no longer change" in (await late.wait_original()).content
    assert submitted.followups == []  # each form submission was answered once, not twice


async def test_without_manage_roles_moderators_are_told_once(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(T0)
    backers_role = fake.add_role("Backers")
    _give_manage_roles(fake, alice)  # the model's creator is also a moderator here
    # Not a home server: a backer role is still this server's moderators' call.
    bot = await bots.start(clock=clock, home_guild_ids=str(fake.guild_id + 1))
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    await set_moderation_channel(bot.db, fake.guild_id, fake.moderation_channel_id)
    fake.bot_can_manage_roles = False
    carol = fake.add_user("carol")
    await _create(fake, alice, backer_role=backers_role)
    # Both open the pledge form at the same time, then both submit: both are recorded.
    message = _campaign_message(fake)
    forms = [await fake.press(message.id, "campaign:pledge:1", user=u) for u in (bob, carol)]
    for form in forms:
        await form.wait_acknowledged()
    for form, backer in zip(forms, (bob, carol), strict=True):
        done = await fake.submit_modal(form, {"amount": "30", "shown_as": ["public"]}, user=backer)
        assert "You pledged 30.00 USD" in (await done.wait_original()).content

    clock.now = T0 + timedelta(days=3)
    await bot.phases.tick()
    await fake.wait_for_message(lambda m: m.content.startswith("🎉"))
    warnings = [
        m for m in fake.channel_messages(fake.moderation_channel_id) if "Manage Roles" in m.content
    ]
    assert len(warnings) == 1
    assert (bob.roles, carol.roles) == ([], [])
    await bot.phases.tick()  # nothing more, and the bot is still answering
    assert len([m for m in fake.channel_messages() if "Manage Roles" in m.content]) == 1
    shown = await fake.slash("campaign show", {"campaign": 1}, user=bob)
    assert "Your pledge: 30.00 USD" in (await shown.wait_original()).content
    listing = await fake.slash("campaign list", {}, user=bob)
    assert (
        "**#1 dreamy:2** (funded) — 60.00 USD of 50.00 USD (120%)"
        in (await listing.wait_original()).content
    )

    # The owner's export: the ledger and the per-backer amounts; others may not have it.
    refused = await fake.slash("campaign export", {"campaign": 1}, user=bob)
    assert "Only the campaign's owner or a moderator" in (await refused.wait_original()).content
    export = await fake.slash("campaign export", {"campaign": 1}, user=alice)
    files = await export.wait_original()
    assert [a.filename for a in files.attachments] == [
        "campaign-1-ledger.csv",
        "campaign-1-backers.csv",
    ]
    backers = files.attachments[1].data.decode().splitlines()
    assert sorted(backers[1:]) == sorted(
        f"{user.id},no,3000,30.00,USD,owed" for user in (bob, carol)
    )


async def test_a_closed_campaign_refuses_alike_from_the_command_the_button_and_the_form(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    """One road for refusals: /pledge, the Pledge button and a pledge form opened before
    the deadline all tell the member ephemerally when the campaign closed."""
    clock = FakeClock(T0)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    message = await _create(fake, alice)
    form = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await form.wait_acknowledged()
    assert form.modal is not None

    clock.now = T0 + timedelta(days=3, minutes=1)
    closed = f"<t:{int((T0 + timedelta(days=3)).timestamp())}:R>"
    command = await fake.slash("pledge", {"campaign": 1, "amount": "10"}, user=bob)
    button = await fake.press(message.id, "campaign:pledge:1", user=bob)
    submitted = await fake.submit_modal(form, {"amount": "10", "shown_as": ["public"]}, user=bob)
    for rec in (command, button, submitted):
        answer = await rec.wait_original()
        assert rec.ephemeral
        assert answer.content.startswith("⚠️ "), answer.content
        assert "Campaign #1" in answer.content
        assert closed in answer.content
    assert button.modal is None
    assert _pledged(message) == "0.00 USD of 50.00 USD (0%) · 0 backers"
    unknown = await fake.slash("pledge", {"campaign": 7, "amount": "10"}, user=bob)
    assert (await unknown.wait_original()).content == (
        "⚠️ There is no campaign #7. `/campaign list` shows this server's campaigns."
    )


async def test_buttons_work_after_a_restart_and_a_failure_is_caught_up_after_downtime(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(T0)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    message = await _create(fake, alice)
    # Bob opens the pledge form, and leaves it open while the bot restarts.
    opened_before = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await opened_before.wait_acknowledged()
    await bots.stop(bot)

    clock.now = T0 + timedelta(days=1)
    bot = await bots.start(clock=clock)
    submitted = await fake.submit_modal(
        opened_before, {"amount": "10", "shown_as": ["anonymous"]}, user=bob
    )
    answer = (await submitted.wait_original()).content
    assert "You pledged 10.00 USD" in answer
    assert "anonymous backer" in answer
    # The Pledge button on the old message still opens the form, pre-filled.
    press = await fake.press(message.id, "campaign:pledge:1", user=bob)
    await press.wait_acknowledged()
    assert press.modal is not None
    assert press.modal["components"][0]["component"]["value"] == "10.00"
    await bots.stop(bot)

    # The bot is down over the deadline; at start-up it catches up.
    clock.now = T0 + timedelta(days=5)
    await bots.start(clock=clock)
    announcement = await fake.wait_for_message(lambda m: "did not reach its goal" in m.content)
    assert "10.00 USD pledged of 50.00 USD (20%)" in announcement.content
    assert str(bob.id) not in announcement.content  # an anonymous backer stays anonymous
    dm = await fake.wait_for_message(lambda m: m.channel_id == fake.dm_channel_id(bob))
    assert "Your pledge of 10.00 USD is void: you owe nothing." in dm.content
    await fake.wait_for(lambda: not message.custom_ids)


async def test_only_a_harmless_role_the_bot_can_give_may_be_the_backer_role(
    bots: Bots, fake: FakeDiscord, alice: FakeUser
) -> None:
    curators = fake.add_role("Curators")  # made the moderator role below
    helpers = fake.add_role("Helpers", permissions=Perm.EVERYONE | Perm.KICK_MEMBERS)
    patrons = fake.add_role("Patrons", above_bot=True)
    backers = fake.add_role("Backers")
    moderator = fake.add_user("mod")
    _give_manage_roles(fake, moderator)
    # Moderators without Manage Roles: one whose highest role is the Moderator role (below
    # Backers), one who also has a role above Backers.
    junior = fake.add_user("junior", manage_guild=True)
    senior = fake.add_user("senior", manage_guild=True)
    senior.roles.append(fake.add_role("Senior staff"))
    bot = await bots.start(clock=FakeClock(T0))
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    await set_moderator_role(bot.db, fake.guild_id, curators)

    async def refusal(role: int, by: FakeUser) -> str:
        rec = await fake.slash(
            "campaign create",
            {
                "model": "dreamy:2",
                "goal": "50",
                "currency": "USD",
                "deadline": "3",
                "backer_role": role,
            },
            user=by,
        )
        return (await rec.wait_original(lambda m: not m.loading)).content

    # The model's creator may start a campaign, but not hand out a role with it.
    assert "Only this server's moderators can set a backer role" in await refusal(backers, alice)
    cases = {
        fake.guild_id: "@everyone can't be the backer role",
        fake.bot_role_id: "is managed by an integration",
        curators: "is this server's moderator role",
        fake.moderator_role_id: "(Manage Server, Manage Messages)",
        helpers: "(Kick Members)",
        patrons: "is at or above my highest role",
    }
    for role, reason in cases.items():
        assert reason in await refusal(role, moderator), reason
    # Without Manage Roles, Discord would not let Junior give Backers by hand: nor may the bot.
    assert (
        "is at or above your highest role (<@&"
        f"{fake.moderator_role_id}>) and you don't have the Manage Roles permission"
    ) in await refusal(backers, junior)
    assert not fake.channel_messages(fake.channel_id)  # nothing was created
    created = await _create(fake, senior, backer_role=backers)
    assert created.custom_ids == ["campaign:pledge:1", "campaign:withdraw:1"]


async def test_without_manage_roles_or_a_channel_to_say_so_the_warning_is_given_up(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, bob: FakeUser
) -> None:
    clock = FakeClock(T0)
    backers_role = fake.add_role("Backers")
    _give_manage_roles(fake, alice)
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    await set_moderation_channel(bot.db, fake.guild_id, fake.moderation_channel_id)
    rec = await fake.slash(
        "campaign create",
        {
            "model": "dreamy:2",
            "goal": "50",
            "currency": "USD",
            "deadline": "3",
            "start": "1",
            "backer_role": backers_role,
        },
        user=alice,
    )
    assert "✅ Campaign #1" in (await rec.wait_original(lambda m: not m.loading)).content
    message = _campaign_message(fake)

    # Before the start the Pledge button says when pledges open, and opens no form.
    early = await fake.press(message.id, "campaign:pledge:1", user=bob)
    opens = int((T0 + timedelta(days=1)).timestamp())
    assert f"opens for pledges <t:{opens}:R>" in (await early.wait_original()).content
    assert early.modal is None

    clock.now = T0 + timedelta(days=2)
    pledged = await fake.slash("pledge", {"campaign": 1, "amount": "50"}, user=bob)
    assert "You pledged 50.00 USD" in (await pledged.wait_original()).content

    # No Manage Roles, and the moderation channel refuses the bot's posts too.
    fake.bot_can_manage_roles = False
    moderation_posts = f"/channels/{fake.moderation_channel_id}/messages"
    fake.fail_next("POST", moderation_posts, status=403, times=10)
    clock.now = T0 + timedelta(days=4)
    await bot.phases.tick()
    await fake.wait_for_message(lambda m: m.content.startswith("🎉"))
    assert await pending_notices(bot.db) == []  # given up on, not retried
    clock.now += timedelta(minutes=5)
    await bot.phases.tick()
    tries = [r for r in fake.requests if r.method == "POST" and r.path == moderation_posts]
    assert len(tries) == 1
    assert bob.roles == []


async def _gains_kick_members(fake: FakeDiscord, db: Database, role: int) -> None:
    await fake.update_role(role, permissions=Perm.EVERYONE | Perm.KICK_MEMBERS)


async def _becomes_the_moderator_role(fake: FakeDiscord, db: Database, role: int) -> None:
    await set_moderator_role(db, fake.guild_id, role)


async def _moves_above_the_bot(fake: FakeDiscord, db: Database, role: int) -> None:
    await fake.update_role(role, above_bot=True)


async def _is_deleted(fake: FakeDiscord, db: Database, role: int) -> None:
    await fake.delete_role(role)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            _gains_kick_members,
            "<@&{role}> carries permissions that must not come with a pledge (Kick Members)",
        ),
        (_becomes_the_moderator_role, "<@&{role}> is this server's moderator role"),
        (_moves_above_the_bot, "<@&{role}> is at or above my highest role"),
        (_is_deleted, "The backer role (id {role}) no longer exists on this server"),
    ],
)
async def test_a_backer_role_changed_since_the_campaign_began_is_checked_again(
    bots: Bots,
    fake: FakeDiscord,
    alice: FakeUser,
    bob: FakeUser,
    change: Callable[[FakeDiscord, Database, int], Awaitable[None]],
    reason: str,
) -> None:
    clock = FakeClock(T0)
    backers_role = fake.add_role("Backers")
    moderator = fake.add_user("mod")
    _give_manage_roles(fake, moderator)
    carol = fake.add_user("carol")
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    await _upcoming(bot.db, alice)
    await set_moderation_channel(bot.db, fake.guild_id, fake.moderation_channel_id)
    await _create(fake, moderator, backer_role=backers_role)  # harmless when chosen
    clock.now = T0 + timedelta(hours=1)
    for backer in (bob, carol):
        pledged = await fake.slash("pledge", {"campaign": 1, "amount": "30"}, user=backer)
        assert "You pledged 30.00 USD" in (await pledged.wait_original()).content

    await change(fake, bot.db, backers_role)  # while the campaign runs
    clock.now = T0 + timedelta(days=3)
    await bot.phases.tick()
    await fake.wait_for_message(lambda m: m.content.startswith("🎉"))
    [warning] = [
        m for m in fake.channel_messages(fake.moderation_channel_id) if "backer role" in m.content
    ]
    assert "I did not give the backer role to the backers of **dreamy:2** (#1)" in warning.content
    assert reason.format(role=backers_role) in warning.content
    if change is _is_deleted:  # Discord would show a deleted role's mention as @deleted-role
        assert "<@&" not in warning.content
    assert (bob.roles, carol.roles, fake.role_grants) == ([], [], [])
    assert await pending_notices(bot.db) == []  # given up on, not retried
    clock.now += timedelta(minutes=5)
    await bot.phases.tick()
    assert len([m for m in fake.channel_messages() if "backer role" in m.content]) == 1


async def test_when_discord_fails_on_one_campaigns_server_only_its_roles_wait(
    bots: Bots, fake: FakeDiscord, bob: FakeUser
) -> None:
    clock = FakeClock(T0 + timedelta(days=10))  # both campaigns below are settled, funded, by then
    first_role, second_role = fake.add_role("First backers"), fake.add_role("Second backers")
    carol = fake.add_user("carol")
    bot = await bots.start(clock=clock)
    assert bot.db is not None
    # Discord answers the first look-up of the server with a 503 (discord.py doesn't retry).
    fake.fail_next("GET", rf"^/guilds/{fake.guild_id}$", status=503)
    for key, backer, role in (("dreamy:2", bob, first_role), ("dreamy:3", carol, second_role)):
        await new_version(bot.db, key)
        await funded_campaign_for(
            bot.db,
            key,
            {backer.id: "100"},
            guild_id=fake.guild_id,
            channel_id=fake.channel_id,
            backer_role_id=role,
        )

    await bot.phases.tick()
    assert (bob.roles, carol.roles) == ([], [second_role])  # the second campaign's went out
    [waiting] = await pending_notices(bot.db)
    assert (waiting.campaign_id, waiting.backer_id) == (1, bob.id)
    clock.now += timedelta(minutes=1)
    await bot.phases.tick()
    assert (bob.roles, carol.roles) == ([first_role], [second_role])
    assert await pending_notices(bot.db) == []
    assert not [m for m in fake.channel_messages() if "backer role" in m.content]  # no refusal
