"""Release 1's history sentences read back into typed events, for the migration to schema 2.

Release 1 stored each history event as an English sentence (``event.detail``). Schema 2 stores a kind
and typed fields. This module turns one old row into one new ``(kind, data)`` pair, anchored on the
promise row's own values (its staff, customer, terms, deliveries and remedies), so that a ``what``
holding ``" for €5"`` or a reason holding ``" → "`` is not misread. Whatever cannot be read back with
certainty becomes a ``note`` event holding the original text: nothing is lost, nothing is guessed.

The fields are the ones the store writes for each kind (a deviation's as ``rules.deviation_data``
writes them, ``None`` fields left out); moments are ISO 8601 in UTC, money is minor units and a code.
The sentence forms are frozen here as release 1 wrote them (money symbols, date and span wording), so
later changes to ``words``/``money`` cannot break the reading of old books. Plain Python: no database.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from promisekeeper.money import currency_digits

__all__ = ["FORGOTTEN", "LegacyDelivery", "LegacyPromise", "parse_event"]

FORGOTTEN = "(forgotten customer)"
"""What release 1's ``customer forget`` put in place of the name, in the history as everywhere."""


@dataclass(frozen=True, slots=True)
class LegacyDelivery:
    """A delivery row of the promise (moments aware), to anchor the ``delivered`` sentences."""

    at: datetime
    what: str
    quantity: int
    price_minor: int | None
    currency: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class LegacyPromise:
    """The promise row as it is now, as anchors for reading its history (moments aware).

    ``customer`` is the name as release 1 would have written it: the customer's name, ``FORGOTTEN``
    once the customer was forgotten, ``None`` when the promise has no customer. ``remedies`` are the
    promise's ``(action, prevent)`` rows; ``tz`` is the shop's zone the sentences were written in.
    """

    id: int
    kind: str
    what: str
    quantity: int
    price_minor: int | None
    currency: str | None
    due: datetime
    date_only: bool
    tz: str
    original_due: datetime | None = None
    original_date_only: bool | None = None
    renegotiated: bool = False
    staff: str | None = None
    customer: str | None = None
    customer_id: int | None = None
    parent_id: int | None = None
    late_seconds: int | None = None
    deliveries: tuple[LegacyDelivery, ...] = ()
    remedies: tuple[tuple[str, str | None], ...] = ()


class _Unsure(Exception):
    """Internal: the sentence cannot be read back with certainty; it is kept as a note."""


def parse_event(
    event: str, detail: str | None, at: datetime, row: LegacyPromise
) -> tuple[str, dict[str, Any]]:
    """One release-1 history row (``event``, ``detail``, written at ``at``) as ``(kind, data)``.

    ``at`` (aware) dates the sentence: a day shown without a year is in ``at``'s year (or, for a
    follow-up's due, the nearest such day to it). Never raises: what it cannot read with certainty
    comes back as ``("note", {"text": detail, "event": event})``.
    """
    reader = _READERS.get(event)
    if reader is not None and detail is not None:
        try:
            return reader(detail, at.astimezone(ZoneInfo(row.tz)), row)
        except (_Unsure, ValueError, OverflowError):  # not certain, or a day beyond the calendar
            pass
    return "note", {"text": detail, "event": event}


# --- release 1's wording, frozen ----------------------------------------------------------------------

