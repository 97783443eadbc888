"""Campaigns: what one is, how it is created, edited, cancelled and looked up.

A campaign raises pledges for one ``upcoming`` model version until its deadline. Its row
may change (state, goal, texts); the money never lives here but in the ledger
(``funding.ledger``), so a campaign's total is always a sum over ``pledge_events``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiosqlite

from db.database import Database
from db.times import from_db_time, to_db_time
from funding.errors import FundingError, FundingHint
from funding.money import MAX_GOAL_UNITS, Currency, currency, format_minor, parse_amount
from funding.schedule import parse_deadline, parse_start
from registry.versions import VersionStatus, find_version

MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_CHARS = 1500
MAX_EARLY_ACCESS_DAYS = 90
DEFAULT_EARLY_ACCESS_DAYS = 7


class CampaignState(StrEnum):
    OPEN = "open"
    FUNDED = "funded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Campaign:
    id: int
    version_id: int
    model_key: str  # "name:version"
    guild_id: int
    channel_id: int
    message_id: int | None
    owner_id: int
    version_creator_id: int | None
    title: str
    description: str
    currency: Currency
    goal_minor: int
    min_pledge_minor: int
    early_access_days: int
    backer_role_id: int | None
    starts_at: datetime
    deadline: datetime
    state: CampaignState
    state_reason: str | None
    settled_at: datetime | None
    settled_total_minor: int | None
    announced_at: datetime | None
    role_warning_at: datetime | None
    created_at: datetime

    def money(self, amount_minor: int) -> str:
        return format_minor(amount_minor, self.currency)

    def is_creator(self, user_id: int) -> bool:
        """The campaign's owner, or the creator of the model version it funds."""
        return user_id in (self.owner_id, self.version_creator_id)


@dataclass(frozen=True)
class Progress:
    """A campaign with its current ledger sums."""

    campaign: Campaign
    pledged_minor: int
    backers: int

    @property
    def shown_total_minor(self) -> int:
        """What the campaign raised: after a failure or cancel the voids zero the ledger,
        so show the total it had when it settled."""
        settled = self.campaign.settled_total_minor
        return settled if settled is not None else self.pledged_minor

    @property
    def percent(self) -> int:
        """Whole percent of the goal, not capped (a campaign may raise 250%)."""
        return self.shown_total_minor * 100 // self.campaign.goal_minor


@dataclass(frozen=True)
class CampaignRequest:
    """``/campaign create`` as typed; ``create_campaign`` checks every field."""

    model: str
    goal: str
    currency: str
    deadline: str
    title: str | None = None
    description: str = ""
    min_pledge: str | None = None
    early_access_days: int | None = None
    backer_role_id: int | None = None
    start: str | None = None


_SELECT = (
    "SELECT c.*, m.name || ':' || v.version AS model_key, v.creator_id AS version_creator_id "
    "FROM campaigns c JOIN model_versions v ON v.id = c.version_id "
    "JOIN models m ON m.id = v.model_id "
)


