"""Keyword-only functions over a session: the writes (add, deliver, done, amend, cancel, remedy) and the
queries behind ``due``, ``check`` and ``list`` (in SQL, on indexed columns).

Every write appends to the promise's history and brings the promise's outcome columns up to date
through ``rules.assess`` in the same transaction. Results are plain dataclasses (``PromiseView``):
nothing that leaves this module is bound to a session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import (
    Customer,
    Delivery,
    Event,
    Promise,
    Remedy,
    SentItem,
    SentReport,
    Tag,
    needs_remedy,
)
from promisekeeper.money import Money, format_money
from promisekeeper.rules import (
    KINDS,
    STATUSES,
    Fulfilment,
    Outcome,
    Terms,
    assess,
    closes,
    default_charge,
    normalise,
    terms_text,
    verdict_text,
)
from promisekeeper.when import Clock, Due, describe_due, end_of_day, parse_when

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class DeliveryView:
    at: datetime
    what: str
    quantity: int
    price: Money | None
    note: str | None


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    event: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class PromiseView:
    """A promise as the user sees it: its terms, who, and its judgement at ``now``."""

    id: int
    kind: str
    customer: str | None
    what: str
    quantity: int
    price: Money | None
    due: Due
    original_due: Due | None
    renegotiated: bool
    staff: str | None
    tags: tuple[str, ...]
    note: str | None
    parent_id: int | None
    created: datetime
    outcome: Outcome
    remedied: bool
    unhappy: bool
    deliveries: tuple[DeliveryView, ...] = ()
    history: tuple[EventView, ...] = ()

    @property
    def status(self) -> str:
        return self.outcome.status


# --- small helpers -------------------------------------------------------------------------------


def _money(minor: int | None, currency: str | None) -> Money | None:
    if minor is None or currency is None:
        return None
    return Money.from_minor(minor, currency)


def _text(
    value: str | None, what: str, hint: str = 'say what was promised, e.g. "Hiking boots size 38"'
) -> str:
    if value is None or not value.strip():
        raise BadInput(f"{what} is empty; {hint}.")
    return " ".join(value.split()) if "\n" not in value else value.strip()


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _quantity(value: int, what: str = "The quantity") -> int:
    if value < 1:
        raise BadInput(f"{what} must be a whole number of at least 1, not {value}.")
    if value > 1_000_000_000:
        raise BadInput(f"{what} {value} is too large; the most is 1000000000.")
    return value


def _terms(p: Promise) -> Terms:
    return Terms(what=p.what, quantity=p.quantity, price=_money(p.price_minor, p.currency), due=p.due)


def _fulfilment(d: Delivery) -> Fulfilment:
    return Fulfilment(at=d.at, what=d.what, quantity=d.quantity, price=_money(d.price_minor, d.currency))


def _record(session: Session, promise_id: int, at: datetime, event: str, detail: str | None) -> None:
    session.add(Event(promise_id=promise_id, at=at, event=event, detail=detail))


def _terms_text(promise: Promise, clock: Clock) -> str:
    """The promise's current terms for its history (before and after an amendment)."""
    due = Due(promise.due, promise.date_only)
    money = _money(promise.price_minor, promise.currency)
    return terms_text(promise.what, promise.quantity, money, due, clock.tz, clock.now)


def _load(session: Session, promise_id: int) -> Promise:
    # An id beyond a 64-bit integer is no promise's (and no database could even be asked for it).
    promise = session.get(Promise, promise_id) if 0 < promise_id < 2**63 else None
    if promise is None:
        raise NotFound(f"There is no promise #{promise_id}; `pk promise list` shows the ids.")
    return promise


def _deliveries(session: Session, promise_id: int) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery).where(Delivery.promise_id == promise_id).order_by(col(Delivery.at))
        ).all()
    )


def judge(
    terms: Terms, deliveries: Sequence[Fulfilment], *, state: str, closed_at: datetime | None, now: datetime
) -> Outcome:
    """``rules.assess`` for a stored promise: its ``closed_at`` is a fulfilment only in state ``fulfilled``
    (a cancelled promise is closed too, but was never fulfilled)."""
    return assess(
        terms,
        deliveries,
        now=now,
        closed_at=closed_at if state == "fulfilled" else None,
        cancelled=state == "cancelled",
    )


