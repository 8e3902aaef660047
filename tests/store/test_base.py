"""Text as it enters the store (``store.base.clean_text`` / ``optional_text`` / ``clean_tags``): every field
of every write refuses control characters and bidi overrides, naming the field, and writes nothing; a note
alone keeps its line breaks and tabs. On a real database, like every store test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import func, select

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.errors import BadInput
from promisekeeper.models import Customer, Delivery, Event, Promise, Remedy, Tag
from promisekeeper.money import Money
from promisekeeper.store.base import clean_tags, clean_text, optional_text
from promisekeeper.when import Clock, Due, end_of_day

ESC = "\x1b]0;TITLE\x07\x1b[2J\x1b[31mTerm"


def due(clock: Clock, days: int) -> Due:
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


def rows(db: Database) -> dict[str, int]:
    with db.session(write=False) as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Customer, Promise, Delivery, Event, Remedy, Tag)
        }


def add(db: Database, clock: Clock, **kw: Any) -> int:
    with db.session() as s:
        return store.add_promise(s, clock=clock, **{"what": "Boots", "due": due(clock, 2), **kw})


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"what": ESC}, "WHAT"),
        ({"customer": "\x1b[31mX"}, "The customer's name"),
        ({"customer": "Anna\u202eSmith"}, "The customer's name"),
        ({"staff": "Jo\x9b"}, "The staff name"),
        ({"staff": "Jo\tAnn"}, "The staff name"),
        ({"note": "size\x0038"}, "The note"),
        ({"note": "size\u206638"}, "The note"),
        ({"tags": ["ok", "bad\x07"]}, "The tag"),
        ({"what": "Boots\nsize 38"}, "WHAT"),
    ],
)
def test_add_promise_refuses_hostile_text_in_every_field(
    db: Database, clock: Clock, kw: dict[str, Any], field: str
) -> None:
    before = rows(db)
    with pytest.raises(BadInput, match=rf"^{field} contains the") as caught:
        add(db, clock, **kw)
    assert caught.value.exit_code == 2
    assert rows(db) == before


def changes(db: Database, clock: Clock, pid: int) -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    later = Clock(now=clock.now + timedelta(hours=1), tz=clock.tz)
    return [
        ("The delivered WHAT", store.deliver, {"clock": later, "promise_id": pid, "what": "Boots\x1b"}),
        ("The note", store.deliver, {"clock": later, "promise_id": pid, "note": "\x1b[2J"}),
        ("The note", store.done, {"clock": later, "promise_id": pid, "note": "ok\x7f"}),
        ("The reason", store.amend, {"clock": later, "promise_id": pid, "reason": "late\x1b", "what": "X"}),
        ("WHAT", store.amend, {"clock": later, "promise_id": pid, "reason": "asked", "what": "X\u202d"}),
        ("The reason", store.cancel, {"clock": later, "promise_id": pid, "reason": "two\nlines"}),
    ]


@pytest.mark.parametrize("case", range(6))
def test_every_write_to_a_promise_refuses_hostile_text(db: Database, clock: Clock, case: int) -> None:
    pid = add(db, clock, customer="Anna")
    field, write, kw = changes(db, clock, pid)[case]
    before = rows(db)
    with pytest.raises(BadInput, match=rf"^{field} contains the"), db.session() as s:
        write(s, **kw)
    assert rows(db) == before
    with db.session(write=False) as s:
        assert store.view(s, pid, clock).status == "open"


@pytest.mark.parametrize(
    ("kw", "field"), [({"action": "Refunded\x1b"}, "The action"), ({"prevent": "\u2067x"}, "The prevention")]
)
def test_a_remedy_refuses_hostile_text(db: Database, clock: Clock, kw: dict[str, Any], field: str) -> None:
    pid = add(db, clock, due=due(clock, -1))
    before = rows(db)
    with pytest.raises(BadInput, match=rf"^{field} contains the"), db.session() as s:
        store.remedy(s, clock=clock, promise_id=pid, **{"action": "Refunded", **kw})
    assert rows(db) == before


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "\x1b[31mX"}, "The customer's name"),
        ({"email": "anna@example.com\x00"}, "The email address"),
        ({"phone": "+49 30\x1b 1234"}, "The phone number"),
        ({"note": "\x1b[2J"}, "The note"),
    ],
)
def test_a_customer_refuses_hostile_text(db: Database, clock: Clock, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(BadInput, match=rf"^{field} contains the"), db.session() as s:
        store.add_customer(s, clock=clock, **{"name": "Anna", **kw})
    assert rows(db)["Customer"] == 0


def test_a_note_keeps_its_lines_and_tabs_and_other_text_is_tidied(db: Database, clock: Clock) -> None:
    pid = add(
        db,
        clock,
        what="  Hiking   boots ",
        customer=" Anna   Smith ",
        staff=" Jo ",
        note=" size 38\r\n\twide fit ",
        tags=[" sale ", "sale", "", "Größe 38"],
        price=Money(Decimal("240"), "EUR"),
    )
    with db.session(write=False) as s:
        p = store.view(s, pid, clock)
    assert (p.what, p.customer, p.staff, p.note) == (
        "Hiking boots",
        "Anna Smith",
        "Jo",
        "size 38\n\twide fit",
    )
    assert p.tags == ("Größe 38", "sale")


@pytest.mark.parametrize(
    ("call", "result"),
    [
        (lambda: clean_text(" a  b ", "X"), "a b"),
        (lambda: clean_text("a\r\nb", "X", multiline=True), "a\nb"),
        (lambda: optional_text("  ", "X"), None),
        (lambda: optional_text(None, "X"), None),
        (lambda: optional_text(" a\tb ", "X", multiline=True), "a\tb"),
        (lambda: clean_tags([" a", "a ", " ", "b"]), ("a", "b")),
    ],
)
def test_the_cleaning_helpers(call: Callable[[], object], result: object) -> None:
    assert call() == result


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: clean_text("a\x1bb", "X", line=4), "X on line 4 contains the control character U+001B"),
        (lambda: optional_text("a\nb", "X"), "only a note may hold line breaks"),
        (lambda: optional_text("a\rb", "X", multiline=True), "U+000D"),
        (lambda: clean_tags(["a\tb"]), "The tag contains the control character U+0009"),
        (lambda: clean_text("  ", "X", "say it"), "X is empty; say it."),
    ],
)
def test_the_cleaning_helpers_refuse(call: Callable[[], object], message: str) -> None:
    with pytest.raises(BadInput, match=message.replace("+", r"\+")):
        call()
