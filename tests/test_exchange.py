"""Export and import through ``exchange`` on real databases: JSON reproduces everything exactly, CSV rows
become promises judged by the rules, and every fault in a file is one sentence naming its line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from promisekeeper import exchange, render, store, words
from promisekeeper.db import Database
from promisekeeper.errors import BadInput
from promisekeeper.money import Money
from promisekeeper.store import Session, bulk
from promisekeeper.views import PROMISE_FIELDS, Consent, Handover, Kind, PromiseView
from promisekeeper.when import Clock, Due, end_of_day
from tests.conftest import SQL, postgres_schema, postgres_url

HEADER = ",".join(exchange.CSV_COLUMNS)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def later(clock: Clock, **delta: float) -> Clock:
    return replace(clock, now=clock.now + timedelta(**delta))


def day(clock: Clock, days: int) -> Due:
    return Due(end_of_day(clock.today + timedelta(days=days), clock.tz), date_only=True)


def moment(clock: Clock, days: int, hour: int) -> Due:
    return Due(datetime.combine(clock.today + timedelta(days=days), time(hour), tzinfo=clock.tz), False)


def fill(db: Database, clock: Clock) -> None:
    """A week of a shop: partial and late deliveries, follow-ups, a substitution and its remedy, a callback,
    a renegotiation, a cancellation, another currency, a forgotten customer and a mailed report."""
    t0 = later(clock, days=-6)
    with db.session() as s:
        store.add_customer(s, clock=t0, name="Anna Smith", email="anna@example.com", phone="+49 30 1234")
        boots = store.add_promise(
            s,
            clock=t0,
            what="Hiking boots",
            quantity=2,
            price=eur("240"),
            due=day(t0, 2),
            customer="anna smith",
            staff="Jo",
            tags=["boots", "urgent"],
            note="size 38",
        )
        store.deliver(s, clock=later(t0, days=1), promise_id=boots, quantity=1)
        store.deliver(
            s, clock=later(t0, days=3), promise_id=boots, price=eur("130"), followup_after=("2d", "30d")
        )
        jacket = store.add_promise(
            s, clock=t0, what="Rain jacket M", price=eur("180"), due=day(t0, 1), customer="Ben"
        )
        store.deliver(s, clock=later(t0, hours=5), promise_id=jacket, what="Rain jacket L")
        store.remedy(
            s, clock=later(t0, days=1), promise_id=jacket, action="Exchanged it", prevent="Check labels"
        )
        call = store.add_promise(
            s, clock=t0, what="Call back about bindings", kind=Kind.callback, due=moment(t0, 0, 16)
        )
        store.done(s, clock=later(t0, hours=3), promise_id=call, note="Spoke to Ben")
        tent = store.add_promise(s, clock=t0, what="Tent", price=eur("300"), due=day(t0, 3), customer="Carl")
        store.amend(s, clock=later(t0, days=2), promise_id=tent, due=day(t0, 9), reason="Supplier delay")
        gone = store.add_promise(s, clock=t0, what="Stove", due=day(t0, 4), customer="Dora")
        store.cancel(s, clock=later(t0, days=1), promise_id=gone, reason="Bought elsewhere")
        store.add_promise(
            s, clock=t0, what="Knife", price=Money(Decimal("1200"), "JPY"), due=day(t0, 1), customer="Emi"
        )
        store.add_promise(s, clock=t0, what="Sleeping bag", due=day(t0, 8), customer="Finn", tags=["sale"])
        store.forget_customer(s, clock=later(t0, days=2), name="Finn")
        store.record_sent(
            s,
            at=later(t0, days=5).now,
            recipients=["owner@example.com"],
            subject="Promises due",
            overdue=[4],
            due=[],
        )
        fill_supply(s, t0)


def fill_supply(s: Session, t0: Clock) -> None:
    """Schema 4: a customer's language and consent, pickups and deliveries, a deposit, a supply order that
    puts a promise at risk, and one that arrived and made a pickup ready."""
    store.add_customer(
        s, clock=t0, name="Gita", email="gita@example.com", language="de", consent=Consent.email
    )
    boots = store.add_promise(
        s,
        clock=t0,
        what="Touring boots",
        price=eur("200"),
        deposit=eur("50"),
        handover=Handover.pickup,
        due=day(t0, 7),
        customer="Gita",
    )
    store.place_order(s, clock=t0, supplier="Alpina", what="Touring boots", eta=day(t0, 12), for_ids=[boots])
    gloves = store.add_promise(
        s, clock=t0, what="Gloves", price=eur("30"), due=day(t0, 8), customer="Gita", handover=Handover.pickup
    )
    order = store.place_order(s, clock=t0, supplier="Roeckl", what="Gloves", eta=day(t0, 2), for_ids=[gloves])
    store.receive(s, clock=later(t0, days=2), order_id=order.id)
    store.add_promise(
        s, clock=t0, what="Tent pegs", due=day(t0, 9), customer="Gita", handover=Handover.delivery
    )


def export_json(db: Database, clock: Clock) -> str:
    out = io.StringIO()
    with db.session(write=False) as s:
        exchange.export(s, "json", out, clock=clock, tz=clock.tz, shop="Test shop")
    return out.getvalue()


def import_bytes(db: Database, data: bytes, clock: Clock, *, source: str = "in.csv", **kw: Any) -> Any:
    plan = exchange.read_import(data, source=source, fmt=None, clock=clock, currency="EUR", **kw)
    with db.session() as s:
        return exchange.write_import(s, plan, clock=clock)


def views(db: Database, clock: Clock) -> list[PromiseView]:
    with db.session(write=False) as s:
        ids = [p.id for p in store.list_promises(s, clock=clock)]
        return [store.view(s, pid, clock, detail=True) for pid in ids]


@pytest.fixture
def other_db(engine: str, tmp_path: Path) -> Iterator[Database]:
    """A second, empty database on the same engine as ``db``."""
    if engine == "sqlite":
        yield Database(str(tmp_path / "other.db"))
        return
    with postgres_schema(postgres_url()) as url:
        yield Database(url)


# --- JSON ------------------------------------------------------------------------------------------


def test_json_round_trip_reproduces_everything(db: Database, other_db: Database, clock: Clock) -> None:
    fill(db, clock)
    first = export_json(db, clock)
    result = import_bytes(other_db, first.encode(), clock, source="export.json")
    assert (result.promises, result.written) == (len(views(db, clock)), True)
    assert views(other_db, clock) == views(db, clock)
    assert export_json(other_db, clock) == first
    doc = json.loads(first)
    assert doc["format"] == "promisekeeper"
    assert doc["version"] == exchange.FORMAT_VERSION == 2
    for key in (
        *("customers", "promises", "deliveries", "history", "remedies", "supply_orders", "supply_links"),
        *("sent_reports", "sent_items"),
    ):
        assert doc[key], f"{key} is missing or empty"
    assert {"language": "de", "consent": "email"}.items() <= doc["customers"][-1].items()
    assert any(e["order_id"] for e in doc["history"])
    assert {(p["handover"], p["deposit_minor"]) for p in doc["promises"]} >= {
        ("pickup", 5000),
        ("delivery", None),
    }
    assert any(p["ready_at"] for p in doc["promises"])
    assert doc["promises"][0]["tags"] == ["boots", "urgent"]


def test_after_a_json_import_new_ids_follow_the_imported_ones(
    db: Database, other_db: Database, clock: Clock
) -> None:
    fill(db, clock)
    import_bytes(other_db, export_json(db, clock).encode(), clock, source="export.json")
    with other_db.session() as s:
        new = store.add_promise(s, clock=clock, what="Gloves", due=day(clock, 1), customer="Anna Smith")
        count = len(store.list_promises(s, clock=clock))
    assert new == count
    assert views(other_db, clock)[-1].customer == "Anna Smith"


@pytest.mark.sqlite_only
def test_json_round_trip_copies_every_stored_value(db: Database, other_db: Database, clock: Clock) -> None:
    fill(db, clock)
    import_bytes(other_db, export_json(db, clock).encode(), clock, source="export.json")
    # The same rows; the kept totals, counted again after a bulk import, may be stored in another order.
    assert sorted(SQL(other_db.target).dump().splitlines()) == sorted(SQL(db.target).dump().splitlines())


def test_json_into_a_database_that_holds_data_is_refused(db: Database, clock: Clock) -> None:
    fill(db, clock)
    with pytest.raises(BadInput, match=r"already holds \d+ customers; .*empty database only"):
        import_bytes(db, export_json(db, clock).encode(), clock, source="export.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=exchange.FORMAT_VERSION + 1), "newer pk"),
        (lambda d: d.update(format="other"), "not a promisekeeper export"),
        (lambda d: d.update(gifts=[]), 'unknown section "gifts"'),
        (lambda d: d["promises"][0].update(colour="red"), 'promises\\[0\\] has an unknown field "colour"'),
        (lambda d: d["promises"][1].update(due="next week"), 'promises\\[1\\]: "due" must be an ISO 8601'),
        (lambda d: d["promises"][0].update(quantity="2"), '"quantity" must be a whole number'),
        (lambda d: d["promises"][0].update(kind="gift"), 'unknown kind "gift"'),
        (lambda d: d["promises"][0].pop("what"), 'has no "what"'),
        (lambda d: d["deliveries"][0].update(promise_id=999), '"promise_id" 999 names no promise'),
        (lambda d: d["promises"].append(dict(d["promises"][0])), "repeats the id 1"),
        (lambda d: d["promises"][0].update(tags="boots"), '"tags" must be a list'),
        (
            lambda d: d["promises"][0].update(quantity=[[[1]]]),
            '"quantity" must be a whole number, not a list',
        ),
        # hostile text, in any table
        (
            lambda d: d["promises"][0].update(what="\x1b[2J"),
            r'promises\[0\]: "what" contains the control char',
        ),
        (
            lambda d: d["customers"][0].update(name="Anna\u202e"),
            r'"name" contains the bidirectional override',
        ),
        (lambda d: d["deliveries"][0].update(note="ok\x00"), r'deliveries\[0\]: "note" contains .* U\+0000'),
        (lambda d: d["history"][0]["data"].update(staff="\x1b]0;x\x07"), r'history\[0\]: "data" contains'),
        (lambda d: d["promises"][0].update(tags=["ok\x07"]), 'a tag "ok␇" contains the control character'),
        (lambda d: d["history"][0]["data"].update(deep=nested(20)), '"data" is nested 16 levels deep'),
        # derived fields that contradict the file
        (
            lambda d: d["promises"][5].update(state="fulfilled", closed_at=d["promises"][0]["closed_at"]),
            r"promises\[5\] \(#6\) says it was fulfilled, but the file holds no delivery for it",
        ),
        (lambda d: d["promises"][6].update(closed_at=None), r"\(#7\) says it was cancelled, but not when"),
        (lambda d: d["promises"][0].update(remedied=True), r"\(#1\) says it was remedied, but .* no remedy"),
        (lambda d: d["promises"][5].update(parent_id=6), r"\(#6\) is its own parent"),
        (
            lambda d: [d["promises"][5].update(parent_id=8), d["promises"][7].update(parent_id=6)],
            r"\(#6\) leads to a circle of parents \(#6 → #8 → #6\)",
        ),
    ],
)
def test_a_damaged_json_export_is_refused_whole(
    db: Database, other_db: Database, clock: Clock, change: Any, message: str
) -> None:
    fill(db, clock)
    doc = json.loads(export_json(db, clock))
    change(doc)
    with pytest.raises(BadInput, match=message):
        import_bytes(other_db, json.dumps(doc).encode(), clock, source="export.json")
    with other_db.session(write=False) as s:
        assert store.list_promises(s, clock=clock) == []


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_derived_fields_are_recomputed_from_the_deliveries(
    db: Database, other_db: Database, clock: Clock
) -> None:
    """An export edited to say a promise delivered more, charged less, was on time or closed is imported as
    its deliveries say (docs/reference.md, "Import")."""
    fill(db, clock)
    doc = json.loads(export_json(db, clock))
    boots, tent = doc["promises"][0], doc["promises"][5]
    boots.update(delivered_quantity=99, charged_minor=1, fulfilled_at=tent["due"], late_seconds=None)
    boots.update(dev_late=False, dev_price=False, dev_short=True, dev_excess=True, dev_substituted=True)
    tent.update(closed_at=boots["closed_at"])  # open, yet "closed": the close is dropped
    import_bytes(other_db, json.dumps(doc).encode(), clock, source="export.json")
    assert views(other_db, clock) == views(db, clock)
    assert export_json(other_db, clock) == export_json(db, clock)


def test_a_fulfilled_promise_with_no_delivery_is_refused_not_stuck(
    db: Database, other_db: Database, clock: Clock
) -> None:
    """Issue 11: such a promise showed ``open``, was missing from ``pk due`` and could not be delivered."""
    with db.session() as s:
        store.add_promise(s, clock=clock, what="Boots", due=day(clock, 1), customer="Anna")
    doc = json.loads(export_json(db, clock))
    doc["promises"][0].update(state="fulfilled", closed_at=doc["promises"][0]["created"])
    with pytest.raises(BadInput, match=r"^export.json: promises\[0\] \(#1\) says it was fulfilled"):
        import_bytes(other_db, json.dumps(doc).encode(), clock, source="export.json")
    assert views(other_db, clock) == []


@pytest.mark.parametrize("depth", [100_000, 3_000])
def test_a_deeply_nested_json_file_is_bad_input(clock: Clock, depth: int) -> None:
    data = ("[" * depth + "]" * depth).encode()
    with pytest.raises(BadInput, match=r"^deep.json (is nested too deeply|is not a promisekeeper export)"):
        exchange.read_import(data, source="deep.json", fmt=None, clock=clock, currency="EUR")
    body = '{"format": "promisekeeper", "version": 2, "history": [' + "[" * depth + "]" * depth + "]}"
    with pytest.raises(BadInput, match=r"nested too deeply|history\[0\] is not a record"):
        exchange.read_import(body.encode(), source="deep.json", fmt=None, clock=clock, currency="EUR")


def test_invalid_json_names_its_line(clock: Clock) -> None:
    with pytest.raises(BadInput, match=r"export.json, line 3: not valid JSON"):
        exchange.read_import(
            b'{"format": "promisekeeper",\n"version": 2,\n"customers": [,]}',
            source="export.json",
            fmt=None,
            clock=clock,
            currency="EUR",
        )


# --- CSV -------------------------------------------------------------------------------------------


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_csv_rows_with_deliveries_are_judged_by_the_rules(db: Database, clock: Clock) -> None:
    data = csv_bytes(
        "Anna,Boots,2,240,,2026-11-10,,Jo,,boots;sale,2026-11-09 15:00,,,",
        "Ben,Jacket M,1,180,,2026-11-10,,,,,2026-11-12,,,",
        "Carl,Tent,1,300,,2026-11-10,,,,,2026-11-10,Tent XL,,",
        "Dana,Socks,4,60,,2026-11-10,,,,,2026-11-10,,2,",
        "Eve,Stove,1,80,,2026-11-10,,,,,2026-11-10,,,85",
        "Finn,Rope,1,20,,2026-11-10,,,,,2026-11-10,,3,",
        ",Call back,1,,,2026-11-23 16:00,callback,,,,,,,",
        "anna ,Old promise,1,,,2026-11-01,,,,,,,,",
    )
    result = import_bytes(db, data, clock, source="till.csv")
    assert (result.promises, result.deliveries, result.customers) == (8, 6, 6)
    got = {v.what: v for v in views(db, clock)}
    assert {w: (v.status, v.outcome.deviation_kinds) for w, v in got.items()} == {
        "Boots": ("kept", ()),
        "Jacket M": ("deviated", ("late",)),
        "Tent": ("deviated", ("substituted",)),
        "Socks": ("overdue", ("short",)),
        "Stove": ("deviated", ("price",)),
        "Rope": ("deviated", ("excess",)),
        "Call back": ("open", ()),
        "Old promise": ("overdue", ()),
    }
    assert got["Boots"].tags == ("boots", "sale")
    assert got["Boots"].staff == "Jo"
    assert got["Boots"].outcome.charged == eur("240")
    assert got["Old promise"].customer == "Anna"
    assert got["Jacket M"].outcome.late_by_seconds == 2 * 86400
    assert got["Socks"].outcome.charged == eur("30")
    assert got["Call back"].kind == "callback"
    assert [(e.kind, e.at) for e in got["Boots"].history] == [("imported", clock.now)]
    assert got["Boots"].history[0].data == {"source": "till.csv", "line": 2}
    assert words.event_text(got["Boots"].history[0], clock.tz, clock.now) == "imported from till.csv, line 2"
    with db.session(write=False) as s:
        broken = [v.what for v in store.check(s, clock=clock)]
    assert sorted(broken) == ["Jacket M", "Old promise", "Rope", "Socks", "Stove", "Tent"]


@pytest.mark.sqlite_only
def test_imported_rows_are_stored_exactly_as_the_commands_store_them(
    db: Database, tmp_path: Path, clock: Clock
) -> None:
    """The bulk insert writes the same values, formats and outcome columns as the store's own writes."""
    t0 = later(clock, days=-5)
    by_hand = Database(str(tmp_path / "hand.db"))
    with by_hand.session() as s:
        pid = store.add_promise(
            s, clock=clock, what="Boots", quantity=3, price=eur("90"), due=day(t0, 1), customer="Anna"
        )
        store.deliver(
            s,
            clock=clock,
            promise_id=pid,
            what="Boots XL",
            quantity=3,
            price=eur("95.50"),
            at=Due(datetime(2026, 11, 19, 17, 30, tzinfo=clock.tz), False),
        )
    import_bytes(db, csv_bytes("Anna,Boots,3,90,,2026-11-18,,,,,2026-11-19 17:30,Boots XL,3,95.50"), clock)
    skip = {"id", "created"}
    for table in ("promise", "delivery", "customer"):
        hand = sqlite3.connect(by_hand.target)
        hand.row_factory = sqlite3.Row
        imported = sqlite3.connect(db.target)
        imported.row_factory = sqlite3.Row
        want = {k: r[k] for r in hand.execute(f"SELECT * FROM {table}") for k in r.keys() if k not in skip}  # noqa: SIM118 (Row)
        got = {k: r[k] for r in imported.execute(f"SELECT * FROM {table}") for k in r.keys() if k not in skip}  # noqa: SIM118 (Row)
        assert got == want, table
        hand.close()
        imported.close()


