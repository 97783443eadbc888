"""Who backed what: the questions early access, the priority lane and the leaderboards ask.

A backer is someone whose pledge to a *funded* campaign is still positive: the sum of
their ledger deltas in that campaign (see ``pledge_events`` in migration 0006). Voided
(failed, cancelled) and withdrawn pledges sum to zero and so count for nothing.

Backers may use the version their campaign funded while it is in early access (the
registry asks for the versions a member was granted: ``funded_versions_backed_by``), and
their jobs go in the worker pool's priority lane while it lasts (``has_priority``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.database import Database
from db.times import to_db_time
from registry.versions import ModelVersion, VersionStatus, version_by_id


@dataclass(frozen=True)
class FundedCampaign:
    """The funded campaign of a model version: what a release needs to know about it."""

    campaign_id: int
    version_id: int
    guild_id: int
    channel_id: int
    early_access_days: int
    backer_role_id: int | None
    currency: str
    goal_minor: int
    owner_id: int


@dataclass(frozen=True)
class BackerTotal:
    """What one backer pledged, in one currency, to campaigns that were funded.

    ``anonymous``: these pledges were made anonymously; show "anonymous backer" and never
    the user. A member who backed some campaigns openly and some anonymously has one row
    of each kind, so the anonymous amounts are never attributed to them publicly.
    """

    user_id: int
    anonymous: bool
    currency: str
    amount_minor: int


async def funded_campaign(db: Database, version_id: int) -> FundedCampaign | None:
    """The funded campaign of ``version_id``, if it has one (there is at most one)."""
    row = await db.fetchone(
        "SELECT * FROM campaigns WHERE version_id = ? AND state = 'funded'", (version_id,)
    )
    if row is None:
        return None
    return FundedCampaign(
        campaign_id=row["id"],
        version_id=row["version_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        early_access_days=row["early_access_days"],
        backer_role_id=row["backer_role_id"],
        currency=row["currency"],
        goal_minor=row["goal_minor"],
        owner_id=row["owner_id"],
    )


async def funded_versions_backed_by(db: Database, user_id: int) -> list[int]:
    """The model versions whose funded campaign ``user_id`` backs, in id order."""
    rows = await db.fetchall(
        "SELECT c.version_id FROM pledge_events e JOIN campaigns c ON c.id = e.campaign_id "
        "WHERE e.backer_id = ? AND c.state = 'funded' "
        "GROUP BY c.id HAVING SUM(e.delta_minor) > 0 ORDER BY c.version_id",
        (user_id,),
    )
    return [int(row["version_id"]) for row in rows]


async def early_access_backed(db: Database, user_id: int, now: datetime) -> list[ModelVersion]:
    """The versions in early access at ``now`` whose funded campaign ``user_id`` backs."""
    backed = [await version_by_id(db, v) for v in await funded_versions_backed_by(db, user_id)]
    return [v for v in backed if v.status_at(now) is VersionStatus.EARLY_ACCESS]


async def has_priority(db: Database, user_id: int, now: datetime) -> bool:
    """Whether ``user_id``'s jobs go in the priority lane: they back a funded version that
    is still in early access."""
    return bool(await early_access_backed(db, user_id, now))


async def backer_board(
    db: Database, *, since: datetime | None, guild_id: int | None = None
) -> list[BackerTotal]:
    """Totals pledged to funded campaigns per backer and currency, biggest first.

    ``since``: count only campaigns funded at or after it (None: all time). ``guild_id``:
    count only that server's campaigns (None: every server). Sorted by
    currency, then amount descending, then user id (a stable order for ties). Amounts in
    different currencies are never added together.
    """
    since_text = None if since is None else to_db_time(since)
    rows = await db.fetchall(
        "WITH per_campaign AS ("
        "  SELECT e.campaign_id, e.backer_id, SUM(e.delta_minor) AS amount,"
        "    (SELECT x.anonymous FROM pledge_events x"
        "      WHERE x.campaign_id = e.campaign_id AND x.backer_id = e.backer_id"
        "      ORDER BY x.backer_seq DESC LIMIT 1) AS anonymous"
        "  FROM pledge_events e JOIN campaigns c ON c.id = e.campaign_id"
        "  WHERE c.state = 'funded' AND (:since IS NULL OR c.settled_at >= :since)"
        "  AND (:guild IS NULL OR c.guild_id = :guild)"
        "  GROUP BY e.campaign_id, e.backer_id"
        ") "
        "SELECT p.backer_id, p.anonymous, c.currency, SUM(p.amount) AS total "
        "FROM per_campaign p JOIN campaigns c ON c.id = p.campaign_id "
        "WHERE p.amount > 0 "
        "GROUP BY p.backer_id, p.anonymous, c.currency "
        "ORDER BY c.currency, total DESC, p.backer_id, p.anonymous",
        {"since": since_text, "guild": guild_id},
    )
    return [
        BackerTotal(
            user_id=int(row["backer_id"]),
            anonymous=bool(row["anonymous"]),
            currency=str(row["currency"]),
            amount_minor=int(row["total"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CampaignBacker:
    """One backer's pledge to a campaign as it stands, with their latest choice of being
    shown as "anonymous backer"."""

    user_id: int
    amount_minor: int
    anonymous: bool


async def campaign_backers(db: Database, campaign_id: int) -> list[CampaignBacker]:
    """Everyone whose pledge to the campaign stands (above zero), biggest first. Callers
    that show them publicly must name only those not ``anonymous``, without the amounts of
    the others."""
    rows = await db.fetchall(
        "SELECT e.backer_id, SUM(e.delta_minor) AS amount,"
        " (SELECT x.anonymous FROM pledge_events x WHERE x.campaign_id = e.campaign_id"
        "   AND x.backer_id = e.backer_id ORDER BY x.backer_seq DESC LIMIT 1) AS anonymous"
        " FROM pledge_events e WHERE e.campaign_id = ? GROUP BY e.backer_id"
        " HAVING amount > 0 ORDER BY amount DESC, e.backer_id",
        (campaign_id,),
    )
    return [
        CampaignBacker(int(row["backer_id"]), int(row["amount"]), bool(row["anonymous"]))
        for row in rows
    ]
