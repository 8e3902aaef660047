"""The store's search (``list_promises(search=…)``), due ranges, partial customer names and the names and
ids offered to a prompt or a completion, on each engine (docs/reference.md, "promise list" and "find")."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.errors import BadInput, NotFound
from promisekeeper.store.queries import fold
from promisekeeper.views import Kind
from promisekeeper.when import Clock, Due, end_of_day


def due_in(clock: Clock, days: int) -> Due:
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


@pytest.fixture
def book(db: Database, clock: Clock) -> Database:
    """#1 Müller's boots, #2 Anna's tent with a note, #3 a call by Zoë, #4 a tagged gift."""
    rows: list[dict[str, Any]] = [
        {"what": "Hiking boots", "customer": "Jürgen Müller", "due": due_in(clock, 2)},
        {"what": "Tent", "customer": "Anna Smith", "due": due_in(clock, 5), "note": "Ask Mr MÜLLER first"},
        {"what": "Call about the stove", "customer": "Ben", "due": due_in(clock, 1), "staff": "Zoë"},
        {"what": "Crème brûlée set", "customer": "Anna Schmidt", "due": due_in(clock, 9), "tags": ["Gift"]},
    ]
    with db.session() as s:
        for row in rows:
            store.add_promise(s, clock=clock, kind=Kind.delivery, **row)
    return db


def ids(db: Database, clock: Clock, **filters: Any) -> list[int]:
    with db.session(write=False) as s:
        return [v.id for v in store.list_promises(s, clock=clock, **filters)]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Müller", "muller"),
        ("MULLER", "muller"),
        ("Crème  Brûlée", "creme brulee"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("Zoë", "zoe"),
        ("ﬁne", "fine"),  # a ligature, by NFKD
        ("Ångström", "angstrom"),
    ],
)
def test_fold_drops_accents_case_and_extra_space(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("muller", [1, 2]),  # the customer's name, and a note naming him in capitals
        ("MÜLLER", [1, 2]),
        ("mueller", []),  # a transliteration is another word
        ("zoe", [3]),  # the staff
        ("gift", [4]),  # a tag
        ("creme brulee", [4]),  # every word, anywhere
        ("boots muller", [1]),
        ("boots anna", []),
        ("anna", [2, 4]),
    ],
)
def test_search_is_case_and_accent_insensitive(
    book: Database, clock: Clock, search: str, expected: list[int]
) -> None:
    assert ids(book, clock, search=search) == expected


def test_search_combines_with_the_other_filters_and_orders(book: Database, clock: Clock) -> None:
    assert ids(book, clock, search="anna", customer="Anna Smith") == [2]
    assert ids(book, clock, search="e") == [3, 1, 2, 4]  # by due
    assert ids(book, clock, search="e", newest_first=True) == [4, 3, 2, 1]
    assert ids(book, clock, newest_first=True) == [4, 3, 2, 1]


@pytest.mark.parametrize("search", ["", "   "])
def test_an_empty_search_is_bad_input(book: Database, clock: Clock, search: str) -> None:
    with pytest.raises(BadInput, match="search is empty"):
        ids(book, clock, search=search)


def test_a_control_character_in_a_search_is_bad_input(book: Database, clock: Clock) -> None:
    with pytest.raises(BadInput, match="control character"):
        ids(book, clock, search="boots\x1b[2J")


def test_due_bounds_are_exclusive(book: Database, clock: Clock) -> None:
    day2 = due_in(clock, 2).moment
    assert ids(book, clock, due_before=day2) == [3]
    assert ids(book, clock, due_after=day2) == [2, 4]
    assert ids(book, clock, due_after=due_in(clock, 1).moment, due_before=due_in(clock, 6).moment) == [1, 2]


