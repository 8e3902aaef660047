"""The writes to a promise: add, deliver, done, amend, cancel, remedy, notice drafted.

Each appends typed history events under the command's change and brings the promise's outcome
columns up to date through ``rules.assess`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput
from promisekeeper.models import Customer, Delivery, Promise, Remedy, Tag
from promisekeeper.money import Money
from promisekeeper.rules import closes, default_charge, moment_data, outcome_data, terms_data
from promisekeeper.store.base import (
    append_event,
    clean_quantity,
    clean_tags,
    clean_text,
    deliveries_of,
    fulfilment_of,
    load_promise,
    optional_text,
    sync,
    terms_of,
    view,
)
from promisekeeper.store.customers import customer_for
from promisekeeper.store.supply import check_deposit
from promisekeeper.views import EventKind, Fulfilment, Handover, Kind, PromiseView, Risk, State, Status
from promisekeeper.when import Clock, Due, on_a_working_day, parse_when

_REASON_HINT = 'say why, e.g. "Supplier delay; the customer agreed"'


def add_promise(
    session: Session,
    *,
    clock: Clock,
    what: str,
    due: Due,
    kind: Kind = Kind.delivery,
    quantity: int = 1,
    price: Money | None = None,
    customer: str | None = None,
    staff: str | None = None,
    note: str | None = None,
    tags: Sequence[str] = (),
    parent_id: int | None = None,
    deposit: Money | None = None,
    handover: Handover | None = None,
) -> int:
    """Record a new promise and its ``promised`` event; return its id.

    ``handover`` (pickup or delivery) belongs to a promise of goods only (``None`` there: judged as a
    pickup); a ``deposit`` taken when the promise is made is its own ``deposit`` event."""
    try:
        kind = Kind(kind)
    except ValueError:
        raise BadInput(f"Unknown kind {kind!r}; use one of {', '.join(Kind)}.") from None
    if handover is not None and kind != Kind.delivery:
        raise BadInput(f"A {kind} hands over no goods; --handover is for a promise of goods (kind delivery).")
    if deposit is not None:
        check_deposit(deposit, price)
    what = clean_text(what, "WHAT")
    quantity = clean_quantity(quantity)
    who = customer_for(session, customer, clock=clock)
    promise = Promise(
        kind=kind,
        customer_id=who.id if who else None,
        what=what,
        quantity=quantity,
        price_minor=price.minor if price else None,
        currency=price.currency if price else None,
        due=due.moment,
        date_only=due.date_only,
        staff=optional_text(staff, "The staff name"),
        note=optional_text(note, "The note", multiline=True),
        parent_id=parent_id,
        created=clock.now,
        handover=str(handover) if handover is not None else None,
        deposit_minor=deposit.minor if deposit else None,
        deposit_currency=deposit.currency if deposit else None,
    )
    session.add(promise)
    session.flush()
    assert promise.id is not None
    for tag in clean_tags(tags):
        session.add(Tag(promise_id=promise.id, tag=tag))
    append_event(
        session,
        EventKind.promised,
        clock.now,
        promise_id=promise.id,
        customer_id=promise.customer_id,
        **terms_data(terms_of(promise), date_only=due.date_only),
        kind=str(kind),
        staff=promise.staff,
        parent_id=parent_id,
        handover=promise.handover,
    )
    if deposit is not None:
        append_event(
            session,
            EventKind.deposit,
            clock.now,
            promise_id=promise.id,
            customer_id=promise.customer_id,
            amount_minor=deposit.minor,
            currency=deposit.currency,
            before_minor=None,
        )
    return promise.id


def _open_promise(session: Session, promise_id: int, verb: str) -> Promise:
    promise = load_promise(session, promise_id)
    if promise.state == State.cancelled:
        raise BadInput(f"Promise #{promise_id} was cancelled; it cannot be {verb}.")
    if promise.state == State.fulfilled:
        raise BadInput(f"Promise #{promise_id} was already fulfilled; it cannot be {verb}.")
    return promise


def _close(
    session: Session, promise: Promise, clock: Clock, at: datetime, followup_after: Sequence[str]
) -> tuple[tuple[int, Due], ...]:
    """Close ``promise`` as fulfilled at ``at``; return the follow-ups this created (id, due)."""
    promise.state = State.fulfilled
    promise.closed_at = at
    if promise.kind == Kind.delivery and followup_after:
        return _create_followups(session, promise, clock, at, followup_after)
    return ()


def _create_followups(
    session: Session, parent: Promise, clock: Clock, at: datetime, followup_after: Sequence[str]
) -> tuple[tuple[int, Due], ...]:
    assert parent.id is not None
    created: list[tuple[int, Due]] = []
    base = replace(clock, now=at)
    customer = session.get(Customer, parent.customer_id) if parent.customer_id else None
    for offset in followup_after:
        # A check-in is made on a working day: one that lands on a weekend or holiday moves on.
        due = on_a_working_day(parse_when(offset, base), clock.tz, clock.country)
        child = add_promise(
            session,
            clock=clock,
            what=f"Follow up: {parent.what}",
            due=due,
            kind=Kind.followup,
            customer=customer.name if customer else None,
            staff=parent.staff,
            parent_id=parent.id,
        )
        append_event(
            session,
            EventKind.followup,
            clock.now,
            promise_id=parent.id,
            customer_id=parent.customer_id,
            followup_id=child,
            due=moment_data(due.moment),
            date_only=due.date_only,
        )
        created.append((child, due))
    return tuple(created)


def delivered_at(at: Due | None, clock: Clock) -> datetime:
    """When a delivery happened: a date-only ``at`` is now when it is today, else the end of that day."""
    if at is None or (at.date_only and at.moment.astimezone(clock.tz).date() == clock.today):
        return clock.now
    return at.moment


def _delivery_row(promise_id: int, d: Fulfilment, note: str | None) -> Delivery:
    return Delivery(
        promise_id=promise_id,
        at=d.at,
        what=d.what,
        quantity=d.quantity,
        price_minor=d.price.minor if d.price else None,
        currency=d.price.currency if d.price else None,
        note=note,
    )


def _record_delivery(
    session: Session, promise: Promise, clock: Clock, d: Fulfilment, note: str | None
) -> None:
    assert promise.id is not None
    row = _delivery_row(promise.id, d, note)
    session.add(row)
    session.flush()
    append_event(
        session,
        EventKind.delivered,
        clock.now,
        promise_id=promise.id,
        customer_id=promise.customer_id,
        what=d.what,
        quantity=d.quantity,
        price_minor=d.price.minor if d.price else None,
        currency=d.price.currency if d.price else None,
        at=moment_data(d.at),
        note=note,
        delivery_id=row.id,
    )


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
    terms = terms_of(promise)
    earlier = [fulfilment_of(d) for d in deliveries_of(session, promise_id)]
    owed = terms.quantity - sum(d.quantity for d in earlier)
    qty = clean_quantity(quantity if quantity is not None else max(owed, 1))
    item = clean_text(what, "The delivered WHAT") if what is not None else promise.what
    charge = price if price is not None else default_charge(terms, earlier, qty)
    delivery = Fulfilment(at=moment, what=item, quantity=qty, price=charge)
    _record_delivery(session, promise, clock, delivery, optional_text(note, "The note", multiline=True))
    followups: tuple[tuple[int, Due], ...] = ()
    if closes(terms, [*earlier, delivery]):
        followups = _close(session, promise, clock, moment, followup_after)
    session.flush()
    outcome = sync(session, promise, clock)
    if promise.state == State.fulfilled:
        append_event(
            session,
            EventKind.fulfilled,
            clock.now,
            promise_id=promise_id,
            customer_id=promise.customer_id,
            **outcome_data(outcome),
        )
    return replace(view(session, promise_id, clock), followups=followups)


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
    note = optional_text(note, "The note", multiline=True)
    made: int | None = None
    if not deliveries_of(session, promise_id):
        terms = terms_of(promise)
        charge = default_charge(terms, [], terms.quantity)
        as_promised = Fulfilment(at=clock.now, what=promise.what, quantity=promise.quantity, price=charge)
        row = _delivery_row(promise_id, as_promised, note)
        session.add(row)
        session.flush()
        made = row.id
    # An unhappy follow-up is about its parent: the parent goes to ``check`` until it has a remedy (the
    # follow-up keeps the fact, but ``check`` never lists a follow-up).
    promise.unhappy = unhappy
    followups = _close(session, promise, clock, clock.now, followup_after)
    session.flush()
    outcome = sync(session, promise, clock)
    append_event(
        session,
        EventKind.done,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        **outcome_data(outcome),
        unhappy=unhappy,
        note=note,
        delivery_id=made,
    )
    if unhappy and promise.parent_id is not None:
        parent = session.get(Promise, promise.parent_id)
        if parent is not None:
            parent.unhappy = True
            parent.remedied = False
            session.add(parent)
            append_event(
                session,
                EventKind.unhappy,
                clock.now,
                promise_id=parent.id,
                customer_id=parent.customer_id,
                followup_id=promise_id,
            )
    return replace(view(session, promise_id, clock), followups=followups)


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
    reason = clean_text(reason, "The reason", _REASON_HINT)
    if due is None and what is None and quantity is None and price is None:
        raise BadInput("Nothing to amend; give at least one of --due, --what, --qty, --price.")
    before = terms_data(terms_of(promise), date_only=promise.date_only)
    if due is not None and (due.moment, due.date_only) == (promise.due, promise.date_only):
        due = None
    if what is not None and clean_text(what, "WHAT") == promise.what:
        what = None
    if quantity is not None and quantity == promise.quantity:
        quantity = None
    if price is not None and (price.minor, price.currency) == (promise.price_minor, promise.currency):
        price = None
    if due is None and what is None and quantity is None and price is None:
        raise BadInput(
            f"Nothing to change: promise #{promise_id} already has those terms; "
            "an amendment records a renegotiation only when a term changes."
        )
    if due is not None:
        if promise.original_due is None:
            promise.original_due = promise.due
            promise.original_date_only = promise.date_only
        promise.due = due.moment
        promise.date_only = due.date_only
    if what is not None:
        promise.what = clean_text(what, "WHAT")
    if quantity is not None:
        promise.quantity = clean_quantity(quantity)
    if price is not None:
        promise.price_minor = price.minor
        promise.currency = price.currency
    promise.renegotiated = True
    after = terms_data(terms_of(promise), date_only=promise.date_only)
    append_event(
        session,
        EventKind.amended,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.flush()
    deliveries = [fulfilment_of(d) for d in deliveries_of(session, promise_id)]
    if deliveries and closes(terms_of(promise), deliveries):
        _close(session, promise, clock, max(d.at for d in deliveries), ())
    sync(session, promise, clock)
    return view(session, promise_id, clock)


def cancel(session: Session, *, clock: Clock, promise_id: int, reason: str) -> PromiseView:
    """Cancel (never delete) a promise; the reason goes into its history."""
    promise = _open_promise(session, promise_id, "cancelled")
    reason = clean_text(reason, "The reason", _REASON_HINT)
    promise.state = State.cancelled
    promise.closed_at = clock.now
    append_event(
        session,
        EventKind.cancelled,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        reason=reason,
    )
    session.flush()
    sync(session, promise, clock)
    return view(session, promise_id, clock)


def remedy(
    session: Session, *, clock: Clock, promise_id: int, action: str, prevent: str | None = None
) -> PromiseView:
    """Record how a deviated, overdue or unhappy promise was made right, and what will prevent it."""
    current = view(session, promise_id, clock)
    if current.kind == Kind.followup and current.parent_id is not None:
        raise BadInput(
            f"Promise #{promise_id} is a follow-up of #{current.parent_id}; "
            f"record the remedy on the promise itself (pk remedy {current.parent_id} …)."
        )
    if not (
        current.status in (Status.deviated, Status.overdue) or current.unhappy or current.outcome.deviations
    ):
        raise BadInput(
            f"Promise #{promise_id} is {current.status} with no deviation; there is nothing to remedy."
        )
    action = clean_text(action, "The action", 'say what was done to make it right, e.g. "Refunded €10"')
    prevent = optional_text(prevent, "The prevention")
    fix = Remedy(promise_id=promise_id, at=clock.now, action=action, prevent=prevent)
    session.add(fix)
    session.flush()
    promise = load_promise(session, promise_id)
    promise.remedied = True
    session.add(promise)
    append_event(
        session,
        EventKind.remedied,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        action=action,
        prevent=prevent,
        remedy_id=fix.id,
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


def record_notice(
    session: Session, *, clock: Clock, promise_id: int, risk: Risk | None = None, new_due: Due | None = None
) -> None:
    """Note in the promise's history that a notice to the customer was drafted; for an early warning,
    the risk it told of (kind, order, ETA) and the new date it offered, so ``pk check`` knows the
    customer was warned of this risk (``queries.risk_appeared``)."""
    promise = load_promise(session, promise_id)
    data: dict[str, Any] = {}
    if risk is not None:
        data = {"risk": str(risk.kind), "order": risk.order_id, "eta": moment_data(risk.eta)}
        data["new_due"] = moment_data(new_due.moment) if new_due is not None else None
    append_event(
        session,
        EventKind.notice_drafted,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        **data,
    )
