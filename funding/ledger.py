"""Pledges: the rules for pledging, changing and withdrawing, written to the append-only ledger.

Every accepted request appends one ``pledge_events`` row carrying the Discord interaction
id, so a repeated delivery finds its row and changes nothing. Each check runs inside the
write transaction that appends the row, so two presses at the same moment are decided one
after the other and a backer always ends with exactly one pledge.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiosqlite

from db.database import Database
from db.times import to_db_time
from funding.campaigns import Campaign, CampaignState, campaign_in, get_campaign
from funding.errors import FundingError
from funding.money import parse_amount

#: In the last day a backer may not take away support the campaign needs to reach its goal.
LOCK_IN_WINDOW = timedelta(hours=24)


class PledgeChange(StrEnum):
    PLEDGED = "pledge"  # a first pledge
    CHANGED = "change"  # a new amount (or a new anonymity choice)
    WITHDRAWN = "withdraw"
    UNCHANGED = "unchanged"  # the same amount again: nothing written


@dataclass(frozen=True)
class PledgeResult:
    campaign: Campaign
    change: PledgeChange
    previous_minor: int
    amount_minor: int  # the backer's pledge now
    anonymous: bool
    total_minor: int  # the campaign's total now
    replayed: bool = False  # a repeated delivery: this is what the first one did


@dataclass(frozen=True)
class _Standing:
    amount: int
    seq: int
    anonymous: bool
    total: int


async def pledge(
    db: Database,
    campaign_id: int,
    backer_id: int,
    amount_text: str,
    *,
    anonymous: bool | None,
    interaction_id: int,
    now: datetime,
) -> PledgeResult:
    """Pledge ``amount_text`` (in the campaign's currency), or change an existing pledge.

    ``anonymous``: None keeps the backer's earlier choice (public for a first pledge).
    """
    replay = await _replayed(db, campaign_id, interaction_id)
    if replay is not None:
        return replay
    campaign = await get_campaign(db, campaign_id)
    amount = parse_amount(amount_text, campaign.currency)
    if amount < campaign.min_pledge_minor:
        raise FundingError(
            f"The minimum pledge to this campaign is {campaign.money(campaign.min_pledge_minor)}; "
            f"{campaign.money(amount)} is less."
        )
    async with db.transaction() as conn:
        if await _seen(conn, interaction_id):
            result = None
        else:
            result = await _pledge_in(
                conn, campaign_id, backer_id, amount, anonymous, interaction_id, now
            )
    return result or await _replay_of(db, campaign_id, interaction_id)


async def _pledge_in(
    conn: aiosqlite.Connection,
    campaign_id: int,
    backer_id: int,
    amount: int,
    anonymous: bool | None,
    interaction_id: int,
    now: datetime,
) -> PledgeResult:
    campaign = await campaign_in(conn, campaign_id)
    check_may_pledge(campaign, backer_id, now)
    standing = await _standing(conn, campaign_id, backer_id)
    anonymous = standing.anonymous if anonymous is None else anonymous
    if amount == standing.amount and anonymous == standing.anonymous:
        return PledgeResult(
            campaign, PledgeChange.UNCHANGED, amount, amount, anonymous, standing.total
        )
    if amount < standing.amount:
        _check_lock_in(campaign, standing, amount, now)
    change = PledgeChange.PLEDGED if standing.amount == 0 else PledgeChange.CHANGED
    await _append(
        conn, campaign, backer_id, standing, change, amount, anonymous, interaction_id, now
    )
    total = standing.total - standing.amount + amount
    return PledgeResult(campaign, change, standing.amount, amount, anonymous, total)


async def withdraw(
    db: Database, campaign_id: int, backer_id: int, *, interaction_id: int, now: datetime
) -> PledgeResult:
    """Take back the backer's whole pledge (allowed until the last day; see LOCK_IN_WINDOW)."""
    replay = await _replayed(db, campaign_id, interaction_id)
    if replay is not None:
        return replay
    async with db.transaction() as conn:
        if await _seen(conn, interaction_id):
            result = None
        else:
            result = await _withdraw_in(conn, campaign_id, backer_id, interaction_id, now)
    return result or await _replay_of(db, campaign_id, interaction_id)


async def _withdraw_in(
    conn: aiosqlite.Connection,
    campaign_id: int,
    backer_id: int,
    interaction_id: int,
    now: datetime,
) -> PledgeResult:
    campaign = await campaign_in(conn, campaign_id)
    standing = await _standing(conn, campaign_id, backer_id)
    if standing.amount == 0:
        raise FundingError(f"You have no pledge to campaign #{campaign_id} to withdraw.")
    _check_open(campaign, now)
    _check_lock_in(campaign, standing, 0, now)
    await _append(
        conn,
        campaign,
        backer_id,
        standing,
        PledgeChange.WITHDRAWN,
        0,
        standing.anonymous,
        interaction_id,
        now,
    )
    total = standing.total - standing.amount
    return PledgeResult(
        campaign, PledgeChange.WITHDRAWN, standing.amount, 0, standing.anonymous, total
    )


@dataclass(frozen=True)
class BackerPledge:
    amount_minor: int  # 0: none
    anonymous: bool  # their latest choice (False if they never pledged)


async def backer_pledge(db: Database, campaign_id: int, backer_id: int) -> BackerPledge:
    """The backer's current pledge and anonymity choice."""
    row = await db.fetchone(
        "SELECT COALESCE(SUM(delta_minor), 0),"
        " (SELECT anonymous FROM pledge_events WHERE campaign_id = :c AND backer_id = :b"
        "  ORDER BY backer_seq DESC LIMIT 1) "
        "FROM pledge_events WHERE campaign_id = :c AND backer_id = :b",
        {"c": campaign_id, "b": backer_id},
    )
    assert row is not None  # an aggregate always returns one row
    return BackerPledge(int(row[0]), bool(row[1]))


async def backer_amount(db: Database, campaign_id: int, backer_id: int) -> int:
    """The backer's current pledge (0: none)."""
    row = await db.fetchone(
        "SELECT COALESCE(SUM(delta_minor), 0) FROM pledge_events "
        "WHERE campaign_id = ? AND backer_id = ?",
        (campaign_id, backer_id),
    )
    return int(row[0]) if row else 0


def check_may_pledge(campaign: Campaign, backer_id: int, now: datetime) -> None:
    """Refuse a pledge to a campaign that is not taking pledges now, or by its creator.

    ``pledge`` checks this inside its write; the Pledge button asks first, so a member
    who can't pledge is told before filling in the form.
    """
    _check_open(campaign, now)
    if campaign.is_creator(backer_id):
        raise FundingError("You created this campaign, so you can't pledge to it.")


def _check_open(campaign: Campaign, now: datetime) -> None:
    if campaign.state is not CampaignState.OPEN:
        raise FundingError(
            f"Campaign #{campaign.id} is {campaign.state.value}; pledges can no longer change."
        )
    if now < campaign.starts_at:
        raise FundingError(
            f"Campaign #{campaign.id} opens for pledges {{opens}}; try again then.",
            opens=campaign.starts_at,
        )
    if now >= campaign.deadline:
        raise FundingError(
            f"Campaign #{campaign.id} closed {{closed}}; pledges can no longer change.",
            closed=campaign.deadline,
        )


def _check_lock_in(campaign: Campaign, standing: _Standing, new_amount: int, now: datetime) -> None:
    """In the last 24 hours, refuse a cut that takes a campaign at its goal below it."""
    if campaign.deadline - now > LOCK_IN_WINDOW:
        return
    after = standing.total - standing.amount + new_amount
    if standing.total >= campaign.goal_minor > after:
        room = standing.total - campaign.goal_minor
        most = (
            f"you can lower your pledge by at most {campaign.money(room)}"
            if room
            else "the total is exactly at the goal, so it can't go lower"
        )
        raise FundingError(
            "In the last 24 hours before the deadline a pledge can't be lowered or withdrawn "
            f"if that drops the total below the goal ({campaign.money(standing.total)} pledged, "
            f"goal {campaign.money(campaign.goal_minor)}); {most}."
        )


async def _standing(conn: aiosqlite.Connection, campaign_id: int, backer_id: int) -> _Standing:
    async with conn.execute(
        "SELECT COALESCE(SUM(delta_minor), 0), COALESCE(MAX(backer_seq), 0),"
        " (SELECT anonymous FROM pledge_events WHERE campaign_id = :c AND backer_id = :b"
        "  ORDER BY backer_seq DESC LIMIT 1),"
        " (SELECT COALESCE(SUM(delta_minor), 0) FROM pledge_events WHERE campaign_id = :c) "
        "FROM pledge_events WHERE campaign_id = :c AND backer_id = :b",
        {"c": campaign_id, "b": backer_id},
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # an aggregate always returns one row
    return _Standing(int(row[0]), int(row[1]), bool(row[2]), int(row[3]))


async def _append(
    conn: aiosqlite.Connection,
    campaign: Campaign,
    backer_id: int,
    standing: _Standing,
    change: PledgeChange,
    amount: int,
    anonymous: bool,
    interaction_id: int,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO pledge_events (campaign_id, backer_id, backer_seq, kind, delta_minor,"
        " amount_minor, anonymous, interaction_id, actor_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            campaign.id,
            backer_id,
            standing.seq + 1,
            change.value,
            amount - standing.amount,
            amount,
            int(anonymous),
            interaction_id,
            backer_id,
            to_db_time(now),
        ),
    )


async def _replayed(db: Database, campaign_id: int, interaction_id: int) -> PledgeResult | None:
    """What an already recorded interaction did, or None if it is new."""
    row = await db.fetchone(
        "SELECT e.*, (SELECT COALESCE(SUM(x.delta_minor), 0) FROM pledge_events x"
        "  WHERE x.campaign_id = e.campaign_id AND x.id <= e.id) AS total_after "
        "FROM pledge_events e WHERE e.interaction_id = ?",
        (interaction_id,),
    )
    if row is None:
        return None
    return await _result_of(db, campaign_id, row)


async def _replay_of(db: Database, campaign_id: int, interaction_id: int) -> PledgeResult:
    """The result of an interaction recorded by a delivery that won the race with this one."""
    replay = await _replayed(db, campaign_id, interaction_id)
    assert replay is not None  # _seen found it inside the write; it is committed now
    return replay


async def _seen(conn: aiosqlite.Connection, interaction_id: int) -> bool:
    async with conn.execute(
        "SELECT 1 FROM pledge_events WHERE interaction_id = ?", (interaction_id,)
    ) as cursor:
        return await cursor.fetchone() is not None


async def _result_of(db: Database, campaign_id: int, row: sqlite3.Row) -> PledgeResult:
    if row["campaign_id"] != campaign_id:
        raise FundingError("This interaction was already used for another campaign.")
    campaign = await get_campaign(db, campaign_id)
    return PledgeResult(
        campaign,
        PledgeChange(row["kind"]),
        row["amount_minor"] - row["delta_minor"],
        row["amount_minor"],
        bool(row["anonymous"]),
        int(row["total_after"]),
        replayed=True,
    )