def test_import_reuses_known_customers_case_insensitively(db: Database, clock: Clock) -> None:
    with db.session() as s:
        store.add_customer(s, clock=clock, name="Anna Smith", email="anna@example.com")
    result = import_bytes(
        db, csv_bytes("ANNA  smith,Boots,,,,tomorrow,,,,,,,,", "New One,Socks,,,,tomorrow,,,,,,,,"), clock
    )
    assert result.customers == 1
    assert [v.customer for v in views(db, clock)] == ["Anna Smith", "New One"]


def test_only_some_columns_in_any_order_and_spreadsheet_headers(db: Database, clock: Clock) -> None:
    data = "Due;What;Delivered At;Price\n2026-11-20;Boots;2026-11-20 12:00;€240\n".encode()
    import_bytes(db, data, clock)
    (only,) = views(db, clock)
    assert (only.what, only.status, only.price) == ("Boots", "kept", eur("240"))


def test_a_byte_order_mark_and_crlf_line_ends_are_fine(db: Database, clock: Clock) -> None:
    import_bytes(db, b"\xef\xbb\xbfwhat,due\r\nBoots,tomorrow\r\nSocks,tomorrow\r\n", clock)
    assert [v.what for v in views(db, clock)] == ["Boots", "Socks"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["Anna,Boots,1,240,,someday,,,,,,,,"], "line 2, due: Cannot read"),
        (["Anna,Boots,1,abc,,tomorrow,,,,,,,,"], 'line 2, price: Cannot read "abc" as a price'),
        (["Anna,Boots,1,-5,,tomorrow,,,,,,,,"], "line 2, price: A price cannot be negative"),
        (["Anna,Boots,0,240,,tomorrow,,,,,,,,"], "line 2, quantity: The quantity must be a whole number"),
        (["Anna,Boots,two,240,,tomorrow,,,,,,,,"], "line 2, quantity: 'two' is not a whole number"),
        (["Anna,,1,240,,tomorrow,,,,,,,,"], "line 2, what: WHAT is empty"),
        (["Anna,Boots,1,,,,,,,,,,,"], "line 2, due: no due given"),
        (["Anna,Boots,1,240,,tomorrow,gift,,,,,,,"], "line 2, kind: unknown kind 'gift'"),
        (["Anna,Boots,1,240,XYZ,tomorrow,,,,,,,,"], 'line 2, currency: Unknown currency "XYZ"'),
        (["Anna,Boots,1,$240,EUR,tomorrow,,,,,,,,"], "line 2, price: the price '$240' is in USD"),
        (["Anna,Boots,1,240,,tomorrow,,,,,,Boots XL,,"], "line 2, delivered_what: a delivery needs"),
        (["Anna,Boots,1,240,,tomorrow,,,,,2026-12-01,,,"], "line 2, delivered_at: '2026-12-01' is in the"),
        (["Anna,Boots,1,240,,tomorrow,,,,,today,,0,"], "line 2, delivered_quantity: The quantity"),
        (["Anna,Boots,1,240,,tomorrow,,,,,today,,,1.234"], 'line 2, charged: "1.234" has too many'),
        (["Anna,Boots,1,240,,tomorrow,,,,,,,,,extra"], "line 2: it has 15 fields but the header names 14"),
        (['Anna,Boots,1,240,,tomorrow,,,"size', '38",,,,,', "Ben,Socks,1,5,,nope,,,,,,,,"], "line 4, due"),
        (
            ['Anna,"Boots', 'size 38",1,240,,tomorrow,,,,,,,,'],
            "line 2, what: it contains the control character U+000A",
        ),
        (
            ["Anna,Boots\x00,1,240,,tomorrow,,,,,,,,"],
            "line 2, what: it contains the control character U+0000",
        ),
        (
            ["Anna,Boots,1,240,,tomorrow,,Jo\x1b[2J,,,,,,"],
            "line 2, staff: it contains the control character U+001B",
        ),
        (
            ["Anna,Boots,1,240,,tomorrow,,,,a\u202eb,,,,"],
            "line 2, tags: it contains the bidirectional override",
        ),
        (
            ["\x1b[31mAnna,Boots,1,240,,tomorrow,,,,,,,,"],
            "line 2, customer: it contains the control character",
        ),
        (
            ["Anna,Boots,1,240,,tomorrow,,,note\x07,,,,,"],
            "line 2, note: it contains the control character U+0007",
        ),
        (
            ["Anna,Boots,1,240,,tomorrow,,,,,today,Boots\x9b,,"],
            "line 2, delivered_what: it contains the control",
        ),
        (["Anna,Boots,1,240,,tomorrow,,,,,,,,", "", "Ben,Socks,1,5,,nope,,,,,,,,"], "line 4, due"),
        (['Anna,"Boots"x,1,240,,tomorrow,,,,,,,,'], "line 2: the row cannot be read as CSV"),
    ],
)
def test_a_malformed_row_names_its_line_and_nothing_is_imported(
    db: Database, clock: Clock, rows: list[str], message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        import_bytes(db, csv_bytes("Zed,Fine row,1,5,,tomorrow,,,,,,,,", *rows), clock, source="till.csv")
    text = str(caught.value)
    expected = message.replace("line 2", "line 3").replace("line 4", "line 5")
    assert text.startswith(f"till.csv, {expected}"), text
    assert text.endswith("; nothing was imported.")
    assert "\n" not in text
    assert views(db, clock) == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("what,due,colour", 'till.csv, line 1: unknown column "colour"; the columns are customer, what'),
        ("what,price", 'till.csv, line 1: there is no "due" column'),
        ("what,due,What", 'till.csv, line 1: the column "what" is named twice'),
    ],
)
def test_a_bad_header_is_line_1(clock: Clock, header: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        exchange.read_import(
            csv_bytes(header=header), source="till.csv", fmt=None, clock=clock, currency="EUR"
        )


def test_an_empty_file_asks_for_a_header(clock: Clock) -> None:
    with pytest.raises(BadInput, match=r"till\.csv is empty; it needs a header row"):
        exchange.read_import(b"\n\n", source="till.csv", fmt="csv", clock=clock, currency="EUR")


def test_a_file_in_another_encoding_is_one_sentence(clock: Clock) -> None:
    data = "what,due\nBoots,tomorrow\nSchürsenkel,tomorrow\n".encode("latin-1")
    with pytest.raises(BadInput) as caught:
        exchange.read_import(data, source="till.csv", fmt=None, clock=clock, currency="EUR")
    assert str(caught.value) == (
        "till.csv is not UTF-8 text (byte 0xfc on line 3); save it as UTF-8 "
        "(in a spreadsheet: CSV UTF-8) and import it again."
    )


def test_progress_is_reported_as_the_file_is_read(db: Database, clock: Clock) -> None:
    seen: list[tuple[str, int, int]] = []
    rows = [f"Customer {i % 7},Item {i},1,10,,2026-11-{1 + i % 28:02d},,,,,,,," for i in range(4500)]
    data = csv_bytes(*rows)
    with db.session() as s:
        exchange.import_file(
            s,
            io.BytesIO(data),
            source="big.csv",
            fmt=None,
            clock=clock,
            currency="EUR",
            size=len(data),
            progress=lambda *a: seen.append(a),
        )
    assert {(phase, total) for phase, _done, total in seen} == {("Reading big.csv", len(data))}
    done = [d for _phase, d, _total in seen]
    assert len(done) == 3  # every 2,000 rows, and at the end
    assert done == sorted(done)
    assert done[-1] == len(data)
    with db.session(write=False) as s:
        assert len(store.list_promises(s, clock=clock)) == 4500


def test_dry_run_checks_without_writing(db: Database, clock: Clock) -> None:
    plan = exchange.read_import(
        csv_bytes("Anna,Boots,1,5,,tomorrow,,,,,,,,", "Ben,Socks,1,5,,tomorrow,,,,,today,,,"),
        source="till.csv",
        fmt=None,
        clock=clock,
        currency="EUR",
    )
    with db.session(write=False) as s:
        result = exchange.check_import(s, plan)
    assert (result.promises, result.deliveries, result.customers, result.written) == (2, 1, 2, False)
    assert views(db, clock) == []


# --- export formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "output", "expected"),
    [
        (None, None, "json"),
        (None, "open.ics", "ics"),
        (None, "list.CSV", "csv"),
        (None, "backup.txt", "json"),
        ("csv", "open.ics", "csv"),
    ],
)
def test_the_export_format_comes_from_the_option_then_the_extension(
    fmt: str | None, output: str | None, expected: str
) -> None:
    assert exchange.export_format(fmt, Path(output) if output else None) == expected


