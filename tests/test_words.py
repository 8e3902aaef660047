"""Every history event is said from its fields alone, in the shop's zone: table-driven over each kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promisekeeper import words
from promisekeeper.errors import BadInput, NotFound
from promisekeeper.money import Money
from promisekeeper.rules import balance, deviation_data, deviation_from_data, outcome_data
from promisekeeper.views import (
    Deviation,
    DeviationKind,
    EventKind,
    EventView,
    Handover,
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

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
DUE = "2026-11-24T22:59:59.999999+00:00"  # Tue 24 Nov, end of day in Berlin
TERMS = {"what": "Hiking boots", "quantity": 2, "price_minor": 24000, "currency": "EUR", "due": DUE}
SAT_28 = "2026-11-28T22:59:59.999999+00:00"  # Sat 28 Nov, end of day in Berlin
MON_30 = "2026-11-30T22:59:59.999999+00:00"


def said(kind: str, customer: str | None = None, **data: Any) -> str:
    event = EventView(at=NOW, kind=kind, data=data)
    return words.event_text(event, BERLIN, NOW, customer=customer)


@pytest.mark.parametrize(
    ("kind", "data", "sentence"),
    [
        (
            EventKind.promised,
            {**TERMS, "date_only": True, "staff": "Jo"},
            "2 × Hiking boots for €240.00, due Tue 24 Nov (end of day) to Anna Smith by Jo",
        ),
        (
            EventKind.delivered,
            {
                **TERMS,
                "quantity": 1,
                "price_minor": 12000,
                "at": "2026-11-24T14:30:00+00:00",
                "note": "in a bag",
            },
            "Hiking boots for €120.00 on Tue 24 Nov 2026 15:30 (in a bag)",
        ),
        (EventKind.fulfilled, {"status": "kept", "deviations": []}, "kept"),
        (
            EventKind.done,
            {"status": "kept", "deviations": [], "unhappy": True, "note": "squeaks"},
            "kept; the customer is unhappy (squeaks)",
        ),
        (
            EventKind.amended,
            {
                "before": {**TERMS, "date_only": True},
                "after": {**TERMS, "date_only": False, "due": "2026-11-27T16:00:00+00:00"},
                "reason": "supplier late",
            },
            "2 × Hiking boots for €240.00, due Tue 24 Nov (end of day) → "
            "2 × Hiking boots for €240.00, due Fri 27 Nov 17:00; reason: supplier late",
        ),
        (EventKind.cancelled, {"reason": "bought elsewhere"}, "bought elsewhere"),
        (
            EventKind.remedied,
            {"action": "Refunded €10", "prevent": "check sizes"},
            "Refunded €10; to prevent it: check sizes",
        ),
        (EventKind.remedied, {"action": "Refunded €10", "prevent": None}, "Refunded €10"),
        (
            EventKind.followup,
            {"followup_id": 7, "due": DUE, "date_only": True},
            "follow-up #7 due Tue 24 Nov (end of day)",
        ),
        (EventKind.unhappy, {"followup_id": 7}, "follow-up #7: the customer is unhappy"),
        (EventKind.notice_drafted, {}, "a notice to the customer was drafted"),
        (
            EventKind.notice_drafted,
            {"risk": "eta_late", "order": 3, "eta": SAT_28, "new_due": MON_30},
            "an early warning to the customer was drafted (S3 arrives Sat 28 Nov 2026; "
            "new date offered: Mon 30 Nov 2026)",
        ),
        (
            EventKind.notice_drafted,
            {"risk": "no_eta", "order": 3, "eta": None, "new_due": None},
            "an early warning to the customer was drafted (S3 has no delivery date yet)",
        ),
        (
            EventKind.notice_drafted,
            {"risk": "order_overdue", "order": 3, "eta": DUE, "new_due": None},
            "an early warning to the customer was drafted (S3 was expected Tue 24 Nov 2026)",
        ),
        (
            EventKind.notified,
            {"recipients": ["a@example.com"], "section": "at_risk"},
            "mailed to a@example.com as at risk",
        ),
        (
            EventKind.notified,
            {"recipients": ["a@example.com", "b@example.com"], "section": "due"},
            "mailed to a@example.com, b@example.com as due today",
        ),
        (EventKind.forgotten, {}, "the customer's name and contact details were erased"),
        (EventKind.imported, {"source": "till.csv", "line": 4}, "imported from till.csv, line 4"),
        (EventKind.note, {"text": "whatever release 1 wrote", "event": "x"}, "whatever release 1 wrote"),
    ],
)
def test_each_event_is_said_from_its_fields(kind: EventKind, data: dict[str, Any], sentence: str) -> None:
    customer = "Anna Smith" if kind == EventKind.promised else None
    assert said(kind, customer, **data) == sentence


def test_an_unknown_kind_still_says_its_fields() -> None:
    assert said("from_the_future", colour="red") == "colour: red"
    assert said("from_the_future") == "from_the_future"


def test_a_verdict_round_trips_through_event_fields() -> None:
    late = Deviation(DeviationKind.late, late_seconds=27 * 3600)
    price = Deviation(
        DeviationKind.price,
        promised_price=Money.from_minor(24000, "EUR"),
        charged=Money.from_minor(25000, "EUR"),
    )
    outcome = Outcome(Status.deviated, (late, price), 2, Money.from_minor(25000, "EUR"), NOW, 27 * 3600)
    data = outcome_data(outcome)
    assert [deviation_from_data(d) for d in data["deviations"]] == [late, price]
    assert said(EventKind.fulfilled, **data) == words.verdict_text(outcome)
    assert words.verdict_text(outcome) == "late by 1 day 3 hours; price €250.00 vs €240.00 promised (+€10.00)"
    assert deviation_data(late) == {"kind": "late", "late_seconds": 97200}


def test_moments_are_said_in_the_shops_zone_not_utc() -> None:
    at = datetime(2026, 11, 24, 23, 30, tzinfo=UTC).isoformat()  # already Wednesday in Berlin
    assert said(EventKind.delivered, what="Rope", quantity=1, at=at) == "Rope on Wed 25 Nov 2026 00:30"


@pytest.mark.parametrize(
    ("seconds", "cell"),
    [
        (0, "1s"),
        (0.4, "1s"),
        (48, "48s"),
        (59.9, "59s"),
        (60, "1m"),
        (3600, "1h"),
        (3660, "1h 1m"),
        (90000, "1d 1h"),
    ],
)
def test_a_short_span_is_never_zero_minutes(seconds: float, cell: str) -> None:
    assert words.short_span(seconds) == cell


# --- at risk: the risk sentence, the early warning, the morning list's words (issue 14) ---------------


def _eod(day: int) -> datetime:
    return datetime(2026, 11, day, 23, 59, 59, 999999, tzinfo=BERLIN)


def _at_risk(
    kind: RiskKind, eta: datetime | None, *, quantity: int = 1, deposit: Money | None = None
) -> PromiseView:
    """Anna's boots (€240, due Fri 27 Nov, promised Sun 22 Nov) waiting for S3 from Meindl."""
    price = Money.from_minor(24000, "EUR")
    return PromiseView(
        id=12,
        kind=Kind.delivery,
        customer="Anna Smith",
        what="Hiking boots",
        quantity=quantity,
        price=price,
        due=Due(_eod(27), True),
        original_due=None,
        renegotiated=False,
        staff="Jo",
        tags=(),
        note=None,
        parent_id=None,
        created=NOW,
        outcome=Outcome(Status.open, (), 0, None, None, None),
        remedied=False,
        unhappy=False,
        handover=Handover.pickup,
        deposit=deposit,
        balance=balance(price, deposit, None) if deposit else None,
        orders=(3,),
        risk=Risk(kind, 3, "Meindl", eta, _eod(27)),
    )


