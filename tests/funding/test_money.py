"""Amounts as members type them, in the currency's own minor units."""

from __future__ import annotations

import pytest

from funding.errors import FundingError
from funding.money import MAX_PLEDGE_UNITS, currency, format_minor, parse_amount

USD = currency("usd")
JPY = currency("JPY")
KWD = currency("KWD")


@pytest.mark.parametrize(
    ("code", "exponent"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3)]
)
def test_currencies_have_their_iso_minor_units(code: str, exponent: int) -> None:
    assert currency(code).exponent == exponent


def test_unknown_currency_is_refused_with_examples() -> None:
    with pytest.raises(FundingError, match=r"“dollars” is not an ISO 4217 .*USD"):
        currency("dollars")


@pytest.mark.parametrize(
    ("text", "cur", "minor"),
    [
        ("25", USD, 2500),
        ("25.5", USD, 2550),
        ("25.05", USD, 2505),
        ("$1,000.25", USD, 100025),
        ("USD 7", USD, 700),
        ("7 usd", USD, 700),
        ("1 500", JPY, 1500),
        ("5.555", KWD, 5555),
        ("12,500", USD, 1250000),  # a comma before three digits separates thousands
    ],
)
def test_amounts_become_integer_minor_units(text: str, cur: object, minor: int) -> None:
    assert parse_amount(text, cur, max_units=MAX_PLEDGE_UNITS) == minor  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ten", "is not an amount: use digits with at most 2 decimals"),
        ("-5", "is negative"),
        ("1e9", "uses exponent notation"),
        ("5.555", "has 3 decimals, but USD has 2 decimals"),
        ("0", "is zero"),
        ("0.00", "is zero"),
        ("", "Give an amount"),
        ("5 EUR", "is in EUR, but this campaign is in USD"),
        ("1000000.01", "more than the maximum of 1,000,000.00 USD"),
        ("٥", "has digits other than 0-9"),  # an Arabic-Indic five
        ("１０", "has digits other than 0-9"),  # a full-width ten
        ("12,50", "use a dot for decimals: 12.50"),
        ("1.234,5", "use a dot for decimals: 1234.5"),
        ("9" * 5000, "is too long for an amount: write at most 32 characters"),
        ("1" * 33, "the most accepted is 1,000,000.00 USD"),
    ],
)
def test_malformed_amounts_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(FundingError) as caught:
        parse_amount(text, USD)
    assert reason in caught.value.message


def test_yen_have_no_decimals() -> None:
    with pytest.raises(FundingError, match="has 1 decimal, but JPY has no decimals"):
        parse_amount("5.5", JPY)


def test_formatting_uses_the_currency_precision() -> None:
    assert format_minor(123456, USD) == "1,234.56 USD"
    assert format_minor(1500, JPY) == "1,500 JPY"
    assert format_minor(1234, KWD) == "1.234 KWD"
    assert format_minor(-5, USD) == "-0.05 USD"