def test_the_ics_export_is_a_calendar_of_the_open_promises(db: Database, clock: Clock) -> None:
    from icalendar import Calendar

    fill(db, clock)
    out = io.StringIO()
    with db.session(write=False) as s:
        count = exchange.export(s, "ics", out, clock=clock, tz=clock.tz, shop="Trailhead Outfitters")
    cal = Calendar.from_ical(out.getvalue())
    todos = list(cal.walk("VTODO"))
    open_ones = {v.id: v for v in views(db, clock) if v.status in ("open", "overdue")}
    assert count == len(todos) == len(open_ones) > 0
    for todo in todos:
        pid = int(str(todo["UID"]).split("-")[1].split("@")[0])
        promise = open_ones[pid]
        due = todo.decoded("DUE")
        if promise.due.date_only:
            assert due == promise.due.moment.astimezone(clock.tz).date()
        else:
            assert due == promise.due.moment
        assert promise.what in str(todo["SUMMARY"])
        assert str(todo["STATUS"]) == "NEEDS-ACTION"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30, 0, 1, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ],
)
def test_a_bulk_insert_stores_a_moment_as_sqlalchemy_does(moment: datetime) -> None:
    from sqlalchemy.dialects import sqlite

    from promisekeeper.models import UTCDateTime

    dialect = sqlite.dialect()
    by_sqlalchemy = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert by_sqlalchemy is not None
    assert bulk._sqlite_moment(moment) == by_sqlalchemy(moment)


