"""The rules of a promise (docs/reference.md: status and deviation): table-driven and property-based."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from promisekeeper.money import Money
from promisekeeper.rules import (
    assess,
    balance,
    closes,
    default_charge,
    mixed_currencies,
    normalise,
    risk,
    same_item,
    total_charged,
)
from promisekeeper.views import Deviation, DeviationKind, Fulfilment, Outcome, RiskKind, Status, Supply, Terms
from promisekeeper.when import end_of_day
from promisekeeper.words import deviation_text, price_text, verdict_text

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)  # Sunday morning
DUE = end_of_day(date(2026, 11, 24), TZ)  # Tue 24 Nov, date-only: 23:59:59.999999 local
BOOTS = "Hiking boots"


def local(day: int, hour: int = 12, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, micro, tzinfo=TZ)


def money(amount: str, currency: str = "EUR") -> Money:
    return Money(Decimal(amount), currency)


def terms(what: str = BOOTS, qty: int = 2, price: str | None = "240.00", due: datetime = DUE) -> Terms:
    return Terms(what=what, quantity=qty, price=money(price) if price is not None else None, due=due)


def fulfil(
    at: datetime, what: str = BOOTS, qty: int = 2, price: str | None = "240.00", currency: str = "EUR"
) -> Fulfilment:
    return Fulfilment(
        at=at, what=what, quantity=qty, price=money(price, currency) if price is not None else None
    )


def judge(
    t: Terms, ds: Sequence[Fulfilment], *, now: datetime = NOW, closed: bool = True, cancelled: bool = False
) -> Outcome:
    """Assess as the store does: a promise is closed at its last delivery once it has any."""
    closed_at = max(d.at for d in ds) if closed and ds else None
    return assess(t, ds, now=now, closed_at=closed_at, cancelled=cancelled)


# --- status -------------------------------------------------------------------------------------

ON_TIME = local(23)
AFTER_DUE = local(26)


@pytest.mark.parametrize(
    ("case", "deliveries", "now", "closed", "cancelled", "status"),
    [
        ("nothing delivered, before due", [], NOW, False, False, "open"),
        ("nothing delivered, at the due moment", [], DUE, False, False, "open"),
        (
            "nothing delivered, a microsecond past due",
            [],
            DUE + timedelta(microseconds=1),
            False,
            False,
            "overdue",
        ),
        ("part delivered, before due", [fulfil(ON_TIME, qty=1, price="120")], ON_TIME, False, False, "open"),
        (
            "part delivered, past due",
            [fulfil(ON_TIME, qty=1, price="120")],
            AFTER_DUE,
            False,
            False,
            "overdue",
        ),
        ("in full, on time, as promised", [fulfil(ON_TIME)], AFTER_DUE, True, False, "kept"),
        ("in full, late", [fulfil(local(25))], AFTER_DUE, True, False, "deviated"),
        ("in full, another item", [fulfil(ON_TIME, what="Trail shoes")], AFTER_DUE, True, False, "deviated"),
        ("cancelled before anything", [], NOW, False, True, "cancelled"),
        ("cancelled past due", [], AFTER_DUE, False, True, "cancelled"),
        ("cancelled after a part", [fulfil(ON_TIME, qty=1, price="99")], AFTER_DUE, False, True, "cancelled"),
    ],
)
def test_status(
    case: str, deliveries: list[Fulfilment], now: datetime, closed: bool, cancelled: bool, status: str
) -> None:
    assert judge(terms(), deliveries, now=now, closed=closed, cancelled=cancelled).status == status


def test_cancelled_wins_over_every_deviation() -> None:
    ds = [fulfil(local(27), what="Trail shoes", qty=3, price="999", currency="USD")]
    outcome = assess(terms(), ds, now=local(28), closed_at=local(27), cancelled=True)
    assert outcome.status == "cancelled"


# --- deviations ---------------------------------------------------------------------------------

LATE = local(25, 0, 0, 1)


@pytest.mark.parametrize(
    ("case", "promised", "deliveries", "kinds"),
    [
        ("as promised", terms(), [fulfil(ON_TIME)], ()),
        ("late", terms(), [fulfil(LATE)], ("late",)),
        ("substituted", terms(), [fulfil(ON_TIME, what="Trail shoes")], ("substituted",)),
        ("price, too much", terms(), [fulfil(ON_TIME, price="250")], ("price",)),
        ("price, too little", terms(), [fulfil(ON_TIME, price="200")], ("price",)),
        ("short", terms(price=None), [fulfil(ON_TIME, qty=1, price=None)], ("short",)),
        ("excess", terms(), [fulfil(ON_TIME, qty=3)], ("excess",)),
        ("late and substituted", terms(), [fulfil(LATE, what="Trail shoes")], ("late", "substituted")),
        ("late and price", terms(), [fulfil(LATE, price="1")], ("late", "price")),
        ("substituted and price", terms(), [fulfil(ON_TIME, what="x", price="1")], ("substituted", "price")),
        ("short and price", terms(), [fulfil(ON_TIME, qty=1, price="120")], ("price", "short")),
        ("excess at the promised price", terms(), [fulfil(ON_TIME, qty=5)], ("excess",)),
        ("excess and price", terms(), [fulfil(ON_TIME, qty=3, price="360")], ("price", "excess")),
        (
            "every one but excess",
            terms(),
            [fulfil(LATE, what="Trail shoes", qty=1, price="10")],
            ("late", "substituted", "price", "short"),
        ),
        (
            "every one but short",
            terms(),
            [fulfil(ON_TIME, qty=2), fulfil(LATE, what="Socks", qty=1, price="5")],
            ("late", "substituted", "price", "excess"),
        ),
    ],
)
def test_deviations(case: str, promised: Terms, deliveries: list[Fulfilment], kinds: tuple[str, ...]) -> None:
    outcome = judge(promised, deliveries, now=local(27))
    assert set(outcome.deviation_kinds) == set(kinds)
    assert len(outcome.deviation_kinds) == len(kinds), "each kind at most once"
    assert outcome.status == ("deviated" if kinds else "kept")


def test_deviations_carry_their_sizes() -> None:
    ds = [fulfil(LATE, what="boots size 39", qty=1, price="250")]
    outcome = judge(terms(what="boots size 38"), ds)
    by_kind = {d.kind: d for d in outcome.deviations}
    assert by_kind[DeviationKind.late] == Deviation(DeviationKind.late, late_seconds=1)
    assert by_kind[DeviationKind.substituted] == Deviation(
        DeviationKind.substituted, promised_what="boots size 38", delivered_what="boots size 39"
    )
    assert by_kind[DeviationKind.price] == Deviation(
        DeviationKind.price, promised_price=money("240"), charged=money("250")
    )
    assert by_kind[DeviationKind.short] == Deviation(
        DeviationKind.short, promised_quantity=2, delivered_quantity=1
    )


@pytest.mark.parametrize(
    ("due", "delivered", "late_by"),
    [
        (DUE, local(24, 9), None),
        (DUE, local(24, 23, 59), None),
        (DUE, local(24, 23, 59, 59, 999_999), None),
        (DUE, local(25, 0, 0, 1), 1),
        (DUE, local(25, 0, 1, 0), 60),
        (DUE, local(27, 3, 0, 0, 1), 2 * 86400 + 3 * 3600),
        (local(24, 17), local(24, 17), None),
        (local(24, 17), local(24, 17, 0, 30), 30),
        (local(24, 17), datetime(2026, 11, 24, 16, 0, 30, tzinfo=UTC), 30),
        # Spring forward in Berlin: the day after a date-only due is 23 hours long.
        (end_of_day(date(2027, 3, 28), TZ), datetime(2027, 3, 29, 0, 0, 1, tzinfo=TZ), 1),
        (
            end_of_day(date(2027, 3, 27), TZ).astimezone(UTC),
            end_of_day(date(2027, 3, 28), TZ).astimezone(UTC),
            23 * 3600,
        ),
        pytest.param(
            end_of_day(date(2027, 3, 27), TZ),
            end_of_day(date(2027, 3, 28), TZ),
            23 * 3600,
            id="across-spring-forward-same-zone",
        ),
    ],
)
def test_late_by_exact_seconds(due: datetime, delivered: datetime, late_by: int | None) -> None:
    outcome = judge(terms(due=due), [fulfil(delivered)], now=delivered + timedelta(days=3))
    assert outcome.late_by_seconds == late_by
    assert ("late" in outcome.deviation_kinds) is (late_by is not None)
    assert outcome.fulfilled_at == delivered


def test_the_same_instants_in_any_zone_get_the_same_judgement() -> None:
    """Autumn: 02:30 CEST is due; the delivery at 02:15 CET is 45 minutes later, not 15 earlier."""
    due = datetime(2026, 10, 25, 0, 30, tzinfo=UTC).astimezone(TZ)
    delivered = datetime(2026, 10, 25, 1, 15, tzinfo=UTC).astimezone(TZ)
    assert (due.fold, delivered.fold) == (0, 1)
    in_utc = judge(terms(due=due.astimezone(UTC)), [fulfil(delivered.astimezone(UTC))])
    assert in_utc.late_by_seconds == 45 * 60
    assert judge(terms(due=due), [fulfil(delivered)]) == in_utc


def test_a_date_only_due_ends_at_the_last_microsecond_of_the_local_day() -> None:
    assert local(24, 23, 59, 59, 999_999) == DUE


def test_lateness_is_judged_on_the_last_delivery() -> None:
    ds = [fulfil(local(23), qty=1, price="120"), fulfil(local(25, 0, 0, 1), qty=1, price="120")]
    outcome = judge(terms(), ds)
    assert outcome.deviation_kinds == ("late",)
    assert outcome.late_by_seconds == 1
    assert outcome.fulfilled_at == local(25, 0, 0, 1)


def test_an_open_promise_is_not_late_even_past_due() -> None:
    outcome = judge(terms(), [], now=local(30), closed=False)
    assert outcome.status == "overdue"
    assert outcome.late_by_seconds is None
    assert outcome.fulfilled_at is None
    assert outcome.deviations == ()


# --- substituted --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Boots  size 38", "boots size 38", True),
        ("  Boots\tsize\n38 ", "BOOTS SIZE 38", True),
        ("boots\u00a0size 38", "boots size 38", True),
        ("Straße", "STRASSE", True),
        ("boots size 39", "boots size 38", False),
        ("boots size38", "boots size 38", False),
        ("boots", "boot", False),
    ],
)
def test_same_item(a: str, b: str, same: bool) -> None:
    assert same_item(a, b) is same
    assert same_item(b, a) is same


@pytest.mark.parametrize(
    ("text", "key"),
    [("  Hiking   BOOTS ", "hiking boots"), ("a\t\nb", "a b"), ("", ""), ("Straße", "strasse")],
)
def test_normalise(text: str, key: str) -> None:
    assert normalise(text) == key


def test_substitution_compares_case_and_space_insensitively() -> None:
    outcome = judge(terms(what="boots size 38"), [fulfil(ON_TIME, what="Boots  size 38")])
    assert outcome.status == "kept"
    assert outcome.deviations == ()


def test_any_delivery_of_another_item_is_a_substitution() -> None:
    ds = [fulfil(ON_TIME, qty=1, price="120"), fulfil(ON_TIME, what="Trail shoes", qty=1, price="120")]
    outcome = judge(terms(), ds)
    assert outcome.deviation_kinds == ("substituted",)
    assert outcome.deviations[0].delivered_what == "Trail shoes"


# --- price --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "promised_price", "charges", "price_deviation", "charged"),
    [
        ("one delivery at the price", "240", [("240.00", "EUR")], False, money("240")),
        ("two parts adding up to the price", "240", [("120", "EUR"), ("120", "EUR")], False, money("240")),
        ("two parts adding up to more", "240", [("120", "EUR"), ("130", "EUR")], True, money("250")),
        ("another currency, same amount", "240", [("240", "USD")], True, money("240", "USD")),
        ("mixed currencies", "240", [("120", "EUR"), ("120", "USD")], True, money("120")),
        ("nothing charged", "240", [(None, "EUR")], True, None),
        ("free, nothing promised", None, [("99", "EUR")], False, money("99")),
        ("nothing promised, nothing charged", None, [(None, "EUR")], False, None),
        ("a promised zero charged zero", "0", [("0", "EUR")], False, money("0")),
    ],
)
def test_price(
    case: str,
    promised_price: str | None,
    charges: list[tuple[str | None, str]],
    price_deviation: bool,
    charged: Money | None,
) -> None:
    qty = len(charges)
    ds = [fulfil(ON_TIME, qty=1, price=p, currency=c) for p, c in charges]
    outcome = judge(terms(qty=qty, price=promised_price), ds)
    assert ("price" in outcome.deviation_kinds) is price_deviation
    assert outcome.charged == charged
    assert outcome.status == ("deviated" if price_deviation else "kept")


def test_price_is_judged_only_once_closed() -> None:
    ds = [fulfil(ON_TIME, qty=1, price="999")]
    assert judge(terms(), ds, closed=False).deviations == ()
    assert "price" in judge(terms(), ds, closed=True).deviation_kinds


@pytest.mark.parametrize(
    ("charges", "total", "mixed"),
    [
        ([], None, False),
        ([(None, "EUR")], None, False),
        ([("1.10", "EUR"), ("2.20", "EUR"), (None, "EUR")], money("3.30"), False),
        ([("5", "USD"), ("1.10", "EUR"), ("2", "USD")], money("7", "USD"), True),
        ([("100", "JPY"), ("200", "JPY")], money("300", "JPY"), False),
    ],
)
def test_total_charged_and_mixed_currencies(
    charges: list[tuple[str | None, str]], total: Money | None, mixed: bool
) -> None:
    ds = [fulfil(ON_TIME, qty=1, price=p, currency=c) for p, c in charges]
    assert total_charged(ds) == total
    assert mixed_currencies(ds) is mixed


# --- short and excess ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "now", "closed", "status", "kinds"),
    [
        ("partial before due, still owed", ON_TIME, False, "open", ()),
        ("partial at the due moment, still owed", DUE, False, "open", ()),
        ("partial past due, still owed", AFTER_DUE, False, "overdue", ("short",)),
        ("partial, closed before due", ON_TIME, True, "deviated", ("short",)),
        ("partial, closed, judged past due", AFTER_DUE, True, "deviated", ("short",)),
    ],
)
def test_short_only_once_closed_or_past_due(
    case: str, now: datetime, closed: bool, status: str, kinds: tuple[str, ...]
) -> None:
    outcome = judge(terms(qty=3, price=None), [fulfil(ON_TIME, qty=2, price=None)], now=now, closed=closed)
    assert outcome.status == status
    assert outcome.deviation_kinds == kinds
    assert outcome.delivered_quantity == 2
    if kinds:
        assert outcome.deviations[0] == Deviation(
            DeviationKind.short, promised_quantity=3, delivered_quantity=2
        )


@pytest.mark.parametrize(
    ("quantities", "excess"), [([2], False), ([1, 1], False), ([3], True), ([2, 1], True)]
)
def test_excess(quantities: list[int], excess: bool) -> None:
    ds = [fulfil(ON_TIME, qty=q, price=None) for q in quantities]
    outcome = judge(terms(price=None), ds)
    assert ("excess" in outcome.deviation_kinds) is excess
    assert "short" not in outcome.deviation_kinds
    assert outcome.delivered_quantity == sum(quantities)
    if excess:
        assert outcome.deviations[-1] == Deviation(
            DeviationKind.excess, promised_quantity=2, delivered_quantity=sum(quantities)
        )


@pytest.mark.parametrize(
    ("quantities", "complete"), [([], False), ([1], False), ([2], True), ([1, 1], True), ([5], True)]
)
def test_closes(quantities: list[int], complete: bool) -> None:
    assert closes(terms(), [fulfil(ON_TIME, qty=q) for q in quantities]) is complete


# --- default_charge ---------------------------------------------------------------------------


def charges_for(t: Terms, parts: Sequence[int], *, at: datetime = ON_TIME) -> list[Fulfilment]:
    """Deliver ``parts`` one after another, each charged what ``default_charge`` says."""
    done: list[Fulfilment] = []
    for qty in parts:
        done.append(Fulfilment(at=at, what=t.what, quantity=qty, price=default_charge(t, done, qty)))
    return done


@pytest.mark.parametrize(
    ("price", "currency", "qty", "parts", "expected"),
    [
        # Each share is the rounded running total minus the rounded total before it, so rounding never drifts.
        ("100", "EUR", 3, [1, 1, 1], ["33.33", "33.34", "33.33"]),
        ("100", "EUR", 3, [2, 1], ["66.67", "33.33"]),
        ("100", "EUR", 3, [1, 2], ["33.33", "66.67"]),
        ("240", "EUR", 2, [2], ["240.00"]),
        ("0.01", "EUR", 3, [1, 1, 1], ["0.00", "0.01", "0.00"]),
        ("1000", "JPY", 3, [1, 1, 1], ["333", "334", "333"]),
        ("1", "BHD", 3, [1, 1, 1], ["0.333", "0.334", "0.333"]),
        ("0.09", "EUR", 6, [1, 1, 1, 1, 1, 1], ["0.02", "0.01", "0.01", "0.02", "0.02", "0.01"]),
    ],
)
def test_default_charge_splits_pro_rata_and_adds_up_exactly(
    price: str, currency: str, qty: int, parts: list[int], expected: list[str] | None
) -> None:
    t = Terms(what=BOOTS, quantity=qty, price=money(price, currency), due=DUE)
    ds = charges_for(t, parts)
    assert total_charged(ds) == t.price
    if expected is not None:
        assert [d.price for d in ds] == [money(e, currency) for e in expected]
    assert judge(t, ds).status == "kept"


def test_default_charge_without_a_promised_price_is_nothing() -> None:
    assert default_charge(terms(price=None), [], 2) is None


def test_an_excess_delivery_is_charged_the_promised_price() -> None:
    assert default_charge(terms(price="240"), [], 3) == money("240")


def test_the_completing_delivery_never_charges_below_zero() -> None:
    overcharged = [fulfil(ON_TIME, qty=1, price="150")]
    assert default_charge(terms(price="100"), overcharged, 1) == money("0")


def test_the_completing_delivery_ignores_charges_in_another_currency() -> None:
    other = [fulfil(ON_TIME, qty=1, price="50", currency="USD")]
    assert default_charge(terms(price="100"), other, 1) == money("100")


# --- texts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charged", "promised", "text"),
    [
        (money("250"), money("240"), "price €250.00 vs €240.00 promised (+€10.00)"),
        (money("230"), money("240"), "price €230.00 vs €240.00 promised (-€10.00)"),
        (money("240", "USD"), money("240"), "price $240.00 vs €240.00 promised (another currency)"),
        (None, money("240"), "price: nothing charged vs €240.00 promised"),
        (money("5"), None, "price"),
    ],
)
def test_price_text(charged: Money | None, promised: Money | None, text: str) -> None:
    assert price_text(charged, promised) == text


@pytest.mark.parametrize(
    ("deviation", "text"),
    [
        (Deviation(DeviationKind.late, late_seconds=2 * 86400 + 3 * 3600 + 59), "late by 2 days 3 hours"),
        (Deviation(DeviationKind.late, late_seconds=1), "late by less than a minute"),
        (
            Deviation(
                DeviationKind.substituted, promised_what="boots size 38", delivered_what="boots size 39"
            ),
            'substituted "boots size 39" for "boots size 38"',
        ),
        (
            Deviation(DeviationKind.price, promised_price=money("240"), charged=money("250")),
            "price €250.00 vs €240.00 promised (+€10.00)",
        ),
        (
            Deviation(DeviationKind.short, promised_quantity=3, delivered_quantity=2),
            "short: 2 of 3 delivered",
        ),
        (
            Deviation(DeviationKind.excess, promised_quantity=2, delivered_quantity=3),
            "excess: 3 delivered, 2 promised",
        ),
    ],
)
def test_deviation_text(deviation: Deviation, text: str) -> None:
    assert deviation_text(deviation) == text


@pytest.mark.parametrize(
    ("deliveries", "closed", "text"),
    [
        ([fulfil(ON_TIME)], True, "kept"),
        ([], False, "open"),
        (
            [fulfil(local(27, 3, 0, 1), what="boots size 39", price="250")],
            True,
            'late by 2 days 3 hours; substituted "boots size 39" for "Hiking boots"; '
            "price €250.00 vs €240.00 promised (+€10.00)",
        ),
    ],
)
def test_verdict_text(deliveries: list[Fulfilment], closed: bool, text: str) -> None:
    assert verdict_text(judge(terms(), deliveries, closed=closed)) == text


# --- properties ---------------------------------------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None)
CURRENCIES = ("EUR", "USD", "JPY", "BHD")
ZONES = (TZ, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo"), UTC)


@st.composite
def splits(draw: st.DrawFn, max_quantity: int = 40, max_parts: int | None = None) -> tuple[int, list[int]]:
    """A promised quantity and a partition of it into delivered parts, in order."""
    quantity = draw(st.integers(1, max_quantity))
    limit = quantity - 1 if max_parts is None else min(quantity - 1, max_parts - 1)
    cuts = sorted(draw(st.sets(st.integers(1, quantity - 1), max_size=limit))) if quantity > 1 else []
    bounds = [0, *cuts, quantity]
    return quantity, [b - a for a, b in pairwise(bounds)]


prices = st.sampled_from(CURRENCIES).flatmap(
    lambda c: st.integers(0, 10**9).map(lambda minor: Money.from_minor(minor, c))
)
moments = st.builds(
    lambda us, zone: (NOW + timedelta(microseconds=us)).astimezone(zone),
    st.integers(-90 * 86400 * 10**6, 90 * 86400 * 10**6),
    st.sampled_from(ZONES),
)
items = st.sampled_from(["Hiking boots", "hiking  BOOTS", "Trail shoes", ""]) | st.text(max_size=12)


def _as_promised_on_time(t: Terms, parts: list[int]) -> None:
    ds = charges_for(t, parts, at=t.due - timedelta(hours=1))
    assert closes(t, ds)
    outcome = judge(t, ds, now=t.due + timedelta(days=10))
    assert outcome.status == "kept"
    assert outcome.deviations == ()
    assert outcome.delivered_quantity == t.quantity
    assert outcome.charged == t.price


@PROPERTY
@given(split=splits(max_parts=2), price=st.none() | prices, due=moments)
def test_delivered_as_promised_on_time_in_one_or_two_parts_is_kept_at_the_promised_price(
    split: tuple[int, list[int]], price: Money | None, due: datetime
) -> None:
    quantity, parts = split
    _as_promised_on_time(Terms(what=BOOTS, quantity=quantity, price=price, due=due), parts)


@PROPERTY
@given(split=splits(), price=st.none() | prices, due=moments)
@example(split=(6, [1, 1, 1, 1, 1, 1]), price=money("0.09"), due=DUE)
def test_delivered_as_promised_on_time_in_any_parts_is_kept_at_the_promised_price(
    split: tuple[int, list[int]], price: Money | None, due: datetime
) -> None:
    quantity, parts = split
    _as_promised_on_time(Terms(what=BOOTS, quantity=quantity, price=price, due=due), parts)


@PROPERTY
@given(
    what=items,
    quantity=st.integers(1, 10**6),
    price=st.none() | prices,
    due=moments,
    deliveries=st.lists(
        st.builds(
            Fulfilment, at=moments, what=items, quantity=st.integers(1, 10**6), price=st.none() | prices
        ),
        max_size=5,
    ),
    now=moments,
    closed_at=st.none() | moments,
    cancelled=st.booleans(),
)
def test_assess_never_raises_and_speaks_only_the_contract_words(
    what: str,
    quantity: int,
    price: Money | None,
    due: datetime,
    deliveries: list[Fulfilment],
    now: datetime,
    closed_at: datetime | None,
    cancelled: bool,
) -> None:
    t = Terms(what=what, quantity=quantity, price=price, due=due)
    outcome = assess(t, deliveries, now=now, closed_at=closed_at, cancelled=cancelled)
    kinds = outcome.deviation_kinds
    assert outcome.status in tuple(Status)
    assert set(kinds) <= set(DeviationKind)
    assert len(set(kinds)) == len(kinds)
    assert not {"short", "excess"} <= set(kinds)
    assert outcome.delivered_quantity == sum(d.quantity for d in deliveries)
    assert ("late" in kinds) is (outcome.late_by_seconds is not None)
    if cancelled:
        assert outcome.status == "cancelled"
    elif closed_at is None:
        assert outcome.status == ("overdue" if now > due else "open")
        assert outcome.fulfilled_at is None
    else:
        assert outcome.status == ("deviated" if kinds else "kept")
    if price is None:
        assert "price" not in kinds
    assert isinstance(verdict_text(outcome), str)
    assert verdict_text(outcome)
    for d in outcome.deviations:
        assert deviation_text(d)


# --- pickup readiness (rules.assess ready_at=) ---------------------------------------------------------

DUE_NOON = local(24, 12)  # Tue 24 Nov 12:00


def as_promised(at: datetime) -> list[Fulfilment]:
    return [fulfil(at, qty=2, price="240.00")]


@pytest.mark.parametrize(
    ("case", "ready", "collected", "now", "status", "late_by"),
    [
        ("ready before the due, collected a week later", local(23), local(30), local(30), "kept", None),
        ("ready at the due moment, collected later", DUE_NOON, local(26), local(26), "kept", None),
        (
            "ready a second after the due",
            DUE_NOON + timedelta(seconds=1),
            local(26),
            local(26),
            "deviated",
            1,
        ),
        (
            "ready a microsecond after the due is late by 1 s",
            DUE_NOON + timedelta(microseconds=1),
            local(26),
            local(26),
            "deviated",
            1,
        ),
        (
            "ready 5 h late, collected days later: late by ready − due",
            local(24, 17),
            local(28),
            local(28),
            "deviated",
            5 * 3600,
        ),
        (
            "ready, not collected, long past due: open, never overdue",
            local(23),
            None,
            local(30),
            "open",
            None,
        ),
        ("ready late, not collected: open, already late", local(25, 12), None, local(30), "open", 86400),
        ("not ready, past due: overdue", None, None, local(25), "overdue", None),
        (
            "not ready, collected late: late by collection − due",
            None,
            local(24, 14),
            local(25),
            "deviated",
            2 * 3600,
        ),
        (
            "collected before it was marked ready: the earlier counts",
            local(26),
            local(24, 13),
            local(27),
            "deviated",
            3600,
        ),
    ],
)
def test_a_pickup_is_judged_by_when_it_was_ready(
    case: str,
    ready: datetime | None,
    collected: datetime | None,
    now: datetime,
    status: str,
    late_by: int | None,
) -> None:
    t = terms(due=DUE_NOON)
    ds = as_promised(collected) if collected is not None else []
    outcome = assess(t, ds, now=now, closed_at=collected, ready_at=ready)
    assert outcome.status == status, case
    assert outcome.late_by_seconds == late_by, case
    assert ("late" in outcome.deviation_kinds) is (late_by is not None), case


def test_a_cancelled_pickup_is_cancelled_whenever_it_was_ready() -> None:
    outcome = assess(terms(due=DUE_NOON), [], now=local(30), cancelled=True, ready_at=local(23))
    assert outcome.status == "cancelled"


@PROPERTY
@given(due=moments, early=st.integers(0, 30 * 86400), wait=st.integers(0, 60 * 86400), split=splits())
def test_ready_by_the_due_is_kept_however_late_it_is_collected(
    due: datetime, early: int, wait: int, split: tuple[int, list[int]]
) -> None:
    quantity, parts = split
    t = Terms(what=BOOTS, quantity=quantity, price=None, due=due)
    ready = due - timedelta(seconds=early)
    collected = ready + timedelta(seconds=wait)
    ds = [Fulfilment(at=collected, what=BOOTS, quantity=q, price=None) for q in parts]
    waiting = assess(t, [], now=collected, ready_at=ready)
    assert (waiting.status, waiting.deviations) == ("open", ())
    outcome = assess(t, ds, now=collected + timedelta(days=1), closed_at=collected, ready_at=ready)
    assert (outcome.status, outcome.late_by_seconds) == ("kept", None)


@PROPERTY
@given(due=moments, late=st.integers(1, 30 * 86400 * 10**6), wait=st.integers(0, 60 * 86400 * 10**6))
def test_ready_late_is_late_by_ready_minus_due_whenever_it_is_collected(
    due: datetime, late: int, wait: int
) -> None:
    ready = due + timedelta(microseconds=late)
    collected = ready + timedelta(microseconds=wait)
    t = Terms(what=BOOTS, quantity=1, price=None, due=due)
    ds = [Fulfilment(at=collected, what=BOOTS, quantity=1, price=None)]
    outcome = assess(t, ds, now=collected, closed_at=collected, ready_at=ready)
    assert outcome.status == "deviated"
    assert outcome.late_by_seconds == max(1, int((ready - due).total_seconds()))
    assert outcome.deviation_kinds == ("late",)


# --- at risk (rules.risk) --------------------------------------------------------------------------------

RISK_DUE = local(26, 18)  # Thu 26 Nov 18:00
LATEST = local(25, 18)  # the due less a margin of 1bd
NEEDED = local(23, 18)  # the due less no_eta_warn 3bd


def order(
    oid: int = 1, eta: datetime | None = local(25), qty: int = 2, received: int = 0, supplier: str = "Alpine"
) -> Supply:
    return Supply(id=oid, supplier=supplier, eta=eta, quantity=qty, received_quantity=received)


@pytest.mark.parametrize(
    ("case", "orders", "now", "kind", "order_id"),
    [
        ("no order", [], NOW, None, None),
        ("ETA in time", [order(eta=local(24))], NOW, None, None),
        ("ETA exactly at the latest moment", [order(eta=LATEST)], NOW, None, None),
        (
            "ETA a microsecond after the latest moment",
            [order(eta=LATEST + timedelta(microseconds=1))],
            NOW,
            RiskKind.eta_late,
            1,
        ),
        ("ETA after the due", [order(eta=local(30))], NOW, RiskKind.eta_late, 1),
        ("no ETA, far from the due", [order(eta=None)], NOW, None, None),
        (
            "no ETA, just before the warning starts",
            [order(eta=None)],
            NEEDED - timedelta(microseconds=1),
            None,
            None,
        ),
        ("no ETA, from the warning on", [order(eta=None)], NEEDED, RiskKind.no_eta, 1),
        (
            "the ETA has passed and it has not all arrived",
            [order(eta=local(22, 9))],
            NOW,
            RiskKind.order_overdue,
            1,
        ),
        (
            "part arrived: still overdue",
            [order(eta=local(22, 9), received=1)],
            NOW,
            RiskKind.order_overdue,
            1,
        ),
        ("all arrived: no risk, whatever its ETA", [order(eta=local(30), received=2)], NOW, None, None),
        ("more arrived than ordered: no risk", [order(eta=None, received=3)], local(26), None, None),
        (
            "overdue is graver than a late ETA",
            [order(1, eta=local(30)), order(2, eta=local(22, 9))],
            NOW,
            RiskKind.order_overdue,
            2,
        ),
        (
            "a late ETA is graver than none",
            [order(1, eta=None), order(2, eta=local(30))],
            local(24),
            RiskKind.eta_late,
            2,
        ),
        (
            "among orders alike, the lowest id",
            [order(3, eta=local(29)), order(2, eta=local(30))],
            NOW,
            RiskKind.eta_late,
            2,
        ),
        (
            "one order fine, one late",
            [order(1, eta=local(24)), order(2, eta=local(27))],
            NOW,
            RiskKind.eta_late,
            2,
        ),
    ],
)
def test_risk(
    case: str, orders: list[Supply], now: datetime, kind: RiskKind | None, order_id: int | None
) -> None:
    found = risk(RISK_DUE, orders, now=now, latest_eta=LATEST, eta_needed_from=NEEDED)
    if kind is None:
        assert found is None, case
        return
    assert found is not None, case
    assert (found.kind, found.order_id, found.due) == (kind, order_id, RISK_DUE), case
    chosen = next(o for o in orders if o.id == order_id)
    assert (found.supplier, found.eta) == (chosen.supplier, chosen.eta), case


def test_risk_compares_instants_not_wall_clocks() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    just_in_time = [order(eta=LATEST.astimezone(tokyo))]
    assert (
        risk(RISK_DUE, just_in_time, now=NOW.astimezone(UTC), latest_eta=LATEST, eta_needed_from=NEEDED)
        is None
    )
    a_second_late = [order(eta=(LATEST + timedelta(seconds=1)).astimezone(tokyo))]
    found = risk(RISK_DUE.astimezone(UTC), a_second_late, now=NOW, latest_eta=LATEST, eta_needed_from=NEEDED)
    assert found is not None
    assert found.kind == RiskKind.eta_late


supplies = st.builds(
    Supply,
    id=st.integers(1, 50),
    supplier=st.sampled_from(["Alpine", "Lacy"]),
    eta=st.none() | moments,
    quantity=st.integers(1, 5),
    received_quantity=st.integers(0, 6),
)


@PROPERTY
@given(
    due=moments,
    orders=st.lists(supplies, max_size=5),
    now=moments,
    margin=st.integers(0, 10 * 86400),
    warn=st.integers(0, 10 * 86400),
)
def test_risk_is_a_pending_order_with_a_reason_that_holds(
    due: datetime, orders: list[Supply], now: datetime, margin: int, warn: int
) -> None:
    latest, needed = due - timedelta(seconds=margin), due - timedelta(seconds=warn)
    found = risk(due, orders, now=now, latest_eta=latest, eta_needed_from=needed)
    pending = [o for o in orders if o.received_quantity < o.quantity]
    if found is None:
        for o in pending:  # no pending order has any reason
            assert o.eta is None or now <= o.eta <= latest
            assert o.eta is not None or now < needed
        return
    chosen = [o for o in pending if o.id == found.order_id]
    assert chosen
    if found.kind == RiskKind.order_overdue:
        assert any(o.eta is not None and o.eta < now for o in chosen)
    elif found.kind == RiskKind.eta_late:
        assert not any(o.eta is not None and o.eta < now for o in pending)
        assert any(o.eta is not None and o.eta > latest for o in chosen)
    else:
        assert found.kind == RiskKind.no_eta
        assert now >= needed
        assert any(o.eta is None for o in chosen)
        assert not any(o.eta is not None and (o.eta < now or o.eta > latest) for o in pending)


# --- balance ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "deposit", "charged", "owed"),
    [
        (money("240"), money("50"), None, money("190")),
        (money("240"), money("50"), money("120"), money("70")),
        (money("240"), money("240"), None, money("0")),
        (money("240"), money("50"), money("250"), money("0")),  # never below zero
        (money("240"), None, None, money("240")),
        (None, money("50"), None, None),
        (money("240"), money("50", "USD"), money("100"), money("140")),  # another currency is not subtracted
        (money("1200", "JPY"), money("200", "JPY"), None, money("1000", "JPY")),
    ],
)
def test_balance(
    price: Money | None, deposit: Money | None, charged: Money | None, owed: Money | None
) -> None:
    assert balance(price, deposit, charged) == owed


@PROPERTY
@given(price=prices, deposit=st.integers(0, 10**9), charged=st.integers(0, 10**9))
def test_balance_is_what_is_left_and_never_negative(price: Money, deposit: int, charged: int) -> None:
    paid = [Money.from_minor(deposit, price.currency), Money.from_minor(charged, price.currency)]
    owed = balance(price, *paid)
    assert owed is not None
    assert owed.currency == price.currency
    assert owed.minor == max(price.minor - deposit - charged, 0)