_SYMBOL_OF = {
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
_CODE_OF = {symbol: code for code, symbol in _SYMBOL_OF.items()}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_NUMBER = r"\d{1,3}(?:,\d{3})*(?:\.\d+)?"
_SYMBOLS = "|".join(re.escape(s) for s in sorted(_CODE_OF, key=len, reverse=True))
_MONEY = rf"-?(?:(?:{_SYMBOLS}){_NUMBER}|[A-Z]{{3}} {_NUMBER})"
_MONEY_PARTS = re.compile(
    rf"(?P<sign>-?)(?:(?P<sym>{_SYMBOLS})(?P<n1>{_NUMBER})|(?P<code>[A-Z]{{3}}) (?P<n2>{_NUMBER}))"
)
_DUE = re.compile(
    rf"(?P<dow>{'|'.join(_DAYS)}) (?P<day>\d{{1,2}}) (?P<mon>{'|'.join(_MONTHS)})(?: (?P<year>\d{{4}}))?"
    r" (?:(?P<eod>\(end of day\))|(?P<h>\d{2}):(?P<m>\d{2}))"
)
_SPAN = r"less than a minute|\d+ (?:day|hour|minute)s?(?: \d+ (?:hour|minute)s?)?"
_LATE = re.compile(rf"late by (?P<span>{_SPAN})")
_SHORT = re.compile(r"short: (?P<got>\d+) of (?P<owed>\d+) delivered")
_EXCESS = re.compile(r"excess: (?P<got>\d+) delivered, (?P<owed>\d+) promised")
_QTY = re.compile(r"(?P<n>\d+) × (?P<rest>.+)", re.S)
_PRICE_SUFFIX = re.compile(rf"(?P<rest>.+) for (?P<money>{_MONEY})", re.S)


def _format_money(minor: int, currency: str) -> str:
    """Release 1's ``format_money``: ``€240.00``, ``¥1,200``, ``BHD 1.250`` (from the exact minor units)."""
    digits = currency_digits(currency)
    whole, frac = divmod(abs(minor), 10**digits)
    number = f"{whole:,}.{frac:0{digits}d}" if digits else f"{whole:,}"
    sign = "-" if minor < 0 else ""
    symbol = _SYMBOL_OF.get(currency)
    return f"{sign}{currency} {number}" if symbol is None else f"{sign}{symbol}{number}"


def _parse_money(text: str) -> tuple[int, str]:
    """``€240.00`` as ``(24000, "EUR")``; only what release 1 would have written exactly so."""
    m = _MONEY_PARTS.fullmatch(text)
    if m is None:
        raise _Unsure
    code = _CODE_OF[m["sym"]] if m["sym"] else m["code"]
    number = (m["n1"] or m["n2"]).replace(",", "")
    whole, _, frac = number.partition(".")
    try:
        digits = currency_digits(code)
    except Exception as exc:  # an unknown code: not a price release 1 wrote
        raise _Unsure from exc
    if len(frac) != digits:
        raise _Unsure
    minor = int(whole + frac) * (-1 if m["sign"] else 1)
    if _format_money(minor, code) != text:
        raise _Unsure
    return minor, code


def _describe_span(seconds: int) -> str:
    """Release 1's ``describe_span``: the two largest units, truncated to whole minutes."""
    minutes = abs(seconds) // 60
    if minutes == 0:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    while parts[0][0] == 0:
        parts.pop(0)
    shown = [parts[0]] + [p for p in parts[1:2] if p[0]]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in shown)


def _describe_due(moment: datetime, date_only: bool, tz: ZoneInfo, now: datetime | None) -> str:
    """Release 1's ``describe_due``: ``Tue 24 Nov (end of day)``, ``Tue 5 Jan 2027 17:00``."""
    local = moment.astimezone(tz)
    text = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if now is not None and now.astimezone(tz).year != local.year:
        text += f" {local.year}"
    return f"{text} (end of day)" if date_only else f"{text} {local:%H:%M}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- pieces -------------------------------------------------------------------------------------------


def _due(text: str, ref: datetime, row: LegacyPromise, *, yearless: bool = False) -> tuple[str, bool]:
    """A due as release 1 described it, as (ISO moment, date_only).

    The promise's own due and original due are exact (seconds and all): when one of them reads as
    ``text`` it is taken. Otherwise the text gives the day and, for a time of day, the minute.
    ``yearless``: the text never had a year (a follow-up's due); the nearest such day to ``ref``.
    """
    m = _DUE.fullmatch(text)
    if m is None:
        raise _Unsure
    tz = ref.tzinfo
    assert isinstance(tz, ZoneInfo)
    date_only = m["eod"] is not None
    for moment, only in ((row.due, row.date_only), (row.original_due, row.original_date_only)):
        shown = None if moment is None else _describe_due(moment, date_only, tz, None if yearless else ref)
        if shown == text and bool(only) == date_only:
            assert moment is not None
            return _iso(moment), date_only
    month, day_n = _MONTHS.index(m["mon"]) + 1, int(m["day"])
    if m["year"] is not None:
        years = [int(m["year"])]
    elif yearless:
        years = [ref.year - 1, ref.year, ref.year + 1]
    else:
        years = [ref.year]
    days = []
    for year in years:
        try:
            candidate = date(year, month, day_n)
        except ValueError:
            continue
        near = not yearless or abs((candidate - ref.date()).days) <= 183
        if _DAYS[candidate.weekday()] == m["dow"] and near:
            days.append(candidate)
    if len(days) != 1:
        raise _Unsure
    if date_only:
        local = datetime.combine(days[0], time.max).replace(tzinfo=tz, fold=1)
    else:
        local = datetime.combine(days[0], time(int(m["h"]), int(m["m"]))).replace(tzinfo=tz)
    return _iso(local.astimezone(UTC)), date_only


