"""PRICE grammar (SPEC.md, "PRICE: money"): exact ``Decimal`` amounts with an ISO 4217 currency.

Plain Python over plain values. In the database money is integer minor units plus the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency; ``amount`` never has more decimals than the currency allows."""

    amount: Decimal
    currency: str

    @property
    def minor(self) -> int:
        """The amount in integer minor units (cents), as stored."""
        raise NotImplementedError

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        raise NotImplementedError


def currency_code(text: str) -> str:
    """Validate an ISO 4217 code (case-insensitive); return it upper-case or raise ``BadInput``."""
    raise NotImplementedError


def currency_digits(code: str) -> int:
    """How many decimals the currency has (EUR 2, JPY 0, BHD 3)."""
    raise NotImplementedError


def parse_price(text: str, *, default_currency: str) -> Money:
    """Parse a PRICE; raise ``BadInput`` for unparseable, negative, over-precise or unknown-currency input."""
    raise NotImplementedError


def format_money(money: Money) -> str:
    """For people: the currency's symbol and its decimals, ``€240.00``, ``¥1,200``."""
    raise NotImplementedError


def format_amount(money: Money) -> str:
    """For JSON/CSV: the plain amount with the currency's decimals, ``"240.00"``."""
    raise NotImplementedError
