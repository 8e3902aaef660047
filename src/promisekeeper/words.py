"""Every sentence a person reads, made from plain values when it is shown: verdicts, terms, history
lines, notices, report headings, summaries.

No Rich, no database. Functions take values (moments, ``Money``, counts, the shop's zone), never text
that was already formatted, so a translation can plug in here and nowhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from promisekeeper.lang import DAY_NAMES, ENGLISH, MONTH_NAMES, Voice
from promisekeeper.money import Money, format_money
from promisekeeper.rules import deviation_from_data, moment_of, money_of
from promisekeeper.views import (
    ChangeView,
    Deviation,
    DeviationKind,
    EventKind,
    EventView,
    Figures,
    Handover,
    ImportResult,
    Kind,
    Outcome,
    PromiseView,
    Receipt,
    Risk,
    RiskKind,
    Status,
    SupplyOrderView,
)
from promisekeeper.when import Due

RENEGOTIATED_MARK = "↻"


def renegotiated_legend() -> str:
    mark = RENEGOTIATED_MARK
    return f"{mark} renegotiated: new terms agreed with the customer (pk promise show ID: the old ones)."


# --- time --------------------------------------------------------------------------------------------


def describe_due(due: Due, tz: ZoneInfo, *, now: datetime | None = None) -> str:
    """Short human form in the shop's zone: ``Tue 24 Nov (end of day)``, ``Tue 24 Nov 17:00``.

    The year is added only when ``now`` is given and the due falls in another year.
    """
    return ENGLISH.due(due, tz, now=now)


def describe_moment(moment: datetime, tz: ZoneInfo) -> str:
    """A moment with its year, for history and mail: ``Tue 24 Nov 2026 17:00``."""
    return ENGLISH.moment(moment, tz)


def describe_span(seconds: float) -> str:
    """A length of time the way a person says it: ``2 days 3 hours``, ``45 minutes`` (``Voice.span``)."""
    return ENGLISH.span(seconds)


def short_span(seconds: float) -> str:
    """A compact length for table cells: ``2d 3h``, ``8h 27m``, ``45m``, ``48s`` (never ``0m``)."""
    if abs(seconds) < 60:
        return f"{max(1, int(abs(seconds)))}s"
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def due_cell(due: Due, tz: ZoneInfo, now: datetime) -> str:
    """A date-only due shows as the day alone (it ends with the day); a moment with its time."""
    return describe_due(due, tz, now=now).removesuffix(" (end of day)")


# --- terms and verdicts ------------------------------------------------------------------------------


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def item(what: str, quantity: int) -> str:
    """``2 × Hiking boots``; a single item without the count."""
    return f"{quantity} × {what}" if quantity != 1 else what


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
    to = f" to {customer}" if customer else ""
    cost = f" for {format_money(price)}" if price is not None else ""
    return f"{item(what, quantity)}{to}{cost}, due {describe_due(due, tz, now=now)}"


def promise_terms(p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    return terms_text(p.what, p.quantity, p.price, p.due, tz, now, customer=p.customer)


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
    if d.kind == DeviationKind.late and d.late_seconds is not None:
        return f"late by {describe_span(d.late_seconds)}"
    if d.kind == DeviationKind.price:
        return price_text(d.charged, d.promised_price)
    if d.kind == DeviationKind.substituted:
        return f'substituted "{d.delivered_what}" for "{d.promised_what}"'
    if d.kind == DeviationKind.short:
        return f"short: {d.delivered_quantity} of {d.promised_quantity} delivered"
    return f"excess: {d.delivered_quantity} delivered, {d.promised_quantity} promised"


def verdict_text(outcome: Outcome) -> str:
    """``kept``, or each deviation with its size, joined by semicolons."""
    return deviations_text(outcome.deviations) or str(outcome.status)


def deviations_text(deviations: Sequence[Deviation]) -> str:
    return "; ".join(deviation_text(d) for d in deviations)


def verdict(p: PromiseView) -> str:
    """The verdict of a promise, or how much of a partly delivered one is still owed."""
    if p.status in (Status.open, Status.overdue):
        owed = p.quantity - p.outcome.delivered_quantity
        got = p.outcome.delivered_quantity
        return f"partial: {got} of {p.quantity} delivered, {owed} still owed ({p.status})"
    return verdict_text(p.outcome)


def when_words(p: PromiseView, now: datetime) -> str:
    """The status cell: ``overdue 2d 3h``, ``in 5h``, ``kept``, ``deviated: late, price``, ``unhappy``."""
    fixed = ", remedied" if p.remedied else ""
    if p.unhappy and not p.remedied and p.status == Status.kept:
        return "unhappy"
    if p.unhappy and not p.remedied:
        fixed = ", unhappy"
    if p.status == Status.overdue:
        return f"overdue {short_span((now - p.due.moment).total_seconds())}{fixed}"
    if p.status == Status.open:
        return f"in {short_span((p.due.moment - now).total_seconds())}"
    if p.status == Status.deviated:
        return "deviated: " + ", ".join(p.outcome.deviation_kinds) + fixed
    return str(p.status) + fixed


def what_cell(p: PromiseView) -> str:
    """The What cell: ``(callback) 2 × Boots [1 delivered]``."""
    kind = "" if p.kind == Kind.delivery else f"({p.kind}) "
    got = p.outcome.delivered_quantity
    delivered = f" [{got} delivered]" if 0 < got < p.quantity else ""
    return f"{kind}{item(p.what, p.quantity)}{delivered}"


def due_already_past(p: PromiseView, tz: ZoneInfo) -> str:
    local = p.due.moment.astimezone(tz)
    day = f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} {local.year}"
    at = "" if p.due.date_only else f" {local:%H:%M}"
    return (
        f"note: the due of #{p.id}, {day}{at}, is already past, so it is overdue now; "
        f"if another date was meant: pk promise amend {p.id} --due WHEN --reason typo."
    )


def confirmation(verb: str, p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    """The one-line table output of a single-promise command."""
    if verb == "add":
        return f"Promised #{p.id}: {promise_terms(p, tz, now)}"
    if verb in ("deliver", "done"):
        what = "Delivered" if verb == "deliver" else "Done"
        return f"{what} #{p.id}: {verdict(p)}{_unhappy(p)}{_followups(p, tz, now)}"
    if verb == "amend":
        return f"Amended #{p.id}: {promise_terms(p, tz, now)} (renegotiated)"
    if verb == "cancel":
        return f"Cancelled #{p.id}: {promise_terms(p, tz, now)}"
    if verb == "remedy":
        return f"Remedy recorded for #{p.id} ({verdict(p)})"
    if verb == "fix":
        return f"Fixed #{p.id}: {promise_terms(p, tz, now)} ({when_words(p, now)})"
    if verb == "void":
        return f"Voided the delivery; #{p.id} is now {when_words(p, now)}: {promise_terms(p, tz, now)}"
    if verb == "ready":
        return ready_line(p, tz, now)
    if verb == "deposit":
        return deposit_line(p)
    if verb == "link":
        return linked_line(p, tz, now)
    return f"#{p.id}: {promise_terms(p, tz, now)} [{p.status}]"


def _unhappy(p: PromiseView) -> str:
    if not p.unhappy:
        return ""
    who = f"#{p.parent_id}" if p.kind == Kind.followup and p.parent_id is not None else "it"
    return f"; the customer is unhappy: {who} is in pk check until it has a remedy"


def _followups(p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    if not p.followups:
        return ""
    made = ", ".join(f"#{i} {due_cell(due, tz, now)}" for i, due in p.followups)
    return f"; {'follow-up' if len(p.followups) == 1 else 'follow-ups'} {made}"


# --- history -----------------------------------------------------------------------------------------


def _terms_of(data: Mapping[str, Any], tz: ZoneInfo, now: datetime) -> str:
    due = Due(moment_of(data["due"]), bool(data.get("date_only")))
    price = money_of(data.get("price_minor"), data.get("currency"))
    return terms_text(str(data["what"]), int(data["quantity"]), price, due, tz, now)


def _verdict_of(data: Mapping[str, Any]) -> str:
    deviations = [deviation_from_data(d) for d in data.get("deviations") or ()]
    return deviations_text(deviations) or str(data.get("status") or "kept")


def _noted(text: str, note: Any) -> str:
    return f"{text} ({note})" if note else text


_SECTION_WORDS = {
    "overdue": "as overdue",
    "due_soon": "as due soon",
    "escalate": "as an escalation",
    "at_risk": "as at risk",
    "ready": "as ready for pickup",
}


def _drafted(d: Mapping[str, Any], tz: ZoneInfo) -> str:
    """The history line of ``notice_drafted``; an early warning names the order and what it said."""
    if not d.get("risk"):
        return "a notice to the customer was drafted"
    order = order_ref(int(d["order"])) if d.get("order") else "the supply order"
    said = f"{order} has no delivery date yet"
    if d.get("eta"):
        verb = "was expected" if d["risk"] == RiskKind.order_overdue else "arrives"
        said = f"{order} {verb} {day_or_moment(moment_of(d['eta']), tz)}"
    offered = f"; new date offered: {day_or_moment(moment_of(d['new_due']), tz)}" if d.get("new_due") else ""
    return f"an early warning to the customer was drafted ({said}{offered})"


def event_text(event: EventView, tz: ZoneInfo, now: datetime, *, customer: str | None = None) -> str:
    """The English sentence of a history event, made from its fields in the shop's zone.

    ``customer`` is the promise's customer as known now (an event keeps no name: names can be erased).
    """
    d = event.data
    kind = event.kind
    if kind == EventKind.promised:
        to = f" to {customer}" if customer else ""
        by = f" by {d['staff']}" if d.get("staff") else ""
        return _terms_of(d, tz, now) + to + by
    if kind == EventKind.delivered:
        price = money_of(d.get("price_minor"), d.get("currency"))
        cost = f" for {format_money(price)}" if price is not None else ""
        at = f" on {describe_moment(moment_of(d['at']), tz)}" if d.get("at") else ""
        return _noted(f"{item(str(d['what']), int(d['quantity']))}{cost}{at}", d.get("note"))
    if kind == EventKind.fulfilled:
        return _verdict_of(d)
    if kind == EventKind.done:
        unhappy = "; the customer is unhappy" if d.get("unhappy") else ""
        return _noted(_verdict_of(d) + unhappy, d.get("note"))
    if kind == EventKind.amended:
        before, after = _terms_of(d["before"], tz, now), _terms_of(d["after"], tz, now)
        return f"{before} → {after}; reason: {d['reason']}"
    if kind == EventKind.cancelled:
        return str(d.get("reason") or "cancelled")
    if kind == EventKind.remedied:
        prevent = f"; to prevent it: {d['prevent']}" if d.get("prevent") else ""
        return f"{d['action']}{prevent}"
    if kind == EventKind.followup:
        due = Due(moment_of(d["due"]), bool(d.get("date_only")))
        return f"follow-up #{d['followup_id']} due {describe_due(due, tz, now=now)}"
    if kind == EventKind.unhappy:
        return f"follow-up #{d['followup_id']}: the customer is unhappy"
    if kind == EventKind.notice_drafted:
        return _drafted(d, tz)
    if kind == EventKind.notified:
        section = _SECTION_WORDS.get(str(d.get("section")), "as due today")
        return f"mailed to {', '.join(d.get('recipients') or ())} {section}"
    if kind == EventKind.forgotten:
        return "the customer's name and contact details were erased"
    if kind == EventKind.imported:
        line = f", line {d['line']}" if d.get("line") else ""
        return f"imported from {d.get('source') or 'a file'}{line}"
    if kind == EventKind.note:
        return str(d.get("text") or "")
    if kind == EventKind.corrected:
        return _noted("fixed: " + corrections_text(d.get("changes") or {}, tz, now), d.get("reason"))
    if kind == EventKind.delivery_voided:
        at = f" of {describe_moment(moment_of(d['at']), tz)}" if d.get("at") else ""
        what = item(str(d["what"]), int(d["quantity"]))
        return f"delivery {d.get('n', '')}{at} ({what}) voided: {d['reason']}"
    if kind == EventKind.undone:
        return f"change {d.get('change')} (pk {d.get('command')}) was undone"
    if kind == EventKind.customer_renamed:
        return f'renamed from "{d.get("old")}" to "{d.get("new")}"'
    if kind == EventKind.customers_merged:
        source = d.get("source") or {}
        return f'"{source.get("name") or FORGOTTEN_NAME}" merged into this customer'
    if kind == EventKind.customer_added:
        return "customer added"
    if kind == EventKind.contact:
        return contact_text(d, customer)
    if kind == EventKind.customer_updated:
        return "details changed: " + ", ".join(d.get("changes") or {})
    if kind in (EventKind.notice_sent, EventKind.message_sent):
        return sent_text(d)
    if kind == EventKind.consent:
        return f"consent to messages: {d.get('old')} → {d.get('new')}"
    if kind in _SUPPLY_KINDS:
        return supply_event_text(kind, d, tz, now)
    return ", ".join(f"{key}: {value}" for key, value in d.items()) or kind


_SUPPLY_KINDS = frozenset(
    (
        EventKind.ordered,
        EventKind.linked,
        EventKind.eta_changed,
        EventKind.received,
        EventKind.ready,
        EventKind.deposit,
    )
)


# --- reports -----------------------------------------------------------------------------------------


def overdue_title(count: int, *, only_new: bool = False, voice: Voice = ENGLISH) -> str:
    if only_new:
        return voice.say("Newly overdue: %(n)s", n=voice.number(count))
    return voice.say("Overdue: %(n)s", n=voice.number(count))


# --- the calendar export ----------------------------------------------------------------------------


def calendar_summary(p: PromiseView) -> str:
    """``#12 2 × Hiking boots for Anna Smith``: the title of a promise's to-do."""
    to = f" for {p.customer}" if p.customer else ""
    return f"#{p.id} {item(p.what, p.quantity)}{to}"


