"""Money as members type it and as Atelier stores it: integer minor units plus an ISO code.

Parsing is strict on purpose: a pledge is a promise to pay, so "ten", "-5", "1e9" or
"5.555 USD" is refused with the reason rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import quoted
from funding.errors import FundingError

#: ISO 4217 codes without a minor unit in use, and those with three decimals.
_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"

#: Active ISO 4217 currency codes (funds, precious metals and testing codes left out).
#: Every code not named above has two decimals.
_ACTIVE_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWG
"""
_CODES = frozenset(_ACTIVE_CODES.split())
_EXPONENTS = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}

#: At most this many whole units in one pledge, in any currency: a typo guard, not a
#: judgement. (One million yen and one million dollars differ; both are beyond any pledge
#: a community model plausibly gets from one member.)
MAX_PLEDGE_UNITS = 1_000_000
#: At most this many whole units as a campaign goal.
MAX_GOAL_UNITS = 100_000_000
#: The longest amount read (without its currency): the largest goal with separators and
#: decimals is 15 characters, and the pledge form takes 32.
MAX_AMOUNT_CHARS = 32

# ASCII digits, optional thousands separators (1,000 or 1 000 or 1_000), optional decimals.
# ``[0-9]``, not ``\d``: ``\d`` also matches Arabic-Indic or full-width digits.
_AMOUNT = re.compile(r"^(?P<whole>[0-9]{1,3}(?:[,_ ][0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?$")
# "12,50" or "1.234,5": a comma for the decimals (with dots or spaces between thousands).
_DECIMAL_COMMA = re.compile(
    r"^(?P<whole>[0-9]{1,3}(?:[._ ][0-9]{3})+|[0-9]+),(?P<frac>[0-9]{1,2})$"
)


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int  # minor units per unit = 10 ** exponent

    @property
    def minor_per_unit(self) -> int:
        return int(10**self.exponent)


def currency(code: str) -> Currency:
    """The ISO 4217 currency ``code`` (any case), or a FundingError naming examples."""
    upper = code.strip().upper()
    if upper not in _CODES:
        raise FundingError(
            f"{quoted(code)} is not an ISO 4217 currency code; "
            "use a three-letter code such as USD, EUR, GBP or JPY."
        )
    return Currency(upper, _EXPONENTS.get(upper, 2))


def parse_amount(text: str, cur: Currency, *, max_units: int = MAX_PLEDGE_UNITS) -> int:
    """Parse a positive amount in ``cur`` into minor units, refusing anything ambiguous.

    Accepted: ``25``, ``25.50``, ``1,000``, ``1 000.5``, optionally with the currency code
    before or after (``25 USD``, ``USD 25``) or a ``$``/``€``/``£``/``¥`` sign. Refused,
    each with its own reason: words, signs, exponents, more decimals than the currency
    has, zero, and more than ``max_units`` whole units.
    """
    raw = text.strip()
    body = _strip_currency(raw, cur)
    if not body:
        raise FundingError(f"Give an amount, for example {_example(cur)}.")
    if len(body) > MAX_AMOUNT_CHARS:  # before any int(): it refuses 4,300 digits and more
        raise FundingError(
            f"{quoted(raw)} is too long for an amount: write at most {MAX_AMOUNT_CHARS} "
            f"characters, e.g. {_example(cur)}; the most accepted is {_most(cur, max_units)}."
        )
    if body.startswith("-"):
        raise FundingError(f"{quoted(raw)} is negative; an amount must be more than zero.")
    if body.startswith("+"):
        body = body[1:]
    if any(char.isdecimal() and not char.isascii() for char in body):
        raise FundingError(
            f"{quoted(raw)} has digits other than 0-9; type the amount with 0-9, "
            f"e.g. {_example(cur)}."
        )
    if re.fullmatch(r"[0-9.,_ ]*[0-9][eE][+-]?[0-9]+", body):
        raise FundingError(
            f"{quoted(raw)} uses exponent notation; write the number out, e.g. 2500 or 25.50."
        )
    match = _AMOUNT.match(body)
    comma = _DECIMAL_COMMA.match(body) if match is None else None
    if comma is not None:
        plain = re.sub(r"[._ ]", "", comma["whole"])
        raise FundingError(
            f"{quoted(raw)} has a decimal comma; use a dot for decimals: {plain}.{comma['frac']}"
        )
    if match is None:
        raise FundingError(
            f"{quoted(raw)} is not an amount: use digits with at most "
            f"{_decimals_phrase(cur)}, e.g. {_example(cur)}."
        )
    whole = int(re.sub(r"[,_ ]", "", match["whole"]))
    frac = match["frac"] or ""
    if len(frac) > cur.exponent:
        raise FundingError(
            f"{quoted(raw)} has {len(frac)} decimal{'' if len(frac) == 1 else 's'}, "
            f"but {cur.code} has "
            f"{_decimals_phrase(cur)}, e.g. {_example(cur)}."
        )
    minor = whole * cur.minor_per_unit + (int(frac.ljust(cur.exponent, "0")) if frac else 0)
    if minor <= 0:
        raise FundingError(f"{quoted(raw)} is zero; an amount must be more than zero.")
    if minor > max_units * cur.minor_per_unit:
        raise FundingError(f"{quoted(raw)} is more than the maximum of {_most(cur, max_units)}.")
    return minor


def _most(cur: Currency, max_units: int) -> str:
    return format_minor(max_units * cur.minor_per_unit, cur)


def format_minor(amount_minor: int, cur: Currency | str) -> str:
    """``1234567`` USD → ``12,345.67 USD``; ``1500`` JPY → ``1,500 JPY``."""
    cur = currency(cur) if isinstance(cur, str) else cur
    sign = "-" if amount_minor < 0 else ""
    whole, frac = divmod(abs(amount_minor), cur.minor_per_unit)
    text = f"{whole:,}"
    if cur.exponent:
        text += f".{frac:0{cur.exponent}d}"
    return f"{sign}{text} {cur.code}"


_SIGNS = {
    "$": ("USD", "AUD", "CAD", "NZD", "HKD", "SGD", "MXN"),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY", "CNY"),
}


def _strip_currency(raw: str, cur: Currency) -> str:
    """Remove a leading or trailing currency code or sign that matches ``cur``.

    A different currency's code is refused by name: "5 EUR" to a USD campaign is not 5 USD.
    """
    body = raw
    for code in re.findall(r"[A-Za-z]{3}", body):
        if code.upper() != cur.code and code.upper() in _CODES:
            raise FundingError(
                f"{quoted(raw)} is in {code.upper()}, but this campaign is in {cur.code}; "
                f"give the amount in {cur.code}."
            )
    if body.upper().endswith(cur.code):
        body = body[: -len(cur.code)].strip()
    elif body.upper().startswith(cur.code):
        body = body[len(cur.code) :].strip()
    for sign, codes in _SIGNS.items():
        if cur.code in codes and body.startswith(sign):
            body = body[len(sign) :].strip()
    return body


def _decimals_phrase(cur: Currency) -> str:
    if cur.exponent == 0:
        return "no decimals"
    return "1 decimal" if cur.exponent == 1 else f"{cur.exponent} decimals"


def _example(cur: Currency) -> str:
    return format_minor(25 * cur.minor_per_unit + (5 * cur.minor_per_unit // 10), cur)