@pytest.mark.slow
def test_a_large_csv_import_keeps_the_totals_the_triggers_keep(tmp_path: Path, clock: Clock) -> None:
    """Past 20,000 rows an import counts the kept totals once at the end instead of row by row: the same
    totals as two smaller imports of the same rows, which the triggers count."""
    rows = [
        f"Customer {i % 97},Item {i % 13},{1 + i % 3},{5 + i % 40},,2026-11-{1 + i % 20:02d},,Jo{i % 4},,,"
        + (f"2026-11-{1 + i % 22:02d},,{i % 4 or ''}," if i % 3 else ",,,")
        for i in range(21_000)
    ]
    whole, parts = Database(str(tmp_path / "whole.db")), Database(str(tmp_path / "parts.db"))
    import_bytes(whole, csv_bytes(*rows), clock)
    import_bytes(parts, csv_bytes(*rows[:10_500]), clock)
    import_bytes(parts, csv_bytes(*rows[10_500:]), clock)

    def totals(db: Database) -> tuple[list[Any], list[Any]]:
        with sqlite3.connect(db.target) as conn:
            customers = sorted(conn.execute("SELECT * FROM tally_customer"))
            return customers, sorted(conn.execute("SELECT * FROM tally_group"))

    assert totals(whole) == totals(parts)
    assert len(totals(whole)[0]) == 97