def calendar_description(p: PromiseView) -> str:
    lines = [f"Promise #{p.id} ({p.kind}), {p.status}."]
    if p.price is not None:
        lines.append(f"Price: {format_money(p.price)}")
    if p.outcome.delivered_quantity:
        lines.append(f"Delivered so far: {p.outcome.delivered_quantity} of {p.quantity}")
    if p.staff:
        lines.append(f"Promised by: {p.staff}")
    if p.note:
        lines.append(f"Note: {p.note}")
    return "\n".join(lines)


# --- the morning mail --------------------------------------------------------------------------------


def mail_footer(voice: Voice = ENGLISH) -> str:
    """The last line of the morning mail: where the live list and a promise's story are."""
    return voice.say(
        "Sent by pk (promisekeeper). Live list: `pk due`; the story of one promise: `pk promise show ID`."
    )


MAIL_FOOTER = mail_footer()


def mail_subject(shop: str, overdue: int, due: int, *, only_new: bool = False, voice: Voice = ENGLISH) -> str:
    """``Trailhead Outfitters: 3 overdue, 5 due today`` (only the counts; never a customer's words).

    The mail reports what ``pk due`` shows without ``--within``: overdue, then due until the end of today.
    """
    return report_subject(shop, overdue, 0, due, only_new=only_new, voice=voice)