def test_customer_exact_name_first_then_part_of_a_name(book: Database, clock: Clock, db: Database) -> None:
    assert ids(book, clock, customer="anna  smith") == [2]  # exactly her, any case and spacing
    assert ids(book, clock, customer="anna") == [2, 4]  # no one is called just Anna: both Annas
    assert ids(book, clock, customer="muller") == [1]  # part of a name, accents ignored
    with db.session() as s:  # a customer called exactly "Anna" is now meant by "anna"
        store.add_promise(s, clock=clock, what="Socks", due=due_in(clock, 3), customer="Anna")
    assert ids(book, clock, customer="anna") == [5]


def test_a_customer_nobody_is_called_is_not_found(book: Database, clock: Clock) -> None:
    with pytest.raises(NotFound, match="nobody"):
        ids(book, clock, customer="nobody")


def test_many_customers_matching_a_part_are_filtered_without_a_huge_in_list(
    db: Database, clock: Clock
) -> None:
    with db.session() as s:
        for n in range(520):
            store.add_promise(
                s, clock=clock, what=f"Item {n}", due=due_in(clock, 1), customer=f"Shopper {n:03}"
            )
        store.add_promise(s, clock=clock, what="Other", due=due_in(clock, 1), customer="Ben")
    assert len(ids(db, clock, customer="shopper")) == 520
    assert ids(db, clock, customer="shopper", search="item 519") == [520]


def test_customer_names_offer_the_latest_then_the_like(book: Database, clock: Clock) -> None:
    with book.session(write=False) as s:
        assert store.customer_names(s) == ["Anna Schmidt", "Ben", "Anna Smith", "Jürgen Müller"]
        assert store.customer_names(s, limit=2) == ["Anna Schmidt", "Ben"]
        assert store.customer_names(s, near="anna") == ["Anna Schmidt", "Anna Smith"]
        assert store.customer_names(s, near="juergen") == []
        assert store.customer_names(s, near="Anna Smtih") == ["Anna Smith"]  # a slip of two letters


def test_open_promises_and_staff_for_completion(book: Database, clock: Clock) -> None:
    with book.session() as s:
        store.cancel(s, clock=clock, promise_id=2, reason="Bought elsewhere")
    with book.session(write=False) as s:
        assert store.open_promises(s) == [
            (3, "Call about the stove"),
            (1, "Hiking boots"),
            (4, "Crème brûlée set"),
        ]
        assert store.open_promises(s, prefix="4") == [(4, "Crème brûlée set")]
        assert store.staff_names(s) == ["Zoë"]
        assert store.staff_names(s, prefix="zo") == ["Zoë"]
        assert store.staff_names(s, prefix="x") == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("100%", [1]),  # LIKE's wildcards are searched for as they are
        ("a_b", [2]),
        ("back\\slash", [3]),
        ("cafe", [4]),  # accented text is decided by Python, past the database's ASCII-only filter
        ("ÆRØ", [5]),  # no decomposition: Æ stays æ, Ø stays ø
    ],
)
def test_characters_the_database_filter_must_not_misread(
    db: Database, clock: Clock, search: str, expected: list[int]
) -> None:
    with db.session() as s:
        for what in (
            "Discount 100%",
            "Part a_b",
            "back\\slash",
            "Café crème",
            "Ærø ferry tickets",
            "100 pegs axb",
        ):
            store.add_promise(s, clock=clock, what=what, due=due_in(clock, 1))
    assert ids(db, clock, search=search) == expected


def test_a_customer_or_tag_beyond_ascii_is_found_by_its_plain_letters(db: Database, clock: Clock) -> None:
    with db.session() as s:
        store.add_promise(s, clock=clock, what="Boots", due=due_in(clock, 1), customer="Zoë Ørsted")
        store.add_promise(s, clock=clock, what="Tent", due=due_in(clock, 1), tags=["Geschenk für Oma"])
        store.add_promise(s, clock=clock, what="Stove", due=due_in(clock, 1), customer="Zoe Plain")
    assert ids(db, clock, search="zoe") == [1, 3]
    assert ids(db, clock, search="fur oma") == [2]
    assert ids(db, clock, search="boots zoe") == [1]


