"""Per-server settings, banned words, refused prompts, and the queue limits set by admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from db.times import from_db_time, to_db_time


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    moderation_channel_id: int | None = None
    buttons_for_everyone: bool = False
    moderator_role_id: int | None = None
    #: The server's work may appear on the web (``/admin gallery on``).
    gallery: bool = False
    gallery_name: str | None = None


@dataclass(frozen=True)
class BlockedPrompt:
    id: int
    guild_id: int
    channel_id: int
    user_id: int
    prompt: str
    matched: tuple[str, ...]
    created_at: datetime
    appealed_at: datetime | None


@dataclass(frozen=True)
class StoredLimits:
    max_running: int
    max_queued: int
    updated_by: int
    updated_at: datetime


async def get_guild_settings(db: Database, guild_id: int) -> GuildSettings:
    row = await db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
    if row is None:
        return GuildSettings(guild_id)
    return GuildSettings(
        guild_id=guild_id,
        moderation_channel_id=row["moderation_channel_id"],
        buttons_for_everyone=bool(row["buttons_for_everyone"]),
        moderator_role_id=row["moderator_role_id"],
        gallery=bool(row["gallery"]),
        gallery_name=row["gallery_name"],
    )


async def set_moderation_channel(db: Database, guild_id: int, channel_id: int | None) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, moderation_channel_id) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET moderation_channel_id = excluded."
            "moderation_channel_id",
            (guild_id, channel_id),
        )


async def set_buttons_for_everyone(db: Database, guild_id: int, everyone: bool) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, buttons_for_everyone) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET buttons_for_everyone = excluded."
            "buttons_for_everyone",
            (guild_id, int(everyone)),
        )


async def set_moderator_role(db: Database, guild_id: int, role_id: int | None) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, moderator_role_id) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = excluded.moderator_role_id",
            (guild_id, role_id),
        )


async def banned_words(db: Database, guild_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT word FROM banned_words WHERE guild_id = ? ORDER BY word", (guild_id,)
    )
    return [row["word"] for row in rows]


async def add_banned_words(
    db: Database, guild_id: int, words: list[str], *, added_by: int, at: datetime
) -> list[str]:
    """Add lowercased ``words``; returns those that were not banned already."""
    added = []
    async with db.transaction() as conn:
        for word in words:
            async with conn.execute(
                "INSERT INTO banned_words (guild_id, word, added_by, added_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, word, added_by, to_db_time(at)),
            ) as cursor:
                if cursor.rowcount == 1:
                    added.append(word)
    return added


async def remove_banned_words(db: Database, guild_id: int, words: list[str]) -> list[str]:
    """Remove ``words``; returns those that were banned."""
    removed = []
    async with db.transaction() as conn:
        for word in words:
            async with conn.execute(
                "DELETE FROM banned_words WHERE guild_id = ? AND word = ?", (guild_id, word)
            ) as cursor:
                if cursor.rowcount == 1:
                    removed.append(word)
    return removed


async def record_blocked_prompt(
    db: Database,
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    prompt: str,
    matched: list[str],
    at: datetime,
) -> int:
    async with (
        db.transaction() as conn,
        conn.execute(
            "INSERT INTO blocked_prompts (guild_id, channel_id, user_id, prompt, matched,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, channel_id, user_id, prompt, ",".join(matched), to_db_time(at)),
        ) as cursor,
    ):
        blocked_id = cursor.lastrowid
    assert blocked_id is not None
    return blocked_id


async def get_blocked_prompt(db: Database, blocked_id: int) -> BlockedPrompt | None:
    row = await db.fetchone("SELECT * FROM blocked_prompts WHERE id = ?", (blocked_id,))
    if row is None:
        return None
    return BlockedPrompt(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        prompt=row["prompt"],
        matched=tuple(row["matched"].split(",")),
        created_at=from_db_time(row["created_at"]),
        appealed_at=None if row["appealed_at"] is None else from_db_time(row["appealed_at"]),
    )


async def mark_appealed(db: Database, blocked_id: int, at: datetime) -> bool:
    """Record the appeal; False if it had been appealed already (one appeal per prompt)."""
    async with (
        db.transaction() as conn,
        conn.execute(
            "UPDATE blocked_prompts SET appealed_at = ? WHERE id = ? AND appealed_at IS NULL",
            (to_db_time(at), blocked_id),
        ) as cursor,
    ):
        return cursor.rowcount == 1


async def withdraw_appeal(db: Database, blocked_id: int, at: datetime) -> None:
    """Undo the appeal recorded at ``at``: it could not be posted, so it may be made again."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE blocked_prompts SET appealed_at = NULL WHERE id = ? AND appealed_at = ?",
            (blocked_id, to_db_time(at)),
        )


async def get_queue_limits(db: Database) -> StoredLimits | None:
    row = await db.fetchone("SELECT * FROM queue_limits WHERE id = 1")
    if row is None:
        return None
    return StoredLimits(
        max_running=row["max_running"],
        max_queued=row["max_queued"],
        updated_by=row["updated_by"],
        updated_at=from_db_time(row["updated_at"]),
    )


async def set_queue_limits(
    db: Database, *, max_running: int, max_queued: int, updated_by: int, at: datetime
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO queue_limits (id, max_running, max_queued, updated_by, updated_at) "
            "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "max_running = excluded.max_running, max_queued = excluded.max_queued, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (max_running, max_queued, updated_by, to_db_time(at)),
        )


async def set_gallery(db: Database, guild_id: int, on: bool, *, name: str | None) -> None:
    """Turn the server's web gallery on or off; ``name`` is the server's name, shown on the
    web pages (kept as it was when None)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO guild_settings (guild_id, gallery, gallery_name) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET gallery = excluded.gallery, "
            "gallery_name = coalesce(excluded.gallery_name, gallery_name)",
            (guild_id, int(on), name),
        )
