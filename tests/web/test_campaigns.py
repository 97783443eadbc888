"""Campaign pages: goal, total, progress bar, deadline and status; named backers by name
only, anonymous ones counted but never named, and no backer's amount anywhere (beside the
total, named amounts would give the anonymous ones away)."""

from __future__ import annotations

from datetime import timedelta

from db.database import Database
from db.guilds import set_gallery
from db.users import UserSettings, remember_name, save_user_settings
from funding.ledger import pledge
from tests.helpers.campaigns import ALICE, BOB, CAROL, GUILD, T0, interaction, open_campaign
from tests.helpers.registry import new_version
from tests.helpers.web import Site

DAVE = 2004


async def test_a_campaign_shows_progress_named_backers_and_counts_the_anonymous(
    db: Database, site: Site
) -> None:
    await set_gallery(db, GUILD, True, name="Dreamers")
    await new_version(db, "dreamy:v2")
    campaign = await open_campaign(db, model="dreamy:v2", goal="100")
    for backer, amount, anonymous in (
        (ALICE, "30", False),
        (BOB, "17.25", True),
        (CAROL, "12", False),
        (DAVE, "9.99", False),
    ):
        await remember_name(db, backer, f"Backer{backer}", T0)
        await pledge(
            db,
            campaign.id,
            backer,
            amount,
            anonymous=anonymous,
            interaction_id=interaction(),
            now=T0 + timedelta(hours=1),
        )
    await save_user_settings(db, UserSettings(CAROL, public=False))

    status, page = await site.get(f"/campaigns/{campaign.id}")
    assert status == 200
    assert "69.24 USD</strong> pledged of 100.00 USD — 69%" in page
    assert '<progress id="progress" max="10000" value="6924">' in page
    assert "open" in page
    assert '<a href="/models#dreamy">dreamy:v2</a>' in page
    assert "<li>Backer2001</li>" in page
    assert "<li>Backer2004</li>" in page
    # Bob chose anonymous, Carol keeps her results private: counted, never named.
    assert "and 2 anonymous backers." in page
    for hidden in ("Backer2002", "Backer2003"):
        assert hidden not in page
    # No backer's amount, named or not: total minus the named amounts would be Bob's.
    for amount in ("30.00", "17.25", "12.00", "9.99"):
        assert amount not in page

    status, listing = await site.get(f"/s/{GUILD}/campaigns")
    assert status == 200
    assert f'href="/campaigns/{campaign.id}"' in listing


async def test_a_campaign_of_a_server_without_the_gallery_is_not_found(
    db: Database, site: Site
) -> None:
    await new_version(db, "dreamy:v2")
    campaign = await open_campaign(db, model="dreamy:v2")
    for path in (f"/campaigns/{campaign.id}", f"/s/{GUILD}/campaigns", "/campaigns/999"):
        status, _ = await site.get(path)
        assert status == 404
