"""Per-server settings, banned words, refused prompts and queue limits (migration 0003)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from db.database import Database
from db.guilds import (
    GuildSettings,
    add_banned_words,
    banned_words,
    get_blocked_prompt,
    get_guild_settings,
    get_queue_limits,
    mark_appealed,
    record_blocked_prompt,
    remove_banned_words,
    set_buttons_for_everyone,
    set_moderation_channel,
    set_queue_limits,
)
from db.times import to_db_time

T0 = datetime(2026, 11, 21, 23, 8, 25, 123456, tzinfo=UTC)
GUILD = 111
OTHER_GUILD = 222


async def _block(
    db: Database, prompt: str = "a gory scene", matched: list[str] | None = None
) -> int:
    return await record_blocked_prompt(
        db,
        guild_id=GUILD,
        channel_id=5,
        user_id=42,
        prompt=prompt,
        matched=["gore"] if matched is None else matched,
        at=T0,
    )


# --- guild settings ------------------------------------------------------------------------


async def test_a_server_without_a_row_has_every_default(db: Database) -> None:
    settings = await get_guild_settings(db, GUILD)
    assert settings == GuildSettings(GUILD, moderation_channel_id=None, buttons_for_everyone=False)


async def test_setting_the_moderation_channel_keeps_the_buttons_setting(db: Database) -> None:
    await set_buttons_for_everyone(db, GUILD, True)
    await set_moderation_channel(db, GUILD, 999)
    assert await get_guild_settings(db, GUILD) == GuildSettings(GUILD, 999, True)

    await set_moderation_channel(db, GUILD, None)  # appeals switched off again
    assert await get_guild_settings(db, GUILD) == GuildSettings(GUILD, None, True)


async def test_setting_the_buttons_keeps_the_moderation_channel(db: Database) -> None:
    await set_moderation_channel(db, GUILD, 999)
    await set_buttons_for_everyone(db, GUILD, True)
    await set_buttons_for_everyone(db, GUILD, False)
    assert await get_guild_settings(db, GUILD) == GuildSettings(GUILD, 999, False)


async def test_settings_are_per_server(db: Database) -> None:
    await set_moderation_channel(db, GUILD, 999)
    await set_buttons_for_everyone(db, GUILD, True)
    assert await get_guild_settings(db, OTHER_GUILD) == GuildSettings(OTHER_GUILD)


# --- banned words --------------------------------------------------------------------------


async def test_adding_banned_words_returns_only_the_new_ones(db: Database) -> None:
    assert await add_banned_words(db, GUILD, ["gore", "blood"], added_by=1, at=T0) == [
        "gore",
        "blood",
    ]
    added = await add_banned_words(db, GUILD, ["blood", "dead body", "gore"], added_by=2, at=T0)
    assert added == ["dead body"]
    assert await banned_words(db, GUILD) == ["blood", "dead body", "gore"]  # sorted


async def test_removing_banned_words_returns_only_those_that_were_banned(db: Database) -> None:
    await add_banned_words(db, GUILD, ["gore", "blood"], added_by=1, at=T0)
    assert await remove_banned_words(db, GUILD, ["blood", "never banned"]) == ["blood"]
    assert await remove_banned_words(db, GUILD, ["blood"]) == []
    assert await banned_words(db, GUILD) == ["gore"]


async def test_banned_words_are_per_server(db: Database) -> None:
    await add_banned_words(db, GUILD, ["gore"], added_by=1, at=T0)
    assert await banned_words(db, OTHER_GUILD) == []
    assert await add_banned_words(db, OTHER_GUILD, ["gore"], added_by=1, at=T0) == ["gore"]
    assert await remove_banned_words(db, OTHER_GUILD, ["gore"]) == ["gore"]
    assert await banned_words(db, GUILD) == ["gore"]


@pytest.mark.parametrize("word", ["Gore", ""])
async def test_the_schema_refuses_words_that_are_not_lowercased_or_empty(
    db: Database, word: str
) -> None:
    # A plain INSERT: add_banned_words' INSERT OR IGNORE would skip the row silently.
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO banned_words (guild_id, word, added_by, added_at) VALUES (?, ?, 1, ?)",
                (GUILD, word, to_db_time(T0)),
            )
    assert await banned_words(db, GUILD) == []


async def test_the_schema_refuses_a_buttons_setting_other_than_0_or_1(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, buttons_for_everyone) VALUES (?, 2)",
                (GUILD,),
            )
    assert await get_guild_settings(db, GUILD) == GuildSettings(GUILD)


# --- blocked prompts and appeals -----------------------------------------------------------


async def test_a_blocked_prompt_is_recorded_with_what_it_matched(db: Database) -> None:
    blocked_id = await _block(db, "Gore and blood", ["gore", "blood"])
    blocked = await get_blocked_prompt(db, blocked_id)
    assert blocked is not None
    assert blocked.id == blocked_id
    assert (blocked.guild_id, blocked.channel_id, blocked.user_id) == (GUILD, 5, 42)
    assert blocked.prompt == "Gore and blood"
    assert blocked.matched == ("gore", "blood")
    assert blocked.created_at == T0
    assert blocked.appealed_at is None
    assert await get_blocked_prompt(db, blocked_id + 1) is None


async def test_a_blocked_prompt_can_be_appealed_exactly_once(db: Database) -> None:
    blocked_id = await _block(db)
    assert await mark_appealed(db, blocked_id, T0 + timedelta(minutes=1)) is True
    assert await mark_appealed(db, blocked_id, T0 + timedelta(minutes=2)) is False
    blocked = await get_blocked_prompt(db, blocked_id)
    assert blocked is not None
    assert blocked.appealed_at == T0 + timedelta(minutes=1)  # the first appeal's time stays


async def test_two_simultaneous_appeals_record_one(db: Database) -> None:
    blocked_id = await _block(db)
    results = await asyncio.gather(
        mark_appealed(db, blocked_id, T0 + timedelta(seconds=1)),
        mark_appealed(db, blocked_id, T0 + timedelta(seconds=2)),
    )
    assert sorted(results) == [False, True]


async def test_appeals_are_per_prompt(db: Database) -> None:
    first, second = await _block(db), await _block(db)
    assert first != second
    assert await mark_appealed(db, first, T0)
    assert await mark_appealed(db, second, T0)
    assert not await mark_appealed(db, first + second + 100, T0)  # no such prompt


# --- queue limits --------------------------------------------------------------------------


async def test_no_stored_limits_means_the_operators_settings(db: Database) -> None:
    assert await get_queue_limits(db) is None


async def test_queue_limits_are_one_row_that_is_replaced(db: Database) -> None:
    await set_queue_limits(db, max_running=2, max_queued=5, updated_by=7, at=T0)
    later = T0 + timedelta(hours=1)
    await set_queue_limits(db, max_running=1, max_queued=20, updated_by=8, at=later)
    limits = await get_queue_limits(db)
    assert limits is not None
    assert (limits.max_running, limits.max_queued) == (1, 20)
    assert (limits.updated_by, limits.updated_at) == (8, later)
    row = await db.fetchone("SELECT count(*) FROM queue_limits")
    assert row is not None
    assert row[0] == 1


@pytest.mark.parametrize(("running", "queued"), [(0, 5), (2, 0), (-1, -1)])
async def test_the_schema_refuses_limits_below_one(db: Database, running: int, queued: int) -> None:
    await set_queue_limits(db, max_running=2, max_queued=5, updated_by=7, at=T0)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await set_queue_limits(db, max_running=running, max_queued=queued, updated_by=7, at=T0)
    limits = await get_queue_limits(db)
    assert limits is not None
    assert (limits.max_running, limits.max_queued) == (2, 5)  # unchanged