def mail_intro(
    as_of: datetime, tz: ZoneInfo, *, only_new: bool, since: datetime | None, voice: Voice = ENGLISH
) -> str:
    """The mail's first line; its moments are written as everywhere else (``Wed 2 Dec 2026 07:30``)."""
    return report_intro(as_of, tz, only_new=only_new, since=since, soon=False, voice=voice)


def mail_nothing(until: Due, tz: ZoneInfo, now: datetime, *, only_new: bool, voice: Voice = ENGLISH) -> str:
    """A report with nothing in it, said as ``pk due`` says it (or, for ``--only-new``, since the last)."""
    if only_new:
        return voice.say("Nothing has become overdue since the last report.")
    return nothing_due(until, tz, now, voice)


def due_title(until: Due, tz: ZoneInfo, now: datetime, count: int, voice: Voice = ENGLISH) -> str:
    """``Due today (Mon 23 Nov): 4`` for the morning window; ``Due until Wed 25 Nov 17:00: 6`` wider."""
    local = until.moment.astimezone(tz)
    n = voice.number(count)
    if until.date_only and local.date() == now.astimezone(tz).date():
        return voice.say("Due today (%(day)s): %(n)s", day=_customer_day(until, tz, now, voice), n=n)
    return voice.say("Due until %(due)s: %(n)s", due=voice.due(until, tz, now=now), n=n)


def nothing_due(until: Due, tz: ZoneInfo, now: datetime, voice: Voice = ENGLISH) -> str:
    return voice.say("Nothing overdue and nothing due until %(due)s.", due=voice.due(until, tz, now=now))


def stats_summary(t: Figures, since: datetime | None, tz: ZoneInfo) -> tuple[str, str]:
    """The headline of ``pk stats``: the count (shown bold) and the rest of the sentence."""
    period = f"since {since.astimezone(tz):%a %d %b %Y}" if since else "all time"
    late = f"; late ones by {describe_span(t.avg_late_seconds)} on average" if t.avg_late_seconds else ""
    return plural(t.promises, "promise"), (
        f" ({period}): {t.fulfilled} fulfilled — {t.kept} kept, {t.deviated} deviated; "
        f"{t.overdue} overdue, {t.cancelled} cancelled, {t.renegotiated} renegotiated{late}."
    )


def lateness(t: Figures) -> str | None:
    """Below ``pk stats``: who made the late ones late, and the pickups judged by their readiness."""
    parts = []
    if t.late:
        parts.append(
            f"Late: {t.late} — {t.late_supplier} because of a supplier "
            f"(the order arrived after the due), {t.late_ours} on our side."
        )
    if t.collected_late:
        ready = plural(t.collected_late, "pickup was", "pickups were")
        parts.append(f"{ready} ready by the due and collected later: on time.")
    return " ".join(parts) or None


def more_rows(n: int, by: str | None) -> str:
    """Below a ``--limit``ed breakdown: what was left out and how to see it."""
    more = plural(n, f"more {by}")
    return f"… and {more}: pk stats --by {by} --all shows every one, --limit N the first N."


def no_stats(since: datetime | None, tz: ZoneInfo) -> str:
    period = f"since {since.astimezone(tz):%a %d %b %Y}" if since else "all time"
    return f"No promises settled or due {period}."


def track_record(t: Figures) -> str:
    return (
        f"{plural(t.promises, 'promise')}: {t.kept} kept, {t.deviated} deviated, {t.overdue} overdue, "
        f"{t.open} open, {t.cancelled} cancelled; kept rate {percent(t.kept_rate)}"
    )


def import_summary(r: ImportResult) -> str:
    if r.format == "json":
        what = (
            f"{plural(r.promises, 'promise')} with their whole history, "
            f"{plural(r.deliveries, 'delivery', 'deliveries')} and {plural(r.customers, 'customer')}"
        )
    else:
        new = "customer" if r.customers == 1 else "customers"
        what = f"{plural(r.promises, 'promise')} ({r.deliveries} with a delivery) and {r.customers} new {new}"
    if r.written:
        return f"Imported {what} from {r.source}."
    return f"{r.source} is valid: {what} would be imported; nothing was written (--dry-run)."


# --- putting mistakes right ---------------------------------------------------------------------------

FORGOTTEN_NAME = "[forgotten customer]"


def _value(field: str, value: Any, tz: ZoneInfo, now: datetime) -> str:
    if value is None or value == []:
        return "none"
    if field == "price":
        price = money_of(value[0], value[1])
        return format_money(price) if price is not None else "no price"
    if field == "due":
        return describe_due(Due(moment_of(str(value[0])), bool(value[1])), tz, now=now)
    if field == "customer_id":
        return f"customer {value}"
    return f'"{value}"' if isinstance(value, str) else str(value)


def corrections_text(changes: Mapping[str, Any], tz: ZoneInfo, now: datetime) -> str:
    """``what "Boots 38" → "Boots 39", price €240.00 → €250.00, tags +gift``."""
    parts = []
    for field, values in changes.items():
        if field == "tags":
            parts.append(
                "tags "
                + " ".join([*(f"+{t}" for t in values["added"]), *(f"-{t}" for t in values["removed"])])
            )
        else:
            old, new = _value(field, values["old"], tz, now), _value(field, values["new"], tz, now)
            parts.append(f"{field.removesuffix('_id')} {old} → {new}")
    return ", ".join(parts)


_CHANGE_WORDS: dict[str, str] = {
    EventKind.promised: "added",
    EventKind.imported: "imported",
    EventKind.delivered: "delivery to",
    EventKind.fulfilled: "fulfilled",
    EventKind.done: "done",
    EventKind.amended: "amended",
    EventKind.corrected: "fixed",
    EventKind.cancelled: "cancelled",
    EventKind.remedied: "remedy on",
    EventKind.unhappy: "unhappy",
    EventKind.notice_drafted: "notice drafted for",
    EventKind.delivery_voided: "delivery voided on",
    EventKind.notified: "mailed",
    EventKind.forgotten: "forgot a customer",
    EventKind.customer_renamed: "renamed a customer",
    EventKind.customers_merged: "merged two customers",
    EventKind.customer_added: "added a customer",
    EventKind.customer_updated: "changed a customer's details",
    EventKind.contact: "contact logged",
    EventKind.ordered: "supply order placed",
    EventKind.linked: "linked to a supply order:",
    EventKind.eta_changed: "ETA changed",
    EventKind.received: "goods received",
    EventKind.ready: "ready for pickup:",
    EventKind.deposit: "deposit on",
    EventKind.notice_sent: "notice sent for",
    EventKind.message_sent: "message sent for",
    EventKind.consent: "changed a customer's consent",
}


def _ids(ids: Sequence[int]) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def change_text(change: ChangeView, tz: ZoneInfo) -> str:
    """What one command did, from its events: ``pk deliver, Wed 2 Dec 2026 10:04: delivery to #12;
    fulfilled #12; added #18, #19``."""
    grouped: dict[str, list[int]] = {}
    for kind, promise_id, _ in change.items:
        if kind in (EventKind.followup, EventKind.undone, EventKind.note):
            continue
        ids = grouped.setdefault(_CHANGE_WORDS.get(kind, kind), [])
        if promise_id is not None and promise_id not in ids:
            ids.append(promise_id)
    said = "; ".join(f"{what} {_ids(ids)}".strip() for what, ids in grouped.items()) or "no promise changed"
    return f"pk {change.command}, {describe_moment(change.at, tz)}: {said}"