def test_a_csv_row_fills_every_column_of_a_promise() -> None:
    from promisekeeper.models import Promise

    columns = {c.name for c in Promise.__table__.columns}  # type: ignore[attr-defined]
    assert {"id", "customer_id", *bulk._RECORD_FIELDS} == columns
    assert len(set(bulk._RECORD_FIELDS)) == len(bulk._RECORD_FIELDS)


# --- hostile text out, formula cells round-trip, calendar events ------------------------------------------

HOSTILE = "\x1b]0;TITLE\x07\x1b[2J\x1b[31m"


def stored_as_is(db: Database, pid: int, **fields: str) -> None:
    """Text written straight into the book, as an older release or another program may have left it."""
    from promisekeeper.models import Customer, Promise

    with db.session() as s:
        p = s.get(Promise, pid)
        assert p is not None
        for name, value in fields.items():
            if name == "customer":
                c = s.get(Customer, p.customer_id)
                assert c is not None
                c.name = value
                s.add(c)
            else:
                setattr(p, name, value)
        s.add(p)


def export_text(db: Database, clock: Clock, fmt: str) -> str:
    out = io.StringIO()
    with db.session(write=False) as s:
        exchange.export(s, fmt, out, clock=clock, tz=clock.tz, shop="Trail\x1b[2Jhead")
    return out.getvalue()