def _campaign(row: sqlite3.Row) -> Campaign:
    def when(column: str) -> datetime | None:
        value = row[column]
        return None if value is None else from_db_time(value)

    return Campaign(
        id=row["id"],
        version_id=row["version_id"],
        model_key=row["model_key"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        owner_id=row["owner_id"],
        version_creator_id=row["version_creator_id"],
        title=row["title"],
        description=row["description"],
        currency=currency(row["currency"]),
        goal_minor=row["goal_minor"],
        min_pledge_minor=row["min_pledge_minor"],
        early_access_days=row["early_access_days"],
        backer_role_id=row["backer_role_id"],
        starts_at=from_db_time(row["starts_at"]),
        deadline=from_db_time(row["deadline"]),
        state=CampaignState(row["state"]),
        state_reason=row["state_reason"],
        settled_at=when("settled_at"),
        settled_total_minor=row["settled_total_minor"],
        announced_at=when("announced_at"),
        role_warning_at=when("role_warning_at"),
        created_at=from_db_time(row["created_at"]),
    )


async def get_campaign(db: Database, campaign_id: int) -> Campaign:
    row = await db.fetchone(_SELECT + "WHERE c.id = ?", (campaign_id,))
    if row is None:
        raise FundingError(f"There is no campaign #{campaign_id}.", hint=FundingHint.CAMPAIGNS)
    return _campaign(row)


async def campaign_of_guild(db: Database, campaign_id: int, guild_id: int | None) -> Campaign:
    """The campaign if it belongs to the server ``guild_id``: a campaign is run, listed and
    pledged to in its own server only. FundingError otherwise."""
    found = await get_campaign(db, campaign_id)
    if found.guild_id != guild_id:
        raise FundingError(
            f"There is no campaign #{campaign_id} on this server.", hint=FundingHint.CAMPAIGNS
        )
    return found


async def campaign_in(conn: aiosqlite.Connection, campaign_id: int) -> Campaign:
    """The campaign as the open write transaction on ``conn`` sees it."""
    async with conn.execute(_SELECT + "WHERE c.id = ?", (campaign_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise FundingError(f"There is no campaign #{campaign_id}.", hint=FundingHint.CAMPAIGNS)
    return _campaign(row)


async def progress(db: Database, campaign: Campaign) -> Progress:
    row = await db.fetchone(
        "SELECT COALESCE(SUM(amount), 0) AS total, COUNT(*) AS backers FROM ("
        " SELECT SUM(delta_minor) AS amount FROM pledge_events WHERE campaign_id = ?"
        " GROUP BY backer_id HAVING amount > 0)",
        (campaign.id,),
    )
    assert row is not None  # an aggregate always returns one row
    return Progress(campaign, int(row["total"]), int(row["backers"]))


async def list_campaigns(
    db: Database, guild_id: int, *, states: tuple[CampaignState, ...]
) -> list[Campaign]:
    """The server's campaigns in ``states``, soonest deadline first."""
    marks = ", ".join("?" for _ in states)
    rows = await db.fetchall(
        _SELECT + f"WHERE c.guild_id = ? AND c.state IN ({marks}) ORDER BY c.deadline, c.id",
        (guild_id, *states),
    )
    return [_campaign(row) for row in rows]


async def create_campaign(
    db: Database,
    request: CampaignRequest,
    *,
    guild_id: int,
    channel_id: int,
    owner_id: int,
    may_start_for_others: bool,
    may_set_backer_role: bool,
    other_starters: str = "a moderator",
    interaction_id: int,
    now: datetime,
) -> Campaign:
    """Create a campaign for an ``upcoming`` version, by its creator or someone who
    ``may_start_for_others``; ``other_starters`` names those in the refusal.

    The two permissions differ: a campaign decides early access for a version every server
    shares, while a backer role belongs to the server the campaign is made in. Only someone
    who ``may_set_backer_role`` (that server's moderators) may name one: funding hands it to
    every backer automatically, so a creator could otherwise give any role away (the cog
    also checks that the role itself is safe to give). A repeated delivery of the same
    interaction returns the campaign it created.
    """
    replay = await db.fetchone(
        "SELECT id FROM campaigns WHERE created_interaction_id = ?", (interaction_id,)
    )
    if replay is not None:
        return await get_campaign(db, replay["id"])
    version = await find_version(db, request.model)
    if version.creator_id != owner_id and not may_start_for_others:
        raise FundingError(
            f"Only the creator of `{version.key}` or {other_starters} can start a campaign for it."
        )
    if request.backer_role_id is not None and not may_set_backer_role:
        raise FundingError(
            "Only this server's moderators can set a backer role (it is given to every "
            "backer automatically); leave `backer_role` out, or ask one of them."
        )
    _check_upcoming(version.key, version.status)
    cur = currency(request.currency)
    goal = parse_amount(request.goal, cur, max_units=MAX_GOAL_UNITS)
    min_pledge = cur.minor_per_unit  # one whole unit unless the owner says otherwise
    if request.min_pledge is not None:
        min_pledge = parse_amount(request.min_pledge, cur, max_units=MAX_GOAL_UNITS)
    if min_pledge > goal:
        raise FundingError(
            f"The minimum pledge ({format_minor(min_pledge, cur)}) is more than the goal "
            f"({format_minor(goal, cur)}); it must be at most the goal."
        )
    starts_at = parse_start(request.start, now)
    deadline = parse_deadline(request.deadline, now, starts_at=starts_at)
    days = DEFAULT_EARLY_ACCESS_DAYS
    if request.early_access_days is not None:
        days = request.early_access_days
        if not 0 <= days <= MAX_EARLY_ACCESS_DAYS:
            raise FundingError(
                f"Early access of {days} days is out of range; give 0 to "
                f"{MAX_EARLY_ACCESS_DAYS} days."
            )
    title = _text(request.title or f"{version.key}", "title", MAX_TITLE_CHARS)
    description = _text(request.description, "description", MAX_DESCRIPTION_CHARS)
    try:
        async with db.transaction() as conn:
            # Again inside the write: a `/models release` may have landed since the read.
            async with conn.execute(
                "SELECT status FROM model_versions WHERE id = ?", (version.id,)
            ) as cursor:
                row = await cursor.fetchone()
            assert row is not None  # versions are never deleted
            _check_upcoming(version.key, VersionStatus(row["status"]))
            async with conn.execute(
                "INSERT INTO campaigns (version_id, guild_id, channel_id, owner_id, title,"
                " description, currency, goal_minor, min_pledge_minor, early_access_days,"
                " backer_role_id, starts_at, deadline, created_interaction_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version.id,
                    guild_id,
                    channel_id,
                    owner_id,
                    title,
                    description,
                    cur.code,
                    goal,
                    min_pledge,
                    days,
                    request.backer_role_id,
                    to_db_time(starts_at),
                    to_db_time(deadline),
                    interaction_id,
                    to_db_time(now),
                    to_db_time(now),
                ),
            ) as cursor:
                campaign_id = cursor.lastrowid
    except sqlite3.IntegrityError as exc:
        if "created_interaction_id" in str(exc):  # the same delivery, a moment earlier
            return await create_campaign(
                db,
                request,
                guild_id=guild_id,
                channel_id=channel_id,
                owner_id=owner_id,
                may_start_for_others=may_start_for_others,
                may_set_backer_role=may_set_backer_role,
                other_starters=other_starters,
                interaction_id=interaction_id,
                now=now,
            )
        live = await db.fetchone(
            "SELECT id, state FROM campaigns WHERE version_id = ? AND state IN ('open', 'funded')",
            (version.id,),
        )
        if live is None:
            raise
        article = "an" if live["state"] == "open" else "a"
        raise FundingError(
            f"`{version.key}` already has {article} {live['state']} campaign (#{live['id']}); "
            "one at a time per version."
        ) from None
    assert campaign_id is not None
    return await get_campaign(db, campaign_id)


def _check_upcoming(key: str, status: VersionStatus) -> None:
    if status is not VersionStatus.UPCOMING:
        raise FundingError(
            f"`{key}` is {status.value.replace('_', ' ')}; campaigns are for upcoming "
            "versions only."
        )


async def set_message(db: Database, campaign_id: int, message_id: int) -> None:
    """Remember the campaign message (posted after the row exists, so it can carry the id)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE campaigns SET message_id = ? WHERE id = ?", (message_id, campaign_id)
        )


@dataclass(frozen=True)
class CampaignEdit:
    """``/campaign edit``: None leaves a field as it is."""

    goal: str | None = None
    title: str | None = None
    description: str | None = None


async def edit_campaign(
    db: Database,
    campaign_id: int,
    edit: CampaignEdit,
    *,
    editor_id: int,
    editor_is_moderator: bool,
    now: datetime,
) -> Campaign:
    """Change an open campaign's goal or texts. The goal may not be lowered below what is
    pledged (checked inside the write, so a pledge arriving meanwhile is counted); raising
    it is always allowed, even to an amount still below the pledges."""
    if edit.goal is None and edit.title is None and edit.description is None:
        raise FundingError("Nothing to change: give a new goal, title or description.")
    campaign = await get_campaign(db, campaign_id)
    check_owner(campaign, editor_id, editor_is_moderator, "edit")
    changes: dict[str, object] = {}
    if edit.title is not None:
        changes["title"] = _text(edit.title, "title", MAX_TITLE_CHARS) or campaign.model_key
    if edit.description is not None:
        changes["description"] = _text(edit.description, "description", MAX_DESCRIPTION_CHARS)
    goal = None
    if edit.goal is not None:
        goal = parse_amount(edit.goal, campaign.currency, max_units=MAX_GOAL_UNITS)
        changes["goal_minor"] = goal
    async with db.transaction() as conn:
        current = await campaign_in(conn, campaign_id)
        if current.state is not CampaignState.OPEN:
            raise FundingError(
                f"Campaign #{campaign_id} is {current.state.value}; it can't change."
            )
        if goal is not None:
            async with conn.execute(
                "SELECT COALESCE(SUM(delta_minor), 0) FROM pledge_events WHERE campaign_id = ?",
                (campaign_id,),
            ) as cursor:
                row = await cursor.fetchone()
            pledged = int(row[0]) if row else 0
            if goal < current.goal_minor and goal < pledged:
                raise FundingError(
                    f"The goal can't be lowered below what is already pledged "
                    f"({current.money(pledged)}); give at least that."
                )
            if goal < current.min_pledge_minor:
                raise FundingError(
                    f"The goal can't be below the minimum pledge "
                    f"({current.money(current.min_pledge_minor)})."
                )
        assignments = ", ".join(f"{column} = ?" for column in changes)
        await conn.execute(
            f"UPDATE campaigns SET {assignments}, updated_at = ? WHERE id = ?",
            (*changes.values(), to_db_time(now), campaign_id),
        )
    return await get_campaign(db, campaign_id)


def check_owner(campaign: Campaign, user_id: int, is_moderator: bool, what: str) -> None:
    """Refuse anyone but the campaign's owner or a moderator to ``what`` it."""
    if user_id != campaign.owner_id and not is_moderator:
        raise FundingError(f"Only the campaign's owner or a moderator can {what} it.")


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise FundingError(f"The {what} is {len(value)} characters long; at most {limit}.")
    return value