def undid(change: ChangeView, tz: ZoneInfo) -> str:
    return f"Undid: {change_text(change, tz)}"


def undo_question(change: ChangeView, tz: ZoneInfo) -> str:
    return f"Undo {change_text(change, tz)}?"


def undo_needs_yes() -> str:
    return (
        "pk undo asks before it reverses a change, and there is no terminal to ask on; "
        "see it with pk undo --list, then add --yes."
    )


def cannot_undo(change: ChangeView) -> str:
    reasons: dict[str, str] = {
        EventKind.forgotten: "an erasure (pk customer forget) is for good",
        EventKind.notified: "a mail that was sent cannot be unsent",
        EventKind.notice_sent: "a notice that was sent cannot be unsent",
        EventKind.message_sent: "a message that was sent cannot be unsent",
    }
    why = reasons.get(str(change.blocked), "it cannot be reversed")
    return f"The last change (pk {change.command}) cannot be undone: {why}."


def nothing_undone_yet() -> str:
    return "There is nothing to undo: the book has no change that is not undone already."


def did_you_mean(new: str, existing: str, promise_id: int) -> str:
    return (
        f'New customer "{new}" — did you mean "{existing}"? '
        f'(pk promise fix {promise_id} --customer "{existing}")'
    )


def renamed(old: str, new: str) -> str:
    return f'Renamed "{old}" to "{new}".'


def merged(source: str, target: str, promises: int) -> str:
    return f'Merged "{source}" into "{target}": {plural(promises, "promise")} moved with their history.'


# --- the honest notice -------------------------------------------------------------------------------


def _what_happened(d: Deviation, p: PromiseView, tz: ZoneInfo, voice: Voice = ENGLISH) -> str:
    if d.kind == DeviationKind.late and d.late_seconds is not None and p.outcome.fulfilled_at is not None:
        at = p.outcome.fulfilled_at
        return voice.say(
            "We delivered on %(day)s at %(time)s, %(late)s late.",
            day=voice.day(at, tz),
            time=voice.time(at, tz),
            late=voice.span(d.late_seconds),
        )
    if d.kind == DeviationKind.substituted:
        return voice.say(
            "We gave you %(delivered)s instead of %(promised)s.",
            delivered=d.delivered_what,
            promised=d.promised_what,
        )
    if d.kind == DeviationKind.price and d.promised_price is not None:
        agreed = voice.money(d.promised_price)
        if d.charged is None:
            return voice.say("We did not charge the %(agreed)s we agreed.", agreed=agreed)
        charged = voice.money(d.charged)
        if d.charged.currency != d.promised_price.currency:
            return voice.say(
                "We charged %(charged)s instead of the %(agreed)s we agreed.", charged=charged, agreed=agreed
            )
        diff = voice.money(Money(abs(d.charged.amount - d.promised_price.amount), d.charged.currency))
        if d.charged.amount > d.promised_price.amount:
            said = (
                "We charged you %(charged)s instead of the %(agreed)s we agreed: %(diff)s more than promised."
            )
        else:
            said = (
                "We charged you %(charged)s instead of the %(agreed)s we agreed: %(diff)s less than promised."
            )
        return voice.say(said, charged=charged, agreed=agreed, diff=diff)
    if d.kind in (DeviationKind.short, DeviationKind.excess):
        counts = {
            "delivered": voice.number(d.delivered_quantity or 0),
            "promised": voice.number(d.promised_quantity or 0),
        }
        if d.kind == DeviationKind.short:
            return voice.say("We delivered only %(delivered)s of the %(promised)s we promised.", **counts)
        return voice.say("We delivered %(delivered)s where you asked for %(promised)s.", **counts)
    return ""


def _sentence(text: str) -> str:
    """``text`` ending with a full stop (unless it already ends a sentence)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _original_terms(p: PromiseView) -> tuple[str, int, Money | None, Due]:
    """The terms first promised, from the ``promised`` event with any typing mistakes fixed since
    (``corrected``); the promise's own terms without one."""
    found: tuple[str, int, Money | None, Due] | None = None
    for e in p.history:
        d = e.data
        if e.kind == EventKind.promised and "what" in d:
            due = Due(moment_of(d["due"]), bool(d.get("date_only")))
            found = str(d["what"]), int(d["quantity"]), money_of(d.get("price_minor"), d.get("currency")), due
        elif e.kind == EventKind.corrected and found is not None:
            what, quantity, price, due = found
            fixed = d.get("changes") or {}
            what = str(fixed["what"]["new"]) if "what" in fixed else what
            quantity = int(fixed["quantity"]["new"]) if "quantity" in fixed else quantity
            price = money_of(*fixed["price"]["new"]) if "price" in fixed else price
            if "due" in fixed:
                due = Due(moment_of(str(fixed["due"]["new"][0])), bool(fixed["due"]["new"][1]))
            found = what, quantity, price, due
    return found or (p.what, p.quantity, p.price, p.original_due or p.due)


def _changes(p: PromiseView, tz: ZoneInfo, now: datetime, voice: Voice = ENGLISH) -> str:
    """What an amendment changed, old → new: ``the quantity from 1 to 2 and the date from … to …``."""
    what, quantity, price, due = _original_terms(p)
    changed = []
    if p.what != what:
        changed.append(voice.say("the item from %(old)s to %(new)s", old=what, new=p.what))
    if p.quantity != quantity:
        old, new = voice.number(quantity), voice.number(p.quantity)
        changed.append(voice.say("the quantity from %(old)s to %(new)s", old=old, new=new))
    if p.price != price:
        nothing = voice.say("no agreed price")
        old = voice.money(price) if price is not None else nothing
        new = voice.money(p.price) if p.price is not None else nothing
        changed.append(voice.say("the price from %(old)s to %(new)s", old=old, new=new))
    if p.due.moment != due.moment or p.due.date_only != due.date_only:
        old, new = voice.due(due, tz, now=now), voice.due(p.due, tz, now=now)
        changed.append(voice.say("the date from %(old)s to %(new)s", old=old, new=new))
    if not changed:
        return ""
    listed = (
        changed[0]
        if len(changed) == 1
        else voice.say("%(first)s and %(last)s", first=", ".join(changed[:-1]), last=changed[-1])
    )
    return voice.say("As agreed with you, we changed %(changes)s.", changes=listed)


def followup_has_no_notice(p: PromiseView) -> str:
    return (
        f"Promise #{p.id} is a follow-up of #{p.parent_id}, the shop's own reminder; "
        f"draft the notice for the promise itself: pk notice {p.parent_id}."
    )


def nothing_to_notice(p: PromiseView) -> str:
    return (
        f"Promise #{p.id} is {p.status} with nothing late, changed, wrong or at risk; "
        "there is nothing to tell the customer."
    )


def _customer_day(due: Due, tz: ZoneInfo, now: datetime, voice: Voice = ENGLISH) -> str:
    """A day (and its time, unless the whole day is meant) as a customer reads it: ``Mon 30 Nov``,
    ``Mon 30 Nov 10:00``; the year only when it is not this year's."""
    local = due.moment.astimezone(tz)
    day = voice.day(local, year=local.year != now.astimezone(tz).year)
    return day if due.date_only else voice.say("%(day)s %(time)s", day=day, time=voice.time(local, tz))


