"""PRICE grammar (docs/reference.md, "PRICE"): exact ``Decimal`` amounts with an ISO 4217 currency.

Plain Python over plain values. In the database money is integer minor units plus the code.
Never a ``float``: amounts are parsed from text straight into ``Decimal``.

Rules beyond the table of forms, chosen once and tested:

- A price is a number with an optional currency before or after it, as a code (``EUR``,
  ``eur``) or a symbol (``€240``, ``240€``, ``CA$5``); with neither it is in the default
  currency. Naming two different currencies is bad input.
- ``$`` means USD, unless the default currency is another dollar that writes ``$`` at home
  (CAD, AUD, NZD, SGD, HKD, MXN, TWD, XCD and the other ``_DOLLARS``): then it means the
  default. Likewise ``¥`` is JPY unless the default is CNY, and ``£`` is GBP unless the default
  is GIP, FKP, SHP, EGP or SSP. ``$5 CAD`` is CAD whatever the default.
- Thousands separators are commas in groups of three (``1,234.50``); the decimal mark is a dot.
  Not more decimals than the currency has (written zeros count: ``240.000`` EUR is refused,
  as in much of Europe it reads as 240 thousand), at most 15 integer digits, no sign, exponent,
  ``nan`` or ``inf``.
- Valid codes for input are the ISO 4217 currencies legal tender somewhere today (from the
  CLDR data in babel); ``currency_digits`` also knows historic codes so old records still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from promisekeeper.errors import BadInput, quote

PRICE_EXAMPLES = "240, 240.00, €240, 240 EUR, EUR 240.50, 1,234.50 or $19.99"
MAX_INTEGER_DIGITS = 15

# Shown before the amount; from CLDR's English symbols, where they are unambiguous.
_SYMBOL_OF: dict[str, str] = {
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "USD": "$",
    "AUD": "A$",
    "BRL": "R$",
    "CAD": "CA$",
    "CNY": "CN¥",
    "HKD": "HK$",
    "ILS": "₪",
    "INR": "₹",
    "KRW": "₩",
    "MXN": "MX$",
    "NZD": "NZ$",
    "PHP": "₱",
    "TWD": "NT$",
    "VND": "₫",
    "XCD": "EC$",
}
# Read as input (upper-cased); the ambiguous ones are handled by ``_SHARED``.
_CODE_OF_SYMBOL: dict[str, str] = {
    **{sym.upper(): code for code, sym in _SYMBOL_OF.items() if sym not in ("$", "¥", "£")},
    "US$": "USD",
    "₽": "RUB",
    "₺": "TRY",
    "₴": "UAH",
    "ZŁ": "PLN",
}
_DOLLARS = frozenset(
    {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "ARS", "CLP", "COP", "CUP", "DOP"}
    | {"XCD", "BBD", "BSD", "BZD", "BMD", "BND", "FJD", "GYD", "JMD", "KYD", "LRD", "NAD", "SBD"}
    | {"SRD", "TTD", "UYU"}
)
# symbol -> (what it means by default, currencies that write it at home)
_SHARED: dict[str, tuple[str, frozenset[str]]] = {
    "$": ("USD", _DOLLARS),
    "¥": ("JPY", frozenset({"JPY", "CNY"})),
    "£": ("GBP", frozenset({"GBP", "GIP", "FKP", "SHP", "EGP", "SSP"})),
}

_A = re.ASCII
_SIGN = r"[-+\u2212]"
_TOKEN = r"[^\d\s.,+\-\u2212]+"
_PRICE = re.compile(
    rf"(?P<sign1>{_SIGN})?\s*(?P<pre>{_TOKEN}(?:\s+{_TOKEN})?)?\s*(?P<sign2>{_SIGN})?\s*"
    rf"(?P<num>[\d.,]+)\s*(?P<post>{_TOKEN}(?:\s+{_TOKEN})?)?",
    _A,
)
_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?", _A)
_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}", _A)
_CODE = re.compile(r"[A-Z]{3}", _A)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency; ``amount`` never has more decimals than the currency allows.

    On construction the amount is padded to the currency's decimals (``240`` -> ``240.00``)
    and the code upper-cased; a ``float`` or an over-precise amount is a programming error.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"Money needs a finite amount, not {self.amount}")
        code = self.currency.strip().upper()
        digits = currency_digits(code)
        try:
            padded = self.amount.quantize(Decimal(1).scaleb(-digits))
        except InvalidOperation:
            raise ValueError(f"{self.amount} is too large an amount") from None
        if padded != self.amount:
            raise ValueError(f"{self.amount} has more decimals than {code} has ({digits})")
        object.__setattr__(self, "amount", padded)
        object.__setattr__(self, "currency", code)

    @property
    def minor(self) -> int:
        """The amount in integer minor units (cents), as stored."""
        return int(self.amount.scaleb(currency_digits(self.currency)))

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """The inverse of ``minor``: ``from_minor(24000, "EUR")`` is EUR 240.00."""
        return cls(Decimal(minor).scaleb(-currency_digits(currency)), currency)


def currency_code(text: str) -> str:
    """Validate an ISO 4217 code (case-insensitive); return it upper-case or raise ``BadInput``."""
    code = text.strip().upper()
    if _CODE.fullmatch(code) is None or code not in _current_codes():
        raise BadInput(f"Unknown currency {quote(text)}; use an ISO 4217 code such as EUR, USD, GBP or JPY.")
    return code


def currency_digits(code: str) -> int:
    """How many decimals the currency has (EUR 2, JPY 0, BHD 3); historic codes included."""
    return _digits(code.strip().upper())


def parse_price(text: str, *, default_currency: str) -> Money:
    """Parse a PRICE; raise ``BadInput`` for unparseable, negative, over-precise or unknown-currency input."""
    default = currency_code(default_currency)
    s = " ".join(text.split())
    if not s:
        raise BadInput(f"No price given; use e.g. {PRICE_EXAMPLES}.")
    m = _PRICE.fullmatch(s) if len(s) <= 64 else None
    if m is None:
        raise BadInput(f"Cannot read {quote(text)} as a price; use e.g. {PRICE_EXAMPLES}.")
    if "-" in (m["sign1"], m["sign2"]) or "\u2212" in (m["sign1"], m["sign2"]):
        raise BadInput(f"A price cannot be negative: {quote(text)}; use e.g. 240 or €19.99.")
    currency = _currency_of(m["pre"], m["post"], default, text)
    return _amount(m["num"], currency, text)


def format_money(money: Money) -> str:
    """For people: the currency's symbol and its decimals, ``€240.00``, ``¥1,200``, ``BHD 1.250``."""
    digits = currency_digits(money.currency)
    number = f"{abs(money.amount):,.{digits}f}"
    sign = "-" if money.amount < 0 else ""
    symbol = _SYMBOL_OF.get(money.currency)
    if symbol is None:
        return f"{sign}{money.currency} {number}"
    return f"{sign}{symbol}{number}"


