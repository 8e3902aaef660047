"""The rules of a promise: status, deviations and lateness, from its terms, its deliveries and ``now``.

Pure functions over plain values (no database, no I/O, no clock): the CLI, the mail, the statistics
and the import all judge a promise through ``assess``, so they can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from promisekeeper.money import Money, currency_digits
from promisekeeper.views import (
    Deviation,
    DeviationKind,
    Figures,
    Fulfilment,
    Outcome,
    PromiseView,
    Risk,
    RiskKind,
    StatsBy,
    StatsReport,
    StatsResult,
    Status,
    Supply,
    Tally,
    Terms,
)

_SPACE = re.compile(r"\s+")


def same_item(a: str, b: str) -> bool:
    """Whether two descriptions name the same item: case-insensitive, white space collapsed."""
    return normalise(a) == normalise(b)


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


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
    ready_at: datetime | None = None,
) -> Outcome:
    """Judge a promise.

    ``closed_at`` is when the promise was closed as fulfilled (the delivery completing the quantity,
    or ``pk done``); ``None`` while it is still owed or when it was cancelled. A cancelled promise
    is ``cancelled`` whatever
    was delivered before. ``short`` shows once the promise is closed or past due; price is judged on
    the total once the promise is closed.

    ``ready_at`` (a pickup promise marked ready; pass ``None`` for any other) moves the shop's part of
    the promise: it is on time when ready by its due however late the customer collects, late by
    ready − due when ready late, and while it waits for collection it is open, never overdue.
    """
    delivered = sum(d.quantity for d in deliveries)
    charged = total_charged(deliveries)
    # Instants are compared in UTC: two datetimes in one ZoneInfo compare by wall clock across DST.
    due = terms.due.astimezone(UTC)
    fulfilled_at = closed_at.astimezone(UTC) if closed_at is not None else None
    if closed_at is not None and deliveries:
        fulfilled_at = max(d.at.astimezone(UTC) for d in deliveries)
    past_due = now.astimezone(UTC) > due
    ready = ready_at.astimezone(UTC) if ready_at is not None else None
    done_at = fulfilled_at if ready is None else min(ready, fulfilled_at) if fulfilled_at else ready
    if ready is not None and fulfilled_at is None:
        past_due = False  # ready and waiting for the customer: nothing is owed by the shop

    deviations: list[Deviation] = []
    late_by: int | None = None
    if done_at is not None and done_at > due and (fulfilled_at is not None or ready is not None):
        late_by = max(1, int((done_at - due).total_seconds()))  # late is never "late by 0 s"
        deviations.append(Deviation(DeviationKind.late, late_seconds=late_by))
    for d in deliveries:
        if not same_item(d.what, terms.what):
            deviations.append(
                Deviation(DeviationKind.substituted, promised_what=terms.what, delivered_what=d.what)
            )
            break
    if closed_at is not None and terms.price is not None:
        wrong_total = charged is None or charged != terms.price or mixed_currencies(deliveries)
        if wrong_total:
            deviations.append(Deviation(DeviationKind.price, promised_price=terms.price, charged=charged))
    if delivered < terms.quantity and (closed_at is not None or past_due) and deliveries:
        deviations.append(
            Deviation(DeviationKind.short, promised_quantity=terms.quantity, delivered_quantity=delivered)
        )
    elif delivered > terms.quantity:
        deviations.append(
            Deviation(DeviationKind.excess, promised_quantity=terms.quantity, delivered_quantity=delivered)
        )

    if cancelled:
        status = Status.cancelled
    elif closed_at is not None:
        status = Status.deviated if deviations else Status.kept
    else:
        status = Status.overdue if past_due else Status.open
    return Outcome(
        status=status,
        deviations=tuple(deviations),
        delivered_quantity=delivered,
        charged=charged,
        fulfilled_at=fulfilled_at,
        late_by_seconds=late_by,
    )


def risk(
    due: datetime,
    orders: Sequence[Supply],
    *,
    now: datetime,
    latest_eta: datetime,
    eta_needed_from: datetime,
) -> Risk | None:
    """Why an open promise waiting for ``orders`` is at risk, or ``None``.

    ``latest_eta`` is the due less ``[supply] margin``; ``eta_needed_from`` the due less
    ``[supply] no_eta_warn``. An order all arrived is no risk. The gravest reason wins: an order
    itself overdue, then an ETA after ``latest_eta``, then no ETA when ``now`` is past
    ``eta_needed_from``; among orders alike, the lowest id.
    """
    found: list[tuple[int, int, Risk]] = []
    for o in orders:
        if o.received_quantity >= o.quantity:
            continue
        if o.eta is not None and o.eta.astimezone(UTC) < now.astimezone(UTC):
            kind, rank = RiskKind.order_overdue, 0
        elif o.eta is not None and o.eta.astimezone(UTC) > latest_eta.astimezone(UTC):
            kind, rank = RiskKind.eta_late, 1
        elif o.eta is None and now.astimezone(UTC) >= eta_needed_from.astimezone(UTC):
            kind, rank = RiskKind.no_eta, 2
        else:
            continue
        found.append((rank, o.id, Risk(kind, o.id, o.supplier, o.eta, due)))
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None


def balance(price: Money | None, deposit: Money | None, charged: Money | None) -> Money | None:
    """What the customer still owes: price − deposit − charged, never below zero; ``None`` without a
    price. Amounts in another currency than the price are not subtracted (they cannot be)."""
    if price is None:
        return None
    paid = sum(
        (m.amount for m in (deposit, charged) if m is not None and m.currency == price.currency), Decimal(0)
    )
    return Money(max(price.amount - paid, Decimal(0)), price.currency)


def closes(terms: Terms, deliveries: Sequence[Fulfilment]) -> bool:
    """Whether these deliveries fulfil the whole quantity (a partial delivery leaves the promise open)."""
    return sum(d.quantity for d in deliveries) >= terms.quantity


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(key: str | None, t: Tally) -> Figures:
    """The counts of a tally and its rates over the fulfilled promises."""
    return Figures(
        key=key,
        promises=t.promises,
        fulfilled=t.fulfilled,
        kept=t.kept,
        deviated=t.deviated,
        overdue=t.overdue,
        open=t.open,
        cancelled=t.cancelled,
        renegotiated=t.renegotiated,
        kept_rate=rate(t.kept, t.fulfilled),
        on_time_rate=rate(t.on_time, t.fulfilled),
        in_full_rate=rate(t.in_full, t.fulfilled),
        at_price_rate=rate(t.at_price, t.fulfilled),
        avg_late_seconds=t.late_seconds // t.late if t.late else None,
        late=t.late,
        late_supplier=t.late_supplier,
        late_ours=t.late - t.late_supplier,
        collected_late=t.collected_late,
    )


def stats_report(result: StatsResult, by: StatsBy | None) -> StatsReport:
    """The figures of a result; rows that stream (``store.stats(stream=True)``) stay a stream."""
    rows = (figures(key, tally) for key, tally in result.by)
    return StatsReport(
        since=result.since,
        until=result.until,
        by=by,
        total=figures(None, result.total),
        rows=list(rows) if isinstance(result.by, list) else rows,
        more=result.more,
    )


# --- the fields of history events: plain JSON values (minor units, UTC moments) ----------------------


def moment_data(moment: datetime | None) -> str | None:
    """A moment as an event field: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def moment_of(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def money_of(minor: int | None, currency: str | None) -> Money | None:
    if minor is None or currency is None:
        return None
    return Money.from_minor(int(minor), str(currency))


def terms_data(terms: Terms, *, date_only: bool) -> dict[str, Any]:
    """The terms of a promise as event fields (``promised``, ``amended``'s before and after)."""
    return {
        "what": terms.what,
        "quantity": terms.quantity,
        "price_minor": terms.price.minor if terms.price else None,
        "currency": terms.price.currency if terms.price else None,
        "due": moment_data(terms.due),
        "date_only": date_only,
    }


def deviation_data(d: Deviation) -> dict[str, Any]:
    """A deviation as event fields; ``deviation_from_data`` reads it back."""
    out: dict[str, Any] = {"kind": str(d.kind)}
    for name in (
        "late_seconds",
        "promised_what",
        "delivered_what",
        "promised_quantity",
        "delivered_quantity",
    ):
        value = getattr(d, name)
        if value is not None:
            out[name] = value
    for name, money in (("promised_price", d.promised_price), ("charged", d.charged)):
        if money is not None:
            out[f"{name}_minor"] = money.minor
            out[f"{name}_currency"] = money.currency
    return out


def deviation_from_data(data: dict[str, Any]) -> Deviation:
    return Deviation(
        kind=DeviationKind(data["kind"]),
        late_seconds=data.get("late_seconds"),
        promised_what=data.get("promised_what"),
        delivered_what=data.get("delivered_what"),
        promised_price=money_of(data.get("promised_price_minor"), data.get("promised_price_currency")),
        charged=money_of(data.get("charged_minor"), data.get("charged_currency")),
        promised_quantity=data.get("promised_quantity"),
        delivered_quantity=data.get("delivered_quantity"),
    )


def outcome_data(outcome: Outcome) -> dict[str, Any]:
    """The verdict of a closed promise as event fields (``fulfilled``, ``done``)."""
    return {"status": str(outcome.status), "deviations": [deviation_data(d) for d in outcome.deviations]}


def worth_a_notice(p: PromiseView) -> bool:
    """Whether there is anything to tell the customer: late, changed, deviated or unhappy."""
    return p.status == Status.overdue or bool(p.outcome.deviations) or p.renegotiated or p.unhappy