def unsafe_in(text: str, *, allowed: str = "") -> set[str]:
    from promisekeeper.text import BIDI

    return {c for c in text if (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in BIDI) and c not in allowed}


@pytest.mark.parametrize("fmt", ["ics", exchange.ICS_EVENTS, "csv"])
def test_stored_control_characters_never_leave_raw(db: Database, clock: Clock, fmt: str) -> None:
    fill(db, clock)
    open_one = next(v for v in views(db, clock) if v.status == "open" and v.customer)
    stored_as_is(
        db,
        open_one.id,
        what=f"Boots{HOSTILE}",
        # PostgreSQL cannot store a NUL in text at all; SQLite can, so there it must not leave raw either.
        note="size\u202e38" + ("" if db.target.startswith("postgresql") else "\x00"),
        customer=f"{HOSTILE}Anna",
        staff="\x9bJo",
    )
    text = export_text(db, clock, fmt)
    assert unsafe_in(text, allowed="\r\n" if fmt != "csv" else "\n") == set()
    assert "TITLE␇␛[2J␛[31m" in text.replace("\r\n ", "")  # unfolded ICS lines
    assert "<U+202E>" in text


def test_ics_events_are_events_at_each_due(db: Database, clock: Clock) -> None:
    from icalendar import Calendar

    fill(db, clock)
    with db.session() as s:
        store.add_promise(s, clock=clock, what="Call Ben", kind=Kind.callback, due=moment(clock, 1, 16))
    out = io.StringIO()
    with db.session(write=False) as s:
        count = exchange.export(s, exchange.ICS_EVENTS, out, clock=clock, tz=clock.tz, shop="Trail Co")
    cal = Calendar.from_ical(out.getvalue())
    assert list(cal.walk("VTODO")) == []
    events = list(cal.walk("VEVENT"))
    open_ones = {v.id: v for v in views(db, clock) if v.status in ("open", "overdue")}
    assert count == len(events) == len(open_ones) > 1
    assert {p.due.date_only for p in open_ones.values()} == {True, False}
    for event in events:
        uid = str(event["UID"])
        pid = int(uid.removeprefix("promise-").removesuffix("-event@trail-co.promisekeeper"))
        promise = open_ones[pid]
        start = event.decoded("DTSTART")
        if promise.due.date_only:
            assert start == promise.due.moment.astimezone(clock.tz).date()
            assert event.decoded("DTEND") == start + timedelta(days=1)  # all day
        else:
            assert start == promise.due.moment
            assert "DTEND" not in event
        assert str(event["SUMMARY"]) == words.calendar_summary(promise)
        assert str(event["DESCRIPTION"]) == words.calendar_description(promise)
        assert str(event["TRANSP"]) == "TRANSPARENT"
        assert ("PRIORITY" in event) == (promise.status == "overdue")
    again = io.StringIO()
    with db.session(write=False) as s:
        exchange.export(s, exchange.ICS_EVENTS, again, clock=clock, tz=clock.tz, shop="Trail Co")
    assert [e["UID"] for e in Calendar.from_ical(again.getvalue()).walk("VEVENT")] == [
        e["UID"] for e in events
    ]