def _sync(session: Session, promise: Promise, clock: Clock) -> Outcome:
    """Judge the promise with ``rules.assess`` and store what the queries need of that judgement."""
    deliveries = [_fulfilment(d) for d in _deliveries(session, promise.id or 0)]
    outcome = judge(
        _terms(promise), deliveries, state=promise.state, closed_at=promise.closed_at, now=clock.now
    )
    for name, value in outcome_columns(outcome, fulfilled=promise.state == "fulfilled").items():
        setattr(promise, name, value)
    session.add(promise)
    return outcome


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


# --- customers -------------------------------------------------------------------------------------


def customer_key(name: str) -> str:
    return normalise(name)


def find_customer(session: Session, name: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.name_key == customer_key(name))).first()


def get_customer(session: Session, name: str) -> Customer:
    customer = find_customer(session, name)
    if customer is None:
        raise NotFound(f"There is no customer named {name!r}; `pk customer list` shows them.")
    return customer


def customer_for(session: Session, name: str | None, *, now: datetime) -> Customer | None:
    """The customer of that name (matched case-insensitively), created on the spot the first time."""
    name = _optional(name)
    if name is None:
        return None
    name = " ".join(name.split())
    customer = find_customer(session, name)
    if customer is None:
        customer = Customer(name=name, name_key=customer_key(name), created=now)
        session.add(customer)
        session.flush()
    return customer


def _contact(value: str | None, kind: str) -> str | None:
    """Light validation of an email address or phone number: catch typos, not police formats."""
    value = _optional(value)
    if value is None:
        return None
    if kind == "email":
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value or domain.startswith(".") or domain.endswith("."):
            raise BadInput(f"{value!r} does not look like an email address; use e.g. anna@example.com.")
    elif sum(c.isdigit() for c in value) < 3 or any(not (c.isdigit() or c in " +-()./") for c in value):
        raise BadInput(f"{value!r} does not look like a phone number; use digits, spaces and + - ( ) only.")
    return value


def add_customer(
    session: Session,
    *,
    clock: Clock,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    note: str | None = None,
) -> tuple[Customer, bool]:
    """Create a customer, or fill in the details of one already known; return it and whether it is new."""
    name = " ".join(_text(name, "The customer's name", 'give it as people say it, e.g. "Anna Smith"').split())
    customer = find_customer(session, name)
    created = customer is None
    if customer is None:
        customer = Customer(name=name, name_key=customer_key(name), created=clock.now)
    if email is not None:
        customer.email = _contact(email, "email")
    if phone is not None:
        customer.phone = _contact(phone, "phone")
    if note is not None:
        customer.note = _optional(note)
    session.add(customer)
    session.flush()
    return customer, created


FORGOTTEN = "(forgotten customer)"


def forget_customer(session: Session, *, clock: Clock, name: str) -> int:
    """Erase a customer's name and contact details everywhere, keeping their promises anonymised.

    The name is also scrubbed from every text that mentions it (history, notes, deliveries,
    remedies) of that customer's promises. Returns how many promises were anonymised.
    """
    import re

    customer = get_customer(session, name)
    pattern = re.compile(re.escape(customer.name or name), re.IGNORECASE)
    ids = list(session.exec(select(Promise.id).where(Promise.customer_id == customer.id)).all())

    def scrub(text: str | None) -> str | None:
        return pattern.sub(FORGOTTEN, text) if text else text

    for chunk in _chunks([i for i in ids if i is not None]):
        for promise in session.exec(select(Promise).where(col(Promise.id).in_(chunk))):
            promise.what, promise.note = scrub(promise.what) or promise.what, scrub(promise.note)
            session.add(promise)
        for event in session.exec(select(Event).where(col(Event.promise_id).in_(chunk))):
            event.detail = scrub(event.detail)
            session.add(event)
        for delivery in session.exec(select(Delivery).where(col(Delivery.promise_id).in_(chunk))):
            delivery.what, delivery.note = scrub(delivery.what) or delivery.what, scrub(delivery.note)
            session.add(delivery)
        for fix in session.exec(select(Remedy).where(col(Remedy.promise_id).in_(chunk))):
            fix.action, fix.prevent = scrub(fix.action) or fix.action, scrub(fix.prevent)
            session.add(fix)
        for pid in chunk:
            _record(
                session, pid, clock.now, "forgotten", "the customer's name and contact details were erased"
            )
    customer.name = None
    customer.name_key = None
    customer.email = customer.phone = customer.note = None
    customer.forgotten_at = clock.now
    session.add(customer)
    session.flush()
    return len(ids)


