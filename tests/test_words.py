"""Every history event is said from its fields alone, in the shop's zone: table-driven over each kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promisekeeper import words
from promisekeeper.money import Money
from promisekeeper.rules import deviation_data, deviation_from_data, outcome_data
from promisekeeper.views import Deviation, DeviationKind, EventKind, EventView, Outcome, Status

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
DUE = "2026-11-24T22:59:59.999999+00:00"  # Tue 24 Nov, end of day in Berlin
TERMS = {"what": "Hiking boots", "quantity": 2, "price_minor": 24000, "currency": "EUR", "due": DUE}


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
