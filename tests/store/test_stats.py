"""``store.stats``: the kept totals (kept by the database's triggers on every write) give exactly the
figures counted from every promise, whatever wrote the book — every command, undo, fix, import, forget
and merge — and the readiness view (a pickup ready in time is on time; late because of a supplier apart
from late on our side). On a real database, like every store test."""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from promisekeeper import exchange, store
from promisekeeper.db import Database
from promisekeeper.errors import PkError
from promisekeeper.models import TALLY_CUSTOMER, TALLY_DELTA, Customer, Promise, SupplyLink, SupplyOrder
from promisekeeper.money import Money
from promisekeeper.store.base import sync
from promisekeeper.views import Kind, State, StatsBy, StatsResult, Status
from promisekeeper.when import Clock, Due, end_of_day

CUSTOMERS = (None, "Anna Smith", "Ben Okafor", "Zoë Ärger", "Carla", "carla mendes", "Dario")
STAFF = (None, "Jo", "Sam", "Lena")
BREAKDOWNS = (None, StatsBy.customer, StatsBy.staff, StatsBy.kind)


def at(clock: Clock, days: float) -> Clock:
    return Clock(now=clock.now + timedelta(days=days), tz=clock.tz)


def day(clock: Clock, days: int) -> Due:
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


def both(db: Database, clock: Clock, by: StatsBy | None, **kw: Any) -> tuple[StatsResult, StatsResult]:
    with db.session(write=False) as s:
        kept = store.stats(s, clock=clock, by=by, **kw)
        counted = store.stats(s, clock=clock, by=by, kept=False, **kw)
        return kept, counted


def check(db: Database, clock: Clock) -> None:
    """The kept totals agree with a count of every promise, in all and broken down, and with the
    statuses the rules give each promise."""
    for by in BREAKDOWNS:
        kept, counted = both(db, clock, by)
        assert kept == counted, by
    kept, counted = both(db, clock, StatsBy.customer, limit=2)
    assert kept == counted
    with db.session(write=False) as s:
        streamed = store.stats(s, clock=clock, by=StatsBy.customer, stream=True)
        assert list(streamed.by) == both(db, clock, StatsBy.customer)[1].by
        views = store.list_promises(s, clock=clock)
    total = both(db, clock, None)[0].total

    def settled(status: Status, moment: datetime | None) -> bool:
        return status != Status.open and moment is not None and moment <= clock.now

    judged = [
        p.status
        for p in views
        if settled(
            p.status, p.outcome.fulfilled_at if p.status in (Status.kept, Status.deviated) else p.due.moment
        )
    ]
    assert (total.kept, total.deviated, total.overdue) == tuple(
        judged.count(s) for s in (Status.kept, Status.deviated, Status.overdue)
    )


# --- a book written by every command, in a random order -------------------------------------------------


