"""The backers board: funding's ledger (pledges made and settled through its API), ranked
per currency, one server's campaigns only, hidden members left out, and how the amounts
read."""

from __future__ import annotations

from datetime import timedelta

from cogs.leaderboards.render import backer_lines
from contests.leaderboards import Window, hidden_members, rank_backers
from db.database import Database
from db.users import UserSettings, save_user_settings
from funding.backers import BackerTotal, backer_board
from funding.ledger import pledge
from funding.settlement import settle_due
from tests.helpers.campaigns import (
    ALICE,
    BOB,
    CAROL,
    GUILD,
    T0,
    interaction,
    open_campaign,
    upcoming_version,
)

DAVE = 2004
OTHER_GUILD = GUILD + 1


async def _pledge(db: Database, campaign_id: int, backer: int, amount: str, **kw: bool) -> None:
    await pledge(
        db,
        campaign_id,
        backer,
        amount,
        anonymous=kw.get("anonymous"),
        interaction_id=interaction(),
        now=T0 + timedelta(hours=1),
    )


async def _board(
    db: Database, window: Window, days_after: int, guild_id: int = GUILD
) -> dict[str, list[BackerTotal]]:
    now = T0 + timedelta(days=days_after)
    totals = await backer_board(db, since=window.since(now), guild_id=guild_id)
    hidden = await hidden_members(db, (t.user_id for t in totals))
    return {
        code: [placed.row for placed in rows] for code, rows in rank_backers(totals, hidden).items()
    }


async def test_funded_campaigns_rank_backers_per_currency(db: Database) -> None:
    await upcoming_version(db, "dreamy", "v2")
    await upcoming_version(db, "inky", "v1")
    await upcoming_version(db, "misty", "v1")
    usd = await open_campaign(db, model="dreamy:v2", goal="100", currency="USD", deadline="10")
    jpy = await open_campaign(db, model="inky:v1", goal="1000", currency="JPY", deadline="10")
    async with db.transaction() as conn:  # the JPY campaign runs in another server
        await conn.execute("UPDATE campaigns SET guild_id = ? WHERE id = ?", (OTHER_GUILD, jpy.id))
    eur = await open_campaign(db, model="misty:v1", goal="100", currency="EUR", deadline="10")
    await _pledge(db, usd.id, ALICE, "60")
    await _pledge(db, usd.id, BOB, "50", anonymous=True)
    await _pledge(db, usd.id, CAROL, "70")
    await _pledge(db, jpy.id, DAVE, "1200")
    await _pledge(db, eur.id, ALICE, "20")  # the EUR campaign fails: not on the board
    await save_user_settings(db, UserSettings(CAROL, public=False))

    assert await _board(db, Window.ALL, days_after=5) == {}  # nothing funded yet

    await settle_due(db, T0 + timedelta(days=11))
    board = await _board(db, Window.ALL, days_after=12)

    assert board == {
        "USD": [BackerTotal(ALICE, False, "USD", 6000), BackerTotal(BOB, True, "USD", 5000)],
    }
    assert await _board(db, Window.ALL, days_after=12, guild_id=OTHER_GUILD) == {
        "JPY": [BackerTotal(DAVE, False, "JPY", 1200)]
    }
    # Funded 10 days after T0: in the month's window 12 days later, not in the week's 20 later.
    assert await _board(db, Window.MONTH, days_after=12) == board
    assert await _board(db, Window.WEEK, days_after=20) == {}


def test_backer_lines_group_by_currency_and_keep_anonymous_backers_anonymous() -> None:
    totals = [
        BackerTotal(ALICE, False, "EUR", 1250),
        BackerTotal(BOB, True, "EUR", 1250),
        BackerTotal(CAROL, False, "EUR", 300),
        BackerTotal(DAVE, False, "JPY", 1200),
    ]
    ranked = rank_backers(totals, hidden=set())
    rows = [(code, placed) for code, placed_rows in ranked.items() for placed in placed_rows]

    assert backer_lines(rows) == [
        "__**EUR**__",
        f"🥇 <@{ALICE}> — **12.50 EUR**",
        "🥇 anonymous backer — **12.50 EUR**",
        f"🥉 <@{CAROL}> — **3.00 EUR**",
        "__**JPY**__",
        f"🥇 <@{DAVE}> — **1,200 JPY**",
    ]
