"""Ending campaigns: the deadline (funded or failed), cancelling, and what is owed afterwards.

Settling writes, in ONE transaction guarded by ``WHERE state = 'open'``: the new state, a
ledger event per backer ('settle' with the amount owed, or 'void' taking it back to zero),
and the notices still to deliver (a DM per voided backer, a role per funded backer). The
announcement is due while ``announced_at`` is NULL. So a settlement happens exactly once
however often the timer fires, and nothing it owes members is lost in a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db.database import Database
from db.times import from_db_time, to_db_time
from funding.campaigns import Campaign, CampaignState, campaign_in, check_owner, get_campaign
from funding.errors import FundingError

MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Notice:
    """Something owed to one backer of a settled campaign: a 'void' message or a 'role'."""

    campaign_id: int
    backer_id: int
    kind: str
    amount_minor: int  # the pledge it concerns (before any void)


async def settle_due(db: Database, now: datetime) -> list[Campaign]:
    """Settle every open campaign whose deadline is at or before ``now``, oldest first.

    ``settled_at`` is the deadline itself, also when the bot was down then and catches up
    later: the campaign was funded (or failed) at its deadline.
    """
    rows = await db.fetchall(
        "SELECT id FROM campaigns WHERE state = 'open' AND deadline <= ? ORDER BY deadline, id",
        (to_db_time(now),),
    )
    settled = []
    for row in rows:
        async with db.transaction() as conn:
            campaign = await campaign_in(conn, row["id"])
            if campaign.state is not CampaignState.OPEN:  # settled by another wake-up
                continue
            total = await _total(conn, campaign.id)
            funded = total >= campaign.goal_minor
            reason = (
                f"{campaign.money(total)} pledged of a {campaign.money(campaign.goal_minor)} goal"
            )
            await _settle(
                conn,
                campaign,
                CampaignState.FUNDED if funded else CampaignState.FAILED,
                reason=reason,
                total=total,
                at=campaign.deadline,
                actor_id=None,
            )
        settled.append(await get_campaign(db, campaign.id))
    return settled


async def cancel_campaign(
    db: Database,
    campaign_id: int,
    *,
    by: int,
    by_moderator: bool,
    reason: str,
    now: datetime,
) -> Campaign:
    """Cancel an open campaign: every pledge is voided and its backers are told."""
    reason = reason.strip()
    if len(reason) > MAX_REASON_CHARS:
        raise FundingError(
            f"The reason is {len(reason)} characters long; at most {MAX_REASON_CHARS}."
        )
    check_owner(await get_campaign(db, campaign_id), by, by_moderator, "cancel")
    async with db.transaction() as conn:
        campaign = await campaign_in(conn, campaign_id)
        if campaign.state is not CampaignState.OPEN:
            raise FundingError(
                f"Campaign #{campaign_id} is already {campaign.state.value}; only open campaigns "
                "can be cancelled."
            )
        await _settle(
            conn,
            campaign,
            CampaignState.CANCELLED,
            reason=reason or "cancelled by its owner",
            total=await _total(conn, campaign.id),
            at=now,
            actor_id=by,
        )
    return await get_campaign(db, campaign_id)


async def _settle(
    conn: aiosqlite.Connection,
    campaign: Campaign,
    state: CampaignState,
    *,
    reason: str,
    total: int,
    at: datetime,
    actor_id: int | None,
) -> None:
    async with conn.execute(
        "UPDATE campaigns SET state = ?, state_reason = ?, settled_at = ?,"
        " settled_total_minor = ?, updated_at = ? WHERE id = ? AND state = 'open'",
        (state.value, reason, to_db_time(at), total, to_db_time(at), campaign.id),
    ) as cursor:
        if cursor.rowcount != 1:
            raise FundingError(f"Campaign #{campaign.id} was settled meanwhile.")
    funded = state is CampaignState.FUNDED
    kind = "settle" if funded else "void"
    ledger_reason = {
        CampaignState.FUNDED: "funded at the deadline: this amount is owed",
        CampaignState.FAILED: "goal not reached at the deadline: nothing is owed",
        CampaignState.CANCELLED: f"campaign cancelled: {reason}",
    }[state]
    # One event per backer with a pledge: 'settle' keeps the amount (delta 0), 'void' brings
    # it to zero. The system key makes a second settlement of the same campaign impossible.
    await conn.execute(
        "INSERT INTO pledge_events (campaign_id, backer_id, backer_seq, kind, delta_minor,"
        " amount_minor, anonymous, system_key, actor_id, reason, created_at) "
        "SELECT e.campaign_id, e.backer_id, MAX(e.backer_seq) + 1, :kind,"
        " CASE WHEN :funded THEN 0 ELSE -SUM(e.delta_minor) END,"
        " CASE WHEN :funded THEN SUM(e.delta_minor) ELSE 0 END,"
        " (SELECT x.anonymous FROM pledge_events x WHERE x.campaign_id = e.campaign_id"
        "   AND x.backer_id = e.backer_id ORDER BY x.backer_seq DESC LIMIT 1),"
        " :kind || ':' || e.campaign_id || ':' || e.backer_id, :actor, :reason, :at "
        "FROM pledge_events e WHERE e.campaign_id = :campaign "
        "GROUP BY e.backer_id HAVING SUM(e.delta_minor) > 0",
        {
            "kind": kind,
            "funded": int(funded),
            "actor": actor_id,
            "reason": ledger_reason,
            "at": to_db_time(at),
            "campaign": campaign.id,
        },
    )
    notice = "role" if funded else "void"
    if funded and campaign.backer_role_id is None:
        return
    await conn.execute(
        "INSERT INTO campaign_notices (campaign_id, backer_id, kind) "
        "SELECT campaign_id, backer_id, ? FROM pledge_events "
        "WHERE campaign_id = ? AND kind = ? AND system_key IS NOT NULL",
        (notice, campaign.id, kind),
    )


async def _total(conn: aiosqlite.Connection, campaign_id: int) -> int:
    async with conn.execute(
        "SELECT COALESCE(SUM(delta_minor), 0) FROM pledge_events WHERE campaign_id = ?",
        (campaign_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def next_deadline(db: Database) -> datetime | None:
    """The earliest deadline of an open campaign."""
    row = await db.fetchone("SELECT MIN(deadline) FROM campaigns WHERE state = 'open'")
    if row is None or row[0] is None:
        return None

    return from_db_time(row[0])


async def unannounced(db: Database) -> list[Campaign]:
    """Settled campaigns whose announcement has not been posted yet, oldest first."""
    rows = await db.fetchall(
        "SELECT id FROM campaigns WHERE state != 'open' AND announced_at IS NULL "
        "ORDER BY settled_at, id"
    )
    return [await get_campaign(db, row["id"]) for row in rows]


async def mark_announced(db: Database, campaign_id: int, at: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE campaigns SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
            (to_db_time(at), campaign_id),
        )


async def pending_notices(db: Database, campaign_id: int | None = None) -> list[Notice]:
    """Notices not delivered yet (of one campaign, or all), in campaign then backer order."""
    rows = await db.fetchall(
        "SELECT n.campaign_id, n.backer_id, n.kind,"
        " (SELECT e.amount_minor - e.delta_minor FROM pledge_events e"
        "   WHERE e.campaign_id = n.campaign_id AND e.backer_id = n.backer_id"
        "   AND e.system_key IS NOT NULL) AS amount "
        "FROM campaign_notices n WHERE n.done_at IS NULL AND (:c IS NULL OR n.campaign_id = :c) "
        "ORDER BY n.campaign_id, n.backer_id",
        {"c": campaign_id},
    )
    return [
        Notice(row["campaign_id"], row["backer_id"], row["kind"], int(row["amount"] or 0))
        for row in rows
    ]


async def mark_notice_done(db: Database, notice: Notice, *, outcome: str, at: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE campaign_notices SET done_at = ?, outcome = ? WHERE campaign_id = ?"
            " AND backer_id = ? AND kind = ? AND done_at IS NULL",
            (to_db_time(at), outcome, notice.campaign_id, notice.backer_id, notice.kind),
        )


async def mark_role_warned(db: Database, campaign_id: int, at: datetime) -> None:
    """The moderators were told the backer role can't be given, or could not be told
    (no channel open to the bot): either way this is done once."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE campaigns SET role_warning_at = ? WHERE id = ? AND role_warning_at IS NULL",
            (to_db_time(at), campaign_id),
        )
