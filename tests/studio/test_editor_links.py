"""Signed editor links: made for one job and one member, unusable once changed or expired;
the editor's form token belongs to one link."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from studio.editor_links import (
    EditorLink,
    EditorLinks,
    ExpiredLink,
    ForgedForm,
    ForgedLink,
)
from tests.helpers.clock import FakeClock

SECRET = b"a-secret-of-thirty-two-bytes-ok!"
ALICE, BOB = 31, 32


@pytest.fixture
def links(clock: FakeClock) -> EditorLinks:
    return EditorLinks(SECRET, lifetime=timedelta(minutes=30), clock=clock)


def parts(link: EditorLink) -> tuple[str, str, str]:
    """The link's parts as they come back in its address."""
    query = {name: values[0] for name, values in parse_qs(link.query).items()}
    return query["member"], query["expires"], query["sig"]


def test_a_link_checks_out_for_its_job_and_member_until_it_expires(
    links: EditorLinks, clock: FakeClock
) -> None:
    link = links.make(7, ALICE)
    assert link.query.startswith("member=31&expires=")
    assert links.check(7, *parts(link)) == link
    clock.advance(minutes=29, seconds=59)
    assert links.check(7, *parts(link)).member_id == ALICE
    clock.advance(seconds=1)
    with pytest.raises(ExpiredLink) as expired:
        links.check(7, *parts(link))
    assert "expired at 2026-11-23 18:30 UTC" in str(expired.value)


def test_a_changed_member_job_expiry_or_signature_is_forged(links: EditorLinks) -> None:
    link = links.make(7, ALICE)
    member, expires, sig = parts(link)
    later = str(int(expires) + 3600)
    for job, *changed in (
        (7, str(BOB), expires, sig),  # another member's link
        (8, member, expires, sig),  # another image
        (7, member, later, sig),  # a longer life
        (7, member, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1")),
        (7, member, expires, ""),
        (7, "-31", expires, sig),
        (7, member, "9" * 40, sig),
        (7, "\u00b2", expires, sig),  # a digit to str.isdigit(), not to int()
        (7, member, "\u00b9" + expires, sig),
        (7, "1" * 21, expires, sig),
        (7, member, expires, "é" * 64),
    ):
        with pytest.raises(ForgedLink) as forged:
            links.check(job, *changed)
        assert "Press Vary (Region)" in str(forged.value)


def test_another_secret_does_not_accept_the_link(links: EditorLinks, clock: FakeClock) -> None:
    link = links.make(7, ALICE)
    other = EditorLinks(b"another-secret-of-32-bytes-long!", lifetime=links.lifetime, clock=clock)
    with pytest.raises(ForgedLink):
        other.check(7, *parts(link))


def test_the_form_token_belongs_to_one_link(links: EditorLinks, clock: FakeClock) -> None:
    link = links.make(7, ALICE)
    links.check_form(link, links.form_token(link))
    clock.advance(minutes=1)
    newer = links.make(7, ALICE)
    for token in (links.form_token(newer), links.form_token(links.make(7, BOB)), "", "x"):
        with pytest.raises(ForgedForm):
            links.check_form(link, token)


def test_a_short_secret_is_refused(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        EditorLinks(b"short", lifetime=timedelta(minutes=30), clock=clock)