def _whole_day(moment: datetime, tz: ZoneInfo) -> Due:
    """A moment at the very end of its day (a date given without a time) as that whole day."""
    local = moment.astimezone(tz)
    return Due(moment, (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 999999))


def risk_news(risk: Risk, quantity: int, tz: ZoneInfo, now: datetime, voice: Voice = ENGLISH) -> str:
    """What the supplier now says, for the customer (the supplier's name is the shop's business)."""
    if risk.kind == RiskKind.eta_late and risk.eta is not None:
        eta = _customer_day(_whole_day(risk.eta, tz), tz, now, voice)
        if risk.eta.astimezone(UTC) > risk.due.astimezone(UTC):
            return voice.says(
                "We ordered it for you, and our supplier now expects to deliver it to us on %(eta)s: "
                "after the date we promised you.",
                "We ordered them for you, and our supplier now expects to deliver them to us on %(eta)s: "
                "after the date we promised you.",
                quantity,
                eta=eta,
            )
        return voice.says(
            "We ordered it for you, and our supplier now expects to deliver it to us on %(eta)s: "
            "too close to the date we promised you for us to be sure of it.",
            "We ordered them for you, and our supplier now expects to deliver them to us on %(eta)s: "
            "too close to the date we promised you for us to be sure of it.",
            quantity,
            eta=eta,
        )
    if risk.kind == RiskKind.order_overdue and risk.eta is not None:
        return voice.says(
            "We ordered it for you; our supplier was to deliver it to us by %(eta)s and has not yet.",
            "We ordered them for you; our supplier was to deliver them to us by %(eta)s and has not yet.",
            quantity,
            eta=_customer_day(_whole_day(risk.eta, tz), tz, now, voice),
        )
    return voice.says(
        "We ordered it for you, and our supplier has not yet given us a delivery date.",
        "We ordered them for you, and our supplier has not yet given us a delivery date.",
        quantity,
    )


def risk_plan(
    p: PromiseView, new_date: Due | None, tz: ZoneInfo, now: datetime, voice: Voice = ENGLISH
) -> str:
    """What the shop will do about a risk: the new date it can keep (the supplier's ETA plus the
    margin), or word as soon as there is one, and the customer's other choices."""
    deposit = {"deposit": voice.money(p.deposit)} if p.deposit is not None else {}
    if new_date is None:
        if deposit:
            choice = voice.say(
                "If you would rather not wait, tell us and we will offer you an alternative, or cancel the "
                "order and refund your deposit of %(deposit)s.",
                **deposit,
            )
        else:
            choice = voice.say(
                "If you would rather not wait, tell us and we will offer you an alternative, or cancel the "
                "order."
            )
        return f"{voice.say('We will tell you the new date as soon as our supplier gives us one.')} {choice}"
    day = _customer_day(new_date, tz, now, voice)
    if p.handover == Handover.pickup:
        plan = voice.says(
            "We can have it ready for you to collect by %(day)s.",
            "We can have them ready for you to collect by %(day)s.",
            p.quantity,
            day=day,
        )
    elif p.handover == Handover.delivery:
        plan = voice.says(
            "We can deliver it to you by %(day)s.",
            "We can deliver them to you by %(day)s.",
            p.quantity,
            day=day,
        )
    else:
        plan = voice.says(
            "We can have it for you by %(day)s.", "We can have them for you by %(day)s.", p.quantity, day=day
        )
    if deposit:
        choice = voice.say(
            "If that date does not suit you, tell us and we will offer you an alternative, or cancel the "
            "order and refund your deposit of %(deposit)s.",
            **deposit,
        )
    else:
        choice = voice.say(
            "If that date does not suit you, tell us and we will offer you an alternative, or cancel the "
            "order."
        )
    return f"{plan} {choice}"


def deposit_text(p: PromiseView, voice: Voice = ENGLISH) -> str:
    """``You paid a deposit of €50.00; €190.00 is left to pay.`` (empty without a deposit)."""
    if p.deposit is None:
        return ""
    if p.balance is None:
        return voice.say("You paid a deposit of %(deposit)s.", deposit=voice.money(p.deposit))
    return voice.say(
        "You paid a deposit of %(deposit)s; %(balance)s is left to pay.",
        deposit=voice.money(p.deposit),
        balance=voice.money(p.balance),
    )


def notice_text(
    p: PromiseView,
    *,
    shop: str,
    tz: ZoneInfo,
    now: datetime,
    remedy: tuple[str, str | None] | None = None,
    new_date: Due | None = None,
    voice: Voice = ENGLISH,
) -> str:
    """The plain message to the customer for a late, changed, deviated or at-risk promise: no hedging.

    What was first promised (the terms of the ``promised`` event in ``p.history``), what changed and
    what happened, the new date or the remedy, and an apology. For a promise at risk (``p.risk``), the
    early warning: what the supplier now says and what the shop will do — ``new_date`` (the ETA plus
    the margin; ``store.proposed_due``) or word as soon as there is a date — before the customer finds
    out. Every sentence ends with a full stop. In the customer's language when ``voice`` speaks it.
    """
    what, quantity, first_price, original = _original_terms(p)
    terms = {
        "day": voice.day(p.created, tz),
        "item": voiced_item(what, quantity, voice),
        "due": voice.due(original, tz, now=now),
    }
    promised = (
        voice.say(
            "On %(day)s we promised you %(item)s for %(price)s by %(due)s.",
            price=voice.money(first_price),
            **terms,
        )
        if first_price
        else voice.say("On %(day)s we promised you %(item)s by %(due)s.", **terms)
    )
    lines = [greeting(p.customer, voice), "", promised]
    happened: list[str] = [_changes(p, tz, now, voice)] if p.renegotiated else []
    if p.status == Status.overdue:
        late = voice.span((now - p.due.moment).total_seconds())
        said = voice.say("We have not kept that promise: it is %(late)s overdue.", late=late)
        got = p.outcome.delivered_quantity
        if got:
            so_far = {"got": voice.number(got), "quantity": voice.number(p.quantity)}
            said += " " + voice.say("We have delivered %(got)s of %(quantity)s so far.", **so_far)
        happened.append(said)
    for d in p.outcome.deviations:
        if d.kind == DeviationKind.short and p.status == Status.overdue:
            continue
        happened.append(_what_happened(d, p, tz, voice))
    if p.unhappy:
        happened.append(voice.say("You told us you are not satisfied, and you are right to expect better."))
    warning = p.risk is not None and p.status == Status.open
    if warning:
        happened.append(
            voice.say("We are writing now, before that date, because we may not be able to keep it.")
        )
    if p.risk is not None:
        happened.append(risk_news(p.risk, p.quantity, tz, now, voice))
    happened.append(deposit_text(p, voice))
    lines += ["", *[h for h in happened if h]]
    if remedy:
        action, prevent = remedy
        fix = voice.say("To put it right: %(action)s", action=_sentence(action))
        if prevent:
            fix += " " + voice.say("So it does not happen again: %(prevent)s", prevent=_sentence(prevent))
        lines += ["", fix]
    elif p.risk is not None:
        lines += ["", risk_plan(p, new_date, tz, now, voice)]
    elif p.status == Status.overdue:
        lines += ["", voice.say("We will tell you the day it is ready, and we will keep that date.")]
    if warning:
        sorry = voice.say("We are sorry, and we wanted you to hear it from us first.")
    else:
        sorry = voice.say("We are sorry. This is not the service we promised you.")
    lines += ["", sorry, "", shop]
    return "\n".join(lines) + "\n"


