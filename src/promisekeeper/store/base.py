"""What the store's modules share: cleaning text and quantities, loading and judging a promise, turning
rows into views, and appending history events to the command's one change.

Only the other ``store`` modules import this; outside the package the public functions of
``promisekeeper.store`` are the only door.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from promisekeeper.db import COMMAND_KEY
from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import Change, Customer, Delivery, Event, Promise, SupplyLink, SupplyOrder, Tag
from promisekeeper.rules import assess, balance, money_of, risk
from promisekeeper.text import check_text
from promisekeeper.views import (
    Consent,
    DeliveryView,
    EventKind,
    EventView,
    Fulfilment,
    Handover,
    Kind,
    Outcome,
    PromiseView,
    Risk,
    State,
    Supply,
    Terms,
)
from promisekeeper.when import Clock, Due, earlier_by

CHUNK = 500
FORGOTTEN = "(forgotten customer)"


# --- text and numbers as typed ---------------------------------------------------------------------


def clean_text(
    value: str | None,
    what: str,
    hint: str = 'say what was promised, e.g. "Hiking boots size 38"',
    *,
    multiline: bool = False,
    line: int | None = None,
) -> str:
    """Required text, named ``what`` in an error: empty is bad input with ``hint``; a control character
    or bidi override is bad input too (``text.check_text``; a ``multiline`` note may hold line breaks and
    tabs). One-line text has its white space collapsed; a note keeps its lines."""
    if value is None or not value.strip():
        raise BadInput(f"{what} is empty; {hint}.")
    if multiline:
        return check_text(value.replace("\r\n", "\n"), what, multiline=True, line=line).strip()
    return " ".join(check_text(value, what, line=line).split())


def optional_text(
    value: str | None, what: str, *, multiline: bool = False, line: int | None = None
) -> str | None:
    """Optional text, named ``what`` in an error: trimmed, empty is none; checked as by ``clean_text``
    (every text a person or a file gives the store passes through this or ``clean_text``)."""
    if value is None:
        return None
    if multiline:
        value = value.replace("\r\n", "\n")
    value = check_text(value, what, multiline=multiline, line=line).strip()
    return value or None


def clean_tags(tags: Iterable[str], *, line: int | None = None) -> tuple[str, ...]:
    """Tags as given, trimmed, empty ones dropped, each once; a tag is one line of plain text."""
    return tuple(dict.fromkeys(t.strip() for t in tags if check_text(t, "The tag", line=line).strip()))


def clean_quantity(value: int, what: str = "The quantity") -> int:
    if value < 1:
        raise BadInput(f"{what} must be a whole number of at least 1, not {value}.")
    if value > 1_000_000_000:
        raise BadInput(f"{what} {value} is too large; the most is 1000000000.")
    return value


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# --- a promise and its judgement --------------------------------------------------------------------


def terms_of(p: Promise) -> Terms:
    return Terms(what=p.what, quantity=p.quantity, price=money_of(p.price_minor, p.currency), due=p.due)


def fulfilment_of(d: Delivery) -> Fulfilment:
    return Fulfilment(at=d.at, what=d.what, quantity=d.quantity, price=money_of(d.price_minor, d.currency))


def load_promise(session: Session, promise_id: int) -> Promise:
    # An id beyond a 64-bit integer is no promise's (and no database could even be asked for it).
    promise = session.get(Promise, promise_id) if 0 < promise_id < 2**63 else None
    if promise is None:
        raise NotFound(f"There is no promise #{promise_id}; `pk promise list` shows the ids.")
    if promise.state == State.voided:
        raise NotFound(f"Promise #{promise_id} was undone (pk undo); `pk promise list` shows the ids.")
    return promise


def deliveries_of(session: Session, promise_id: int) -> list[Delivery]:
    query = (
        select(Delivery).where(Delivery.promise_id == promise_id).order_by(col(Delivery.at), col(Delivery.id))
    )
    return list(session.exec(query).all())


def handover_of(p: Promise) -> Handover | None:
    """How the goods of ``p`` reach the customer; ``None`` for a promise of no goods (reply, callback…).
    A promise written before schema 4 has none stored and is a pickup, the default."""
    if p.kind != Kind.delivery:
        return None
    return Handover(p.handover) if p.handover else Handover.pickup


def judge(
    terms: Terms,
    deliveries: Sequence[Fulfilment],
    *,
    state: str,
    closed_at: datetime | None,
    now: datetime,
    ready_at: datetime | None = None,
) -> Outcome:
    """``rules.assess`` for a stored promise: its ``closed_at`` is a fulfilment only in state ``fulfilled``
    (a cancelled promise is closed too, but was never fulfilled). ``ready_at``: a pickup's readiness
    (``ready_of``)."""
    return assess(
        terms,
        deliveries,
        now=now,
        closed_at=closed_at if state == State.fulfilled else None,
        cancelled=state == State.cancelled,
        ready_at=ready_at,
    )


def ready_of(p: Promise) -> datetime | None:
    """When the goods of a pickup promise were ready for the customer (``None``: not marked, or no pickup)."""
    return p.ready_at if handover_of(p) == Handover.pickup else None


def supplies_of(session: Session, promise_ids: Sequence[int]) -> dict[int, list[Supply]]:
    """The supply orders each promise waits for (not voided), in a few queries."""
    found: dict[int, list[Supply]] = defaultdict(list)
    for chunk in chunks(promise_ids):
        query = (
            select(SupplyLink.promise_id, SupplyOrder)
            .join(SupplyOrder, col(SupplyOrder.id) == col(SupplyLink.order_id))
            .where(col(SupplyLink.promise_id).in_(chunk), col(SupplyOrder.state) != State.voided)
            .order_by(col(SupplyOrder.id))
        )
        for pid, o in session.exec(query):
            found[pid].append(Supply(o.id or 0, o.supplier, o.eta, o.quantity, o.received_quantity))
    return found


def risk_of(p: Promise, orders: Sequence[Supply], clock: Clock) -> Risk | None:
    """``rules.risk`` for a stored promise: only an open one, not yet ready, that waits for an order."""
    if not orders or p.state != State.active or p.ready_at is not None:
        return None
    return risk(
        p.due,
        orders,
        now=clock.now,
        latest_eta=earlier_by(clock.supply_margin, p.due, clock, "[supply] margin"),
        eta_needed_from=earlier_by(clock.no_eta_warn, p.due, clock, "[supply] no_eta_warn"),
    )


def outcome_columns(outcome: Outcome, *, fulfilled: bool) -> dict[str, Any]:
    """The outcome columns of a promise as stored for the queries; the bulk import writes the same."""
    kinds = set(outcome.deviation_kinds)
    return {
        "fulfilled_at": outcome.fulfilled_at,
        "delivered_quantity": outcome.delivered_quantity,
        "charged_minor": outcome.charged.minor if outcome.charged else None,
        "charged_currency": outcome.charged.currency if outcome.charged else None,
        "late_seconds": outcome.late_by_seconds,
        "dev_late": "late" in kinds,
        "dev_substituted": "substituted" in kinds,
        "dev_price": "price" in kinds,
        "dev_short": "short" in kinds and fulfilled,
        "dev_excess": "excess" in kinds,
    }


def sync(session: Session, promise: Promise, clock: Clock) -> Outcome:
    """Judge the promise with ``rules.assess`` and store what the queries need of that judgement."""
    deliveries = [fulfilment_of(d) for d in deliveries_of(session, promise.id or 0)]
    outcome = judge(
        terms_of(promise),
        deliveries,
        state=promise.state,
        closed_at=promise.closed_at,
        now=clock.now,
        ready_at=ready_of(promise),
    )
    for name, value in outcome_columns(outcome, fulfilled=promise.state == State.fulfilled).items():
        setattr(promise, name, value)
    session.add(promise)
    return outcome


# --- history -----------------------------------------------------------------------------------------

_CHANGE_KEY = "pk_change"


def change_id(session: Session, at: datetime) -> int:
    """The id of this command's change, made on its first event: one command, one change."""
    found = session.info.get(_CHANGE_KEY)
    if found is None:
        change = Change(at=at, command=str(session.info.get(COMMAND_KEY) or "pk")[:64])
        session.add(change)
        session.flush()
        assert change.id is not None
        found = session.info[_CHANGE_KEY] = change.id
    return int(found)