@pytest.mark.parametrize(
    ("kind", "eta", "sentence"),
    [
        (
            RiskKind.eta_late,
            _eod(28),
            "S3 from Meindl now arrives Sat 28 Nov 2026, too late for the due Fri 27 Nov 2026.",
        ),
        (
            RiskKind.eta_late,
            datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN),
            "S3 from Meindl now arrives Fri 27 Nov 2026 09:00, too close to the due Fri 27 Nov 2026 "
            "to be sure of it.",
        ),
        (RiskKind.no_eta, None, "S3 from Meindl has no delivery date yet; due Fri 27 Nov 2026."),
        (
            RiskKind.order_overdue,
            _eod(24),
            "S3 from Meindl was expected Tue 24 Nov 2026 and has not all arrived; due Fri 27 Nov 2026.",
        ),
    ],
)
def test_the_risk_sentence_says_what_the_supplier_says(
    kind: RiskKind, eta: datetime | None, sentence: str
) -> None:
    risk = _at_risk(kind, eta).risk
    assert risk is not None
    assert words.risk_text(risk, BERLIN) == sentence


def test_the_early_warning_says_the_terms_the_suppliers_date_and_the_new_date() -> None:
    p = _at_risk(RiskKind.eta_late, _eod(28), quantity=2)
    text = words.notice_text(p, shop="Trailhead Outfitters", tz=BERLIN, now=NOW, new_date=Due(_eod(30), True))
    assert text == (
        "Dear Anna Smith,\n"
        "\n"
        "On Sun 22 Nov we promised you 2 × Hiking boots for €240.00 by Fri 27 Nov (end of day).\n"
        "\n"
        "We are writing now, before that date, because we may not be able to keep it.\n"
        "We ordered them for you, and our supplier now expects to deliver them to us on Sat 28 Nov: "
        "after the date we promised you.\n"
        "\n"
        "We can have them ready for you to collect by Mon 30 Nov. If that date does not suit you, tell us "
        "and we will offer you an alternative, or cancel the order.\n"
        "\n"
        "We are sorry, and we wanted you to hear it from us first.\n"
        "\n"
        "Trailhead Outfitters\n"
    )
    assert "Meindl" not in text  # the supplier is the shop's business