# --- at risk, ready for pickup, and who was warned (issue 14) -----------------------------------------


def later(clock: Clock, **delta: float) -> Clock:
    return replace(clock, now=clock.now + timedelta(**delta))


@pytest.fixture
def supplied(db: Database, clock: Clock) -> Database:
    """Sunday 22 Nov: #1 boots due Fri 27 waiting for S1 (ETA Wed 25: in time), #2 a tent due today,
    #3 a stove due Mon 30 waiting for S2 (no ETA yet: at risk from Wed 25, 3bd before), #4 a lamp due
    Thu 26 (no order)."""
    with db.session() as s:
        boots = store.add_promise(s, clock=clock, what="Hiking boots", due=due_in(clock, 5), customer="Anna")
        store.add_promise(s, clock=clock, what="Tent", due=due_in(clock, 0), customer="Ben")
        stove = store.add_promise(s, clock=clock, what="Stove", due=due_in(clock, 8), customer="Cem")
        store.add_promise(s, clock=clock, what="Lamp", due=due_in(clock, 4), customer="Dora")
        store.place_order(
            s, clock=clock, supplier="Meindl", what="Boots", eta=due_in(clock, 3), for_ids=[boots]
        )
        store.place_order(s, clock=clock, supplier="Primus", what="Stove", for_ids=[stove])
    return db


def report_ids(db: Database, clock: Clock, **kw: Any) -> dict[str, list[int]]:
    with db.session(write=False) as s:
        r = store.due_report(s, clock=clock, **kw)
    sections = {"overdue": r.overdue, "at_risk": r.at_risk, "due_soon": r.due_soon, "due": r.due}
    return {name: [p.id for p in promises] for name, promises in {**sections, "ready": r.ready}.items()}


def check_ids(db: Database, clock: Clock, **kw: Any) -> list[int]:
    with db.session(write=False) as s:
        return [p.id for p in store.check(s, clock=clock, **kw)]


def test_an_eta_slip_puts_a_promise_at_risk_in_one_section_only(supplied: Database, clock: Clock) -> None:
    week = {"until": end_of_day(clock.today + timedelta(days=7), clock.tz)}
    assert report_ids(supplied, clock, **week)["at_risk"] == []
    monday = later(clock, days=1)
    with supplied.session() as s:
        store.change_eta(s, clock=monday, order_id=1, eta=due_in(clock, 6))  # Sat 28: after Fri 27
    found = report_ids(supplied, monday, **week)
    assert found == {"overdue": [2], "at_risk": [1], "due_soon": [], "due": [4], "ready": []}
    with supplied.session(write=False) as s:
        (risky,) = store.due_report(s, clock=monday).at_risk  # at risk whatever the window
    assert risky.risk is not None
    assert (risky.risk.kind, risky.risk.order_id) == ("eta_late", 1)


def test_an_overdue_promise_at_risk_stays_overdue(supplied: Database, clock: Clock) -> None:
    saturday = later(clock, days=6)
    found = report_ids(supplied, saturday)
    assert (found["overdue"], found["at_risk"]) == ([2, 4, 1], [3])  # S1 is overdue too: boots stay Overdue
    with supplied.session(write=False) as s:
        assert store.view(s, 1, saturday).at_risk
    assert check_ids(supplied, saturday) == [2, 4, 1, 3]  # each once: the broken, then the untold at risk


def test_a_pickup_made_ready_waits_in_its_own_section_and_is_never_overdue(
    supplied: Database, clock: Clock
) -> None:
    with supplied.session() as s:
        store.mark_ready(s, clock=later(clock, hours=1), promise_id=2)
    found = report_ids(supplied, later(clock, days=3))
    assert found["ready"] == [2]
    assert 2 not in found["overdue"]
    assert 2 not in check_ids(supplied, later(clock, days=3))
    with supplied.session() as s:
        store.receive(s, clock=later(clock, days=1), order_id=1)  # the boots arrived: ready too
    assert report_ids(supplied, later(clock, days=3))["ready"] == [2, 1]  # longest waiting first


