"""Campaigns for ``bench.community``: the model versions they fund and the pledge ledger."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from bench.community_writer import CHANNEL_ID, DAY, GUILD_ID, MODELS, YEAR, RowWriter
from db.times import to_db_time


@dataclass(frozen=True)
class _Event:
    """One ``pledge_events`` row."""

    id: int
    campaign: int
    backer: int
    seq: int
    kind: str
    delta: int
    amount: int
    anonymous: int
    interaction: int | None
    system_key: str | None
    at: str

    def row(self) -> tuple[object, ...]:
        actor = self.backer if self.interaction is not None else None
        return (
            self.id,
            self.campaign,
            self.backer,
            self.seq,
            self.kind,
            self.delta,
            self.amount,
            self.anonymous,
            self.interaction,
            self.system_key,
            actor,
            None,
            self.at,
        )


def campaigns(w: RowWriter) -> tuple[int, int]:
    """The registry's models, one upcoming version per campaign, and the ledger.

    Campaign 1 is open and holds about half of all ledger events; two more are open, the
    rest settled over the past year (mostly funded, some failed or cancelled: voided).
    """
    year_ago = to_db_time(w.now - YEAR)
    w.insert("models", [(m, name, None, year_ago) for m, name in enumerate(MODELS, start=1)])
    w.insert_into(
        "model_versions",
        "id, model_id, version, source, family, status, released_at, created_at",
        [
            (m, m, "1", f"hub/{name}", "sd1", "available", year_ago, year_ago)
            for m, name in enumerate(MODELS, start=1)
        ],
    )
    count = w.sizes.campaigns
    big_backers = max(2, round(w.sizes.pledge_events / 2 / 1.4))
    small_backers = max(2, round(w.sizes.pledge_events / 2 / max(1, count - 1) / 2.4))
    event_ids = itertools.count(1)
    big_events = 0
    for c in range(1, count + 1):
        state = (
            "open"
            if c <= 3
            else "failed"
            if c % 6 == 0
            else ("cancelled" if c % 13 == 0 else "funded")
        )
        deadline = w.now + 10 * DAY if state == "open" else w.now - YEAR * (c / (count + 1))
        starts = deadline - 30 * DAY
        version = len(MODELS) + c
        early = state == "funded" and deadline > w.now - 7 * DAY
        status = {"funded": "early_access" if early else "available"}.get(state, "upcoming")
        w.insert_into(
            "model_versions",
            "id, model_id, version, source, family, status, early_access_until, released_at,"
            " created_at",
            [
                (
                    version,
                    1 + c % len(MODELS),
                    str(c + 1),
                    f"/models/v{c}.safetensors",
                    "sd1",
                    status,
                    to_db_time(deadline + 7 * DAY) if early else None,
                    to_db_time(deadline) if state == "funded" else None,
                    to_db_time(starts),
                )
            ],
        )
        backers = w.rng.sample(w.members, big_backers if c == 1 else small_backers)
        ledger = _ledger(w, c, backers, starts, min(deadline, w.now), event_ids)
        total = sum(e.delta for e in ledger)
        goal = total * 2 if state == "failed" or c == 1 else max(100, total * 4 // 5)
        settled = None if state == "open" else to_db_time(deadline)
        w.insert_into(
            "campaigns",
            "id, version_id, guild_id, channel_id, message_id, owner_id, title, currency,"
            " goal_minor, min_pledge_minor, starts_at, deadline, state, settled_at,"
            " settled_total_minor, announced_at, created_interaction_id, created_at, updated_at",
            [
                (
                    c,
                    version,
                    GUILD_ID,
                    CHANNEL_ID,
                    700_000 + c,
                    w.members[c],
                    f"Campaign {c}",
                    "JPY" if c % 10 == 7 else "EUR" if c % 4 == 3 else "USD",
                    goal,
                    100,
                    to_db_time(starts),
                    to_db_time(deadline),
                    state,
                    settled,
                    None if settled is None else total,
                    settled,
                    next(w.interaction),
                    to_db_time(starts),
                    to_db_time(starts),
                )
            ],
        )
        if state != "open":
            ledger += _settlement(c, ledger, state == "funded", deadline, event_ids)
        w.insert("pledge_events", [e.row() for e in ledger])
        big_events = big_events or len(ledger)
    return 1, big_events


def _ledger(
    w: RowWriter,
    campaign: int,
    backers: list[int],
    starts: datetime,
    until: datetime,
    event_ids: Iterator[int],
) -> list[_Event]:
    """Each backer pledges; about a third change their amount later, one in ten withdraws."""
    events: list[_Event] = []
    for backer in backers:
        at = starts + (until - starts) * w.rng.random() * 0.5
        anonymous = int(w.rng.random() < 0.1)
        steps = [("pledge", 100 * w.rng.randint(1, 50))]
        if w.rng.random() < 0.3:
            steps.append(("change", 100 * w.rng.randint(1, 80)))
        if w.rng.random() < 0.1:
            steps.append(("withdraw", 0))
        previous, seq = 0, 0
        for kind, amount in steps:
            if amount == previous:
                continue
            at += (until - at) * w.rng.random() * 0.5
            seq += 1
            events.append(
                _Event(
                    next(event_ids),
                    campaign,
                    backer,
                    seq,
                    kind,
                    amount - previous,
                    amount,
                    anonymous,
                    next(w.interaction),
                    None,
                    to_db_time(at),
                )
            )
            previous = amount
    return events


def _settlement(
    campaign: int,
    ledger: list[_Event],
    funded: bool,
    deadline: datetime,
    event_ids: Iterator[int],
) -> list[_Event]:
    """What settling writes: for every backer still pledging, 'settle' (funded: the amount
    stays) or 'void' (failed or cancelled: back to zero)."""
    last = {event.backer: event for event in ledger}
    kind = "settle" if funded else "void"
    return [
        _Event(
            next(event_ids),
            campaign,
            backer,
            e.seq + 1,
            kind,
            0 if funded else -e.amount,
            e.amount if funded else 0,
            e.anonymous,
            None,
            f"{kind}:{campaign}:{backer}",
            to_db_time(deadline),
        )
        for backer, e in last.items()
        if e.amount > 0
    ]
