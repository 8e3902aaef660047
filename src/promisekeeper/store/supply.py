"""Suppliers, pickup and deposits: supply orders (``S1``…) and the promises waiting for them, a pickup
made ready, a deposit taken (SPEC, "Suppliers, pickup and deposits").

Every write appends typed events under the command's change — on the order (``order_id``) and on each
promise it touches — and judges the touched promises again (``base.sync``), so the stored outcome
columns stay exact: a pickup ready by its due is on time however late the customer collects.
``reverse_supply`` is what ``pk undo`` does with these events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import Customer, Event, Promise, SupplyLink, SupplyOrder
from promisekeeper.money import Money, format_money
from promisekeeper.rules import moment_data, moment_of, money_of
from promisekeeper.store.base import (
    append_event,
    clean_quantity,
    clean_text,
    handover_of,
    load_promise,
    optional_text,
    sync,
    view,
    views,
)
from promisekeeper.views import (
    Contact,
    EventKind,
    EventView,
    Handover,
    Kind,
    PromiseView,
    Receipt,
    State,
    SupplyOrderView,
)
from promisekeeper.when import Clock, Due

OPEN, RECEIVED, VOIDED = "open", "received", "voided"
"""The states of a supply order."""

SUPPLY_EVENTS = frozenset(
    {
        EventKind.ordered,
        EventKind.linked,
        EventKind.eta_changed,
        EventKind.received,
        EventKind.ready,
        EventKind.deposit,
    }
)
"""The event kinds this module writes (and ``reverse_supply`` compensates)."""


# --- loading ------------------------------------------------------------------------------------------


def _load_order(session: Session, order_id: int) -> SupplyOrder:
    order = session.get(SupplyOrder, order_id) if 0 < order_id < 2**63 else None
    if order is None or order.state == VOIDED:
        raise NotFound(f"There is no supply order S{order_id}; `pk supplier list` shows them.")
    return order


def _linked_promises(session: Session, order_id: int) -> list[Promise]:
    """The promises waiting for an order (not voided), earliest due first."""
    query = (
        select(Promise)
        .join(SupplyLink, col(SupplyLink.promise_id) == col(Promise.id))
        .where(SupplyLink.order_id == order_id, col(Promise.state) != State.voided)
        .order_by(col(Promise.due), col(Promise.id))
    )
    return list(session.exec(query).all())


def _order_views(
    session: Session, orders: Sequence[SupplyOrder], clock: Clock, *, detail: bool = False
) -> list[SupplyOrderView]:
    ids = [o.id for o in orders if o.id is not None]
    waiting: dict[int, list[int]] = {i: [] for i in ids}
    history: dict[int, list[EventView]] = {i: [] for i in ids}
    if ids:
        links = (
            select(SupplyLink.order_id, SupplyLink.promise_id)
            .join(Promise, col(Promise.id) == col(SupplyLink.promise_id))
            .where(col(SupplyLink.order_id).in_(ids), col(Promise.state) != State.voided)
            .order_by(col(SupplyLink.promise_id))
        )
        for oid, pid in session.exec(links):
            waiting[oid].append(pid)
        if detail:
            # The order's own events and its links (an ETA change is on the order and on each promise).
            events = (
                select(Event)
                .where(
                    col(Event.order_id).in_(ids),
                    sa.or_(col(Event.promise_id).is_(None), col(Event.kind) == EventKind.linked),
                )
                .order_by(col(Event.at), col(Event.id))
            )
            for e in session.exec(events):
                history[e.order_id or 0].append(EventView(e.at, e.kind, dict(e.data or {}), e.change_id))
    return [
        SupplyOrderView(
            id=o.id or 0,
            supplier=o.supplier,
            what=o.what,
            quantity=o.quantity,
            eta=Due(o.eta, o.eta_date_only) if o.eta is not None else None,
            ref=o.ref,
            created=o.created,
            state=o.state,
            received_quantity=o.received_quantity,
            received_at=o.received_at,
            promises=tuple(waiting.get(o.id or 0, ())),
            overdue=o.state == OPEN and o.eta is not None and o.eta < clock.now,
            history=tuple(history.get(o.id or 0, ())),
        )
        for o in orders
    ]


def list_orders(session: Session, *, clock: Clock, open_only: bool = False) -> list[SupplyOrderView]:
    """Every supply order (not undone), by number; ``open_only``: those still awaited."""
    query = select(SupplyOrder).where(col(SupplyOrder.state) != VOIDED)
    if open_only:
        query = query.where(SupplyOrder.state == OPEN)
    return _order_views(session, list(session.exec(query.order_by(col(SupplyOrder.id))).all()), clock)


def order_detail(session: Session, *, clock: Clock, order_id: int) -> SupplyOrderView:
    """One supply order with its history (placed, links, ETA changes, receipts)."""
    return _order_views(session, [_load_order(session, order_id)], clock, detail=True)[0]


# --- supply orders ------------------------------------------------------------------------------------


def _future_eta(eta: Due, clock: Clock) -> None:
    if eta.moment < clock.now:
        raise BadInput("The ETA is already past; give the date the supplier now expects, today or later.")


def _waiting_promise(session: Session, promise_id: int) -> Promise:
    """A promise that can wait for a supply order: open, and of goods."""
    promise = load_promise(session, promise_id)
    if promise.state == State.cancelled:
        raise BadInput(f"Promise #{promise_id} was cancelled; it waits for no supply order.")
    if promise.state == State.fulfilled:
        raise BadInput(f"Promise #{promise_id} was already fulfilled; it waits for no supply order.")
    if promise.kind != Kind.delivery:
        raise BadInput(
            f"Promise #{promise_id} is a {promise.kind}; only a promise of goods waits for a supply order."
        )
    return promise


def _link(session: Session, clock: Clock, promise: Promise, order: SupplyOrder) -> None:
    assert promise.id is not None
    assert order.id is not None
    session.add(SupplyLink(promise_id=promise.id, order_id=order.id))
    append_event(
        session,
        EventKind.linked,
        clock.now,
        promise_id=promise.id,
        customer_id=promise.customer_id,
        order_id=order.id,
        order=order.id,
        promise=promise.id,
    )
    session.flush()
    sync(session, promise, clock)


def place_order(
    session: Session,
    *,
    clock: Clock,
    supplier: str,
    what: str,
    quantity: int = 1,
    eta: Due | None = None,
    ref: str | None = None,
    for_ids: Sequence[int] = (),
) -> SupplyOrderView:
    """Record an order placed with a supplier and link the promises it is for (``ordered`` on the
    order, ``linked`` on each promise)."""
    supplier = clean_text(supplier, "The supplier", 'name the supplier, e.g. "Alpine Wholesale"')
    what = clean_text(what, "WHAT", 'say what was ordered, e.g. "Hiking boots size 38"')
    quantity = clean_quantity(quantity)
    ref = optional_text(ref, "The reference")
    if eta is not None:
        _future_eta(eta, clock)
    promises = [_waiting_promise(session, pid) for pid in dict.fromkeys(for_ids)]
    order = SupplyOrder(
        supplier=supplier,
        what=what,
        quantity=quantity,
        eta=eta.moment if eta else None,
        eta_date_only=eta.date_only if eta else False,
        ref=ref,
        created=clock.now,
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    append_event(
        session,
        EventKind.ordered,
        clock.now,
        order_id=order.id,
        order=order.id,
        supplier=supplier,
        what=what,
        quantity=quantity,
        eta=moment_data(order.eta),
        date_only=order.eta_date_only,
        ref=ref,
        promises=[p.id for p in promises],
    )
    for p in promises:
        _link(session, clock, p, order)
    return order_detail(session, clock=clock, order_id=order.id)


def link(session: Session, *, clock: Clock, promise_id: int, order_id: int) -> PromiseView:
    """Note that a promise waits for a supply order (its ETA now bears on the promise's risk)."""
    promise = _waiting_promise(session, promise_id)
    order = _load_order(session, order_id)
    if session.get(SupplyLink, (promise_id, order_id)) is not None:
        raise BadInput(f"Promise #{promise_id} already waits for S{order_id}.")
    if order.state == RECEIVED:
        raise BadInput(
            f"S{order_id} has all arrived already; if the goods are for #{promise_id}, "
            f"say so with pk ready {promise_id}."
        )
    _link(session, clock, promise, order)
    return view(session, promise_id, clock)


def change_eta(
    session: Session, *, clock: Clock, order_id: int, eta: Due, reason: str | None = None
) -> SupplyOrderView:
    """The supplier moved the date: the new ETA (never past) on the order, and an ``eta_changed`` event
    on the order and on each open promise waiting for it, so their histories show it."""
    order = _load_order(session, order_id)
    if order.state != OPEN:
        raise BadInput(f"S{order_id} has all arrived already; it has no ETA to change.")
    _future_eta(eta, clock)
    if order.eta == eta.moment and order.eta_date_only == eta.date_only:
        raise BadInput(f"Nothing to change: S{order_id} is already expected then.")
    data: dict[str, Any] = {
        "order": order_id,
        "old": moment_data(order.eta),
        "old_date_only": order.eta_date_only,
        "new": moment_data(eta.moment),
        "date_only": eta.date_only,
        "reason": optional_text(reason, "The reason"),
    }
    order.eta, order.eta_date_only = eta.moment, eta.date_only
    session.add(order)
    append_event(session, EventKind.eta_changed, clock.now, order_id=order_id, **data)
    for p in _linked_promises(session, order_id):
        if p.state == State.active:
            append_event(
                session,
                EventKind.eta_changed,
                clock.now,
                promise_id=p.id,
                customer_id=p.customer_id,
                order_id=order_id,
                **data,
            )
            sync(session, p, clock)
    session.flush()
    return order_detail(session, clock=clock, order_id=order_id)


def _contacts(session: Session, promises: Sequence[Promise]) -> dict[int, Contact]:
    ids = sorted({p.customer_id for p in promises if p.customer_id is not None})
    found: dict[int, Contact] = {}
    if ids:
        query = select(Customer.id, Customer.email, Customer.phone).where(col(Customer.id).in_(ids))
        found = {cid or 0: Contact(email, phone) for cid, email, phone in session.exec(query)}
    return {p.id or 0: found.get(p.customer_id or 0, Contact()) for p in promises}


def _complete(session: Session, promise: Promise, except_order: int) -> bool:
    """Whether every other order the promise waits for has all arrived."""
    query = (
        select(SupplyOrder.id)
        .join(SupplyLink, col(SupplyLink.order_id) == col(SupplyOrder.id))
        .where(
            SupplyLink.promise_id == promise.id,
            col(SupplyOrder.id) != except_order,
            SupplyOrder.state == OPEN,
        )
        .limit(1)
    )
    return session.exec(query).first() is None


def _make_ready(session: Session, clock: Clock, promise: Promise, at: datetime, **data: Any) -> None:
    append_event(
        session,
        EventKind.ready,
        clock.now,
        promise_id=promise.id,
        customer_id=promise.customer_id,
        at=moment_data(at),
        before=moment_data(promise.ready_at),
        **data,
    )
    promise.ready_at = at
    session.add(promise)
    session.flush()
    sync(session, promise, clock)


def receive(session: Session, *, clock: Clock, order_id: int, quantity: int | None = None) -> Receipt:
    """Goods arrived: count them on the order and make ready the promises they serve.

    The units go to the waiting promises earliest due first, each taking its quantity; the first that
    the units cannot cover waits, and so does every later one (no one is overtaken). When the order has
    all arrived, every promise waiting for it is served. A promise that also waits for another order
    still open stays waiting. ``quantity`` defaults to all still to come; more is bad input.
    """
    order = _load_order(session, order_id)
    outstanding = order.quantity - order.received_quantity
    if order.state != OPEN or outstanding < 1:
        raise BadInput(
            f"S{order_id} has all arrived already ({order.received_quantity} of {order.quantity})."
        )
    qty = clean_quantity(quantity if quantity is not None else outstanding)
    if qty > outstanding:
        raise BadInput(
            f"S{order_id} has {outstanding} of {order.quantity} still to come; "
            f"{qty} cannot have arrived (give --qty up to {outstanding})."
        )
    append_event(
        session,
        EventKind.received,
        clock.now,
        order_id=order_id,
        order=order_id,
        quantity=qty,
        received=order.received_quantity + qty,
        of=order.quantity,
        before_at=moment_data(order.received_at),
    )
    order.received_quantity += qty
    order.received_at = clock.now
    if order.received_quantity >= order.quantity:
        order.state = RECEIVED
    session.add(order)
    session.flush()

    linked = _linked_promises(session, order_id)
    # Units of this order already with a promise made ready (by an earlier receipt or pk ready).
    pool = order.received_quantity - sum(p.quantity for p in linked if p.ready_at is not None)
    everything = order.state == RECEIVED
    ready: list[Promise] = []
    waiting: list[Promise] = []
    short = False  # a promise the units could not cover: every later one waits behind it
    for p in linked:
        if p.state != State.active or p.ready_at is not None:
            continue
        short = short or not (everything or p.quantity <= pool)
        if not short:
            pool -= p.quantity  # its units are kept for it, even while it waits for another order
        (ready if not short and _complete(session, p, order_id) else waiting).append(p)
    for p in ready:
        _make_ready(session, clock, p, clock.now, order=order_id)
    session.flush()
    return Receipt(
        order=order_detail(session, clock=clock, order_id=order_id),
        quantity=qty,
        ready=tuple(views(session, ready, clock)),
        waiting=tuple(views(session, waiting, clock)),
        contacts=_contacts(session, [*ready, *waiting]),
    )


# --- pickup and deposits ------------------------------------------------------------------------------


def mark_ready(session: Session, *, clock: Clock, promise_id: int, at: datetime | None = None) -> PromiseView:
    """The goods of a pickup promise are ready for the customer (now, or ``at`` — never later than
    now); from then on it is judged by its readiness, however late the customer collects."""
    promise = load_promise(session, promise_id)
    if promise.state == State.cancelled:
        raise BadInput(f"Promise #{promise_id} was cancelled; it cannot be made ready.")
    if promise.state == State.fulfilled:
        raise BadInput(f"Promise #{promise_id} was already fulfilled; the customer has it.")
    handover = handover_of(promise)
    if handover is None:
        raise BadInput(f"Promise #{promise_id} is a {promise.kind}; only goods are made ready for pickup.")
    if handover != Handover.pickup:
        raise BadInput(
            f"Promise #{promise_id} is delivered to the customer (handover delivery), not picked up; "
            f"record the delivery with pk deliver {promise_id}."
        )
    moment = at or clock.now
    if moment > clock.now:
        raise BadInput("Goods cannot be ready in the future; give --at a moment up to now.")
    if promise.ready_at is not None:
        raise BadInput(f"Promise #{promise_id} is marked ready already; pk undo takes that back.")
    _make_ready(session, clock, promise, moment)
    return view(session, promise_id, clock)


def check_deposit(amount: Money, price: Money | None, already: Money | None = None) -> None:
    """A deposit is a positive amount in the price's currency, and all deposits together at most the
    price."""
    if amount.amount <= 0:
        raise BadInput(f"A deposit must be more than 0, not {format_money(amount)}.")
    if price is not None and amount.currency != price.currency:
        raise BadInput(
            f"The deposit is in {amount.currency} but the price is in {price.currency}; give one currency."
        )
    if already is not None and already.currency != amount.currency:
        raise BadInput(
            f"The deposit is in {amount.currency} but the deposit taken so far is in {already.currency}; "
            "give one currency."
        )
    if price is None:
        return
    total = amount.amount + (already.amount if already is not None else 0)
    if total > price.amount:
        taken = f" with the {format_money(already)} taken before" if already is not None else ""
        raise BadInput(
            f"A deposit of {format_money(amount)}{taken} is more than the price, {format_money(price)}."
        )


def record_deposit(session: Session, *, clock: Clock, promise_id: int, amount: Money) -> PromiseView:
    """Take a deposit (adding to any taken before); the balance owed is price − deposit − charged."""
    promise = load_promise(session, promise_id)
    if promise.state == State.cancelled:
        raise BadInput(f"Promise #{promise_id} was cancelled; it takes no deposit.")
    already = money_of(promise.deposit_minor, promise.deposit_currency)
    check_deposit(amount, money_of(promise.price_minor, promise.currency), already)
    append_event(
        session,
        EventKind.deposit,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        amount_minor=amount.minor,
        currency=amount.currency,
        before_minor=promise.deposit_minor,
    )
    promise.deposit_minor = amount.minor + (already.minor if already is not None else 0)
    promise.deposit_currency = amount.currency
    session.add(promise)
    session.flush()
    sync(session, promise, clock)
    return view(session, promise_id, clock)


# --- undo ---------------------------------------------------------------------------------------------


def reverse_supply(session: Session, e: Event, promise: Promise | None) -> None:
    """Compensate one event this module wrote (``pk undo``); the caller judges the promises again."""
    d = e.data or {}
    order = session.get(SupplyOrder, e.order_id) if e.order_id is not None else None
    if e.kind == EventKind.ordered and order is not None:
        order.state = VOIDED
        session.add(order)
    elif e.kind == EventKind.linked and promise is not None and e.order_id is not None:
        found = session.get(SupplyLink, (promise.id, e.order_id))
        if found is not None:
            session.delete(found)
    elif e.kind == EventKind.eta_changed and order is not None and promise is None:
        order.eta = moment_of(d["old"]) if d.get("old") else None
        order.eta_date_only = bool(d.get("old_date_only"))
        session.add(order)
    elif e.kind == EventKind.received and order is not None:
        order.received_quantity = max(order.received_quantity - int(d.get("quantity") or 0), 0)
        order.received_at = moment_of(d["before_at"]) if d.get("before_at") else None
        order.state = OPEN
        session.add(order)
    elif e.kind == EventKind.ready and promise is not None:
        promise.ready_at = moment_of(d["before"]) if d.get("before") else None
        session.add(promise)
    elif e.kind == EventKind.deposit and promise is not None:
        before = d.get("before_minor")
        promise.deposit_minor = before
        promise.deposit_currency = d.get("currency") if before is not None else None
        session.add(promise)
    session.flush()


__all__ = [
    "SUPPLY_EVENTS",
    "change_eta",
    "check_deposit",
    "link",
    "list_orders",
    "mark_ready",
    "order_detail",
    "place_order",
    "receive",
    "record_deposit",
    "reverse_supply",
]