# --- erasure (pk customer forget) --------------------------------------------------------------------

FORGET_LISTED = 5  # backups named one by one; the rest are counted


def forget_question(name: str, promises: int) -> str:
    """The question ``pk customer forget`` asks on a terminal (the prompt adds ``[y/N]``)."""
    stay = "stays" if promises == 1 else "stay"
    kept = f"; {plural(promises, 'promise')} {stay}, anonymised" if promises else ""
    return (
        f"Forget {name} for good (name, email, phone and every mention of them in the book{kept})? "
        "This cannot be undone"
    )


def forget_needs_yes(name: str) -> str:
    """Refusal without a terminal to confirm on: erasure cannot be undone, so it is never implied."""
    return (
        "Forgetting a customer cannot be undone and there is no terminal to confirm it on; "
        f"add --yes to forget {name}."
    )


def forget_declined(name: str) -> str:
    return f"Nothing was erased; {name} is still in the book."


def forgot(name: str, promises: int, mentions: int) -> str:
    """``Forgot NAME: …``: what the erasure did, in one line."""
    elsewhere = (
        f"; {plural(mentions, 'text')} that mentioned them now {'says' if mentions == 1 else 'say'} "
        "[forgotten customer]"
        if mentions
        else ""
    )
    return (
        f"Forgot {name}: name and contact details erased; "
        f"{plural(promises, 'promise')} kept anonymised{elsewhere}."
    )


def backups_may_hold(paths: Sequence[str]) -> str:
    """How many ``pk db backup`` copies made before the erasure may still hold the person, and where."""
    if not paths:
        return "No backups made by pk db backup before now; copies made in other ways are not known to pk."
    named = ", ".join(paths[-FORGET_LISTED:][::-1])
    more = f" and {len(paths) - FORGET_LISTED} older" if len(paths) > FORGET_LISTED else ""
    return f"{plural(len(paths), 'backup')} made before now may still hold their details: {named}{more}."


def log_still_open(target: str) -> str:
    """After an erasure, when another program keeps the SQLite book open and its log cannot be emptied."""
    return (
        f"The customer is forgotten, but another program keeps {target} open, so its write-ahead log may "
        "still hold their details until that program closes the book."
    )


# --- service levels ----------------------------------------------------------------------------------


def duration_words(text: str, voice: Voice = ENGLISH) -> str:
    """A DURATION as said after "more than": ``1bd`` → ``one working day``, ``8bh`` → ``8 business hours``
    (German: ``einen Werktag``, the accusative); any other form as it was written."""
    from promisekeeper.when import relative_parts

    parts = relative_parts(text)
    if parts is None:
        return text.strip()
    n, unit = parts
    if unit == "min":
        return voice.says("one minute", "%(n)s minutes", n)
    if unit == "h":
        return voice.says("one hour", "%(n)s hours", n)
    if unit == "d":
        return voice.says("one day", "%(n)s days", n)
    if unit == "w":
        return voice.says("one week", "%(n)s weeks", n)
    if unit == "bd":
        return voice.says("one working day", "%(n)s working days", n)
    return voice.says("one business hour", "%(n)s business hours", n)


def report_subject(
    shop: str,
    overdue: int,
    due_soon: int,
    due: int,
    *,
    only_new: bool = False,
    at_risk: int = 0,
    voice: Voice = ENGLISH,
) -> str:
    """The morning report's subject: ``Trailhead Outfitters: 3 overdue, 5 due today``, with ``1 at risk``
    and ``2 due soon`` when any are (only the counts; never a customer's words)."""
    n = voice.number
    counts = [
        voice.say("%(n)s newly overdue", n=n(overdue))
        if only_new
        else voice.say("%(n)s overdue", n=n(overdue))
    ]
    if at_risk:
        counts.append(voice.say("%(n)s at risk", n=n(at_risk)))
    if due_soon:
        counts.append(voice.say("%(n)s due soon", n=n(due_soon)))
    if not only_new:
        counts.append(voice.say("%(n)s due today", n=n(due)))
    return voice.say("%(shop)s: %(counts)s", shop=shop, counts=", ".join(counts))


def report_intro(
    as_of: datetime,
    tz: ZoneInfo,
    *,
    only_new: bool,
    since: datetime | None,
    soon: bool,
    risk: bool = False,
    ready: bool = False,
    voice: Voice = ENGLISH,
) -> str:
    """The mail's first line, naming the sections the report has: at risk, due soon, ready for pickup."""
    at = voice.say("As of %(moment)s (%(zone)s)", moment=voice.moment(as_of, tz), zone=tz.key)
    if not only_new:
        then = [
            *([voice.say("those at risk")] if risk else []),
            *([voice.say("those due soon")] if soon else []),
            voice.say("those due today"),
            *([voice.say("the pickups waiting for their customer")] if ready else []),
        ]
        listed = functools.reduce(lambda a, b: voice.say("%(first)s, then %(next)s", first=a, next=b), then)
        return voice.say(
            "%(at)s: overdue promises first (most overdue first), then %(then)s.", at=at, then=listed
        )
    if since is None:
        said = voice.say("%(at)s: the overdue promises (no report has been mailed before).", at=at)
    else:
        said = voice.say(
            "%(at)s: the promises that became overdue since the last report (%(since)s).",
            at=at,
            since=voice.moment(since, tz),
        )
    news = [*([voice.say("at risk")] if risk else []), *([voice.say("due soon")] if soon else [])]
    if not news:
        return said
    either = news[0] if len(news) == 1 else voice.say("%(first)s or %(last)s", first=news[0], last=news[1])
    return voice.say(
        "%(said)s, and the promises %(news)s that were not yet reported.",
        said=said.removesuffix("."),
        news=either,
    )


def due_soon_title(count: int, voice: Voice = ENGLISH) -> str:
    """The heading of the promises due within ``[policy] warn_before``: ``Due soon: 2``."""
    return voice.say("Due soon: %(n)s", n=voice.number(count))


def escalation_title(count: int, after: str, voice: Voice = ENGLISH) -> str:
    """``Overdue more than one working day: 3`` (``after`` is ``[policy] escalate_after``)."""
    span = duration_words(after, voice)
    return voice.say("Overdue more than %(span)s: %(n)s", span=span, n=voice.number(count))


def escalation_subject(shop: str, count: int, after: str, voice: Voice = ENGLISH) -> str:
    """``Trailhead Outfitters: 3 overdue more than one working day`` (counts only, as every subject)."""
    span = duration_words(after, voice)
    return voice.say(
        "%(shop)s: %(n)s overdue more than %(span)s", shop=shop, n=voice.number(count), span=span
    )


def escalation_intro(as_of: datetime, tz: ZoneInfo, after: str, voice: Voice = ENGLISH) -> str:
    at = voice.say("As of %(moment)s (%(zone)s)", moment=voice.moment(as_of, tz), zone=tz.key)
    return voice.say(
        "%(at)s: the promises overdue more than %(span)s, most overdue first.",
        at=at,
        span=duration_words(after, voice),
    )


_VIA_WORDS = {"phone": "a phone call", "email": "an email", "visit": "a visit", "other": "a contact"}


def contact_logged(customer: str, via: str, about: str, reply_id: int | None) -> str:
    """The confirmation of ``pk contact``: ``Logged a phone call from Anna Smith about "the repair".``"""
    reply = "" if reply_id is not None else "; no reply promised"
    return f'Logged {_VIA_WORDS.get(via, "a contact")} from {customer} about "{about}"{reply}.'