# --- writes ----------------------------------------------------------------------------------------


def add_promise(
    session: Session,
    *,
    clock: Clock,
    what: str,
    due: Due,
    kind: str = "delivery",
    quantity: int = 1,
    price: Money | None = None,
    customer: str | None = None,
    staff: str | None = None,
    note: str | None = None,
    tags: Sequence[str] = (),
    parent_id: int | None = None,
) -> int:
    """Record a new promise and its first history event; return its id."""
    if kind not in KINDS:
        raise BadInput(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    what = _text(what, "WHAT")
    quantity = _quantity(quantity)
    who = customer_for(session, customer, now=clock.now)
    promise = Promise(
        kind=kind,
        customer_id=who.id if who else None,
        what=what,
        quantity=quantity,
        price_minor=price.minor if price else None,
        currency=price.currency if price else None,
        due=due.moment,
        date_only=due.date_only,
        staff=_optional(staff),
        note=_optional(note),
        parent_id=parent_id,
        created=clock.now,
    )
    session.add(promise)
    session.flush()
    assert promise.id is not None
    for tag in dict.fromkeys(t.strip() for t in tags if t.strip()):
        session.add(Tag(promise_id=promise.id, tag=tag))
    by = f" by {promise.staff}" if promise.staff else ""
    to = f" to {who.name}" if who else ""
    _record(
        session,
        promise.id,
        clock.now,
        "promised",
        f"{terms_text(what, quantity, price, due, clock.tz, clock.now)}{to}{by}",
    )
    return promise.id


def _open_promise(session: Session, promise_id: int, verb: str) -> Promise:
    promise = _load(session, promise_id)
    if promise.state == "cancelled":
        raise BadInput(f"Promise #{promise_id} was cancelled; it cannot be {verb}.")
    if promise.state == "fulfilled":
        raise BadInput(f"Promise #{promise_id} was already fulfilled; it cannot be {verb}.")
    return promise


def _close(
    session: Session, promise: Promise, clock: Clock, at: datetime, followup_after: Sequence[str]
) -> None:
    promise.state = "fulfilled"
    promise.closed_at = at
    if promise.kind == "delivery" and followup_after:
        _create_followups(session, promise, clock, at, followup_after)


def _create_followups(
    session: Session, parent: Promise, clock: Clock, at: datetime, followup_after: Sequence[str]
) -> None:
    assert parent.id is not None
    base = Clock(now=at, tz=clock.tz, date_order=clock.date_order, country=clock.country)
    customer = session.get(Customer, parent.customer_id) if parent.customer_id else None
    for offset in followup_after:
        due = parse_when(offset, base)
        child = add_promise(
            session,
            clock=clock,
            what=f"Follow up: {parent.what}",
            due=due,
            kind="followup",
            customer=customer.name if customer else None,
            staff=parent.staff,
            parent_id=parent.id,
        )
        _record(
            session, parent.id, clock.now, "followup", f"follow-up #{child} due {describe_due(due, clock.tz)}"
        )


def delivered_at(at: Due | None, clock: Clock) -> datetime:
    if at is None or (at.date_only and at.moment.astimezone(clock.tz).date() == clock.today):
        return clock.now
    return at.moment


def deliver(
    session: Session,
    *,
    clock: Clock,
    promise_id: int,
    what: str | None = None,
    quantity: int | None = None,
    price: Money | None = None,
    at: Due | None = None,
    note: str | None = None,
    followup_after: Sequence[str] = (),
) -> PromiseView:
    """Record one delivery (as promised, now, unless told otherwise); close the promise when it is complete.

    A date-only ``at`` means now when it is today and the end of that day otherwise: a delivery is
    never recorded as earlier than the clerk can vouch for.
    """
    promise = _open_promise(session, promise_id, "delivered")
    moment = delivered_at(at, clock)
    if moment > clock.now:
        raise BadInput("A delivery cannot be recorded in the future; give --at a moment up to now.")
    terms = _terms(promise)
    earlier = [_fulfilment(d) for d in _deliveries(session, promise_id)]
    owed = terms.quantity - sum(d.quantity for d in earlier)
    qty = _quantity(quantity if quantity is not None else max(owed, 1))
    item = _text(what, "The delivered WHAT") if what is not None else promise.what
    charge = price if price is not None else default_charge(terms, earlier, qty)
    session.add(
        Delivery(
            promise_id=promise_id,
            at=moment,
            what=item,
            quantity=qty,
            price_minor=charge.minor if charge else None,
            currency=charge.currency if charge else None,
            note=_optional(note),
        )
    )
    cost = f" for {format_money(charge)}" if charge else ""
    _record(
        session, promise_id, clock.now, "delivered", f"{qty} × {item}{cost}" + (f" ({note})" if note else "")
    )
    if closes(terms, [*earlier, Fulfilment(at=moment, what=item, quantity=qty, price=charge)]):
        _close(session, promise, clock, moment, followup_after)
    session.flush()
    outcome = _sync(session, promise, clock)
    if promise.state == "fulfilled":
        _record(session, promise_id, clock.now, "fulfilled", verdict_text(outcome))
    return view(session, promise_id, clock)


def done(
    session: Session,
    *,
    clock: Clock,
    promise_id: int,
    note: str | None = None,
    unhappy: bool = False,
    followup_after: Sequence[str] = (),
) -> PromiseView:
    """Close a promise as fulfilled now: a callback made, a reply sent, a follow-up held.

    A delivery promise with part delivered is closed with what it got (short); with nothing
    delivered yet, ``done`` records the delivery as promised.
    """
    promise = _open_promise(session, promise_id, "marked done")
    if not _deliveries(session, promise_id):
        terms = _terms(promise)
        charge = default_charge(terms, [], terms.quantity)
        session.add(
            Delivery(
                promise_id=promise_id,
                at=clock.now,
                what=promise.what,
                quantity=promise.quantity,
                price_minor=charge.minor if charge else None,
                currency=charge.currency if charge else None,
                note=_optional(note),
            )
        )
    promise.unhappy = unhappy
    _close(session, promise, clock, clock.now, followup_after)
    session.flush()
    outcome = _sync(session, promise, clock)
    detail = verdict_text(outcome) + ("; the customer is unhappy" if unhappy else "")
    _record(
        session,
        promise_id,
        clock.now,
        "done",
        detail + (f" ({note.strip()})" if note and note.strip() else ""),
    )
    if unhappy and promise.parent_id is not None:
        parent = session.get(Promise, promise.parent_id)
        if parent is not None:
            parent.unhappy = True
            parent.remedied = False
            session.add(parent)
            _record(
                session,
                parent.id or 0,
                clock.now,
                "unhappy",
                f"follow-up #{promise_id}: the customer is unhappy",
            )
    return view(session, promise_id, clock)


def amend(
    session: Session,
    *,
    clock: Clock,
    promise_id: int,
    reason: str,
    due: Due | None = None,
    what: str | None = None,
    quantity: int | None = None,
    price: Money | None = None,
) -> PromiseView:
    """Renegotiate the terms with the customer; the original terms stay in the history and original_due."""
    promise = _open_promise(session, promise_id, "amended")
    reason = _text(reason, "The reason", 'say why, e.g. "Supplier delay; the customer agreed"')
    if due is None and what is None and quantity is None and price is None:
        raise BadInput("Nothing to amend; give at least one of --due, --what, --qty, --price.")
    before = _terms_text(promise, clock)
    if due is not None:
        if promise.original_due is None:
            promise.original_due = promise.due
            promise.original_date_only = promise.date_only
        promise.due = due.moment
        promise.date_only = due.date_only
    if what is not None:
        promise.what = _text(what, "WHAT")
    if quantity is not None:
        promise.quantity = _quantity(quantity)
    if price is not None:
        promise.price_minor = price.minor
        promise.currency = price.currency
    promise.renegotiated = True
    after = _terms_text(promise, clock)
    _record(session, promise_id, clock.now, "amended", f"{before} → {after}; reason: {reason}")
    session.flush()
    deliveries = [_fulfilment(d) for d in _deliveries(session, promise_id)]
    if deliveries and closes(_terms(promise), deliveries):
        _close(session, promise, clock, max(d.at for d in deliveries), ())
    _sync(session, promise, clock)
    return view(session, promise_id, clock)


def cancel(session: Session, *, clock: Clock, promise_id: int, reason: str) -> PromiseView:
    """Cancel (never delete) a promise; the reason goes into its history."""
    promise = _open_promise(session, promise_id, "cancelled")
    reason = _text(reason, "The reason", 'say why, e.g. "Supplier delay; the customer agreed"')
    promise.state = "cancelled"
    promise.closed_at = clock.now
    _record(session, promise_id, clock.now, "cancelled", reason)
    session.flush()
    _sync(session, promise, clock)
    return view(session, promise_id, clock)


def remedy(
    session: Session, *, clock: Clock, promise_id: int, action: str, prevent: str | None = None
) -> PromiseView:
    """Record how a deviated, overdue or unhappy promise was made right, and what will prevent it."""
    current = view(session, promise_id, clock)
    if not (current.status in ("deviated", "overdue") or current.unhappy or current.outcome.deviations):
        raise BadInput(
            f"Promise #{promise_id} is {current.status} with no deviation; there is nothing to remedy."
        )
    action = _text(action, "The action", 'say what was done to make it right, e.g. "Refunded €10"')
    prevent = _optional(prevent)
    session.add(Remedy(promise_id=promise_id, at=clock.now, action=action, prevent=prevent))
    promise = _load(session, promise_id)
    promise.remedied = True
    session.add(promise)
    _record(
        session,
        promise_id,
        clock.now,
        "remedied",
        action + (f"; to prevent it: {prevent}" if prevent else ""),
    )
    session.flush()
    return view(session, promise_id, clock)


def latest_remedy(session: Session, *, promise_id: int) -> tuple[str, str | None] | None:
    """The most recent remedy of a promise: what was done, and what will prevent it."""
    fix = session.exec(
        select(Remedy)
        .where(Remedy.promise_id == promise_id)
        .order_by(col(Remedy.at).desc(), col(Remedy.id).desc())
    ).first()
    return (fix.action, fix.prevent) if fix else None


def record_event(session: Session, *, promise_id: int, at: datetime, event: str, detail: str | None) -> None:
    """Append a history event (e.g. a notice drafted, a report mailed) to an existing promise."""
    _load(session, promise_id)
    _record(session, promise_id, at, event, detail)


# --- reads -----------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _views(
    session: Session, promises: Sequence[Promise], clock: Clock, *, detail: bool = False
) -> list[PromiseView]:
    """Judge a batch of promises, loading their customers, tags and deliveries in a few queries."""
    ids = [p.id for p in promises if p.id is not None]
    names: dict[int, str | None] = {}
    tags: dict[int, list[str]] = defaultdict(list)
    deliveries: dict[int, list[Delivery]] = defaultdict(list)
    history: dict[int, list[Event]] = defaultdict(list)
    customer_ids = sorted({p.customer_id for p in promises if p.customer_id is not None})
    for chunk in _chunks(customer_ids):
        for cid, name in session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(chunk))):
            names[cid or 0] = name
    for chunk in _chunks(ids):
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
                history[e.promise_id].append(e)
    out = []
    for p in promises:
        pid = p.id or 0
        outcome = judge(
            _terms(p),
            [_fulfilment(d) for d in deliveries[pid]],
            state=p.state,
            closed_at=p.closed_at,
            now=clock.now,
        )
        out.append(
            PromiseView(
                id=pid,
                kind=p.kind,
                customer=names.get(p.customer_id) if p.customer_id is not None else None,
                what=p.what,
                quantity=p.quantity,
                price=_money(p.price_minor, p.currency),
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
                    DeliveryView(d.at, d.what, d.quantity, _money(d.price_minor, d.currency), d.note)
                    for d in deliveries[pid]
                )
                if detail
                else (),
                history=tuple(EventView(e.at, e.event, e.detail) for e in history[pid]) if detail else (),
            )
        )
    return out