def test_without_a_date_the_warning_promises_word_and_offers_the_deposit_back() -> None:
    p = _at_risk(RiskKind.no_eta, None, deposit=Money.from_minor(5000, "EUR"))
    text = words.notice_text(p, shop="Trailhead", tz=BERLIN, now=NOW)
    assert "our supplier has not yet given us a delivery date." in text
    assert "You paid a deposit of €50.00; €190.00 is left to pay." in text
    assert "We will tell you the new date as soon as our supplier gives us one." in text
    assert "cancel the order and refund your deposit of €50.00." in text
    late = words.notice_text(_at_risk(RiskKind.order_overdue, _eod(24)), shop="T", tz=BERLIN, now=NOW)
    assert "our supplier was to deliver it to us by Tue 24 Nov and has not yet." in late
    assert all(line.endswith((".", ",")) for line in text.splitlines()[:-1] if line)  # but the shop's name


@pytest.mark.parametrize(
    ("ready", "waiting"),
    [
        (datetime(2026, 11, 22, 9, 0, tzinfo=BERLIN), "since today"),
        (datetime(2026, 11, 21, 23, 30, tzinfo=BERLIN), "1 day"),  # yesterday by the shop's calendar
        (datetime(2026, 11, 18, 12, 0, tzinfo=UTC), "4 days"),
    ],
)
def test_days_waiting_count_the_shops_calendar_days(ready: datetime, waiting: str) -> None:
    assert words.days_waiting(ready, NOW, BERLIN) == waiting


