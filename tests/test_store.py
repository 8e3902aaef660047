"""The store on a real SQLite file: the writes, their history, the queries behind due/check/list, the file."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select

from promisekeeper import store, words
from promisekeeper.db import Database
from promisekeeper.errors import BadInput, NotFound, PkError
from promisekeeper.models import SCHEMA_VERSION, Customer, Delivery, Event, Promise
from promisekeeper.money import Money
from promisekeeper.store import customers
from promisekeeper.views import DeliveryView, EventView, Kind, PromiseView, Status
from promisekeeper.when import Clock, Due, end_of_day

BOOTS = "Hiking boots"


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def day_due(clock: Clock, days: int) -> Due:
    """The end of the day ``days`` from today (date-only)."""
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


def at_due(clock: Clock, days: int, hour: int, minute: int = 0) -> Due:
    day = clock.today + timedelta(days=days)
    return Due(datetime.combine(day, time(hour, minute), tzinfo=clock.tz), date_only=False)


def later(clock: Clock, **delta: float) -> Clock:
    return replace(clock, now=clock.now + timedelta(**delta))


def add(db: Database, clock: Clock, **kw: Any) -> int:
    args: dict[str, Any] = {"what": BOOTS, "due": day_due(clock, 2), **kw}
    with db.session() as s:
        return store.add_promise(s, clock=clock, **args)


def run(db: Database, fn: Callable[..., Any], **kw: Any) -> Any:
    """One store call in its own transaction, as one CLI command would make it."""
    with db.session() as s:
        return fn(s, **kw)


def show(db: Database, clock: Clock, pid: int, *, detail: bool = False) -> PromiseView:
    with db.session(write=False) as s:
        return store.view(s, pid, clock, detail=detail)


def events(db: Database, clock: Clock, pid: int) -> list[str]:
    return [e.kind for e in show(db, clock, pid, detail=True).history]


def said(e: EventView, clock: Clock) -> str:
    """The history line of an event, as ``pk promise show`` says it."""
    return words.event_text(e, clock.tz, clock.now)


def counts(db: Database) -> dict[str, int]:
    """How many rows each table holds, read in a fresh session."""
    with db.session(write=False) as s:
        return {
            model.__name__: s.exec(select(func.count()).select_from(model)).one()
            for model in (Customer, Promise, Delivery, Event)
        }


def ids(views: list[PromiseView]) -> list[int]:
    return [v.id for v in views]


# --- add and view ------------------------------------------------------------------------------------


def test_add_records_the_promise_as_promised(db: Database, clock: Clock) -> None:
    due = day_due(clock, 2)
    pid = add(
        db,
        clock,
        what="  Hiking   boots ",
        quantity=2,
        price=eur("240"),
        due=due,
        customer="Anna Smith",
        staff=" Jo ",
        note="size 38",
        tags=["boots", " winter ", "boots", "  "],
    )
    v = show(db, clock, pid, detail=True)
    assert (v.id, v.kind, v.customer, v.what, v.quantity) == (pid, "delivery", "Anna Smith", BOOTS, 2)
    assert v.price == eur("240.00")
    assert v.due == due
    assert v.due.moment.utcoffset() is not None
    assert (v.original_due, v.renegotiated) == (None, False)
    assert v.status == "open"
    assert v.outcome.deviations == ()
    assert v.outcome.delivered_quantity == 0
    assert (v.outcome.charged, v.outcome.fulfilled_at, v.outcome.late_by_seconds) == (None, None, None)
    assert (v.staff, v.tags, v.note, v.parent_id) == ("Jo", ("boots", "winter"), "size 38", None)
    assert (v.remedied, v.unhappy) == (False, False)
    assert v.created == clock.now
    assert v.deliveries == ()
    [promised] = v.history
    assert (promised.at, promised.kind) == (clock.now, "promised")
    said = words.event_text(promised, clock.tz, clock.now, customer=v.customer)
    assert said == "2 × Hiking boots for €240.00, due Tue 24 Nov (end of day) to Anna Smith by Jo"


def test_add_without_customer_price_or_staff(db: Database, clock: Clock) -> None:
    pid = add(db, clock, what="Call about the tent", kind="callback", due=at_due(clock, 0, 16))
    v = show(db, clock, pid)
    assert (v.kind, v.customer, v.price, v.staff, v.tags, v.note) == ("callback", None, None, None, (), None)
    assert v.due == at_due(clock, 0, 16)
    assert v.status == "open"


def test_a_customer_is_created_on_the_spot_and_matched_case_insensitively(db: Database, clock: Clock) -> None:
    first = add(db, clock, customer="anna smith")
    second = add(db, clock, customer="Anna  Smith")
    third = add(db, clock, customer="  ANNA SMITH ")
    other = add(db, clock, customer="Bob")
    with db.session(write=False) as s:
        promises = {p.id: p for p in s.exec(select(Promise)).all()}
        assert promises[first].customer_id == promises[second].customer_id == promises[third].customer_id
        assert promises[other].customer_id != promises[first].customer_id
        anna = customers.get_customer(s, "ANNA   smith")
        assert anna.name == "anna smith", "the first spelling is kept"
        assert customers.find_customer(s, "Carla") is None
    assert counts(db)["Customer"] == 2
    assert {show(db, clock, p).customer for p in (first, second, third)} == {"anna smith"}


def test_an_unknown_customer_is_not_found(db: Database, clock: Clock) -> None:
    with db.session(write=False) as s, pytest.raises(NotFound) as caught:
        customers.get_customer(s, "Nobody")
    assert caught.value.exit_code == 3


def test_customer_for_without_a_name_is_none(db: Database, clock: Clock) -> None:
    with db.session() as s:
        assert customers.customer_for(s, None, clock=clock) is None
        assert customers.customer_for(s, "   ", clock=clock) is None
    assert counts(db)["Customer"] == 0


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"what": ""}, "WHAT"),
        ({"what": "   \n "}, "WHAT"),
        ({"quantity": 0}, "at least 1"),
        ({"quantity": -3}, "at least 1"),
        ({"kind": "gift"}, "kind"),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(
    db: Database, clock: Clock, kw: dict[str, Any], word: str
) -> None:
    with pytest.raises(BadInput, match=word) as caught:
        add(db, clock, customer="Anna Smith", **kw)
    assert caught.value.exit_code == 2
    assert counts(db) == {"Customer": 0, "Promise": 0, "Delivery": 0, "Event": 0}


# --- deliver -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("followup_after", "days"), [(("2d", "30d"), [2, 30]), ((), [])])
def test_deliver_as_promised_keeps_it_and_schedules_follow_ups(
    db: Database, clock: Clock, followup_after: tuple[str, ...], days: list[int]
) -> None:
    pid = add(db, clock, quantity=2, price=eur("240"), customer="Anna Smith", staff="Jo")
    v = run(db, store.deliver, clock=clock, promise_id=pid, followup_after=followup_after)
    assert v.status == "kept"
    assert v.outcome.deviations == ()
    assert v.outcome.delivered_quantity == 2
    assert v.outcome.charged == eur("240")
    assert v.outcome.fulfilled_at == clock.now
    history = show(db, clock, pid, detail=True).history
    names = [e.kind for e in history]
    assert [n for n in names if n != "followup"] == ["promised", "delivered", "fulfilled"]
    assert names.count("followup") == len(days)
    assert said(history[-1], clock) == "kept"
    assert show(db, clock, pid, detail=True).deliveries == (
        DeliveryView(clock.now, BOOTS, 2, eur("240"), None),
    )
    with db.session(write=False) as s:
        followups = store.list_promises(s, clock=clock, kind=Kind.followup)
    assert [f.due for f in followups] == [day_due(clock, d) for d in days]
    for f in followups:
        assert (f.kind, f.parent_id, f.customer, f.staff) == ("followup", pid, "Anna Smith", "Jo")
        assert f.what == "Follow up: Hiking boots"
        assert f.status == "open"
        assert f.price is None


def test_follow_ups_are_only_for_delivery_promises(db: Database, clock: Clock) -> None:
    pid = add(db, clock, kind="callback", what="Ring back about the tent")
    run(db, store.done, clock=clock, promise_id=pid, followup_after=("2d",))
    with db.session(write=False) as s:
        assert store.list_promises(s, clock=clock, kind=Kind.followup) == []


def test_a_partial_delivery_keeps_it_open_and_the_rest_closes_it(db: Database, clock: Clock) -> None:
    pid = add(db, clock, quantity=3, price=eur("100"))
    first = run(db, store.deliver, clock=clock, promise_id=pid, quantity=1)
    assert first.status == "open"
    assert first.outcome.delivered_quantity == 1
    assert first.outcome.charged == eur("33.33")
    assert first.outcome.deviations == ()
    assert "fulfilled" not in events(db, clock, pid)

    second = run(db, store.deliver, clock=later(clock, hours=1), promise_id=pid)
    assert second.status == "kept"
    assert second.outcome.delivered_quantity == 3
    assert second.outcome.charged == eur("100.00")
    assert second.outcome.fulfilled_at == later(clock, hours=1).now
    assert [d.price for d in show(db, clock, pid, detail=True).deliveries] == [eur("33.33"), eur("66.67")]
    assert events(db, clock, pid) == ["promised", "delivered", "delivered", "fulfilled"]


def test_a_partial_delivery_past_due_is_overdue_and_short(db: Database, clock: Clock) -> None:
    pid = add(db, clock, quantity=3, due=day_due(clock, 0))
    run(db, store.deliver, clock=clock, promise_id=pid, quantity=1)
    v = show(db, later(clock, days=1), pid)
    assert v.status == "overdue"
    assert v.outcome.deviation_kinds == ("short",)


def test_a_late_substituted_overpriced_delivery_is_deviated_with_its_verdict(
    db: Database, clock: Clock
) -> None:
    pid = add(db, clock, what="boots size 38", price=eur("240"), due=day_due(clock, 2))
    late = replace(clock, now=datetime.combine(clock.today + timedelta(days=4), time(3, 0), tzinfo=clock.tz))
    v = run(db, store.deliver, clock=late, promise_id=pid, what="boots size 39", price=eur("250"))
    assert v.status == "deviated"
    assert v.outcome.deviation_kinds == ("late", "substituted", "price")
    assert v.outcome.late_by_seconds == 27 * 3600
    fulfilled = show(db, late, pid, detail=True).history[-1]
    assert fulfilled.kind == "fulfilled"
    assert said(fulfilled, late) == (
        'late by 1 day 3 hours; substituted "boots size 39" for "boots size 38"; '
        "price €250.00 vs €240.00 promised (+€10.00)"
    )


def test_delivered_on_the_due_day_is_on_time_and_the_next_day_late(db: Database, clock: Clock) -> None:
    on_time = add(db, clock, due=day_due(clock, 0))
    late = add(db, clock, due=day_due(clock, 0))
    evening = replace(clock, now=datetime.combine(clock.today, time(23, 59), tzinfo=clock.tz))
    assert run(db, store.deliver, clock=evening, promise_id=on_time).status == "kept"
    after_midnight = replace(evening, now=evening.now + timedelta(minutes=1, seconds=1))
    v = run(db, store.deliver, clock=after_midnight, promise_id=late)
    assert v.status == "deviated"
    assert v.outcome.late_by_seconds == 1


def test_delivery_at_a_date_only_day_is_now_today_and_end_of_day_before(db: Database, clock: Clock) -> None:
    today = add(db, clock, due=day_due(clock, -1))
    yesterday = add(db, clock, due=day_due(clock, -1))
    v = run(db, store.deliver, clock=clock, promise_id=today, at=day_due(clock, 0))
    assert v.outcome.fulfilled_at == clock.now
    assert v.status == "deviated"
    v = run(db, store.deliver, clock=clock, promise_id=yesterday, at=day_due(clock, -1))
    assert v.outcome.fulfilled_at == day_due(clock, -1).moment
    assert v.status == "kept"


@pytest.mark.parametrize("state", ["cancelled", "fulfilled"])
def test_delivering_a_closed_promise_is_bad_input_and_writes_nothing(
    db: Database, clock: Clock, state: str
) -> None:
    pid = add(db, clock, quantity=2, price=eur("240"))
    if state == "cancelled":
        run(db, store.cancel, clock=clock, promise_id=pid, reason="customer changed their mind")
    else:
        run(db, store.deliver, clock=clock, promise_id=pid, followup_after=("2d",))
    before = counts(db)
    history = events(db, clock, pid)
    with pytest.raises(BadInput, match=state) as caught:
        run(db, store.deliver, clock=later(clock, hours=1), promise_id=pid, followup_after=("2d",))
    assert caught.value.exit_code == 2
    assert counts(db) == before
    assert events(db, clock, pid) == history


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"quantity": 0}, "at least 1"),
        ({"what": "  "}, "WHAT"),
        ({"at": "in an hour"}, "future"),
        ({"at": "tomorrow"}, "future"),
    ],
)
def test_deliver_refuses_bad_input_and_writes_nothing(
    db: Database, clock: Clock, kw: dict[str, Any], word: str
) -> None:
    pid = add(db, clock)
    if kw.get("at") == "in an hour":
        kw = {"at": Due(clock.now + timedelta(hours=1), date_only=False)}
    elif kw.get("at") == "tomorrow":
        kw = {"at": day_due(clock, 1)}
    before = counts(db)
    with pytest.raises(BadInput, match=word) as caught:
        run(db, store.deliver, clock=clock, promise_id=pid, **kw)
    assert caught.value.exit_code == 2
    assert counts(db) == before
    assert show(db, clock, pid).status == "open"


# --- not found -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "kw"),
    [
        (store.deliver, {}),
        (store.done, {}),
        (store.amend, {"reason": "r", "quantity": 2}),
        (store.cancel, {"reason": "r"}),
        (store.remedy, {"action": "a"}),
    ],
)
def test_an_unknown_id_is_not_found(
    db: Database, clock: Clock, fn: Callable[..., Any], kw: dict[str, Any]
) -> None:
    add(db, clock)
    with pytest.raises(NotFound, match="#999") as caught:
        run(db, fn, clock=clock, promise_id=999, **kw)
    assert caught.value.exit_code == 3
    assert isinstance(caught.value, PkError)


def test_view_and_record_notice_of_an_unknown_id_are_not_found(db: Database, clock: Clock) -> None:
    with db.session() as s:
        with pytest.raises(NotFound):
            store.view(s, 42, clock)
        with pytest.raises(NotFound):
            store.record_notice(s, clock=clock, promise_id=42)


def test_record_notice_appends_to_the_history(db: Database, clock: Clock) -> None:
    pid = add(db, clock)
    run(db, store.record_notice, clock=later(clock, hours=1), promise_id=pid)
    last = show(db, clock, pid, detail=True).history[-1]
    assert (last.at, last.kind, last.data) == (later(clock, hours=1).now, "notice_drafted", {})
    assert said(last, clock) == "a notice to the customer was drafted"


# --- amend and cancel ------------------------------------------------------------------------------------


def test_amend_keeps_the_original_due_and_the_old_terms_in_the_history(db: Database, clock: Clock) -> None:
    first_due = day_due(clock, 2)
    pid = add(db, clock, quantity=2, price=eur("240"), due=first_due)
    v = run(db, store.amend, clock=clock, promise_id=pid, due=day_due(clock, 5), reason="supplier is late")
    assert v.due == day_due(clock, 5)
    assert v.original_due == first_due
    assert v.renegotiated is True
    assert v.status == "open"
    amended = show(db, clock, pid, detail=True).history[-1]
    assert amended.kind == "amended"
    assert "2 × Hiking boots for €240.00, due Tue 24 Nov (end of day)" in said(amended, clock)
    assert "due Fri 27 Nov (end of day)" in said(amended, clock)
    assert "reason: supplier is late" in said(amended, clock)

    v = run(
        db, store.amend, clock=clock, promise_id=pid, due=day_due(clock, 9), price=eur("200"), reason="again"
    )
    assert v.original_due == first_due, "the first promised due is never overwritten"
    assert v.price == eur("200")
    assert events(db, clock, pid) == ["promised", "amended", "amended"]


def test_amend_of_an_overdue_promise_makes_it_open_again(db: Database, clock: Clock) -> None:
    pid = add(db, clock, due=day_due(clock, -1))
    assert show(db, clock, pid).status == "overdue"
    v = run(db, store.amend, clock=clock, promise_id=pid, due=day_due(clock, 1), reason="agreed by phone")
    assert v.status == "open"


def test_amend_without_a_due_change_leaves_original_due_unset(db: Database, clock: Clock) -> None:
    pid = add(db, clock, quantity=2)
    v = run(db, store.amend, clock=clock, promise_id=pid, quantity=3, what="Hiking boots, black", reason="r")
    assert (v.quantity, v.what, v.original_due, v.renegotiated) == (3, "Hiking boots, black", None, True)


def test_amending_the_quantity_down_to_what_was_delivered_closes_it(db: Database, clock: Clock) -> None:
    pid = add(db, clock, quantity=3)
    run(db, store.deliver, clock=clock, promise_id=pid, quantity=2)
    v = run(
        db, store.amend, clock=later(clock, hours=1), promise_id=pid, quantity=2, reason="only two in stock"
    )
    assert v.status == "kept"
    assert v.outcome.fulfilled_at == clock.now


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"reason": "r"}, "Nothing to amend"),
        ({"reason": " ", "quantity": 2}, "reason"),
        ({"reason": "r", "quantity": 0}, "at least 1"),
    ],
)
def test_amend_refuses_bad_input_and_writes_nothing(
    db: Database, clock: Clock, kw: dict[str, Any], word: str
) -> None:
    pid = add(db, clock)
    before = counts(db)
    with pytest.raises(BadInput, match=word):
        run(db, store.amend, clock=clock, promise_id=pid, **kw)
    assert counts(db) == before
    assert show(db, clock, pid).renegotiated is False


def test_cancel_keeps_the_promise_with_its_reason(db: Database, clock: Clock) -> None:
    pid = add(db, clock)
    v = run(db, store.cancel, clock=clock, promise_id=pid, reason="customer changed their mind")
    assert v.status == "cancelled"
    last = show(db, clock, pid, detail=True).history[-1]
    assert (last.kind, said(last, clock)) == ("cancelled", "customer changed their mind")
    with db.session(write=False) as s:
        assert ids(store.list_promises(s, clock=clock, statuses=[Status.cancelled])) == [pid]
        report = store.due_report(s, clock=later(clock, days=10))
        assert report.overdue == report.due == []
        assert store.check(s, clock=later(clock, days=10), include_remedied=True) == []
    with pytest.raises(BadInput, match="cancelled"):
        run(db, store.cancel, clock=clock, promise_id=pid, reason="twice")
    with pytest.raises(BadInput, match="reason"):
        run(db, store.cancel, clock=clock, promise_id=add(db, clock), reason="  ")


@pytest.mark.parametrize(
    ("price", "due_days", "cancel_after_days"),
    [("240", 2, 0), (None, 0, 3)],
    ids=["priced-before-due", "unpriced-after-due"],
)
def test_a_cancelled_promise_was_never_fulfilled(
    db: Database, clock: Clock, price: str | None, due_days: int, cancel_after_days: int
) -> None:
    pid = add(db, clock, price=eur(price) if price else None, due=day_due(clock, due_days))
    v = run(db, store.cancel, clock=later(clock, days=cancel_after_days), promise_id=pid, reason="r")
    assert v.status == "cancelled"
    assert v.outcome.fulfilled_at is None
    assert v.outcome.deviations == ()
    assert v.outcome.late_by_seconds is None


# --- done, remedy, check --------------------------------------------------------------------------------


def test_done_on_a_callback_keeps_it(db: Database, clock: Clock) -> None:
    pid = add(db, clock, kind="callback", what="Call about the tent", due=at_due(clock, 0, 16))
    v = run(db, store.done, clock=clock, promise_id=pid, note=" called, all fine ")
    assert v.status == "kept"
    assert v.outcome.fulfilled_at == clock.now
    last = show(db, clock, pid, detail=True).history[-1]
    assert (last.kind, said(last, clock)) == ("done", "kept (called, all fine)")
    with pytest.raises(BadInput, match="already fulfilled"):
        run(db, store.done, clock=clock, promise_id=pid)


def test_done_after_the_due_time_is_late(db: Database, clock: Clock) -> None:
    pid = add(db, clock, kind="callback", what="Call back", due=at_due(clock, 0, 11))
    v = run(db, store.done, clock=replace(clock, now=at_due(clock, 0, 11, 45).moment), promise_id=pid)
    assert v.status == "deviated"
    assert v.outcome.deviation_kinds == ("late",)
    assert v.outcome.late_by_seconds == 45 * 60


def test_done_on_a_part_delivered_promise_closes_it_short(db: Database, clock: Clock) -> None:
    pid = add(db, clock, quantity=3)
    run(db, store.deliver, clock=clock, promise_id=pid, quantity=1)
    v = run(db, store.done, clock=later(clock, hours=1), promise_id=pid)
    assert v.status == "deviated"
    assert v.outcome.deviation_kinds == ("short",)
    with db.session(write=False) as s:
        assert ids(store.list_promises(s, clock=clock, statuses=[Status.deviated])) == [pid]


def test_an_unhappy_follow_up_puts_its_parent_into_check_until_remedied(db: Database, clock: Clock) -> None:
    parent = add(db, clock, customer="Anna Smith")
    run(db, store.deliver, clock=clock, promise_id=parent, followup_after=("2d",))
    with db.session(write=False) as s:
        [followup] = store.list_promises(s, clock=clock, kind=Kind.followup)
        assert store.check(s, clock=clock) == []
    in_two_days = later(clock, days=2)
    v = run(db, store.done, clock=in_two_days, promise_id=followup.id, unhappy=True, note="sole came off")
    assert v.unhappy is True
    assert "the customer is unhappy" in said(show(db, clock, followup.id, detail=True).history[-1], clock)
    assert show(db, in_two_days, parent).unhappy is True
    assert events(db, clock, parent)[-1] == "unhappy"
    with db.session(write=False) as s:
        assert parent in ids(store.check(s, clock=in_two_days))

    v = run(
        db, store.remedy, clock=in_two_days, promise_id=parent, action="new pair sent", prevent="check soles"
    )
    assert v.remedied is True
    last = show(db, clock, parent, detail=True).history[-1]
    assert (last.kind, said(last, clock)) == ("remedied", "new pair sent; to prevent it: check soles")
    with db.session(write=False) as s:
        assert parent not in ids(store.check(s, clock=in_two_days))
        assert parent in ids(store.check(s, clock=in_two_days, include_remedied=True))


def test_check_lists_deviated_and_overdue_without_a_remedy(db: Database, clock: Clock) -> None:
    overdue = add(db, clock, due=day_due(clock, -1))
    deviated = add(db, clock, price=eur("100"))
    kept = add(db, clock)
    open_ = add(db, clock, due=day_due(clock, 3))
    run(db, store.deliver, clock=clock, promise_id=deviated, price=eur("90"))
    run(db, store.deliver, clock=clock, promise_id=kept)
    with db.session(write=False) as s:
        assert ids(store.check(s, clock=clock)) == [overdue, deviated]
        assert open_ not in ids(store.check(s, clock=clock, include_remedied=True))
        assert ids(store.check(s, clock=clock, since=day_due(clock, 0).moment)) == [deviated]

    run(db, store.remedy, clock=clock, promise_id=deviated, action="refunded €10")
    with db.session(write=False) as s:
        assert ids(store.check(s, clock=clock)) == [overdue]
        assert ids(store.check(s, clock=clock, include_remedied=True)) == [overdue, deviated]


@pytest.mark.parametrize("status", ["kept", "open"])
def test_remedy_without_anything_to_remedy_is_bad_input(db: Database, clock: Clock, status: str) -> None:
    pid = add(db, clock)
    if status == "kept":
        run(db, store.deliver, clock=clock, promise_id=pid)
    before = counts(db)
    with pytest.raises(BadInput, match="nothing to remedy") as caught:
        run(db, store.remedy, clock=clock, promise_id=pid, action="said sorry")
    assert caught.value.exit_code == 2
    assert counts(db) == before
    assert show(db, clock, pid).remedied is False


def test_remedy_needs_an_action(db: Database, clock: Clock) -> None:
    pid = add(db, clock, due=day_due(clock, -1))
    with pytest.raises(BadInput, match="action"):
        run(db, store.remedy, clock=clock, promise_id=pid, action=" ")
    assert show(db, clock, pid).remedied is False


# --- due report -----------------------------------------------------------------------------------------


def test_due_report_lists_most_overdue_first_then_due_within_the_window(db: Database, clock: Clock) -> None:
    tomorrow = add(db, clock, due=day_due(clock, 1))
    beyond = add(db, clock, due=day_due(clock, 5))
    yesterday = add(db, clock, due=day_due(clock, -1), staff="jo")
    tonight = add(db, clock, due=day_due(clock, 0))
    three_days_ago = add(db, clock, due=day_due(clock, -3), staff="Jo")
    noon = add(db, clock, due=at_due(clock, 0, 12), staff="JO")
    an_hour_ago = add(db, clock, due=at_due(clock, 0, 9), staff="Sam")
    kept_late = add(db, clock, due=day_due(clock, -2))
    cancelled = add(db, clock, due=day_due(clock, -2))
    run(db, store.deliver, clock=clock, promise_id=kept_late)
    run(db, store.cancel, clock=clock, promise_id=cancelled, reason="r")

    with db.session(write=False) as s:
        report = store.due_report(s, clock=clock)
        assert report.as_of == clock.now
        assert report.until == end_of_day(clock.today, clock.tz)
        assert ids(report.overdue) == [three_days_ago, yesterday, an_hour_ago]
        assert ids(report.due) == [noon, tonight]
        assert {v.status for v in report.overdue} == {"overdue"}
        assert {v.status for v in report.due} == {"open"}

        wider = store.due_report(s, clock=clock, until=day_due(clock, 2).moment)
        assert ids(wider.due) == [noon, tonight, tomorrow]
        assert beyond not in ids(wider.due) + ids(wider.overdue)

        jo = store.due_report(s, clock=clock, staff=" jO ")
        assert ids(jo.overdue) == [three_days_ago, yesterday]
        assert ids(jo.due) == [noon]


def test_due_report_with_nothing_due(db: Database, clock: Clock) -> None:
    add(db, clock, due=day_due(clock, 3))
    with db.session(write=False) as s:
        report = store.due_report(s, clock=clock)
    assert report.overdue == report.due == []


def test_follow_ups_show_in_the_due_report(db: Database, clock: Clock) -> None:
    pid = add(db, clock)
    run(db, store.deliver, clock=clock, promise_id=pid, followup_after=("2d",))
    with db.session(write=False) as s:
        report = store.due_report(s, clock=later(clock, days=2))
    assert [(v.kind, v.parent_id) for v in report.due] == [("followup", pid)]


@pytest.mark.parametrize("typed", ["Özlem", "özlem", "ÖZLEM"])
def test_the_staff_filter_is_case_insensitive_beyond_ascii(db: Database, clock: Clock, typed: str) -> None:
    pid = add(db, clock, due=day_due(clock, 0), staff="Özlem")
    with db.session(write=False) as s:
        assert ids(store.list_promises(s, clock=clock, staff=typed)) == [pid]
        assert ids(store.due_report(s, clock=clock, staff=typed).due) == [pid]


# --- list ----------------------------------------------------------------------------------------------


@pytest.fixture
def world(db: Database, clock: Clock) -> dict[str, int]:
    """One promise in each status, with different customers, staff, kinds and tags."""
    made = {
        "open": add(db, clock, due=day_due(clock, 2), customer="Anna Smith", staff="Jo", tags=["boots"]),
        "overdue": add(
            db, clock, due=day_due(clock, -1), customer="Bob", staff="Sam", kind="reply", what="Mail"
        ),
        "kept": add(db, clock, due=day_due(clock, 1), customer="anna smith", staff="jo", tags=["boots", "x"]),
        "deviated": add(db, clock, due=day_due(clock, 3), customer="Bob", kind="callback", what="Ring"),
        "cancelled": add(db, clock, due=day_due(clock, 4), tags=["tent"]),
    }
    run(db, store.deliver, clock=clock, promise_id=made["kept"])
    run(db, store.deliver, clock=clock, promise_id=made["deviated"], what="Sent a text")
    run(db, store.cancel, clock=clock, promise_id=made["cancelled"], reason="r")
    return made


@pytest.mark.parametrize("status", list(Status))
def test_list_by_status(db: Database, clock: Clock, world: dict[str, int], status: Status) -> None:
    with db.session(write=False) as s:
        found = store.list_promises(s, clock=clock, statuses=[status])
    assert ids(found) == [world[status]]
    assert found[0].status == status


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["overdue", "kept", "open", "deviated", "cancelled"]),
        ({"statuses": ["open", "overdue"]}, ["overdue", "open"]),
        ({"statuses": ["kept", "deviated"]}, ["kept", "deviated"]),
        ({"customer": "ANNA  SMITH"}, ["kept", "open"]),
        ({"customer": "bob"}, ["overdue", "deviated"]),
        ({"staff": "JO"}, ["kept", "open"]),
        ({"staff": "sam"}, ["overdue"]),
        ({"kind": "callback"}, ["deviated"]),
        ({"kind": "delivery"}, ["kept", "open", "cancelled"]),
        ({"tag": "boots"}, ["kept", "open"]),
        ({"tag": " tent "}, ["cancelled"]),
        ({"tag": "none"}, []),
        ({"customer": "Anna Smith", "statuses": ["kept"], "tag": "x", "staff": "jo"}, ["kept"]),
    ],
)
def test_list_filters(
    db: Database, clock: Clock, world: dict[str, int], filters: dict[str, Any], expected: list[str]
) -> None:
    with db.session(write=False) as s:
        found = store.list_promises(s, clock=clock, **filters)
    assert ids(found) == [world[name] for name in expected], "every filter applies, in due order"


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"statuses": ["late"]}, ValueError),
        ({"kind": "gift"}, ValueError),
        ({"customer": "Nobody"}, NotFound),
    ],
)
def test_list_refuses_unknown_filters(
    db: Database, clock: Clock, world: dict[str, int], filters: dict[str, Any], error: type[Exception]
) -> None:
    with db.session(write=False) as s, pytest.raises(error):
        store.list_promises(s, clock=clock, **filters)


def test_status_follows_the_clock_without_a_write(db: Database, clock: Clock) -> None:
    pid = add(db, clock, due=day_due(clock, 0))
    tomorrow = later(clock, days=1)
    assert show(db, tomorrow, pid).status == "overdue"
    with db.session(write=False) as s:
        assert ids(store.list_promises(s, clock=tomorrow, statuses=[Status.overdue])) == [pid]
        assert store.list_promises(s, clock=tomorrow, statuses=[Status.open]) == []


# --- the transaction and the file ------------------------------------------------------------------------


def test_an_exception_inside_the_session_leaves_nothing(db: Database, clock: Clock) -> None:
    def add_then_fail() -> None:
        with db.session() as s:
            store.add_promise(s, clock=clock, what=BOOTS, due=day_due(clock, 2), customer="Anna Smith")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    assert counts(db) == {"Customer": 0, "Promise": 0, "Delivery": 0, "Event": 0}


def test_a_failed_write_leaves_the_earlier_writes_of_its_transaction_undone(
    db: Database, clock: Clock
) -> None:
    pid = add(db, clock)
    before = counts(db)

    def add_then_deliver_nothing() -> None:
        with db.session() as s:
            store.add_promise(s, clock=clock, what="Tent", due=day_due(clock, 2), customer="Carla")
            store.deliver(s, clock=clock, promise_id=pid, quantity=0)

    with pytest.raises(BadInput):
        add_then_deliver_nothing()
    assert counts(db) == before


@pytest.mark.sqlite_only
def test_the_new_file_is_readable_by_its_owner_only(db: Database, clock: Clock, tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    assert not path.exists()
    with db.session() as s:
        store.add_promise(s, clock=clock, what=BOOTS, due=day_due(clock, 2), customer="Anna Smith")
        s.flush()
        wal = tmp_path / "p.db-wal"
        assert wal.exists()
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.sqlite_only
def test_the_database_is_in_wal_mode_with_its_schema_version(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    add(db, clock)
    conn = sqlite3.connect(tmp_path / "p.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = conn.execute("SELECT value FROM pk_meta WHERE key = 'schema_version'").fetchall()
        assert rows == [(str(SCHEMA_VERSION),)]
    finally:
        conn.close()


@pytest.mark.sqlite_only
def test_money_is_stored_in_minor_units_and_moments_in_utc(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    add(db, clock, price=eur("240.50"), due=day_due(clock, 2))
    conn = sqlite3.connect(tmp_path / "p.db")
    try:
        price, currency, due = conn.execute("SELECT price_minor, currency, due FROM promise").fetchone()
    finally:
        conn.close()
    assert (price, currency) == (24050, "EUR")
    assert due.startswith("2026-11-24 22:59:59.999999")