@pytest.mark.parametrize(
    ("fmt", "output", "expected"),
    [(None, None, "ics-events"), ("ics", None, "ics-events"), (None, "cal.txt", "ics-events")],
)
def test_ics_events_choose_the_calendar(fmt: str | None, output: str | None, expected: str) -> None:
    assert exchange.export_format(fmt, Path(output) if output else None, events=True) == expected


def test_ics_events_with_another_format_is_bad_input() -> None:
    with pytest.raises(BadInput, match="--ics-events writes a calendar; use it with --format ics, not csv"):
        exchange.export_format("csv", None, events=True)


def terms_and_texts(v: PromiseView) -> tuple[Any, ...]:
    terms = (v.kind, v.customer, v.what, v.quantity, v.price, v.due, v.staff, v.tags, v.note)
    return (*terms, v.handover, v.deposit, v.balance, v.ready_at)


def test_a_csv_export_imports_back_with_every_term_and_text(
    db: Database, other_db: Database, clock: Clock
) -> None:
    """Formula-like texts come back exactly (the ``'`` pk put before them removed); a fulfilled promise
    comes back fulfilled, a short one closed short, an open one open."""
    fill(db, clock)
    with db.session() as s:
        evil = store.add_promise(
            s,
            clock=clock,
            what='=HYPERLINK("http://evil","x")',
            customer="@SUM(1+1)",
            note="-2+3\n\tsecond line",
            staff="+cmd|' /C calc'!A0",
            tags=["=tag", "sale"],
            quantity=3,
            price=eur("19.99"),
            due=moment(clock, 3, 11),
        )
        store.add_promise(s, clock=clock, what="'=already quoted", due=day(clock, 1))
        store.deliver(s, clock=clock, promise_id=evil, quantity=1)
        short = store.add_promise(
            s, clock=clock, what="Socks", quantity=4, price=eur("20"), due=day(clock, 2)
        )
        store.deliver(s, clock=clock, promise_id=short, quantity=1, price=eur("5"))
        store.done(s, clock=clock, promise_id=short)
    text = export_text(db, clock, "csv")
    for cell in (
        '"\'=HYPERLINK(""http://evil"",""x"")"',
        "'@SUM(1+1)",
        "'-2+3",
        "'+cmd",
        "'=tag;sale",
        "''=already",
    ):
        assert cell in text
    result = import_bytes(other_db, text.encode(), clock, source="export.csv")
    before, after = views(db, clock), views(other_db, clock)
    assert result.promises == len(before) == len(after)
    assert [terms_and_texts(v) for v in after] == [terms_and_texts(v) for v in before]
    for old, new in zip(before, after, strict=True):
        if old.status == "cancelled" or (old.outcome.delivered_quantity and old.outcome.fulfilled_at is None):
            continue  # a CSV row carries neither a cancellation nor a partial delivery
        assert (new.outcome.delivered_quantity, new.outcome.charged) == (
            old.outcome.delivered_quantity,
            old.outcome.charged,
        ), old.what
        # ... nor what was delivered instead: a substitution is not in the row
        kinds = [k for k in old.outcome.deviation_kinds if k != "substituted"]
        assert list(new.outcome.deviation_kinds) == kinds, old.what
        assert new.status == ("kept" if old.status == "deviated" and not kinds else old.status), old.what