class Till:
    """Random commands on one book, as a shop's week of mistakes and corrections might write it."""

    def __init__(self, db: Database, clock: Clock, rng: random.Random) -> None:
        self.db, self.clock, self.rng = db, clock, rng

    def ids(self, *states: State) -> list[int]:
        with self.db.session(write=False) as s:
            query = select(Promise.id).where(col(Promise.state).in_([str(x) for x in states]))
            return [i for i in s.exec(query).all() if i]

    def pick(self, *states: State) -> int | None:
        found = self.ids(*states)
        return self.rng.choice(found) if found else None

    def names(self) -> list[str]:
        with self.db.session(write=False) as s:
            return [n for n in s.exec(select(Customer.name)).all() if n]

    def add(self) -> None:
        rng = self.rng
        with self.db.session() as s:
            store.add_promise(
                s,
                clock=self.clock,
                what=rng.choice(("Boots", "Tent", "Call back about the binding")),
                due=day(self.clock, rng.randint(-4, 3)),
                kind=rng.choice([Kind.delivery, Kind.delivery, Kind.callback, Kind.reply, Kind.other]),
                quantity=rng.choice((1, 1, 2)),
                price=rng.choice((None, Money(Decimal("240"), "EUR"))),
                customer=rng.choice(CUSTOMERS),
                staff=rng.choice(STAFF),
            )

    def deliver(self) -> None:
        pid, rng = self.pick(State.active), self.rng
        if pid is None:
            return
        with self.db.session() as s:
            p = store.view(s, pid, self.clock)
            store.deliver(
                s,
                clock=self.clock,
                promise_id=pid,
                quantity=rng.choice((None, 1)),
                price=rng.choice((None, Money(Decimal("250"), "EUR"))) if p.price else None,
                followup_after=rng.choice(((), ("2d",))),
            )

    def done(self) -> None:
        if (pid := self.pick(State.active)) is not None:
            with self.db.session() as s:
                store.done(s, clock=self.clock, promise_id=pid, unhappy=self.rng.random() < 0.3)

    def amend(self) -> None:
        if (pid := self.pick(State.active)) is not None:
            with self.db.session() as s:
                store.amend(s, clock=self.clock, promise_id=pid, reason="Asked", due=day(self.clock, 2))

    def cancel(self) -> None:
        if (pid := self.pick(State.active)) is not None:
            with self.db.session() as s:
                store.cancel(s, clock=self.clock, promise_id=pid, reason="Found elsewhere")

    def remedy(self) -> None:
        if (pid := self.pick(State.fulfilled, State.active)) is not None:
            with self.db.session() as s:
                store.remedy(s, clock=self.clock, promise_id=pid, action="Refunded €10")

    def fix(self) -> None:
        rng = self.rng
        if (pid := self.pick(State.active, State.fulfilled, State.cancelled)) is not None:
            change: dict[str, Any] = rng.choice(
                [
                    {"customer": rng.choice([c for c in CUSTOMERS if c])},
                    {"staff": rng.choice([s for s in STAFF if s])},
                    {"kind": rng.choice([Kind.delivery, Kind.callback, Kind.other])},
                    {"due": day(self.clock, rng.randint(-6, 2))},
                    {"quantity": 3},
                ]
            )
            with self.db.session() as s:
                store.fix_promise(s, clock=self.clock, promise_id=pid, reason="Typo", **change)

    def void(self) -> None:
        if (pid := self.pick(State.fulfilled)) is not None:
            with self.db.session() as s:
                store.void_delivery(s, clock=self.clock, promise_id=pid, n=1, reason="Wrong promise")

    def undo(self) -> None:
        with self.db.session() as s:
            store.undo(s, clock=self.clock)

    def import_csv(self) -> None:
        ready = self.clock.now - timedelta(days=3)
        rows = [
            "customer,what,quantity,price,due,staff,delivered_at,delivered_quantity,charged",
            f"Anna Smith,Tent,1,329,{(ready - timedelta(days=1)).date()},Jo,{ready.date()},1,329",
            f"Erik,Rope,2,179,{ready.date()},,{ready.date()},1,179",
            f"Dario,Socks,1,19,{(ready + timedelta(days=9)).date()},Sam,,,",
        ]
        plan = exchange.read_import(
            "\n".join(rows).encode(), source="till.csv", fmt="csv", clock=self.clock, currency="EUR"
        )
        with self.db.session() as s:
            exchange.write_import(s, plan, clock=self.clock)

    def forget(self) -> None:
        if names := self.names():
            with self.db.session() as s:
                store.forget_customer(s, clock=self.clock, name=self.rng.choice(names))

    def merge(self) -> None:
        names = self.names()
        if len(names) >= 2:
            a, b = self.rng.sample(names, 2)
            with self.db.session() as s:
                store.merge_customers(s, clock=self.clock, name=a, into=b)

    def ready(self) -> None:
        """A pickup's goods ready (as ``pk ready`` stores it) and its promise judged again."""
        if (pid := self.pick(State.active, State.fulfilled)) is not None:
            with self.db.session() as s:
                p = s.get(Promise, pid)
                assert p is not None
                p.ready_at = p.due - timedelta(hours=self.rng.choice((-30, 2)))
                sync(s, p, self.clock)

    def supplier_late(self) -> None:
        """A supply order, linked to a promise, that arrived after (or before) its due."""
        if (pid := self.pick(State.active, State.fulfilled)) is not None:
            with self.db.session() as s:
                p = s.get(Promise, pid)
                assert p is not None
                arrived = p.due + timedelta(hours=self.rng.choice((-20, 20)))
                order = SupplyOrder(
                    supplier="Alpina", what=p.what, created=self.clock.now, received_at=arrived
                )
                s.add(order)
                s.flush()
                s.add(SupplyLink(promise_id=pid, order_id=order.id or 0))

    def later(self) -> None:
        self.clock = at(self.clock, self.rng.choice((0.2, 1, 2.5)))

    def step(self) -> str:
        command: Callable[[], None] = self.rng.choice(
            [self.add] * 4
            + [self.deliver] * 3
            + [
                self.done,
                self.amend,
                self.cancel,
                self.remedy,
                self.fix,
                self.fix,
                self.void,
                self.undo,
                self.undo,
                self.import_csv,
                self.forget,
                self.merge,
                self.ready,
                self.supplier_late,
                self.later,
            ]
        )
        with contextlib.suppress(PkError):  # refused (nothing to undo, a remedy on a kept one…): no write
            command()
        return command.__name__