def contact_text(data: Mapping[str, Any], customer: str | None) -> str:
    """The history line of a ``contact`` event."""
    who = f" from {customer}" if customer else ""
    reply = f"; reply promised as #{data['reply_id']}" if data.get("reply_id") else "; no reply promised"
    return f'{_VIA_WORDS.get(str(data.get("via")), "a contact")}{who} about "{data.get("about")}"{reply}'


def no_policy_for(kind: str, option: str) -> str:
    """Why a reply or callback has no due: neither ``option`` nor a time in ``[policy]``."""
    return (
        f"A {kind} needs a time: give {option} WHEN (e.g. {option} 'today 16:00'), or set {kind} in the "
        f'[policy] section of the config (e.g. {kind} = "24bh").'
    )


def policy_unreadable(key: str, text: str, problem: str) -> str:
    return (
        f"policy.{key} = {text!r} in the config file cannot be used ({problem.rstrip('.')}); "
        "use e.g. 24bh, 4h or 2bd."
    )


# --- messages to customers (pk notice --send, pk ready --tell, pk followup send) ---------------------
# Every sentence here reaches a customer, in their language: each goes through ``voice.say`` (the
# catalogs in promisekeeper/locale hold its translations), with days and money in the voice's formats.


def greeting(customer: str | None, voice: Voice = ENGLISH) -> str:
    """``Dear Anna Smith,`` / ``Guten Tag Anna Smith,``; ``Hello,`` without a name."""
    return voice.say("Dear %(name)s,", name=customer) if customer else voice.say("Hello,")


def voiced_item(what: str, quantity: int, voice: Voice = ENGLISH) -> str:
    """``2 × Hiking boots`` with the count in the voice's digits; a single item without the count."""
    return f"{voice.number(quantity)} × {what}" if quantity != 1 else what


def message_subject(message: str, p: PromiseView, shop: str, voice: Voice = ENGLISH) -> str:
    """The subject of a message to a customer: the shop and the promise's number only, never text a
    person typed (``Trailhead Outfitters: your order #12 is ready``)."""
    if message == "ready":
        return voice.say("%(shop)s: your order #%(id)s is ready", shop=shop, id=p.id)
    if message == "followup":
        return voice.say("%(shop)s: is everything all right with your order?", shop=shop)
    if p.kind == Kind.delivery:
        return voice.say("%(shop)s: about your order #%(id)s", shop=shop, id=p.id)
    return voice.say("%(shop)s: about what we promised you (#%(id)s)", shop=shop, id=p.id)


def ready_text(p: PromiseView, *, shop: str, tz: ZoneInfo, voice: Voice = ENGLISH) -> str:
    """The message that a customer's goods are ready to collect, with what is left to pay."""
    ready = voice.says(
        "%(item)s, which you ordered on %(day)s, is ready for you to collect.",
        "%(item)s, which you ordered on %(day)s, are ready for you to collect.",
        p.quantity,
        item=voiced_item(p.what, p.quantity, voice),
        day=voice.day(p.created, tz),
    )
    lines = [greeting(p.customer, voice), "", ready]
    if p.deposit is not None:
        lines.append(deposit_text(p, voice))
    elif p.price is not None and p.outcome.charged is None:
        lines.append(voice.say("The price, as agreed, is %(price)s.", price=voice.money(p.price)))
    lines += ["", voice.say("We look forward to seeing you."), "", shop]
    return "\n".join(lines) + "\n"


def followup_text(parent: PromiseView, *, shop: str, tz: ZoneInfo, voice: Voice = ENGLISH) -> str:
    """The check-in after a delivery: did it turn out as the customer expected? (a reply reaches the shop)."""
    thing = voiced_item(parent.what, parent.quantity, voice)
    if parent.outcome.fulfilled_at is not None:
        got = voice.say(
            "On %(day)s you received %(item)s from us.",
            day=voice.day(parent.outcome.fulfilled_at, tz),
            item=thing,
        )
    else:
        got = voice.say("You recently received %(item)s from us.", item=thing)
    lines = [
        greeting(parent.customer, voice),
        "",
        got,
        voice.say("We would like to know: is everything as you expected?"),
        voice.say("If anything is not right, reply to this message and we will put it right."),
        "",
        voice.say("Thank you for your custom."),
        "",
        shop,
    ]
    return "\n".join(lines) + "\n"


_MESSAGE_WORDS = {"notice": "the notice", "ready": "the ready message", "followup": "the follow-up check-in"}
_CHANNEL_WORDS = {"email": "by email", "sms": "by text message"}


def sent_text(data: Mapping[str, Any]) -> str:
    """The history line of a message sent to the customer: ``the notice was sent by email (in de)``."""
    what = _MESSAGE_WORDS.get(str(data.get("message")), "a message")
    how = _CHANNEL_WORDS.get(str(data.get("channel")), "")
    language = f" (in {data['language']})" if data.get("language") else ""
    return f"{what} was sent to the customer {how}{language}".replace("  ", " ").strip()


def consent_text(consent: str, language: str | None) -> str:
    """What a customer agreed to, as ``customer show`` says it: ``by email, in de``."""
    how = _CHANNEL_WORDS.get(str(consent))
    said = how if how is not None else "none (not agreed to)"
    return f"{said}, in {language}" if language else said


def stop_text(channel: str, voice: Voice = ENGLISH) -> str:
    """How a customer stops further messages (the last line of each one; ``channel``: email or sms)."""
    if channel == "sms":
        return voice.say("You get these texts because you agreed to them; to stop them, tell us.")
    return voice.say(
        "You get this mail because you agreed to hear from us by email; "
        "to stop further messages, reply with the word stop or tell us in the shop."
    )


# --- suppliers, pickup and deposits ------------------------------------------------------------------


def order_ref(order_id: int) -> str:
    """A supply order as people name it: ``S3``."""
    return f"S{order_id}"


def parse_order_id(text: str) -> int:
    """A supply order as typed — ``S3``, ``s3`` or ``3`` — as its number; anything else is one sentence
    (bad input; a number beyond any row id is no order's)."""
    from promisekeeper.errors import BadInput, NotFound, quote

    digits = text.strip().removeprefix("S").removeprefix("s")
    if not digits.isascii() or not digits.isdigit() or int(digits) < 1:
        raise BadInput(f"ORDER must be a supply order such as S3, not '{quote(text)[1:-1]}'.")
    if len(digits) > 18:
        raise NotFound(f"There is no supply order S{quote(digits)[1:-1]}; `pk supplier list` shows them.")
    return int(digits)


