"""Amounts as people read them: ``€12.50``, ``¥1,200``, ``12.50 CHF``."""

from __future__ import annotations

from funding.errors import FundingError
from funding.money import currency, format_minor

#: Currencies whose sign is unambiguous enough to write before the amount.
_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def format_money(amount_minor: int, code: str) -> str:
    """``1250`` EUR → ``€12.50``; ``1200`` JPY → ``¥1,200``; other currencies keep their
    code after the amount (``12.50 CHF``), with as many decimals as the currency has."""
    try:
        cur = currency(code)
    except FundingError:
        # A code this version does not know (retired since the pledge): show it as stored.
        return f"{amount_minor:,} {code} (minor units)"
    sign = _SIGNS.get(cur.code)
    if sign is None:
        return format_minor(amount_minor, cur)
    return sign + format_minor(amount_minor, cur).removesuffix(f" {cur.code}")