def test_the_csv_export_writes_each_promise_as_promise_list_does(db: Database, clock: Clock) -> None:
    """The export writes a settled promise straight from its stored row and judges the others now; both
    come out cell for cell as ``promise list --format csv`` (``promise_dict``, ``csv_cell``) writes them."""
    fill(db, clock)
    t0 = later(clock, days=-3)
    with db.session() as s:
        for what, kw in (
            ("Late boots", {"at": Due(clock.now - timedelta(hours=1), False)}),
            ("Boots", {"what": "Boots XL"}),
            ("=Priced", {"price": eur("99.5")}),
            ("Many", {"quantity": 3}),
        ):
            pid = store.add_promise(
                s,
                clock=t0,
                what=what,
                price=eur("90"),
                quantity=2,
                due=day(t0, 1),
                customer="Ben",
                tags=["b", "a"],
            )
            store.deliver(s, clock=t0 if "at" not in kw else clock, promise_id=pid, **kw)
        short = store.add_promise(s, clock=t0, what="Short", quantity=4, due=day(t0, 1), staff="-Jo")
        store.deliver(s, clock=t0, promise_id=short, quantity=1)
        store.done(s, clock=t0, promise_id=short)
        part = store.add_promise(s, clock=t0, what="Part then cancelled", quantity=2, due=day(t0, 1))
        store.deliver(s, clock=t0, promise_id=part, quantity=1)
        store.cancel(s, clock=t0, promise_id=part, reason="Gone")
    settled = next(v for v in views(db, clock) if v.what == "Boots")
    stored_as_is(db, settled.id, what=f"Boots{HOSTILE}", note="two\nlines\u202e", customer=f"@{HOSTILE}Ben")
    text = export_text(db, clock, "csv")
    with db.session(write=False) as s:
        shapes = Counter(type(p).__name__ for p in store.export_promises(s, clock=clock))
        expected = io.StringIO()
        writer = csv.writer(expected, lineterminator="\n")
        writer.writerow(PROMISE_FIELDS)
        for v in store.iter_promises(s, clock=clock):
            record = render.promise_dict(v, clock.tz)
            writer.writerow([render.csv_cell(record.get(k)) for k in PROMISE_FIELDS])
    if db.target.endswith(".db"):
        assert shapes["SettledPromise"] >= 9
    assert shapes["PromiseView"] >= 5
    assert text == expected.getvalue()


def test_a_csv_export_with_an_unknown_column_is_still_refused(db: Database, clock: Clock) -> None:
    fill(db, clock)
    header, *rows = export_text(db, clock, "csv").splitlines()
    data = "\n".join([header + ",colour", *(r + ",red" for r in rows)]) + "\n"
    with pytest.raises(BadInput, match='line 1: unknown column "colour"'):
        exchange.read_import(data.encode(), source="x.csv", fmt=None, clock=clock, currency="EUR")
    extra = "" if "due_date" in header.split(",") else ",due_date"  # pk's own spreadsheet date column
    data = "\n".join([header + extra, *(r + (",2026-11-24" if extra else "") for r in rows)]) + "\n"
    plan = exchange.read_import(data.encode(), source="x.csv", fmt=None, clock=clock, currency="EUR")
    assert plan.promises == len(rows)