@pytest.mark.parametrize("seed", range(3))
def test_the_kept_totals_stay_exact_under_every_command(db: Database, clock: Clock, seed: int) -> None:
    """Property: after any sequence of commands (undo, fix, import, forget and merge among them), at any
    moment, the figures from the kept totals are the figures counted from every promise."""
    till = Till(db, at(clock, -20), random.Random(seed))
    for _ in range(8):
        till.add()
    done = []
    for n in range(60):
        done.append(till.step())
        if n % 6 == 5:
            check(db, till.clock)
    check(db, till.clock)
    check(db, at(till.clock, 5))  # later: more fallen due, the same history
    assert {"undo", "fix", "import_csv"} <= set(done)
    with db.session(write=False) as s:
        assert s.execute(sa.select(sa.func.sum(TALLY_CUSTOMER.c.promises))).scalar()


def test_a_clock_set_back_counts_every_promise(db: Database, clock: Clock) -> None:
    """A promise settled after the moment asked about is not in that moment's figures (nor, being
    settled, overdue in them): the kept totals, which hold it, are not used then."""
    with db.session() as s:
        pid = store.add_promise(s, clock=clock, what="Boots", due=day(clock, -1), customer="Anna")
        store.deliver(s, clock=clock, promise_id=pid)
    before = at(clock, -0.5)
    kept, counted = both(db, before, StatsBy.customer)
    assert kept == counted
    assert kept.total.promises == 0
    assert both(db, clock, None)[0].total.deviated == 1  # delivered a day late


def test_the_top_customers_and_how_many_more(db: Database, clock: Clock) -> None:
    """``limit``: the customers with most promises (a name's ties by name), live overdue ones counted
    in; ``more`` says how many were left out."""
    earlier = at(clock, -10)
    with db.session() as s:
        for name, n in (("Ada", 3), ("Bo", 2), ("Cy", 2), ("Di", 1)):
            for _ in range(n):
                pid = store.add_promise(s, clock=earlier, what="Boots", due=day(earlier, 1), customer=name)
                store.deliver(s, clock=earlier, promise_id=pid)
        for _ in range(3):  # Di: three overdue, never settled
            store.add_promise(s, clock=earlier, what="Tent", due=day(earlier, 2), customer="Di")
    kept, counted = both(db, clock, StatsBy.customer, limit=2)
    assert kept == counted
    top = list(kept.by)
    assert [key for key, _ in top] == ["Di", "Ada"]
    assert (top[0][1].promises, top[0][1].overdue, kept.more) == (4, 3, 2)
    kept, _ = both(db, clock, StatsBy.customer, limit=3)
    assert [key for key, _ in kept.by] == ["Di", "Ada", "Bo"]


# --- the readiness view ---------------------------------------------------------------------------------