def test_check_lists_an_at_risk_promise_until_a_notice_since_the_risk_appeared(
    supplied: Database, clock: Clock
) -> None:
    assert check_ids(supplied, clock) == []
    monday = later(clock, days=1)
    with supplied.session() as s:
        store.change_eta(s, clock=monday, order_id=1, eta=due_in(clock, 6))
    assert check_ids(supplied, monday) == [2, 1]
    tuesday = later(clock, days=2)
    with supplied.session() as s:
        view = store.view(s, 1, tuesday)
        store.record_notice(s, clock=tuesday, promise_id=1, risk=view.risk)
    assert check_ids(supplied, tuesday) == [2]
    # The supplier moves the date again: that is news to tell again.
    with supplied.session() as s:
        store.change_eta(s, clock=later(tuesday, hours=1), order_id=1, eta=due_in(clock, 8))
    assert check_ids(supplied, later(tuesday, hours=2)) == [2, 1]


def test_a_risk_that_time_brings_appears_when_its_threshold_passes(supplied: Database, clock: Clock) -> None:
    wednesday, thursday = later(clock, days=3, hours=2), later(clock, days=4)
    with supplied.session() as s:
        store.record_notice(s, clock=wednesday, promise_id=3)  # before the stove was at risk
        store.record_notice(s, clock=wednesday, promise_id=1)  # before S1 (ETA Wed 25) was overdue
    with supplied.session(write=False) as s:
        stove, boots = store.view(s, 3, thursday), store.view(s, 1, thursday)
    assert (stove.risk and stove.risk.kind, boots.risk and boots.risk.kind) == ("no_eta", "order_overdue")
    assert check_ids(supplied, thursday) == [2, 1, 3]  # the tent is overdue; both at risk untold
    with supplied.session() as s:
        store.record_notice(s, clock=thursday, promise_id=3, risk=stove.risk)
    assert 3 not in check_ids(supplied, later(thursday, hours=1))


def test_a_due_moved_earlier_is_a_new_risk(supplied: Database, clock: Clock) -> None:
    with supplied.session() as s:
        store.record_notice(s, clock=clock, promise_id=1)
        store.amend(s, clock=later(clock, hours=1), promise_id=1, due=due_in(clock, 3), reason="Earlier trip")
    assert 1 in check_ids(supplied, later(clock, hours=2))  # ETA Wed 25 no longer leaves the margin


def test_proposed_due_is_the_eta_plus_the_margin(supplied: Database, clock: Clock) -> None:
    with supplied.session() as s:
        store.change_eta(s, clock=clock, order_id=1, eta=due_in(clock, 6))  # Sat 28 Nov
        boots, stove, lamp = (store.view(s, i, clock) for i in (1, 3, 4))
    new = store.proposed_due(boots, clock)
    assert new == Due(end_of_day(clock.today + timedelta(days=8), clock.tz), True)  # Mon 30: 1bd after
    assert store.proposed_due(stove, clock) is None  # no ETA: no date to offer
    assert store.proposed_due(lamp, clock) is None  # not at risk


def test_the_at_risk_list_follows_the_staff_filter(db: Database, clock: Clock) -> None:
    with db.session() as s:
        a = store.add_promise(s, clock=clock, what="Boots", due=due_in(clock, 2), staff="Jo")
        b = store.add_promise(s, clock=clock, what="Tent", due=due_in(clock, 2), staff="Sam")
        store.place_order(s, clock=clock, supplier="X", what="Both", eta=due_in(clock, 5), for_ids=[a, b])
    assert report_ids(db, clock, staff="jo")["at_risk"] == [a]
    assert report_ids(db, clock)["at_risk"] == [a, b]
