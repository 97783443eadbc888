"""The member-facing error base: moments stay values until a front end shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from core.errors import QUOTE_CHARS, UserFacingError, plain_time, quoted

OPENS = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def test_str_shows_each_moment_in_utc_for_the_cli_and_logs() -> None:
    tokyo = OPENS.astimezone(timezone(timedelta(hours=9)))
    error = UserFacingError("It opens {opens}.", opens=tokyo)
    assert str(error) == "It opens 2026-12-10 12:00 UTC."
    assert plain_time(tokyo) == "2026-12-10 12:00 UTC"


def test_a_front_end_shows_moments_its_own_way() -> None:
    error = UserFacingError("From {start} to {end}.", start=OPENS, end=OPENS + timedelta(days=1))
    shown = error.render(lambda moment: f"<{moment.day}>")
    assert shown == "From <10> to <11>."
    assert error.moments == {"start": OPENS, "end": OPENS + timedelta(days=1)}


def test_other_braces_in_a_message_stay_as_written() -> None:
    """A member's ``{red, green}`` prompt or a stray brace is not a field to fill."""
    error = UserFacingError("`{red, green} car` ends {opens}; {unknown} stays.", opens=OPENS)
    assert str(error) == "`{red, green} car` ends 2026-12-10 12:00 UTC; {unknown} stays."
    assert str(UserFacingError("a {b} c")) == "a {b} c"


def test_quoted_input_is_shortened_keeping_both_ends() -> None:
    assert quoted("  25 USD ") == "“25 USD”"
    long = "a" * 3000 + "tail"
    shown = quoted(long)
    assert len(shown) == QUOTE_CHARS + 2
    assert shown.startswith("“aaa")
    assert shown.endswith("tail”")
    assert "…" in shown
