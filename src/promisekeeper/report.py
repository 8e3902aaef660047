"""Plain report data from query results: the stats figures (rates) and the honest notice to a customer.

No formatting for a terminal here (that is ``render``): these are the facts and the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from promisekeeper.errors import BadInput
from promisekeeper.money import Money, format_money
from promisekeeper.rules import Deviation
from promisekeeper.store import PromiseView, StatsResult, Tally
from promisekeeper.when import describe_due, describe_span


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class Figures:
    """The track record of a set of promises: counts and the rates over the fulfilled ones."""

    key: str | None
    promises: int
    fulfilled: int
    kept: int
    deviated: int
    overdue: int
    open: int
    cancelled: int
    renegotiated: int
    kept_rate: float | None
    on_time_rate: float | None
    in_full_rate: float | None
    at_price_rate: float | None
    avg_late_seconds: int | None


def figures(key: str | None, t: Tally) -> Figures:
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
    )


@dataclass(frozen=True, slots=True)
class StatsReport:
    since: datetime | None
    until: datetime
    by: str | None
    total: Figures
    rows: list[Figures]


def stats_report(result: StatsResult, by: str | None) -> StatsReport:
    return StatsReport(
        since=result.since,
        until=result.until,
        by=by,
        total=figures(None, result.total),
        rows=[figures(key, tally) for key, tally in result.by],
    )


# --- the honest notice -----------------------------------------------------------------------------


def _item(p: PromiseView) -> str:
    return f"{p.quantity} × {p.what}" if p.quantity != 1 else p.what


def _what_happened(d: Deviation, p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    if d.kind == "late" and d.late_seconds is not None and p.outcome.fulfilled_at is not None:
        when = p.outcome.fulfilled_at.astimezone(tz).strftime("%a %d %b at %H:%M")
        return f"We delivered on {when}, {describe_span(d.late_seconds)} late."
    if d.kind == "substituted":
        return f"We gave you {d.delivered_what} instead of {d.promised_what}."
    if d.kind == "price" and d.promised_price is not None:
        if d.charged is None:
            return f"We did not charge the {format_money(d.promised_price)} we agreed."
        if d.charged.currency != d.promised_price.currency:
            agreed = format_money(d.promised_price)
            return f"We charged {format_money(d.charged)} instead of the {agreed} we agreed."
        diff = Money(abs(d.charged.amount - d.promised_price.amount), d.charged.currency)
        more = "more" if d.charged.amount > d.promised_price.amount else "less"
        return (
            f"We charged you {format_money(d.charged)} instead of the {format_money(d.promised_price)} "
            f"we agreed: {format_money(diff)} {more} than promised."
        )
    if d.kind == "short":
        return f"We delivered only {d.delivered_quantity} of the {d.promised_quantity} we promised."
    if d.kind == "excess":
        return f"We delivered {d.delivered_quantity} where you asked for {d.promised_quantity}."
    return ""


def notice_text(p: PromiseView, *, shop: str, tz: ZoneInfo, now: datetime, remedy: str | None = None) -> str:
    """The plain message to the customer for a late, changed or deviated promise: no hedging.

    What was promised, what happened, the new date or the remedy, and an apology.
    """
    broken = p.status == "overdue" or p.outcome.deviations or p.renegotiated or p.unhappy
    if not broken:
        raise BadInput(
            f"Promise #{p.id} is {p.status} with nothing late, changed or wrong; "
            "there is nothing to tell the customer."
        )
    greeting = f"Dear {p.customer}," if p.customer else "Hello,"
    original = p.original_due or p.due
    price = f" for {format_money(p.price)}" if p.price else ""
    lines = [
        greeting,
        "",
        f"On {p.created.astimezone(tz):%a %d %b} we promised you {_item(p)}{price} "
        f"by {describe_due(original, tz, now=now)}.",
    ]
    happened: list[str] = []
    if p.status == "overdue":
        late = describe_span((now - p.due.moment).total_seconds())
        got = p.outcome.delivered_quantity
        part = f" We have delivered {got} of {p.quantity} so far." if got else ""
        happened.append(f"We have not kept that promise: it is {late} overdue.{part}")
    for d in p.outcome.deviations:
        if d.kind == "short" and p.status == "overdue":
            continue
        happened.append(_what_happened(d, p, tz, now))
    if p.renegotiated and p.status in ("open", "overdue"):
        happened.append(f"As we agreed with you, the new date is {describe_due(p.due, tz, now=now)}.")
    elif p.renegotiated and p.original_due is not None:
        happened.append(f"We moved the date to {describe_due(p.due, tz, now=now)}, as agreed with you.")
    if p.unhappy:
        happened.append("You told us you are not satisfied, and you are right to expect better.")
    lines += ["", *[h for h in happened if h]]
    if remedy:
        lines += ["", f"To put it right: {remedy}"]
    elif p.status == "overdue":
        lines += ["", "We will tell you the day it is ready, and we will keep that date."]
    lines += ["", "We are sorry. This is not the service we promised you.", "", shop]
    return "\n".join(lines) + "\n"