def view(session: Session, promise_id: int, clock: Clock, *, detail: bool = False) -> PromiseView:
    """One promise, judged at ``clock.now``; ``detail`` adds its deliveries and history."""
    return _views(session, [_load(session, promise_id)], clock, detail=detail)[0]


def _status_clause(status: str, now: datetime) -> sa.ColumnElement[bool]:
    any_dev = sa.or_(
        col(Promise.dev_late),
        col(Promise.dev_substituted),
        col(Promise.dev_price),
        col(Promise.dev_short),
        col(Promise.dev_excess),
    )
    active = col(Promise.state) == "active"
    fulfilled = col(Promise.state) == "fulfilled"
    clauses: dict[str, sa.ColumnElement[bool]] = {
        "open": sa.and_(active, col(Promise.due) >= now),
        "overdue": sa.and_(active, col(Promise.due) < now),
        "kept": sa.and_(fulfilled, sa.not_(any_dev)),
        "deviated": sa.and_(fulfilled, any_dev),
        "cancelled": col(Promise.state) == "cancelled",
    }
    return clauses[status]


def list_promises(
    session: Session,
    *,
    clock: Clock,
    statuses: Sequence[str] = (),
    customer: str | None = None,
    staff: str | None = None,
    kind: str | None = None,
    tag: str | None = None,
) -> list[PromiseView]:
    """Promises matching every filter given, in order of their due moment."""
    query = select(Promise)
    for status in statuses:
        if status not in STATUSES:
            raise BadInput(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    if statuses:
        query = query.where(sa.or_(*(_status_clause(s, clock.now) for s in statuses)))
    if customer is not None:
        query = query.where(Promise.customer_id == get_customer(session, customer).id)
    if staff is not None:
        query = query.where(sa.func.lower(col(Promise.staff)) == staff.strip().lower())
    if kind is not None:
        if kind not in KINDS:
            raise BadInput(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
        query = query.where(Promise.kind == kind)
    if tag is not None:
        query = query.where(col(Promise.id).in_(select(Tag.promise_id).where(Tag.tag == tag.strip())))
    promises = session.exec(query.order_by(col(Promise.due), col(Promise.id))).all()
    return _views(session, promises, clock)


def iter_promises(session: Session, *, clock: Clock, statuses: Sequence[str] = ()) -> Iterator[PromiseView]:
    """Like ``list_promises`` (same order), judged a few hundred at a time: exports of a book of any size
    in flat memory."""
    for status in statuses:
        if status not in STATUSES:
            raise BadInput(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    query = select(Promise.id)
    if statuses:
        query = query.where(sa.or_(*(_status_clause(s, clock.now) for s in statuses)))
    ids = [i for i in session.exec(query.order_by(col(Promise.due), col(Promise.id))) if i is not None]
    for part in _chunks(ids):
        found = {p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(part)))}
        yield from _views(session, [found[i] for i in part], clock)


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts over a set of promises, as SQL aggregated them (see ``_tally_columns``)."""

    promises: int = 0
    kept: int = 0
    deviated: int = 0
    overdue: int = 0
    open: int = 0
    cancelled: int = 0
    on_time: int = 0
    in_full: int = 0
    at_price: int = 0
    late: int = 0
    late_seconds: int = 0
    renegotiated: int = 0

    @property
    def fulfilled(self) -> int:
        return self.kept + self.deviated

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f) + getattr(other, f) for f in TALLY_FIELDS))


TALLY_FIELDS = tuple(Tally.__dataclass_fields__)


def _tally_columns(now: datetime) -> list[sa.Label[int]]:
    def count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    fulfilled = col(Promise.state) == "fulfilled"
    return [
        sa.func.count().label("promises"),
        count(_status_clause("kept", now)).label("kept"),
        count(_status_clause("deviated", now)).label("deviated"),
        count(_status_clause("overdue", now)).label("overdue"),
        count(_status_clause("open", now)).label("open"),
        count(_status_clause("cancelled", now)).label("cancelled"),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_late)))).label("on_time"),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_short)), sa.not_(col(Promise.dev_excess)))).label(
            "in_full"
        ),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_price)))).label("at_price"),
        count(sa.and_(fulfilled, col(Promise.dev_late))).label("late"),
        sa.func.coalesce(
            sa.func.sum(
                sa.case((sa.and_(fulfilled, col(Promise.dev_late)), col(Promise.late_seconds)), else_=0)
            ),
            0,
        ).label("late_seconds"),
        count(col(Promise.renegotiated) == sa.true()).label("renegotiated"),
    ]


def _tally(row: Any) -> Tally:
    return Tally(*(int(getattr(row, f) or 0) for f in TALLY_FIELDS))


@dataclass(frozen=True, slots=True)
class CustomerView:
    name: str | None
    email: str | None
    phone: str | None
    note: str | None
    tally: Tally
    history: tuple[PromiseView, ...] = ()


def customer_list(session: Session, *, clock: Clock) -> list[CustomerView]:
    """Every customer (forgotten ones excluded) with their track record, by name."""
    counts = {
        row.customer_id: _tally(row)
        for row in session.execute(
            sa.select(col(Promise.customer_id), *_tally_columns(clock.now))
            .where(col(Promise.customer_id).is_not(None))
            .group_by(col(Promise.customer_id))
        )
    }
    customers = session.exec(
        select(Customer).where(col(Customer.name).is_not(None)).order_by(col(Customer.name_key))
    ).all()
    return [CustomerView(c.name, c.email, c.phone, c.note, counts.get(c.id, Tally())) for c in customers]


def customer_detail(session: Session, *, clock: Clock, name: str) -> CustomerView:
    """One customer's contact details, track record and every promise made to them."""
    customer = get_customer(session, name)
    row = session.execute(
        sa.select(*_tally_columns(clock.now)).where(col(Promise.customer_id) == customer.id)
    ).one()
    promises = session.exec(
        select(Promise).where(Promise.customer_id == customer.id).order_by(col(Promise.due), col(Promise.id))
    ).all()
    return CustomerView(
        customer.name,
        customer.email,
        customer.phone,
        customer.note,
        _tally(row),
        tuple(_views(session, promises, clock)),
    )


STATS_BY = ("week", "month", "staff", "kind", "customer")
_BUCKET = 900  # seconds: every time zone's offset is a multiple of 15 minutes


def _settled() -> sa.ColumnElement[datetime]:
    """When a promise's fate was decided: fulfilled, cancelled, or (still owed) its due moment."""
    return sa.case(
        (col(Promise.state) == "fulfilled", col(Promise.fulfilled_at)),
        (col(Promise.state) == "cancelled", col(Promise.closed_at)),
        else_=col(Promise.due),
    )


@dataclass(frozen=True, slots=True)
class StatsResult:
    since: datetime | None
    until: datetime
    total: Tally
    by: list[tuple[str, Tally]]


def stats(
    session: Session, *, clock: Clock, since: datetime | None = None, by: str | None = None
) -> StatsResult:
    """The track record of the promises settled (or fallen due) between ``since`` and now, in SQL.

    ``by`` breaks it down per local week or month, staff, kind or customer; the week and month
    buckets are summed in 15-minute UTC steps in SQL and rolled up in the shop's zone here.
    """
    settled = _settled()
    period = [settled <= clock.now]
    if since is not None:
        period.append(settled >= since)
    columns = _tally_columns(clock.now)
    total = _tally(session.execute(sa.select(*columns).where(*period)).one())
    rows: list[tuple[str, Tally]] = []
    if by is not None:
        if by not in STATS_BY:
            raise BadInput(f"Unknown breakdown {by!r}; use one of {', '.join(STATS_BY)}.")
        if by in ("week", "month"):
            bucket = sa.cast(sa.extract("epoch", settled), sa.BigInteger) // _BUCKET
            merged: dict[str, Tally] = {}
            query = sa.select(bucket.label("k"), *columns).where(*period).group_by(bucket)
            for row in session.execute(query):
                local = datetime.fromtimestamp(int(row.k) * _BUCKET, tz=clock.tz)
                if by == "week":
                    year, week, _ = local.isocalendar()
                    key = f"{year}-W{week:02d}"
                else:
                    key = f"{local.year}-{local.month:02d}"
                merged[key] = merged.get(key, Tally()) + _tally(row)
            rows = sorted(merged.items())
        else:
            key_col = {
                "staff": col(Promise.staff),
                "kind": col(Promise.kind),
                "customer": col(Promise.customer_id),
            }[by]
            found = [
                (row.k, _tally(row))
                for row in session.execute(
                    sa.select(key_col.label("k"), *columns).where(*period).group_by(key_col)
                )
            ]
            if by == "customer":
                everyone = sa.select(col(Customer.id), col(Customer.name))
                names = dict(session.execute(everyone).all())
                rows = [
                    (names.get(k) or FORGOTTEN if k is not None else "(no customer)", t) for k, t in found
                ]
            else:
                rows = [(str(k) if k else "(none)", t) for k, t in found]
            rows.sort(key=lambda kt: (-kt[1].promises, kt[0]))
    return StatsResult(since=since, until=clock.now, total=total, by=rows)


@dataclass(frozen=True, slots=True)
class DueReport:
    as_of: datetime
    until: datetime
    overdue: list[PromiseView]
    due: list[PromiseView]


def due_report(
    session: Session, *, clock: Clock, until: datetime | None = None, staff: str | None = None
) -> DueReport:
    """The morning list: overdue (most overdue first), then due up to ``until`` (default: end of today)."""
    until = until or end_of_day(clock.today, clock.tz)
    base = select(Promise).where(Promise.state == "active")
    if staff is not None:
        base = base.where(sa.func.lower(col(Promise.staff)) == staff.strip().lower())
    overdue = session.exec(
        base.where(col(Promise.due) < clock.now).order_by(col(Promise.due), col(Promise.id))
    ).all()
    due = session.exec(
        base.where(col(Promise.due) >= clock.now, col(Promise.due) <= until).order_by(
            col(Promise.due), col(Promise.id)
        )
    ).all()
    return DueReport(clock.now, until, _views(session, overdue, clock), _views(session, due, clock))


def check(
    session: Session, *, clock: Clock, since: datetime | None = None, include_remedied: bool = False
) -> list[PromiseView]:
    """Deviated, overdue and unhappy promises with no remedy yet (``include_remedied``: with the remedied)."""
    broken = sa.or_(
        _status_clause("deviated", clock.now), _status_clause("overdue", clock.now), col(Promise.unhappy)
    )
    query = select(Promise).where(broken, col(Promise.state) != "cancelled")
    if since is not None:
        query = query.where(col(Promise.due) >= since)
    if include_remedied:
        promises = session.exec(
            query.order_by(col(Promise.remedied), col(Promise.due), col(Promise.id))
        ).all()
        return _views(session, promises, clock)
    # Two indexed reads instead of a scan of the whole book: the overdue (ix_promise_state_due) and the
    # deviated or unhappy not yet remedied (the partial index ix_promise_needs_remedy).
    overdue = query.where(_status_clause("overdue", clock.now), sa.not_(col(Promise.remedied)))
    found = {p.id: p for q in (overdue, query.where(needs_remedy())) for p in session.exec(q)}
    return _views(session, sorted(found.values(), key=lambda p: (p.due, p.id or 0)), clock)


# --- sent-log --------------------------------------------------------------------------------------


def last_sent_at(session: Session) -> datetime | None:
    """When a report was last mailed successfully; ``None`` before the first."""
    latest: datetime | None = session.exec(select(sa.func.max(col(SentReport.at)))).one()
    return latest


def newly_overdue_report(session: Session, *, clock: Clock) -> DueReport:
    """The overdue promises no sent report has listed as overdue since they last fell due (``--only-new``).

    Judged per promise rather than by "due after the last mail": a promise entered late with a past due
    is new too, and one renegotiated to a later date that slips again is new again.
    """
    told = (
        select(SentItem.promise_id)
        .join(SentReport, col(SentReport.id) == col(SentItem.report_id))
        .where(
            col(SentItem.promise_id) == col(Promise.id),
            col(SentItem.section) == "overdue",
            col(SentReport.at) > col(Promise.due),
        )
    )
    query = select(Promise).where(
        col(Promise.state) == "active", col(Promise.due) < clock.now, sa.not_(sa.exists(told))
    )
    promises = session.exec(query.order_by(col(Promise.due), col(Promise.id))).all()
    return DueReport(clock.now, end_of_day(clock.today, clock.tz), _views(session, promises, clock), [])


def record_sent(
    session: Session,
    *,
    at: datetime,
    recipients: Sequence[str],
    subject: str,
    overdue: Sequence[int],
    due: Sequence[int],
) -> int:
    """Log a report the mail server accepted, and note in each listed promise's history that the owner
    was told (``pk promise show``); call only after the send succeeded. Returns the report's id."""
    to = ", ".join(recipients)
    report = SentReport(at=at, recipients=to, subject=subject, overdue=len(overdue), due=len(due))
    session.add(report)
    session.flush()
    assert report.id is not None
    for section, ids, words in (("overdue", overdue, "as overdue"), ("due", due, "as due today")):
        for promise_id in dict.fromkeys(ids):
            session.add(SentItem(report_id=report.id, promise_id=promise_id, section=section))
            _record(session, promise_id, at, "notified", f"mailed to {to} {words}")
    return report.id