def _split_due(text: str) -> list[tuple[str, str]]:
    """Every way ``text`` reads as ``HEAD, due DUE``: (head, due text)."""
    found = []
    for m in re.finditer(", due ", text):
        tail = text[m.end() :]
        if _DUE.fullmatch(tail):
            found.append((text[: m.start()], tail))
    return found


def _terms(text: str, ref: datetime, row: LegacyPromise, *, exact: bool) -> dict[str, Any]:
    """Release 1's ``terms_text`` (``2 × Boots for €240.00, due Tue 24 Nov (end of day)``) as fields.

    The quantity prefix and the price suffix could also be part of the item's own name; the row
    decides: a reading whose item is the promise's item wins, and a promise with no price never had
    one (an amendment cannot remove a price). ``exact``: these must be the promise's terms today.
    """
    splits = _split_due(text)
    if len(splits) != 1:
        raise _Unsure
    head, due_text = splits[0]
    due, date_only = _due(due_text, ref, row)
    # (item, quantity, price, whether the quantity prefix was read as one)
    readings: list[tuple[str, int, tuple[int, str] | None, bool]] = []
    for quantity, rest in _quantities(head):
        readings.append((rest, quantity, None, rest != head))
        priced = _PRICE_SUFFIX.fullmatch(rest)
        if priced is not None and row.price_minor is not None:
            with suppress(_Unsure):
                readings.append((priced["rest"], quantity, _parse_money(priced["money"]), rest != head))
    same = {r for r in readings if r[0] == row.what}
    if len(same) == 1:
        what, quantity, price, _ = same.pop()
    elif exact or same:
        raise _Unsure
    else:
        # The item was amended since: the fullest reading, unless the item's name itself looks like one.
        if _QTY.fullmatch(row.what) or _PRICE_SUFFIX.fullmatch(row.what):
            raise _Unsure
        what, quantity, price, _ = max(readings, key=lambda r: (r[2] is not None, r[3]))
    if exact and (
        quantity != row.quantity
        or (price or (None, None)) != (row.price_minor, row.currency)
        or (due, date_only) != (_iso(row.due), row.date_only)
    ):
        raise _Unsure
    return {
        "what": what,
        "quantity": quantity,
        "price_minor": price[0] if price else None,
        "currency": price[1] if price else None,
        "due": due,
        "date_only": date_only,
    }


def _quantities(head: str) -> list[tuple[int, str]]:
    """``2 × Boots`` is 2 of ``Boots`` (or 1 of ``2 × Boots``); release 1 never wrote ``1 × ``."""
    m = _QTY.fullmatch(head)
    if m is None or int(m["n"]) == 1:
        return [(1, head)]
    return [(int(m["n"]), m["rest"]), (1, head)]


def _strip_suffix(text: str, suffix: str | None) -> str:
    if not suffix:
        return text
    if not text.endswith(suffix) or len(text) == len(suffix):
        raise _Unsure
    return text[: -len(suffix)]


def _strip_staff(text: str, row: LegacyPromise) -> str:
    """Without its `` by {staff}`` ending, also where forgetting the customer scrubbed the staff's name.

    Forgetting replaced the customer's name anywhere in the sentence, the staff's name included when
    it holds it (a clerk buying for himself): ``by (forgotten customer)`` is the staff's name if the
    staff's name reads so with each ``(forgotten customer)`` standing for one and the same text.
    """
    if not row.staff or text.endswith(f" by {row.staff}"):
        return _strip_suffix(text, f" by {row.staff}" if row.staff else None)
    if row.customer != FORGOTTEN:
        raise _Unsure
    for m in reversed(list(re.finditer(" by ", text))):
        shown = text[m.end() :]
        pieces = shown.split(FORGOTTEN)
        if len(pieces) < 2:
            continue
        pattern = "(.+)".join(re.escape(p) for p in pieces)
        found = re.fullmatch(pattern, row.staff, re.IGNORECASE | re.S)
        if found is not None and len({g.casefold() for g in found.groups()}) == 1 and m.start() > 0:
            return text[: m.start()]
    raise _Unsure