def day_or_moment(moment: datetime, tz: ZoneInfo) -> str:
    """A moment with its year; one at the very end of a day (a date given without a time, as an ETA or
    a due) as the day alone: ``Mon 30 Nov 2026``, ``Mon 30 Nov 2026 10:00``."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 999999):
        return f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} {local.year}"
    return describe_moment(moment, tz)


def risk_text(risk: Risk, tz: ZoneInfo) -> str:
    """Why a promise is at risk, in one sentence: what the supplier says against what was promised."""
    order = f"{order_ref(risk.order_id)} from {risk.supplier}"
    due = day_or_moment(risk.due, tz)
    if risk.kind == RiskKind.order_overdue and risk.eta is not None:
        return f"{order} was expected {day_or_moment(risk.eta, tz)} and has not all arrived; due {due}."
    if risk.kind == RiskKind.eta_late and risk.eta is not None:
        eta = day_or_moment(risk.eta, tz)
        if risk.eta.astimezone(UTC) > risk.due.astimezone(UTC):
            return f"{order} now arrives {eta}, too late for the due {due}."
        return f"{order} now arrives {eta}, too close to the due {due} to be sure of it."
    return f"{order} has no delivery date yet; due {due}."


def at_risk_title(count: int, voice: Voice = ENGLISH) -> str:
    """The heading of the promises a supplier puts at risk (``pk due``, the mail): ``At risk: 2``."""
    return voice.say("At risk: %(n)s", n=voice.number(count))


def ready_title(count: int, voice: Voice = ENGLISH) -> str:
    """The heading of the pickups ready and not yet collected: ``Ready for pickup: 3``."""
    return voice.say("Ready for pickup: %(n)s", n=voice.number(count))


def days_waiting(ready_at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """How long goods have waited for the customer, in days of the shop's calendar: ``since today``,
    ``1 day``, ``4 days``."""
    days = (now.astimezone(tz).date() - ready_at.astimezone(tz).date()).days
    return "since today" if days <= 0 else plural(days, "day")


def untold_title(count: int) -> str:
    """``pk check``'s heading of the at-risk promises whose customer has not been warned yet."""
    return f"At risk, customer not yet warned (pk notice ID): {count}"


NOTHING_TO_CHECK = (
    "Nothing to put right: no deviated or overdue promise without a remedy, and no promise at risk "
    "whose customer has not been warned."
)


# --- supply orders, pickup and deposits: confirmations and history ----------------------------------


def _eta(eta: Due | None, tz: ZoneInfo, now: datetime) -> str:
    return f"expected {describe_due(eta, tz, now=now)}" if eta is not None else "no delivery date yet"


def order_text(o: SupplyOrderView, tz: ZoneInfo, now: datetime) -> str:
    """``S3: 2× Hiking boots from Alpine, expected Thu 26 Nov (end of day), ref PO-7``."""
    ref = f", ref {o.ref}" if o.ref else ""
    return f"{order_ref(o.id)}: {item(o.what, o.quantity)} from {o.supplier}, {_eta(o.eta, tz, now)}{ref}"


def _for(ids: Sequence[int]) -> str:
    return f"; for {_ids(ids)}" if ids else ""


def order_placed(o: SupplyOrderView, tz: ZoneInfo, now: datetime) -> str:
    return f"Ordered {order_text(o, tz, now)}{_for(o.promises)}"


def eta_moved(o: SupplyOrderView, at_risk: int, tz: ZoneInfo, now: datetime) -> str:
    """The confirmation of ``supplier eta``: the new date, and how many waiting promises it puts at risk."""
    risk = f"; {plural(at_risk, 'promise')} now at risk" if at_risk else ""
    safe = "; no promise waiting for it is at risk" if o.promises and not at_risk else ""
    return f"{order_ref(o.id)} from {o.supplier} is now {_eta(o.eta, tz, now)}{risk}{safe}"


def received_text(r: Receipt) -> str:
    """``Received 2 of S3 (Hiking boots from Alpine): 4 of 5 have arrived; 1 promise ready for pickup.``"""
    o = r.order
    arrived = (
        "all have arrived" if o.state == "received" else f"{o.received_quantity} of {o.quantity} have arrived"
    )
    if r.ready:
        who = f"{plural(len(r.ready), 'customer')} to tell"
    elif r.waiting:
        who = "no promise is ready yet"
    else:
        who = "no promise waits for it"
    return f"Received {r.quantity} of {order_ref(o.id)} ({o.what} from {o.supplier}): {arrived}; {who}."


def orders_empty(open_only: bool) -> str:
    return (
        "No supply order is awaited." if open_only else "No supply orders yet; pk supplier order records one."
    )


def waiting_title(count: int) -> str:
    return f"Still waiting: {count}"


def to_deliver_title(count: int) -> str:
    """The promises a receipt served that the shop hands over by delivery (not picked up)."""
    return f"Ready to deliver: {count}"


def ready_line(p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    """The confirmation of ``pk ready``: whose goods are ready, and the verdict it earns."""
    owed = f"; to pay {format_money(p.balance)}" if p.balance is not None else ""
    late = p.outcome.late_by_seconds
    verdict = f"late by {describe_span(late)}" if late else "on time"
    who = f" for {p.customer}" if p.customer else ""
    return f"Ready #{p.id}: {item(p.what, p.quantity)}{who} waits for pickup ({verdict}){owed}"


def deposit_line(p: PromiseView) -> str:
    """The confirmation of ``pk deposit``: the deposit in all, and what the customer still owes."""
    taken = format_money(p.deposit) if p.deposit is not None else "none"
    owed = f"; balance {format_money(p.balance)} of {format_money(p.price)}" if p.balance and p.price else ""
    return f"Deposit on #{p.id}: {taken} in all{owed}"


def linked_line(p: PromiseView, tz: ZoneInfo, now: datetime) -> str:
    """The confirmation of ``promise link``: the orders the promise now waits for, and its risk if any."""
    orders = ", ".join(order_ref(o) for o in p.orders)
    risk = f"; at risk: {risk_text(p.risk, tz)}" if p.risk is not None else ""
    return f"Linked #{p.id} ({promise_terms(p, tz, now)}): waits for {orders}{risk}"


def supply_event_text(kind: str, d: Mapping[str, Any], tz: ZoneInfo, now: datetime) -> str:
    """The history sentence of an event of the supply orders, pickup and deposits."""
    order = order_ref(int(d["order"])) if d.get("order") else "the supply order"
    if kind == EventKind.ordered:
        eta = Due(moment_of(d["eta"]), bool(d.get("date_only"))) if d.get("eta") else None
        ref = f", ref {d['ref']}" if d.get("ref") else ""
        what = item(str(d.get("what")), int(d.get("quantity") or 1))
        waiting = _for(d.get("promises") or ())
        return f"{order} ordered: {what} from {d.get('supplier')}, {_eta(eta, tz, now)}{ref}{waiting}"
    if kind == EventKind.linked:
        return f"#{d['promise']} waits for {order}" if d.get("promise") else f"waits for {order}"
    if kind == EventKind.eta_changed:
        old = Due(moment_of(d["old"]), bool(d.get("old_date_only"))) if d.get("old") else None
        new = Due(moment_of(d["new"]), bool(d.get("date_only")))
        was = f", was {describe_due(old, tz, now=now)}" if old is not None else ", had no date"
        why = f"; reason: {d['reason']}" if d.get("reason") else ""
        return f"{order} now expected {describe_due(new, tz, now=now)}{was}{why}"
    if kind == EventKind.received:
        arrived = f" ({d['received']} of {d['of']} arrived)" if d.get("of") else ""
        return f"{order}: {d.get('quantity')} received{arrived}"
    if kind == EventKind.ready:
        at = f" since {describe_moment(moment_of(d['at']), tz)}" if d.get("at") else ""
        came = f" ({order} arrived)" if d.get("order") else ""
        return f"ready for pickup{at}{came}"
    if kind == EventKind.deposit:
        amount = money_of(d.get("amount_minor"), d.get("currency"))
        total = money_of((d.get("before_minor") or 0) + int(d.get("amount_minor") or 0), d.get("currency"))
        shown = format_money(amount) if amount is not None else "?"
        more = f", {format_money(total)} in all" if d.get("before_minor") and total is not None else ""
        return f"deposit of {shown} taken{more}"
    return ", ".join(f"{key}: {value}" for key, value in d.items()) or kind