def test_the_report_names_its_at_risk_and_ready_sections() -> None:
    assert words.report_subject("Shop", 1, 0, 3, at_risk=2) == "Shop: 1 overdue, 2 at risk, 3 due today"
    assert words.report_subject("Shop", 1, 2, 3) == "Shop: 1 overdue, 2 due soon, 3 due today"
    assert (
        words.report_subject("Shop", 1, 0, 0, only_new=True, at_risk=1) == "Shop: 1 newly overdue, 1 at risk"
    )
    intro = words.report_intro(NOW, BERLIN, only_new=False, since=None, soon=False, risk=True, ready=True)
    assert intro.endswith(
        ": overdue promises first (most overdue first), then those at risk, then those due today, "
        "then the pickups waiting for their customer."
    )
    news = words.report_intro(NOW, BERLIN, only_new=True, since=NOW, soon=True, risk=True)
    assert news.endswith(", and the promises at risk or due soon that were not yet reported.")
    assert (words.at_risk_title(2), words.ready_title(1)) == ("At risk: 2", "Ready for pickup: 1")


# --- supply orders, pickup and deposits: history lines and confirmations (issue 14) ------------------

WED_25 = "2026-11-25T22:59:59.999999+00:00"


@pytest.mark.parametrize(
    ("kind", "data", "sentence"),
    [
        (
            EventKind.ordered,
            {
                "order": 3,
                "supplier": "Meindl",
                "what": "Hiking boots",
                "quantity": 2,
                "eta": WED_25,
                "date_only": True,
                "ref": "PO-7",
                "promises": [12, 13],
            },
            "S3 ordered: 2 × Hiking boots from Meindl, expected Wed 25 Nov (end of day), ref PO-7; "
            "for #12, #13",
        ),
        (
            EventKind.ordered,
            {
                "order": 4,
                "supplier": "Lacy",
                "what": "Laces",
                "quantity": 1,
                "eta": None,
                "date_only": False,
                "ref": None,
                "promises": [],
            },
            "S4 ordered: Laces from Lacy, no delivery date yet",
        ),
        (EventKind.linked, {"order": 3, "promise": 12}, "#12 waits for S3"),
        (
            EventKind.eta_changed,
            {
                "order": 3,
                "old": WED_25,
                "old_date_only": True,
                "new": MON_30,
                "date_only": True,
                "reason": "factory delay",
            },
            "S3 now expected Mon 30 Nov (end of day), was Wed 25 Nov (end of day); reason: factory delay",
        ),
        (
            EventKind.eta_changed,
            {
                "order": 3,
                "old": None,
                "old_date_only": False,
                "new": "2026-11-30T09:00:00+00:00",
                "date_only": False,
                "reason": None,
            },
            "S3 now expected Mon 30 Nov 10:00, had no date",
        ),
        (
            EventKind.received,
            {"order": 3, "quantity": 1, "received": 1, "of": 2},
            "S3: 1 received (1 of 2 arrived)",
        ),
        (
            EventKind.ready,
            {"at": "2026-11-24T16:00:00+00:00", "before": None, "order": 3},
            "ready for pickup since Tue 24 Nov 2026 17:00 (S3 arrived)",
        ),
        (
            EventKind.ready,
            {"at": "2026-11-24T16:00:00+00:00", "before": None},
            "ready for pickup since Tue 24 Nov 2026 17:00",
        ),
        (
            EventKind.deposit,
            {"amount_minor": 5000, "currency": "EUR", "before_minor": None},
            "deposit of €50.00 taken",
        ),
        (
            EventKind.deposit,
            {"amount_minor": 4000, "currency": "EUR", "before_minor": 5000},
            "deposit of €40.00 taken, €90.00 in all",
        ),
    ],
)
def test_each_supply_event_is_said_from_its_fields(
    kind: EventKind, data: dict[str, Any], sentence: str
) -> None:
    assert said(kind, **data) == sentence


def _order(**kw: Any) -> SupplyOrderView:
    fields: dict[str, Any] = {
        "id": 3,
        "supplier": "Meindl",
        "what": "Hiking boots",
        "quantity": 2,
        "eta": Due(_eod(25), True),
        "ref": "PO-7",
        "created": NOW,
        "state": "open",
        "received_quantity": 0,
        "received_at": None,
        "promises": (12, 13),
    }
    return SupplyOrderView(**{**fields, **kw})


