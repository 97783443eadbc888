"""The creators, models and trending boards, computed at an injected ``now`` on a real
SQLite file: one server's data only, windows, hidden members, own favorites, ❤ credited to
the creator of an upscale's origin, decay, one image per creator, models by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cogs.leaderboards.render import model_lines
from contests.boards.trending import decayed_score, trending_board
from contests.leaderboards import (
    Board,
    CreatorStanding,
    ModelStanding,
    Window,
    creators_board,
    models_board,
    ranked,
)
from db.database import Database
from db.jobs import (
    JobKind,
    JobStatus,
)
from db.times import to_db_time
from tests.helpers.boards import GUILD, favorite, hide, posted_job

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL, DAVE = 101, 102, 103, 104
#: Another server the bot is also in.
OTHER_GUILD = 901


async def contest_result(
    db: Database,
    *,
    user_id: int,
    job_id: int,
    place: int | None,
    points: int,
    votes: int,
    at: datetime,
    guild_id: int = 900,
    theme: str = "lighthouses",
) -> int:
    """A closed contest with one result row, written as the contests service writes them."""
    async with db.transaction() as conn:
        async with conn.execute(
            "INSERT INTO contests (guild_id, channel_id, theme, state, created_at, opens_at,"
            " voting_at, closes_at, closed_at, voter_count) VALUES (?, 1, ?, 'closed', ?, ?, ?, ?,"
            " ?, ?)",
            (
                guild_id,
                theme,
                to_db_time(at - timedelta(days=7)),
                to_db_time(at - timedelta(days=7)),
                to_db_time(at - timedelta(days=3)),
                to_db_time(at),
                to_db_time(at),
                votes,
            ),
        ) as cursor:
            contest_id = cursor.lastrowid
        async with conn.execute(
            "INSERT INTO contest_entries (contest_id, user_id, job_id, image_index,"
            " origin_job_id, origin_index, created_at) VALUES (?, ?, ?, 0, ?, 0, ?)",
            (contest_id, user_id, job_id, job_id, to_db_time(at - timedelta(days=5))),
        ) as cursor:
            entry_id = cursor.lastrowid
        await conn.execute(
            "INSERT INTO contest_results (contest_id, entry_id, user_id, job_id, image_index,"
            " rank, place, votes, points, awarded_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            (
                contest_id,
                entry_id,
                user_id,
                job_id,
                place or 4,
                place,
                votes,
                points,
                to_db_time(at),
            ),
        )
    assert contest_id is not None
    return contest_id


# --- windows -------------------------------------------------------------------------------


def test_windows_end_at_now() -> None:
    assert Window.WEEK.since(NOW) == NOW - timedelta(days=7)
    assert Window.MONTH.since(NOW) == NOW - timedelta(days=30)
    assert Window.ALL.since(NOW) is None


async def test_creators_board_counts_favorites_and_points_in_the_window(db: Database) -> None:
    alice_image = await posted_job(db, ALICE, at=NOW - timedelta(days=60))
    bob_image = await posted_job(db, BOB, at=NOW - timedelta(days=60))
    # Alice: 2 favorites 3 days ago, 1 twenty days ago, 1 ninety days ago.
    await favorite(db, alice_image, BOB, CAROL, at=NOW - timedelta(days=3))
    await favorite(db, alice_image, DAVE, at=NOW - timedelta(days=20))
    await favorite(db, alice_image, 105, at=NOW - timedelta(days=90))
    # Bob: 10 points (a win) 40 days ago, 1 favorite yesterday.
    await contest_result(
        db, user_id=BOB, job_id=bob_image, place=1, points=11, votes=5, at=NOW - timedelta(days=40)
    )
    await favorite(db, bob_image, ALICE, at=NOW - timedelta(days=1))
    # A favorite given after "now" (a clock moved back) is not counted yet.
    await favorite(db, bob_image, CAROL, at=NOW + timedelta(hours=1))

    week = await creators_board(db, guild_id=GUILD, window=Window.WEEK, now=NOW)
    month = await creators_board(db, guild_id=GUILD, window=Window.MONTH, now=NOW)
    every = await creators_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)

    assert week == [CreatorStanding(ALICE, 0, 2), CreatorStanding(BOB, 0, 1)]
    assert month == [CreatorStanding(ALICE, 0, 3), CreatorStanding(BOB, 0, 1)]
    assert every == [CreatorStanding(BOB, 11, 1), CreatorStanding(ALICE, 0, 4)]
    assert every[0].score == 12


async def test_own_favorites_and_grid_images_do_not_count(db: Database) -> None:
    upscale = await posted_job(db, ALICE, at=NOW - timedelta(days=1))
    grid = await posted_job(db, ALICE, at=NOW - timedelta(days=1), kind=JobKind.IMAGINE, images=4)
    await favorite(db, upscale, ALICE, at=NOW - timedelta(hours=1))
    await favorite(db, grid, BOB, at=NOW - timedelta(hours=1))

    assert await creators_board(db, guild_id=GUILD, window=Window.ALL, now=NOW) == []

    await favorite(db, upscale, BOB, at=NOW - timedelta(hours=1))
    assert await creators_board(db, guild_id=GUILD, window=Window.ALL, now=NOW) == [
        CreatorStanding(ALICE, 0, 1)
    ]


async def test_hidden_members_are_left_out_of_every_board(db: Database) -> None:
    alice_image = await posted_job(db, ALICE, at=NOW - timedelta(days=1), model="alpha")
    bob_image = await posted_job(db, BOB, at=NOW - timedelta(days=1), model="beta")
    await favorite(db, alice_image, BOB, CAROL, at=NOW - timedelta(hours=2))
    await favorite(db, bob_image, ALICE, at=NOW - timedelta(hours=2))
    await contest_result(db, user_id=ALICE, job_id=alice_image, place=1, points=11, votes=3, at=NOW)
    await hide(db, ALICE)

    creators = await creators_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)
    models = await models_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)
    trending = await trending_board(db, guild_id=GUILD, now=NOW)

    assert [s.user_id for s in creators] == [BOB]
    assert models == [ModelStanding("beta", 1, 0)]
    assert [t.owner_id for t in trending] == [BOB]


async def test_every_board_shows_only_this_servers_activity(db: Database) -> None:
    here = await posted_job(db, ALICE, at=NOW - timedelta(days=1))
    await favorite(db, here, BOB, at=NOW - timedelta(hours=3))
    await contest_result(db, user_id=ALICE, job_id=here, place=1, points=11, votes=3, at=NOW)
    # The same members, and a stranger, busy in another server the bot is in.
    there = await posted_job(db, ALICE, at=NOW - timedelta(days=1), guild=OTHER_GUILD)
    await favorite(db, there, BOB, CAROL, DAVE, at=NOW - timedelta(hours=3))
    stranger = await posted_job(
        db, CAROL, at=NOW - timedelta(days=1), model="alpha:1", images=4, guild=OTHER_GUILD
    )
    await favorite(db, stranger, ALICE, BOB, DAVE, 105, at=NOW - timedelta(hours=2))
    await contest_result(
        db,
        user_id=CAROL,
        job_id=stranger,
        place=1,
        points=11,
        votes=9,
        at=NOW,
        guild_id=OTHER_GUILD,
    )

    creators = await creators_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)
    models = await models_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)
    trending = await trending_board(db, guild_id=GUILD, now=NOW)

    assert creators == [CreatorStanding(ALICE, 11, 1)]
    assert models == [ModelStanding("tiny", 1, 1)]
    assert [(t.owner_id, t.job_id, t.favorites) for t in trending] == [(ALICE, here, 1)]
    # The other server's boards have its own figures.
    assert await creators_board(db, guild_id=OTHER_GUILD, window=Window.ALL, now=NOW) == [
        CreatorStanding(CAROL, 11, 4),
        CreatorStanding(ALICE, 0, 3),
    ]


async def test_a_heart_on_an_upscale_credits_the_creator_of_the_origin(db: Database) -> None:
    grid = await posted_job(db, ALICE, at=NOW - timedelta(days=1), kind=JobKind.IMAGINE, images=4)
    # Bob upscales Alice's third image, then upscales that again; Carol upscales it too.
    by_bob = await posted_job(db, BOB, at=NOW - timedelta(hours=20), parent=(grid, 2))
    by_bob_again = await posted_job(db, BOB, at=NOW - timedelta(hours=10), parent=(by_bob, 0))
    by_carol = await posted_job(db, CAROL, at=NOW - timedelta(hours=19), parent=(grid, 2))
    # A variation draws a new image: Bob's variation of Alice's grid is Bob's.
    variation = await posted_job(
        db, BOB, at=NOW - timedelta(hours=18), kind=JobKind.VARIATION, images=4, parent=(grid, 0)
    )
    varied = await posted_job(db, BOB, at=NOW - timedelta(hours=17), parent=(variation, 1))
    at = NOW - timedelta(hours=1)
    await favorite(db, by_bob, CAROL, BOB, at=at)  # Bob's ❤ is for Alice's image
    await favorite(db, by_bob, ALICE, at=at)  # the creator's own ❤: not counted
    for upscale in (by_bob, by_bob_again, by_carol):  # one image, one ❤ from Dave
        await favorite(db, upscale, DAVE, at=at)
    await favorite(db, varied, DAVE, at=at)

    creators = await creators_board(db, guild_id=GUILD, window=Window.WEEK, now=NOW)
    trending = await trending_board(db, guild_id=GUILD, now=NOW)

    assert creators == [CreatorStanding(ALICE, 0, 3), CreatorStanding(BOB, 0, 1)]
    assert [(t.owner_id, t.job_id, t.favorites) for t in trending] == [
        (ALICE, by_bob, 3),
        (BOB, varied, 1),
    ]
    assert trending[0].made_at == NOW - timedelta(days=1)  # when Alice's grid was made


async def test_upscaling_an_old_image_does_not_make_it_trend(db: Database) -> None:
    old = await posted_job(db, ALICE, at=NOW - timedelta(days=20), kind=JobKind.IMAGINE, images=4)
    fresh = await posted_job(db, ALICE, at=NOW - timedelta(hours=2), parent=(old, 1))
    await favorite(db, fresh, BOB, CAROL, DAVE, at=NOW - timedelta(hours=1))

    assert await trending_board(db, guild_id=GUILD, now=NOW) == []
    # The ❤ were given this week, so they count on the creators board.
    assert await creators_board(db, guild_id=GUILD, window=Window.WEEK, now=NOW) == [
        CreatorStanding(ALICE, 0, 3)
    ]


def test_each_board_has_a_default_window_that_suits_it() -> None:
    assert Board.TRENDING.default_window is Window.WEEK  # the period trending always covers
    assert Board.CREATORS.default_window is Window.MONTH
    assert Board.BACKERS.default_window is Window.ALL
    assert Board.MODELS.default_window is Window.ALL


# --- models --------------------------------------------------------------------------------


async def test_models_board_counts_every_version_and_the_bare_name_as_one_model(
    db: Database,
) -> None:
    at = NOW - timedelta(days=1)
    await posted_job(db, ALICE, at=at, kind=JobKind.IMAGINE, images=4, model="tiny:1")
    won = await posted_job(db, BOB, at=at, model="tiny:2")
    await posted_job(db, BOB, at=at, kind=JobKind.IMAGINE, images=4, model="tiny")  # before 0005
    await posted_job(db, CAROL, at=at, model="tiny:10")
    await posted_job(db, CAROL, at=at, model="xl:1", images=4)
    await contest_result(db, user_id=BOB, job_id=won, place=1, points=11, votes=3, at=NOW)

    board = await models_board(db, guild_id=GUILD, window=Window.ALL, now=NOW)

    assert board == [
        ModelStanding("tiny", 10, 1, ("1", "2", "10")),
        ModelStanding("xl", 4, 0, ("1",)),
    ]
    assert model_lines(ranked(board, key=lambda s: (s.images, s.wins)))[0] == (
        "🥇 `tiny` — **10 images** · 1 contest win · versions `1`, `2`, `10`"
    )


async def test_models_board_counts_images_and_wins_in_the_window(db: Database) -> None:
    await posted_job(db, ALICE, at=NOW - timedelta(days=2), kind=JobKind.IMAGINE, images=4)
    old = await posted_job(db, BOB, at=NOW - timedelta(days=20), kind=JobKind.IMAGINE, images=4)
    await posted_job(db, BOB, at=NOW - timedelta(days=1), model="xl", images=1)
    await posted_job(db, BOB, at=NOW - timedelta(days=1), model="xl", status=JobStatus.FAILED)
    await contest_result(
        db, user_id=BOB, job_id=old, place=1, points=11, votes=4, at=NOW - timedelta(days=10)
    )
    await contest_result(
        db, user_id=BOB, job_id=old, place=2, points=7, votes=2, at=NOW - timedelta(days=3)
    )

    week = await models_board(db, guild_id=GUILD, window=Window.WEEK, now=NOW)
    month = await models_board(db, guild_id=GUILD, window=Window.MONTH, now=NOW)

    assert week == [ModelStanding("tiny", 4, 0), ModelStanding("xl", 1, 0)]
    assert month == [ModelStanding("tiny", 8, 1), ModelStanding("xl", 1, 0)]


# --- trending ------------------------------------------------------------------------------


def test_decay_is_full_when_new_and_zero_after_a_week() -> None:
    assert decayed_score(4, timedelta(0)) == 4
    assert decayed_score(4, timedelta(days=3.5)) == pytest.approx(3.0)
    assert decayed_score(4, timedelta(days=7)) == 0
    assert decayed_score(4, timedelta(days=9)) == 0


async def test_trending_keeps_each_creators_best_image_after_decay(db: Database) -> None:
    # Alice: her 3.5-day-old image with 3 ❤ (3 × 0.75 = 2.25) beats her fresh one with 2 ❤.
    alice_fresh = await posted_job(db, ALICE, at=NOW)
    alice_older = await posted_job(db, ALICE, at=NOW - timedelta(days=3.5))
    await favorite(db, alice_fresh, BOB, CAROL, at=NOW)
    await favorite(db, alice_older, BOB, CAROL, DAVE, at=NOW - timedelta(days=3))
    # Bob: 5 ❤ but 6.5 days old: 5 × (1 − (6.5/7)²) ≈ 0.69.
    bob_old = await posted_job(db, BOB, at=NOW - timedelta(days=6.5))
    await favorite(db, bob_old, ALICE, CAROL, DAVE, 105, 106, at=NOW - timedelta(days=6))
    # Carol: 9 ❤ on an image made 8 days ago: out of the board.
    carol_stale = await posted_job(db, CAROL, at=NOW - timedelta(days=8))
    await favorite(db, carol_stale, *range(200, 209), at=NOW - timedelta(days=1))
    # Dave: only his own ❤.
    dave_own = await posted_job(db, DAVE, at=NOW)
    await favorite(db, dave_own, DAVE, at=NOW)

    board = await trending_board(db, guild_id=GUILD, now=NOW)

    assert [(t.owner_id, t.job_id) for t in board] == [(ALICE, alice_older), (BOB, bob_old)]
    assert board[0].score == pytest.approx(2.25)
    assert board[0].favorites == 3


async def test_trending_ties_are_broken_by_favorites_then_newer_image(db: Database) -> None:
    first = await posted_job(db, ALICE, at=NOW - timedelta(days=1))
    second = await posted_job(db, BOB, at=NOW - timedelta(days=1))
    newer = await posted_job(db, CAROL, at=NOW - timedelta(hours=1))
    for job_id in (first, second):
        await favorite(db, job_id, DAVE, at=NOW)
    await favorite(db, newer, DAVE, at=NOW)
    await favorite(db, newer, 105, at=NOW)

    board = await trending_board(db, guild_id=GUILD, now=NOW)
    again = await trending_board(db, guild_id=GUILD, now=NOW)

    assert [t.job_id for t in board] == [newer, first, second]
    assert board == again


# --- ranks ---------------------------------------------------------------------------------


def test_equal_figures_share_a_place() -> None:
    placed = ranked([5, 3, 3, 1], key=lambda n: (n,))
    assert [(p.place, p.row) for p in placed] == [(1, 5), (2, 3), (2, 3), (4, 1)]


async def test_trending_counts_an_image_once_however_many_upscales_it_has(
    db: Database,
) -> None:
    grid = await posted_job(db, ALICE, at=NOW - timedelta(days=1), kind=JobKind.IMAGINE, images=4)
    # Three upscales of Alice's third image (one of them an upscale of an upscale), by
    # three people, each liked by some of the same members.
    by_bob = await posted_job(db, BOB, at=NOW - timedelta(hours=20), parent=(grid, 2))
    by_alice = await posted_job(db, ALICE, at=NOW - timedelta(hours=19), parent=(grid, 2))
    again = await posted_job(db, CAROL, at=NOW - timedelta(hours=18), parent=(by_bob, 0))
    await favorite(db, by_bob, CAROL, DAVE, at=NOW - timedelta(hours=2))
    await favorite(db, by_alice, DAVE, 105, 106, at=NOW - timedelta(hours=2))
    await favorite(db, again, CAROL, at=NOW - timedelta(hours=2))
    # Her first image, upscaled once, with three ❤ of its own.
    other = await posted_job(db, ALICE, at=NOW - timedelta(hours=17), parent=(grid, 0))
    await favorite(db, other, 107, 108, 109, at=NOW - timedelta(hours=2))

    trending = await trending_board(db, guild_id=GUILD, now=NOW)
    creators = await creators_board(db, guild_id=GUILD, window=Window.WEEK, now=NOW)

    # Carol, Dave, 105 and 106 liked the third image: four ❤, shown by its most liked upscale.
    assert [(t.owner_id, t.job_id, t.index, t.favorites) for t in trending] == [
        (ALICE, by_alice, 0, 4)
    ]
    assert trending[0].made_at == NOW - timedelta(days=1)
    assert creators == [CreatorStanding(ALICE, 0, 7)]