def append_event(
    session: Session,
    event: EventKind,
    at: datetime,
    /,
    *,
    promise_id: int | None = None,
    customer_id: int | None = None,
    order_id: int | None = None,
    **data: Any,
) -> None:
    """Append one history event: its kind and typed fields, under the command's change."""
    session.add(
        Event(
            change_id=change_id(session, at),
            promise_id=promise_id,
            customer_id=customer_id,
            order_id=order_id,
            at=at,
            kind=str(event),
            data=data,
        )
    )


# --- views -------------------------------------------------------------------------------------------


def views(
    session: Session, promises: Sequence[Promise], clock: Clock, *, detail: bool = False
) -> list[PromiseView]:
    """Judge a batch of promises, loading their customers, tags and deliveries in a few queries."""
    ids = [p.id for p in promises if p.id is not None]
    names: dict[int, str | None] = {}
    speaks: dict[int, tuple[str | None, str]] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    deliveries: dict[int, list[Delivery]] = defaultdict(list)
    history: dict[int, list[Event]] = defaultdict(list)
    customer_ids = sorted({p.customer_id for p in promises if p.customer_id is not None})
    for chunk in chunks(customer_ids):
        who = select(Customer.id, Customer.name, Customer.language, Customer.consent)
        for cid, name, language, consent in session.exec(who.where(col(Customer.id).in_(chunk))):
            names[cid or 0] = name
            speaks[cid or 0] = (language, consent)
    for chunk in chunks(ids):
        for t in session.exec(select(Tag).where(col(Tag.promise_id).in_(chunk)).order_by(col(Tag.tag))):
            tags[t.promise_id].append(t.tag)
        query = (
            select(Delivery)
            .where(col(Delivery.promise_id).in_(chunk))
            .order_by(col(Delivery.at), col(Delivery.id))
        )
        for d in session.exec(query):
            deliveries[d.promise_id].append(d)
        if detail:
            events = (
                select(Event).where(col(Event.promise_id).in_(chunk)).order_by(col(Event.at), col(Event.id))
            )
            for e in session.exec(events):
                history[e.promise_id or 0].append(e)
    supplies = supplies_of(session, ids)
    out = []
    for p in promises:
        pid = p.id or 0
        outcome = judge(
            terms_of(p),
            [fulfilment_of(d) for d in deliveries[pid]],
            state=p.state,
            closed_at=p.closed_at,
            now=clock.now,
            ready_at=ready_of(p),
        )
        price = money_of(p.price_minor, p.currency)
        deposit = money_of(p.deposit_minor, p.deposit_currency)
        language, consent = speaks.get(p.customer_id or 0, (None, Consent.none))
        out.append(
            PromiseView(
                id=pid,
                kind=Kind(p.kind),
                customer=names.get(p.customer_id) if p.customer_id is not None else None,
                what=p.what,
                quantity=p.quantity,
                price=price,
                due=Due(p.due, p.date_only),
                original_due=Due(p.original_due, bool(p.original_date_only)) if p.original_due else None,
                renegotiated=p.renegotiated,
                staff=p.staff,
                tags=tuple(tags[pid]),
                note=p.note,
                parent_id=p.parent_id,
                created=p.created,
                outcome=outcome,
                remedied=p.remedied,
                unhappy=p.unhappy,
                deliveries=tuple(
                    DeliveryView(d.at, d.what, d.quantity, money_of(d.price_minor, d.currency), d.note)
                    for d in deliveries[pid]
                )
                if detail
                else (),
                history=tuple(EventView(e.at, e.kind, dict(e.data or {}), e.change_id) for e in history[pid])
                if detail
                else (),
                handover=handover_of(p),
                ready_at=p.ready_at,
                deposit=deposit,
                balance=balance(price, deposit, outcome.charged) if deposit is not None else None,
                orders=tuple(o.id for o in supplies.get(pid, ())),
                risk=risk_of(p, supplies.get(pid, ()), clock),
                customer_language=language,
                customer_consent=Consent(consent or Consent.none),
            )
        )
    return out


def view(session: Session, promise_id: int, clock: Clock, *, detail: bool = False) -> PromiseView:
    """One promise, judged at ``clock.now``; ``detail`` adds its deliveries and history."""
    return views(session, [load_promise(session, promise_id)], clock, detail=detail)[0]
