"""The store's search (``list_promises(search=…)``), due ranges, partial customer names and the names and
ids offered to a prompt or a completion, on each engine (docs/reference.md, "promise list" and "find")."""

from __future__ import annotations

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
