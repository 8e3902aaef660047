"""The demo week: a small outdoor shop's promises of the last seven days, in a database of its own.

Built with the same store functions the commands use, each step at its own moment of the week, so
the statuses, deviations, follow-ups and history all come from the real rules. Two supply orders: one
whose supplier moved the date past the customer's due (the promise is at risk, the customer not yet
warned), and one that arrived (its promise is ready for pickup).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.money import Money
from promisekeeper.views import Kind
from promisekeeper.when import Clock, Due, end_of_day

SHOP = "Trailhead Outfitters"


def _at(clock: Clock, days: int, hour: int, minute: int = 0) -> datetime:
    day = clock.today + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=clock.tz)


def _eod(clock: Clock, days: int) -> Due:
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), True)


def _moment(clock: Clock, days: int, hour: int, minute: int = 0) -> Due:
    return Due(_at(clock, days, hour, minute), False)


def eur(amount: str) -> Money:
    from decimal import Decimal

    return Money(Decimal(amount), "EUR")


def build(db: Database, clock: Clock, followup_after: tuple[str, ...] = ("2bd", "30d")) -> None:
    """Fill ``db`` with the demo week, as of ``clock.now``, in one transaction."""

    def at(days: int, hour: int, minute: int = 0) -> Clock:
        return replace(clock, now=min(_at(clock, days, hour, minute), clock.now))

    with db.session() as s:
        boots = store.add_promise(
            s,
            clock=at(-7, 10, 15),
            what="Hiking boots size 38",
            quantity=2,
            price=eur("240"),
            due=_eod(clock, -5),
            customer="Anna Smith",
            staff="Jo",
            tags=["boots"],
        )
        store.deliver(s, clock=at(-5, 15), promise_id=boots, followup_after=followup_after)
        repair = store.add_promise(
            s,
            clock=at(-6, 9, 40),
            what="Resole walking boots",
            price=eur("65"),
            due=_moment(clock, -3, 17),
            customer="Ben Okafor",
            staff="Sam",
            tags=["repair"],
        )
        store.deliver(s, clock=at(-2, 11), promise_id=repair, followup_after=followup_after)
        store.remedy(
            s,
            clock=at(-2, 11, 5),
            promise_id=repair,
            action="Apologised and took 10% off his next repair",
            prevent="Quote repair dates from the cobbler's real queue, not the usual three days",
        )
        jacket = store.add_promise(
            s,
            clock=at(-6, 14),
            what="Rain jacket size M",
            price=eur("180"),
            due=_eod(clock, -4),
            customer="Carla Mendes",
            staff="Jo",
            tags=["clothing"],
        )
        store.deliver(s, clock=at(-4, 12), promise_id=jacket, what="Rain jacket size L", followup_after=())
        footprint = store.add_promise(
            s,
            clock=at(-5, 11),
            what="Tent footprint",
            price=eur("35"),
            due=_eod(clock, -2),
            customer="David Lee",
            staff="Sam",
        )
        store.deliver(s, clock=at(-2, 16, 30), promise_id=footprint, price=eur("39.90"), followup_after=())
        socks = store.add_promise(
            s,
            clock=at(-5, 16),
            what="Merino socks",
            quantity=4,
            price=eur("60"),
            due=_eod(clock, -1),
            customer="Farid Haddad",
            staff="Jo",
        )
        store.deliver(
            s, clock=at(-2, 10), promise_id=socks, quantity=2, note="two pairs in stock, two ordered"
        )
        wool = store.place_order(
            s,
            clock=at(-2, 10, 5),
            supplier="Woolpower",
            what="Merino socks",
            quantity=2,
            eta=_eod(clock, -1),
            for_ids=[socks],
        )
        store.receive(s, clock=at(-1, 9, 30), order_id=wool.id)  # in time: ready for Farid to collect
        touring = store.add_promise(
            s,
            clock=at(-4, 11),
            what="Ski touring boots size 44",
            price=eur("429"),
            deposit=eur("100"),
            due=_eod(clock, 3),
            customer="Noah Schmid",
            staff="Jo",
            tags=["boots"],
        )
        alpine = store.place_order(
            s,
            clock=at(-4, 11, 10),
            supplier="Alpine Wholesale",
            what="Ski touring boots size 44",
            eta=_eod(clock, -1),
            ref="AW-20931",
            for_ids=[touring],
        )
        # The supplier moves the date past Noah's due: at risk, and Noah has not been told yet.
        store.change_eta(
            s, clock=at(-1, 15), order_id=alpine.id, eta=_eod(clock, 5), reason="factory backlog"
        )
        store.add_promise(
            s,
            clock=at(-3, 15),
            what="Call back about the ski binding order",
            kind=Kind.callback,
            due=_moment(clock, -1, 16),
            customer="Emma Novak",
            staff="Sam",
        )
        shoes = store.add_promise(
            s,
            clock=at(-4, 10),
            what="Trail running shoes size 42",
            price=eur("130"),
            due=_eod(clock, -1),
            customer="Kaito Sato",
            staff="Jo",
        )
        store.amend(
            s,
            clock=at(-2, 9),
            promise_id=shoes,
            due=_eod(clock, 2),
            reason="Supplier delay; Kaito agreed to the new date by phone",
        )
        bag = store.add_promise(
            s,
            clock=at(-4, 12),
            what="Down sleeping bag",
            price=eur("289"),
            due=_eod(clock, 3),
            customer="Lena Fischer",
            staff="Sam",
        )
        store.cancel(s, clock=at(-1, 10), promise_id=bag, reason="Lena found one second-hand")
        wax = store.add_promise(
            s,
            clock=at(-3, 11),
            what="Ski wax",
            price=eur("12"),
            due=_eod(clock, -3),
            customer="Mia Rossi",
            staff="Sam",
        )
        store.deliver(s, clock=at(-3, 17), promise_id=wax, followup_after=())
        store.add_promise(
            s,
            clock=at(-2, 13),
            what="Climbing rope 60 m",
            price=eur("149"),
            due=_eod(clock, 0),
            customer="Hugo Weber",
            staff="Jo",
            tags=["climbing"],
        )
        store.add_promise(
            s,
            clock=at(-1, 17),
            what="Reply to the email about a group discount",
            kind=Kind.reply,
            due=_moment(clock, 0, 12),
            customer="Grace Kim",
            staff="Sam",
        )
        store.add_promise(
            s,
            clock=at(-1, 11),
            what="Bike service",
            price=eur("89"),
            due=_moment(clock, 0, 17),
            customer="Ines Costa",
            staff="Sam",
            tags=["repair"],
            note="Brakes squeal; check pads",
        )
        store.add_promise(
            s,
            clock=at(-1, 12),
            what="Headlamp",
            price=eur("45"),
            due=_eod(clock, 1),
            customer="Jon Berg",
            staff="Jo",
        )
        anna_first = store.list_promises(s, clock=clock, customer="Anna Smith", kind=Kind.followup)
        if anna_first:
            store.done(
                s,
                clock=at(-3, 14),
                promise_id=anna_first[0].id,
                note="Boots fit well; waterproofing explained",
            )


def reset(path: Path) -> None:
    """Remove an earlier demo database (and its WAL files) so each run starts the week afresh."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