def test_the_supply_confirmations() -> None:
    assert words.order_placed(_order(), BERLIN, NOW) == (
        "Ordered S3: 2 × Hiking boots from Meindl, expected Wed 25 Nov (end of day), ref PO-7; for #12, #13"
    )
    assert words.order_placed(_order(eta=None, ref=None, promises=()), BERLIN, NOW) == (
        "Ordered S3: 2 × Hiking boots from Meindl, no delivery date yet"
    )
    moved = _order(eta=Due(_eod(30), True))
    assert words.eta_moved(moved, 1, BERLIN, NOW) == (
        "S3 from Meindl is now expected Mon 30 Nov (end of day); 1 promise now at risk"
    )
    assert words.eta_moved(moved, 0, BERLIN, NOW) == (
        "S3 from Meindl is now expected Mon 30 Nov (end of day); no promise waiting for it is at risk"
    )
    anna = _at_risk(RiskKind.eta_late, _eod(30), deposit=Money.from_minor(5000, "EUR"))
    part = Receipt(order=_order(received_quantity=1), quantity=1, ready=(anna,), waiting=(anna,))
    assert words.received_text(part) == (
        "Received 1 of S3 (Hiking boots from Meindl): 1 of 2 have arrived; 1 customer to tell."
    )
    assert words.received_text(Receipt(order=_order(state="received"), quantity=2, waiting=(anna,))) == (
        "Received 2 of S3 (Hiking boots from Meindl): all have arrived; no promise is ready yet."
    )
    assert words.received_text(Receipt(order=_order(state="received", promises=()), quantity=2)).endswith(
        "all have arrived; no promise waits for it."
    )
    assert words.deposit_line(anna) == "Deposit on #12: €50.00 in all; balance €190.00 of €240.00"
    assert words.confirmation("deposit", anna, BERLIN, NOW) == words.deposit_line(anna)
    assert words.confirmation("link", anna, BERLIN, NOW) == (
        "Linked #12 (Hiking boots to Anna Smith for €240.00, due Fri 27 Nov (end of day)): waits for S3; "
        "at risk: S3 from Meindl now arrives Mon 30 Nov 2026, too late for the due Fri 27 Nov 2026."
    )


def test_ready_says_the_verdict_it_earns() -> None:
    on_time = _at_risk(RiskKind.eta_late, None, deposit=Money.from_minor(5000, "EUR"))
    assert words.confirmation("ready", on_time, BERLIN, NOW) == (
        "Ready #12: Hiking boots for Anna Smith waits for pickup (on time); to pay €190.00"
    )
    late = replace(on_time, outcome=Outcome(Status.open, (), 0, None, None, 5 * 3600), balance=None)
    assert (
        words.ready_line(late, BERLIN, NOW)
        == "Ready #12: Hiking boots for Anna Smith waits for pickup (late by 5 hours)"
    )


@pytest.mark.parametrize(("text", "order"), [("S3", 3), ("s3", 3), ("3", 3), (" S12 ", 12), ("S007", 7)])
def test_an_order_is_typed_with_or_without_its_s(text: str, order: int) -> None:
    assert words.parse_order_id(text) == order
    assert words.order_ref(order) == f"S{order}"


@pytest.mark.parametrize("text", ["S", "x", "S0", "0", "-1", "S-1", "S 3", "SS3", "S3a", "S１", "#3", ""])
def test_anything_else_is_one_sentence_naming_it(text: str) -> None:
    with pytest.raises(BadInput, match=r"^ORDER must be a supply order such as S3, not '.*'\.$"):
        words.parse_order_id(text)


def test_a_number_beyond_any_row_is_no_order() -> None:
    with pytest.raises(NotFound, match="There is no supply order S9999999999999999999"):
        words.parse_order_id("S9999999999999999999")