def _deviation(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _verdict(text: str, row: LegacyPromise) -> tuple[str, list[dict[str, Any]], str]:
    """Release 1's ``verdict_text`` at the start of ``text``: (status, deviations, the rest of the text)."""
    if text.startswith("kept"):
        return "kept", [], text[4:]
    deviations: list[dict[str, Any]] = []
    pos = 0
    for reader in (_late, _substituted, _price, _quantity):
        if deviations:
            if not text.startswith("; ", pos):
                break
            start = pos + 2
        else:
            start = pos
        found = reader(text, start, row)
        if found is not None:
            deviation, pos = found
            deviations.append(deviation)
    if not deviations:
        raise _Unsure
    return "deviated", deviations, text[pos:]


def _late(text: str, pos: int, row: LegacyPromise) -> tuple[dict[str, Any], int] | None:
    m = _LATE.match(text, pos)
    if m is None:
        return None
    # Lateness is shown in minutes at most two units deep; the row holds the exact seconds.
    if row.late_seconds is None or _describe_span(row.late_seconds) != m["span"]:
        raise _Unsure
    return _deviation(kind="late", late_seconds=row.late_seconds), m.end()


def _substituted(text: str, pos: int, row: LegacyPromise) -> tuple[dict[str, Any], int] | None:
    if not text.startswith('substituted "', pos):
        return None
    for d in row.deliveries:
        piece = f'substituted "{d.what}" for "{row.what}"'
        if text.startswith(piece, pos):
            return _deviation(kind="substituted", promised_what=row.what, delivered_what=d.what), pos + len(
                piece
            )
    raise _Unsure


_NOTHING_CHARGED = re.compile(rf"price: nothing charged vs (?P<promised>{_MONEY}) promised")
_PRICE_TEXT = re.compile(
    rf"price (?P<charged>{_MONEY}) vs (?P<promised>{_MONEY}) promised"
    rf" \((?P<tail>another currency|[+-]{_MONEY})\)"
)


def _price(text: str, pos: int, row: LegacyPromise) -> tuple[dict[str, Any], int] | None:
    """Release 1's ``price_text``; the difference it shows must be the one its two amounts make."""
    if not text.startswith("price", pos):
        return None
    m = _NOTHING_CHARGED.match(text, pos)
    if m is not None:
        promised = _parse_money(m["promised"])
        return _deviation(
            kind="price", promised_price_minor=promised[0], promised_price_currency=promised[1]
        ), m.end()
    m = _PRICE_TEXT.match(text, pos)
    if m is None:
        raise _Unsure
    promised = _parse_money(m["promised"])
    charged = _parse_money(m["charged"])
    if charged[1] != promised[1]:
        expected = "another currency"
    else:
        diff = charged[0] - promised[0]
        expected = f"{'+' if diff >= 0 else '-'}{_format_money(abs(diff), charged[1])}"
    if m["tail"] != expected:
        raise _Unsure
    fields = _deviation(
        kind="price",
        promised_price_minor=promised[0],
        promised_price_currency=promised[1],
        charged_minor=charged[0],
        charged_currency=charged[1],
    )
    return fields, m.end()


def _quantity(text: str, pos: int, row: LegacyPromise) -> tuple[dict[str, Any], int] | None:
    m = _SHORT.match(text, pos)
    kind = "short"
    if m is None:
        m = _EXCESS.match(text, pos)
        kind = "excess"
    if m is None:
        return None
    fields = _deviation(kind=kind, promised_quantity=int(m["owed"]), delivered_quantity=int(m["got"]))
    return fields, m.end()


# --- one reader per release-1 event -------------------------------------------------------------------


def _promised(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``{terms}[ to {customer}][ by {staff}]``."""
    text = _strip_staff(text, row)
    text = _strip_suffix(text, f" to {row.customer}" if row.customer else None)
    terms = _terms(text, ref, row, exact=not row.renegotiated)
    return "promised", {
        **terms,
        "kind": row.kind,
        "customer_id": row.customer_id,
        "staff": row.staff,
        "parent_id": row.parent_id,
    }


def _delivered(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``{qty} × {item}[ for {price}][ ({note})]``, matched to the delivery row it recorded."""
    matches = []
    for d in row.deliveries:
        if d.at > ref:
            continue
        cost = (
            f" for {_format_money(d.price_minor, d.currency)}"
            if d.price_minor is not None and d.currency
            else ""
        )
        core = f"{d.quantity} × {d.what}{cost}"
        noted = text.startswith(f"{core} (") and text.endswith(")")
        if (text == core and d.note is None) or (
            noted and text[len(core) + 2 : -1].strip() == (d.note or "")
        ):
            matches.append(d)
    same_moment = [d for d in matches if d.at == ref]
    chosen = set(same_moment or matches)
    if len(chosen) != 1:
        raise _Unsure
    d = chosen.pop()
    return "delivered", {
        "what": d.what,
        "quantity": d.quantity,
        "price_minor": d.price_minor,
        "currency": d.currency,
        "at": _iso(d.at),
        "note": d.note,
    }


def _fulfilled(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    status, deviations, rest = _verdict(text, row)
    if rest:
        raise _Unsure
    return "fulfilled", {"status": status, "deviations": deviations}


def _done(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``{verdict}[; the customer is unhappy][ ({note})]``."""
    status, deviations, rest = _verdict(text, row)
    unhappy = rest.startswith("; the customer is unhappy")
    if unhappy:
        rest = rest[len("; the customer is unhappy") :]
    note = None
    if rest:
        if not (rest.startswith(" (") and rest.endswith(")")) or not rest[2:-1].strip():
            raise _Unsure
        note = rest[2:-1]
    return "done", {"status": status, "deviations": deviations, "unhappy": unhappy, "note": note}


def _amended(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``{before} → {after}; reason: {reason}``: the one split where both sides read as terms."""
    splits = []
    for arrow in re.finditer(" → ", text):
        before, rest = text[: arrow.start()], text[arrow.end() :]
        if not _split_due(before):
            continue
        for cut in re.finditer("; reason: ", rest):
            if _split_due(rest[: cut.start()]):
                splits.append((before, rest[: cut.start()], rest[cut.end() :]))
    if len(splits) != 1:
        raise _Unsure
    before, after, reason = splits[0]
    return "amended", {
        "reason": reason,
        "before": _terms(before, ref, row, exact=False),
        "after": _terms(after, ref, row, exact=False),
    }


def _cancelled(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    return "cancelled", {"reason": text}


def _remedied(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``{action}[; to prevent it: {prevent}]``, matched to a remedy row when one reads so."""
    for action, prevent in row.remedies:
        if text == action + (f"; to prevent it: {prevent}" if prevent else ""):
            return "remedied", {"action": action, "prevent": prevent}
    parts = text.split("; to prevent it: ")
    if len(parts) > 2:
        raise _Unsure
    return "remedied", {"action": parts[0], "prevent": parts[1] if len(parts) == 2 else None}


def _followup(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    m = re.fullmatch(r"follow-up #(?P<id>\d+) due (?P<due>.+)", text)
    if m is None:
        raise _Unsure
    due, date_only = _due(m["due"], ref, row, yearless=True)
    return "followup", {"followup_id": int(m["id"]), "due": due, "date_only": date_only}


def _unhappy(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    m = re.fullmatch(r"follow-up #(?P<id>\d+): the customer is unhappy", text)
    if m is None:
        raise _Unsure
    return "unhappy", {"followup_id": int(m["id"])}


def _notice(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """The notice's opening line; what it says is the promise's original terms, kept in its row."""
    if re.fullmatch(r"On [A-Z][a-z]{2} \d{2} [A-Z][a-z]{2} we promised you .+ by .+\.", text, re.S) is None:
        raise _Unsure
    return "notice_drafted", {}


def _notified(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    m = re.fullmatch(r"mailed to (?P<to>.+) as (?P<section>overdue|due today)", text, re.S)
    if m is None:
        raise _Unsure
    section = "overdue" if m["section"] == "overdue" else "due"
    return "notified", {"recipients": m["to"].split(", "), "section": section}


def _forgotten(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    if text != "the customer's name and contact details were erased":
        raise _Unsure
    return "forgotten", {}


def _imported(text: str, ref: datetime, row: LegacyPromise) -> tuple[str, dict[str, Any]]:
    """``… (from {source}, line {n})``; the terms and the delivery it repeats are in their rows."""
    start = text.rfind(" (from ")
    if start < 0:
        raise _Unsure
    m = re.fullmatch(r"(?P<source>.+), line (?P<line>\d+)\)", text[start + len(" (from ") :], re.S)
    if m is None:
        raise _Unsure
    return "imported", {"source": m["source"], "line": int(m["line"])}


_READERS = {
    "promised": _promised,
    "delivered": _delivered,
    "fulfilled": _fulfilled,
    "done": _done,
    "amended": _amended,
    "cancelled": _cancelled,
    "remedied": _remedied,
    "followup": _followup,
    "unhappy": _unhappy,
    "notice": _notice,
    "notified": _notified,
    "forgotten": _forgotten,
    "imported": _imported,
}