def test_readiness_and_suppliers_in_the_figures(db: Database, clock: Clock) -> None:
    """A pickup ready by its due and collected two days late is on time (and counted as collected late);
    one ready a day after its due is late by that day; a late one whose supply order arrived after its
    due is late because of the supplier, the rest late on our side."""
    start = at(clock, -10)
    with db.session() as s:
        ids = [
            store.add_promise(s, clock=start, what=what, due=day(start, 2), customer="Anna")
            for what in ("Boots", "Tent", "Rope", "Stove")
        ]
    due_at = day(start, 2).moment
    ready = {ids[0]: due_at - timedelta(hours=5), ids[1]: due_at + timedelta(days=1)}
    with db.session() as s:
        for pid, moment in ready.items():
            p = s.get(Promise, pid)
            assert p is not None
            p.ready_at = moment
            sync(s, p, start)
        arrived = SupplyOrder(
            supplier="Alpina", what="Tent", created=start.now, received_at=due_at + timedelta(hours=20)
        )
        early = SupplyOrder(
            supplier="Alpina", what="Rope", created=start.now, received_at=due_at - timedelta(days=1)
        )
        s.add(arrived)
        s.add(early)
        s.flush()
        s.add(SupplyLink(promise_id=ids[1], order_id=arrived.id or 0))
        s.add(SupplyLink(promise_id=ids[2], order_id=early.id or 0))
    collect = at(start, 4)  # two days after the due
    with db.session() as s:
        for pid in ids:
            store.deliver(s, clock=collect, promise_id=pid)
    with db.session(write=False) as s:
        boots, tent = store.view(s, ids[0], clock), store.view(s, ids[1], clock)
    assert boots.status == Status.kept
    assert boots.outcome.late_by_seconds in (None, 0)
    assert tent.status == Status.deviated
    assert tent.outcome.late_by_seconds == 24 * 3600
    for by in (None, StatsBy.customer):
        kept, counted = both(db, clock, by)
        assert kept == counted
    t = both(db, clock, None)[0].total
    assert (t.late, t.late_supplier, t.collected_late, t.on_time) == (3, 1, 1, 1)
    row = next(iter(both(db, clock, StatsBy.customer)[0].by))[1]
    assert (row.late, row.late_supplier) == (3, 1)
    since = both(db, clock, None, since=start.now)[0].total
    assert (since.late, since.late_supplier, since.collected_late) == (3, 1, 1)


def test_an_exported_book_imported_or_copied_has_the_same_kept_totals(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    """A JSON import and ``pk db copy`` write their rows in bulk: the triggers count them as they go, so
    the new book's figures (from its kept totals) are the old one's."""
    till = Till(db, at(clock, -20), random.Random(7))
    for _ in range(40):
        till.step()
    out = io.StringIO()
    with db.session(write=False) as s:
        exchange.export(s, "json", out, clock=till.clock, tz=till.clock.tz, shop="Shop")
    imported = Database(str(tmp_path / "imported.db"))
    plan = exchange.read_import(
        out.getvalue().encode(), source="book.json", fmt="json", clock=till.clock, currency="EUR"
    )
    with imported.session() as s:
        exchange.write_import(s, plan, clock=till.clock)
    copied = str(tmp_path / "copied.db")
    store.copy_book(db.target, copied)
    for by in BREAKDOWNS:
        figures = both(db, till.clock, by)[0]
        for other in (imported, Database(copied)):
            kept, counted = both(other, till.clock, by)
            assert kept == counted == figures


def test_figures_read_inside_the_writing_transaction_are_exact(db: Database, clock: Clock) -> None:
    """Before its commit a write's changes to the kept totals may not be folded in yet (PostgreSQL keeps
    them in ``tally_delta`` until then): read in the same transaction, the figures are still exact."""
    with db.session() as s:
        for name in ("Anna", "Ben", None):
            pid = store.add_promise(s, clock=at(clock, -3), what="Boots", due=day(clock, -2), customer=name)
            store.deliver(s, clock=at(clock, -1), promise_id=pid)
        for by in BREAKDOWNS:
            assert store.stats(s, clock=clock, by=by) == store.stats(s, clock=clock, by=by, kept=False)
        assert store.stats(s, clock=clock).total.promises == 3
    with db.session(write=False) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(TALLY_DELTA)).scalar() == 0
    check(db, clock)
