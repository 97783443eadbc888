"""CSV exports for a campaign's owner: the whole ledger, and what each backer owes.

Atelier moves no money; the owner collects pledges elsewhere and needs exact figures.
Amounts appear twice: as integer minor units (exact, for spreadsheets and scripts) and as
a decimal in the currency's own precision (for people). Anonymous backers are listed by id
here: the export is only for the owner and moderators, who must know whom to ask.
"""

from __future__ import annotations

import csv
import io

from db.database import Database
from funding.campaigns import Campaign, CampaignState
from funding.money import format_minor

LEDGER_COLUMNS = (
    "event_id",
    "time_utc",
    "backer_id",
    "kind",
    "delta_minor",
    "delta",
    "amount_after_minor",
    "currency",
    "anonymous",
    "idempotency_key",
    "reason",
)
BACKER_COLUMNS = ("backer_id", "anonymous", "amount_minor", "amount", "currency", "status")


def _decimal(amount_minor: int, campaign: Campaign) -> str:
    """``-1234`` → ``-12.34`` (the number only, no code or thousands separators)."""
    return format_minor(amount_minor, campaign.currency).split(" ")[0].replace(",", "")


async def ledger_csv(db: Database, campaign: Campaign) -> str:
    """Every ledger event of the campaign, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM pledge_events WHERE campaign_id = ? ORDER BY id", (campaign.id,)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    for row in rows:
        key = row["system_key"] or f"interaction:{row['interaction_id']}"
        writer.writerow(
            (
                row["id"],
                row["created_at"],
                row["backer_id"],
                row["kind"],
                row["delta_minor"],
                _decimal(row["delta_minor"], campaign),
                row["amount_minor"],
                campaign.currency.code,
                "yes" if row["anonymous"] else "no",
                key,
                row["reason"] or "",
            )
        )
    return out.getvalue()


async def backers_csv(db: Database, campaign: Campaign) -> str:
    """One row per backer who ever pledged: their final amount (the sum of their events).

    ``status``: ``owed`` (funded), ``pledged`` (still open), ``void`` (failed or
    cancelled: nothing owed), ``withdrawn``. The amounts add up to the ledger's sum.
    """
    rows = await db.fetchall(
        "SELECT e.backer_id, SUM(e.delta_minor) AS amount,"
        " (SELECT x.anonymous FROM pledge_events x WHERE x.campaign_id = e.campaign_id"
        "   AND x.backer_id = e.backer_id ORDER BY x.backer_seq DESC LIMIT 1) AS anonymous,"
        " (SELECT x.kind FROM pledge_events x WHERE x.campaign_id = e.campaign_id"
        "   AND x.backer_id = e.backer_id ORDER BY x.backer_seq DESC LIMIT 1) AS last_kind "
        "FROM pledge_events e WHERE e.campaign_id = ? GROUP BY e.backer_id "
        "ORDER BY amount DESC, e.backer_id",
        (campaign.id,),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BACKER_COLUMNS)
    for row in rows:
        amount = int(row["amount"])
        if row["last_kind"] == "void":
            status = "void"
        elif amount == 0:
            status = "withdrawn"
        elif campaign.state is CampaignState.FUNDED:
            status = "owed"
        else:
            status = "pledged"
        writer.writerow(
            (
                row["backer_id"],
                "yes" if row["anonymous"] else "no",
                amount,
                _decimal(amount, campaign),
                campaign.currency.code,
                status,
            )
        )
    return out.getvalue()
