"""``store.supply`` on a real database (SQLite and PostgreSQL): supply orders and the promises waiting for
them, receipts that make pickups ready, readiness judged, deposits, and each refusal writing nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import func, select

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.errors import BadInput, NotFound, PkError
from promisekeeper.models import Event, Promise, SupplyLink, SupplyOrder
from promisekeeper.money import Money
from promisekeeper.rules import moment_data
from promisekeeper.views import Contact, Handover, Kind, PromiseView, RiskKind, Status
from promisekeeper.when import Clock, Due, end_of_day


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def day(clock: Clock, days: int) -> Due:
    """The end of the day ``days`` from today (date-only)."""
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


def at(clock: Clock, days: int, hour: int) -> Due:
    return Due(datetime.combine(clock.today + timedelta(days=days), time(hour), tzinfo=clock.tz), False)


def later(clock: Clock, **delta: float) -> Clock:
    return replace(clock, now=clock.now + timedelta(**delta))


def run(db: Database, fn: Callable[..., Any], **kw: Any) -> Any:
    """One store call in its own transaction, as one command makes it."""
    with db.session() as s:
        return fn(s, **kw)


def undo(db: Database, clock: Clock) -> None:
    with db.session(command="undo") as s:
        store.undo(s, clock=clock)


def add(db: Database, clock: Clock, **kw: Any) -> int:
    args: dict[str, Any] = {"what": "Hiking boots", "due": day(clock, 4), "customer": "Anna", **kw}
    return int(run(db, store.add_promise, clock=clock, **args))


def show(db: Database, clock: Clock, pid: int) -> PromiseView:
    with db.session(write=False) as s:
        return store.view(s, pid, clock, detail=True)


def counts(db: Database) -> dict[str, int]:
    with db.session(write=False) as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Promise, Event, SupplyOrder, SupplyLink)
        }


def stored(db: Database, pid: int) -> Promise:
    with db.session(write=False) as s:
        p = s.get(Promise, pid)
        assert p is not None
        return p


def order(db: Database, clock: Clock, **kw: Any) -> int:
    args: dict[str, Any] = {"supplier": "Alpine", "what": "Hiking boots", "eta": day(clock, 2), **kw}
    return int(run(db, store.place_order, clock=clock, **args).id)


# --- orders -------------------------------------------------------------------------------------------


def test_an_order_is_numbered_linked_and_has_history(db: Database, clock: Clock) -> None:
    p1, p2 = add(db, clock), add(db, clock, customer="Ben")
    made = run(
        db,
        store.place_order,
        clock=clock,
        supplier="  Alpine  Wholesale ",
        what="Hiking boots",
        quantity=2,
        eta=day(clock, 2),
        ref="PO-7",
        for_ids=[p1, p2, p1],
    )
    assert (made.id, made.supplier, made.quantity, made.ref, made.state) == (
        1,
        "Alpine Wholesale",
        2,
        "PO-7",
        "open",
    )
    assert made.promises == (p1, p2)
    assert made.eta == day(clock, 2)
    assert [e.kind for e in made.history] == ["ordered", "linked", "linked"]
    assert made.history[0].data["promises"] == [p1, p2]
    assert show(db, clock, p1).orders == (1,)
    assert [e.kind for e in show(db, clock, p1).history] == ["promised", "linked"]
    assert order(db, clock) == 2
    with db.session(write=False) as s:
        assert [o.id for o in store.list_orders(s, clock=clock)] == [1, 2]


def test_list_open_only_and_overdue(db: Database, clock: Clock) -> None:
    first, second = order(db, clock, eta=day(clock, 1)), order(db, clock, eta=None)
    run(db, store.receive, clock=clock, order_id=second)
    with db.session(write=False) as s:
        assert [o.id for o in store.list_orders(s, clock=clock, open_only=True)] == [first]
        (shown,) = store.list_orders(s, clock=later(clock, days=3), open_only=True)
    assert shown.overdue


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"supplier": " "}, BadInput),
        ({"supplier": "Alp\x1bine"}, BadInput),
        ({"what": ""}, BadInput),
        ({"quantity": 0}, BadInput),
        ({"ref": "PO\u202e7"}, BadInput),
        ({"eta": "yesterday noon"}, BadInput),
        ({"for_ids": [99]}, NotFound),
    ],
)
def test_place_order_refuses_bad_input_and_writes_nothing(
    db: Database, clock: Clock, kw: dict[str, Any], error: type[PkError]
) -> None:
    add(db, clock)
    if kw.get("eta") == "yesterday noon":
        kw = {"eta": at(clock, -1, 12)}
    before = counts(db)
    with pytest.raises(error):
        order(db, clock, **kw)
    assert counts(db) == before


def test_an_order_is_only_for_an_open_promise_of_goods(db: Database, clock: Clock) -> None:
    call = add(db, clock, kind=Kind.callback)
    done = add(db, clock)
    run(db, store.deliver, clock=clock, promise_id=done)
    before = counts(db)
    for pid, said in ((call, "is a callback"), (done, "already fulfilled")):
        with pytest.raises(BadInput, match=said):
            order(db, clock, for_ids=[pid])
    assert counts(db) == before


def test_link_and_its_refusals(db: Database, clock: Clock) -> None:
    pid, oid = add(db, clock), order(db, clock)
    linked = run(db, store.link, clock=clock, promise_id=pid, order_id=oid)
    assert linked.orders == (oid,)
    before = counts(db)
    with pytest.raises(BadInput, match="already waits for S1"):
        run(db, store.link, clock=clock, promise_id=pid, order_id=oid)
    with pytest.raises(NotFound, match="no supply order S7"):
        run(db, store.link, clock=clock, promise_id=pid, order_id=7)
    with pytest.raises(NotFound, match="no promise #9"):
        run(db, store.link, clock=clock, promise_id=9, order_id=oid)
    full = order(db, clock)
    run(db, store.receive, clock=clock, order_id=full)
    before = counts(db)
    with pytest.raises(BadInput, match="all arrived"):
        run(db, store.link, clock=clock, promise_id=pid, order_id=full)
    assert counts(db) == before


# --- ETA and risk ------------------------------------------------------------------------------------


def test_a_later_eta_puts_the_waiting_promise_at_risk_and_shows_in_both_histories(
    db: Database, clock: Clock
) -> None:
    pid = add(db, clock, due=day(clock, 4))  # Thursday
    oid = order(db, clock, eta=day(clock, 2), for_ids=[pid])
    assert show(db, clock, pid).risk is None
    moved = run(db, store.change_eta, clock=clock, order_id=oid, eta=day(clock, 8), reason="truck broke down")
    assert moved.eta == day(clock, 8)
    assert moved.history[-1].kind == "eta_changed"
    assert moved.history[-1].data["reason"] == "truck broke down"
    view = show(db, clock, pid)
    assert view.risk is not None
    assert (view.risk.kind, view.risk.order_id) == (RiskKind.eta_late, oid)
    assert view.history[-1].kind == "eta_changed"
    assert view.history[-1].data["new"] == moment_data(day(clock, 8).moment)
    assert view.history[-1].data["old"] == moment_data(day(clock, 2).moment)


def test_change_eta_refusals_write_nothing(db: Database, clock: Clock) -> None:
    oid = order(db, clock, eta=day(clock, 2))
    before = counts(db)
    with pytest.raises(BadInput, match="already past"):
        run(db, store.change_eta, clock=clock, order_id=oid, eta=at(clock, 0, 9))
    with pytest.raises(BadInput, match="Nothing to change"):
        run(db, store.change_eta, clock=clock, order_id=oid, eta=day(clock, 2))
    with pytest.raises(NotFound):
        run(db, store.change_eta, clock=clock, order_id=5, eta=day(clock, 3))
    assert counts(db) == before


# --- receiving ----------------------------------------------------------------------------------------


def test_receive_makes_the_waiting_pickups_ready_and_says_how_to_reach_them(
    db: Database, clock: Clock
) -> None:
    run(db, store.add_customer, clock=clock, name="Anna", email="anna@example.com", phone="+49 30 1")
    a = add(db, clock, due=day(clock, 3))
    b = add(db, clock, due=day(clock, 2), customer="Ben")
    oid = order(db, clock, quantity=2, for_ids=[a, b])
    got = run(db, store.receive, clock=later(clock, hours=1), order_id=oid)
    assert [p.id for p in got.ready] == [b, a]  # earliest due first
    assert got.waiting == ()
    assert got.order.state == "received"
    assert got.order.received_quantity == 2
    assert got.contacts[a] == Contact("anna@example.com", "+49 30 1")
    assert got.contacts[b] == Contact(None, None)
    assert stored(db, a).ready_at == later(clock, hours=1).now
    assert [e.kind for e in show(db, clock, a).history][-1] == "ready"


def test_a_partial_receipt_serves_the_earliest_due_first_by_their_quantity(
    db: Database, clock: Clock
) -> None:
    first = add(db, clock, due=day(clock, 2), quantity=2)
    second = add(db, clock, due=day(clock, 3), quantity=1)
    third = add(db, clock, due=day(clock, 5), quantity=2)
    oid = order(db, clock, quantity=6, for_ids=[third, second, first])
    got = run(db, store.receive, clock=clock, order_id=oid, quantity=1)
    assert got.ready == ()  # one unit cannot serve the first (two): no one overtakes it
    assert [p.id for p in got.waiting] == [first, second, third]
    got = run(db, store.receive, clock=clock, order_id=oid, quantity=2)
    assert ([p.id for p in got.ready], [p.id for p in got.waiting]) == ([first, second], [third])
    got = run(db, store.receive, clock=clock, order_id=oid, quantity=1)
    assert ([p.id for p in got.ready], [p.id for p in got.waiting]) == ([], [third])  # 1 of its 2
    assert (got.order.state, got.order.received_quantity) == ("open", 4)
    got = run(db, store.receive, clock=clock, order_id=oid, quantity=2)
    assert ([p.id for p in got.ready], got.order.state) == ([third], "received")


def test_a_complete_order_serves_everyone_waiting_and_another_open_order_holds_a_promise(
    db: Database, clock: Clock
) -> None:
    both = add(db, clock, quantity=3)
    alone = add(db, clock, customer="Ben")
    boots = order(db, clock, quantity=1, for_ids=[both, alone])
    laces = order(db, clock, what="Laces", for_ids=[both])
    got = run(db, store.receive, clock=clock, order_id=boots)
    assert [p.id for p in got.ready] == [alone]
    assert [p.id for p in got.waiting] == [both]
    got = run(db, store.receive, clock=clock, order_id=laces)
    assert [p.id for p in got.ready] == [both]


@pytest.mark.parametrize(("qty", "said"), [(3, "2 of 2 still to come"), (0, "at least 1")])
def test_receiving_more_than_outstanding_is_refused_and_writes_nothing(
    db: Database, clock: Clock, qty: int, said: str
) -> None:
    oid = order(db, clock, quantity=2, for_ids=[add(db, clock)])
    before = counts(db)
    with pytest.raises(BadInput, match=said):
        run(db, store.receive, clock=clock, order_id=oid, quantity=qty)
    assert counts(db) == before
    run(db, store.receive, clock=clock, order_id=oid)
    with pytest.raises(BadInput, match="all arrived already"):
        run(db, store.receive, clock=clock, order_id=oid, quantity=1)
    with pytest.raises(NotFound, match="S3"):
        run(db, store.receive, clock=clock, order_id=3)


# --- pickup readiness ---------------------------------------------------------------------------------


def test_a_pickup_ready_by_its_due_and_collected_later_is_kept(db: Database, clock: Clock) -> None:
    pid = add(db, clock, due=day(clock, 2), handover=Handover.pickup)
    run(db, store.mark_ready, clock=later(clock, days=1), promise_id=pid)
    collect = later(clock, days=6)
    view = run(db, store.deliver, clock=collect, promise_id=pid)
    assert view.status == Status.kept
    assert view.outcome.late_by_seconds is None
    row = stored(db, pid)
    assert (row.dev_late, row.late_seconds) == (False, None)


def test_a_pickup_ready_late_is_late_by_ready_minus_due(db: Database, clock: Clock) -> None:
    due = at(clock, 1, 12)
    pid = add(db, clock, due=due)
    ready = run(
        db, store.mark_ready, clock=later(clock, days=4), promise_id=pid, at=due.moment + timedelta(hours=5)
    )
    assert ready.status == Status.open  # ready and waiting for the customer: never overdue
    view = run(db, store.deliver, clock=later(clock, days=5), promise_id=pid)
    assert view.outcome.late_by_seconds == 5 * 3600
    row = stored(db, pid)
    assert (row.dev_late, row.late_seconds) == (True, 5 * 3600)


def test_mark_ready_refusals_write_nothing(db: Database, clock: Clock) -> None:
    home = add(db, clock, handover=Handover.delivery)
    call = add(db, clock, kind=Kind.callback)
    done = add(db, clock)
    run(db, store.deliver, clock=clock, promise_id=done)
    gone = add(db, clock)
    run(db, store.cancel, clock=clock, promise_id=gone, reason="changed mind")
    fine = add(db, clock)
    before = counts(db)
    for pid, kw, said in (
        (home, {}, "handover delivery"),
        (call, {}, "is a callback"),
        (done, {}, "already fulfilled"),
        (gone, {}, "cancelled"),
        (fine, {"at": clock.now + timedelta(minutes=1)}, "in the future"),
    ):
        with pytest.raises(BadInput, match=said):
            run(db, store.mark_ready, clock=clock, promise_id=pid, **kw)
    assert counts(db) == before
    run(db, store.mark_ready, clock=clock, promise_id=fine)
    with pytest.raises(BadInput, match="ready already"):
        run(db, store.mark_ready, clock=clock, promise_id=fine)


# --- deposits -----------------------------------------------------------------------------------------


def test_deposits_add_up_and_the_balance_is_price_less_deposit_less_charged(
    db: Database, clock: Clock
) -> None:
    pid = add(db, clock, price=eur("240"), deposit=eur("50"), quantity=2)
    view = show(db, clock, pid)
    assert (view.deposit, view.balance) == (eur("50"), eur("190"))
    assert [e.kind for e in view.history] == ["promised", "deposit"]
    view = run(db, store.record_deposit, clock=clock, promise_id=pid, amount=eur("30"))
    assert (view.deposit, view.balance) == (eur("80"), eur("160"))
    view = run(db, store.deliver, clock=clock, promise_id=pid, quantity=1)
    assert view.balance == eur("40")  # 240 − 80 − 120 charged


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        (eur("0"), "more than 0"),
        (Money(Decimal("10"), "USD"), "in USD but the price is in EUR"),
        (eur("200.01"), "more than the price"),
    ],
)
def test_a_bad_deposit_is_refused_and_writes_nothing(
    db: Database, clock: Clock, amount: Money, said: str
) -> None:
    pid = add(db, clock, price=eur("240"), deposit=eur("40"))
    before = counts(db)
    with pytest.raises(BadInput, match=said):
        run(db, store.record_deposit, clock=clock, promise_id=pid, amount=amount)
    assert counts(db) == before
    with pytest.raises(BadInput, match=said):
        add(db, clock, price=eur("200"), deposit=amount)
    assert counts(db) == before


def test_handover_belongs_to_goods_only(db: Database, clock: Clock) -> None:
    before = counts(db)
    with pytest.raises(BadInput, match="hands over no goods"):
        add(db, clock, kind=Kind.callback, handover=Handover.pickup)
    assert counts(db) == before
    assert show(db, clock, add(db, clock, handover=Handover.delivery)).handover == Handover.delivery
    assert stored(db, add(db, clock, kind=Kind.reply)).handover is None


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_reverses_each_supply_change_newest_first(db: Database, clock: Clock) -> None:
    pid = add(db, clock, price=eur("100"))
    oid = order(db, clock, eta=day(clock, 2), quantity=2, for_ids=[pid])
    run(db, store.change_eta, clock=clock, order_id=oid, eta=day(clock, 6))
    run(db, store.receive, clock=clock, order_id=oid, quantity=2)
    run(db, store.record_deposit, clock=clock, promise_id=pid, amount=eur("20"))

    undo(db, clock)  # the deposit
    assert stored(db, pid).deposit_minor is None
    undo(db, clock)  # the receipt
    row = stored(db, pid)
    assert row.ready_at is None
    with db.session(write=False) as s:
        back = store.order_detail(s, clock=clock, order_id=oid)
    assert (back.state, back.received_quantity, back.received_at) == ("open", 0, None)
    assert back.history[-1].kind == "undone"
    undo(db, clock)  # the ETA
    with db.session(write=False) as s:
        assert store.order_detail(s, clock=clock, order_id=oid).eta == day(clock, 2)
    undo(db, clock)  # the order and its link
    assert show(db, clock, pid).orders == ()
    with db.session(write=False) as s:
        assert store.list_orders(s, clock=clock) == []
        with pytest.raises(NotFound):
            store.order_detail(s, clock=clock, order_id=oid)


def test_undo_of_ready_and_link(db: Database, clock: Clock) -> None:
    pid = add(db, clock)
    oid = order(db, clock)
    run(db, store.link, clock=clock, promise_id=pid, order_id=oid)
    run(db, store.mark_ready, clock=clock, promise_id=pid)
    undo(db, clock)
    assert stored(db, pid).ready_at is None
    undo(db, clock)
    assert show(db, clock, pid).orders == ()
    with db.session(write=False) as s:
        assert store.order_detail(s, clock=clock, order_id=oid).promises == ()