def format_amount(money: Money) -> str:
    """For JSON/CSV: the plain amount with the currency's decimals, ``"240.00"``."""
    return f"{money.amount:.{currency_digits(money.currency)}f}"


# --- helpers --------------------------------------------------------------------------------


def _currency_of(pre: str | None, post: str | None, default: str, text: str) -> str:
    """The currency named before and/or after the number (``$5 CAD``, ``AUD $5``), else ``default``."""
    tokens = [tok for part in (pre, post) if part is not None for tok in part.split()]
    named = [_token_currency(tok, default, text) for tok in tokens]
    explicit = sorted({code for code, shared in named if shared is None})
    if len(explicit) > 1:
        raise BadInput(f"{quote(text)} names two currencies ({explicit[0]} and {explicit[1]}); give one.")
    if explicit:
        chosen = explicit[0]
        for code, shared in named:
            if shared is not None and code != chosen and chosen not in _SHARED[shared][1]:
                raise BadInput(f"{quote(text)} names two currencies ({code} and {chosen}); give one.")
        return chosen
    implied = sorted({code for code, _shared in named})
    if len(implied) > 1:
        raise BadInput(f"{quote(text)} names two currencies ({implied[0]} and {implied[1]}); give one.")
    return implied[0] if implied else default


def _token_currency(token: str, default: str, text: str) -> tuple[str, str | None]:
    """The code a symbol or code stands for, and the shared symbol it came from, if any."""
    up = token.upper()
    if up in _SHARED:
        meaning, family = _SHARED[up]
        return (default if default in family else meaning), up
    if up in _CODE_OF_SYMBOL:
        return _CODE_OF_SYMBOL[up], None
    if _CODE.fullmatch(up) is not None:
        return currency_code(up), None
    if token.isalpha():
        raise BadInput(
            f"Unknown currency {quote(token)} in {quote(text)}; "
            "use an ISO 4217 code such as EUR, USD, GBP or JPY."
        )
    raise BadInput(f"Cannot read {quote(text)} as a price; use e.g. {PRICE_EXAMPLES}.")


def _amount(number: str, currency: str, text: str) -> Money:
    m = _NUMBER.fullmatch(number)
    if m is None:
        if _DECIMAL_COMMA.fullmatch(number):
            raise BadInput(f"Cannot read {quote(text)} as a price: use a dot for decimals, e.g. 240.50.")
        raise BadInput(f"Cannot read {quote(text)} as a price; use e.g. {PRICE_EXAMPLES}.")
    whole = m["int"].replace(",", "")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise BadInput(
            f"{quote(text)} is too large a price; use at most {MAX_INTEGER_DIGITS} digits"
            " before the decimal point."
        )
    frac = m["frac"] or ""
    digits = currency_digits(currency)
    if len(frac) > digits:
        allowed = "no decimals" if digits == 0 else f"{digits} decimal{'s' if digits > 1 else ''}"
        raise BadInput(f"{quote(text)} has too many decimals: {currency} has {allowed}.")
    return Money(Decimal(f"{whole}.{frac}" if frac else whole), currency)


@lru_cache(maxsize=1)
def _current_codes() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today, per babel's CLDR data."""
    # Imported here: babel costs ~20 ms at startup and only money input needs it.
    from babel.core import get_global

    spans = get_global("territory_currencies").values()
    return frozenset(
        code for spans_of in spans for code, _start, end, tender in spans_of if end is None and tender
    )


@lru_cache(maxsize=64)
def _digits(code: str) -> int:
    from babel.numbers import get_currency_precision, list_currencies

    if code not in _current_codes() and code not in list_currencies():
        raise BadInput(f"Unknown currency {quote(code)}; use an ISO 4217 code such as EUR, USD, GBP or JPY.")
    return int(get_currency_precision(code))
