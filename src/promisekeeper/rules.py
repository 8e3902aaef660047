"""The rules of a promise: status, deviations and lateness, from its terms, its deliveries and ``now``.

Pure functions over plain values (no database, no I/O, no clock): the CLI, the mail, the statistics
and the import all judge a promise through ``assess``, so they can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from promisekeeper.money import Money, currency_digits, format_money
from promisekeeper.when import Due, describe_due, describe_span

KINDS = ("delivery", "callback", "reply", "followup", "other")
STATUSES = ("open", "overdue", "kept", "deviated", "cancelled")
DEVIATIONS = ("late", "substituted", "price", "short", "excess")

_SPACE = re.compile(r"\s+")


def same_item(a: str, b: str) -> bool:
    """Whether two descriptions name the same item: case-insensitive, white space collapsed."""
    return normalise(a) == normalise(b)


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass(frozen=True, slots=True)
class Terms:
    """What was promised. ``price`` is the total for the whole quantity (``None``: no price promised)."""

    what: str
    quantity: int
    price: Money | None
    due: datetime


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """One act of fulfilment: what was handed over, how many, what was charged (``None``: nothing)."""

    at: datetime
    what: str
    quantity: int
    price: Money | None


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way the fulfilment differed from the promise, with its size."""

    kind: str
    late_seconds: int | None = None
    promised_what: str | None = None
    delivered_what: str | None = None
    promised_price: Money | None = None
    charged: Money | None = None
    promised_quantity: int | None = None
    delivered_quantity: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The judgement of a promise at ``now``: status, deviations and the delivered totals."""

    status: str
    deviations: tuple[Deviation, ...]
    delivered_quantity: int
    charged: Money | None
    fulfilled_at: datetime | None
    late_by_seconds: int | None

    @property
    def deviation_kinds(self) -> tuple[str, ...]:
        return tuple(d.kind for d in self.deviations)


def total_charged(deliveries: Sequence[Fulfilment]) -> Money | None:
    """The sum charged over all deliveries; ``None`` when nothing was charged.

    Charges in several currencies cannot be added: the result then carries the first currency seen
    and ``mixed_currencies`` tells the caller (it is always a price deviation).
    """
    charged = [d.price for d in deliveries if d.price is not None]
    if not charged:
        return None
    currency = charged[0].currency
    return Money(sum((c.amount for c in charged if c.currency == currency), Decimal(0)), currency)


def mixed_currencies(deliveries: Sequence[Fulfilment]) -> bool:
    return len({d.price.currency for d in deliveries if d.price is not None}) > 1


def default_charge(terms: Terms, deliveries: Sequence[Fulfilment], quantity: int) -> Money | None:
    """What a delivery of ``quantity`` costs when the clerk does not say: its share of the promised price.

    The delivery that completes the promise takes the rest still uncharged, so deliveries made as
    promised always add up to exactly the promised price.
    """
    if terms.price is None:
        return None
    delivered = sum(d.quantity for d in deliveries)
    if delivered + quantity >= terms.quantity:
        paid = sum(
            (d.price.amount for d in deliveries if d.price and d.price.currency == terms.price.currency),
            Decimal(0),
        )
        return Money(max(terms.price.amount - paid, Decimal(0)), terms.price.currency)
    # Round the running total, not each share: rounding errors then never accumulate.
    step = Decimal(1).scaleb(-currency_digits(terms.price.currency))
    price, whole = terms.price.amount, terms.quantity

    def upto(n: int) -> Decimal:
        return (price * n / whole).quantize(step, rounding=ROUND_HALF_EVEN)

    share = upto(delivered + quantity) - upto(delivered)
    return Money(share, terms.price.currency)


def assess(
    terms: Terms,
    deliveries: Sequence[Fulfilment],
    *,
    now: datetime,
    closed_at: datetime | None = None,
    cancelled: bool = False,
) -> Outcome:
    """Judge a promise.

    ``closed_at`` is when the promise was closed as fulfilled (the delivery completing the quantity,
    or ``pk done``); ``None`` while it is still owed or when it was cancelled. A cancelled promise
    is ``cancelled`` whatever
    was delivered before. ``short`` shows once the promise is closed or past due; price is judged on
    the total once the promise is closed.
    """
    delivered = sum(d.quantity for d in deliveries)
    charged = total_charged(deliveries)
    # Instants are compared in UTC: two datetimes in one ZoneInfo compare by wall clock across DST.
    due = terms.due.astimezone(UTC)
    fulfilled_at = closed_at.astimezone(UTC) if closed_at is not None else None
    if closed_at is not None and deliveries:
        fulfilled_at = max(d.at.astimezone(UTC) for d in deliveries)
    past_due = now.astimezone(UTC) > due

    deviations: list[Deviation] = []
    late_by: int | None = None
    if fulfilled_at is not None and fulfilled_at > due:
        late_by = max(1, int((fulfilled_at - due).total_seconds()))  # late is never "late by 0 s"
        deviations.append(Deviation("late", late_seconds=late_by))
    for d in deliveries:
        if not same_item(d.what, terms.what):
            deviations.append(Deviation("substituted", promised_what=terms.what, delivered_what=d.what))
            break
    if closed_at is not None and terms.price is not None:
        wrong_total = charged is None or charged != terms.price or mixed_currencies(deliveries)
        if wrong_total:
            deviations.append(Deviation("price", promised_price=terms.price, charged=charged))
    if delivered < terms.quantity and (closed_at is not None or past_due) and deliveries:
        deviations.append(Deviation("short", promised_quantity=terms.quantity, delivered_quantity=delivered))
    elif delivered > terms.quantity:
        deviations.append(Deviation("excess", promised_quantity=terms.quantity, delivered_quantity=delivered))

    if cancelled:
        status = "cancelled"
    elif closed_at is not None:
        status = "deviated" if deviations else "kept"
    else:
        status = "overdue" if past_due else "open"
    return Outcome(
        status=status,
        deviations=tuple(deviations),
        delivered_quantity=delivered,
        charged=charged,
        fulfilled_at=fulfilled_at,
        late_by_seconds=late_by,
    )


def closes(terms: Terms, deliveries: Sequence[Fulfilment]) -> bool:
    """Whether these deliveries fulfil the whole quantity (a partial delivery leaves the promise open)."""
    return sum(d.quantity for d in deliveries) >= terms.quantity


def terms_text(
    what: str,
    quantity: int,
    price: Money | None,
    due: Due,
    tz: ZoneInfo,
    now: datetime,
    *,
    customer: str | None = None,
) -> str:
    """The terms as people read them: ``2 × Boots to Anna Smith for €240.00, due Tue 24 Nov (end of day)``."""
    qty = f"{quantity} × " if quantity != 1 else ""
    to = f" to {customer}" if customer else ""
    cost = f" for {format_money(price)}" if price is not None else ""
    return f"{qty}{what}{to}{cost}, due {describe_due(due, tz, now=now)}"


def price_text(charged: Money | None, promised: Money | None) -> str:
    """``price €250.00 vs €240.00 promised (+€10.00)``."""
    if promised is None:
        return "price"
    if charged is None:
        return f"price: nothing charged vs {format_money(promised)} promised"
    if charged.currency != promised.currency:
        return f"price {format_money(charged)} vs {format_money(promised)} promised (another currency)"
    diff = charged.amount - promised.amount
    sign = "+" if diff >= 0 else "-"
    return (
        f"price {format_money(charged)} vs {format_money(promised)} promised "
        f"({sign}{format_money(Money(abs(diff), charged.currency))})"
    )


def deviation_text(d: Deviation) -> str:
    """One deviation with its size, the way the verdict and the history say it."""
    if d.kind == "late" and d.late_seconds is not None:
        return f"late by {describe_span(d.late_seconds)}"
    if d.kind == "price":
        return price_text(d.charged, d.promised_price)
    if d.kind == "substituted":
        return f'substituted "{d.delivered_what}" for "{d.promised_what}"'
    if d.kind == "short":
        return f"short: {d.delivered_quantity} of {d.promised_quantity} delivered"
    return f"excess: {d.delivered_quantity} delivered, {d.promised_quantity} promised"


def verdict_text(outcome: Outcome) -> str:
    """``kept``, or each deviation with its size, joined by semicolons."""
    return "; ".join(deviation_text(d) for d in outcome.deviations) or outcome.status
