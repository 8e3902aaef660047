"""Generate a realistic promise book of N promises for the benchmarks (run by hand; never by pytest).

Ten years of a busy shop ending at ``--now``: customers who come back (one regular, "Anna Smith",
with exactly 40 promises at every size), six staff, deliveries mostly kept and some late, short,
substituted, over- or under-charged, cancellations, renegotiations, follow-ups, tags, remedies and
the whole history. Whatever N, the shop's day looks the same: 200 promises overdue, 100 due today,
300 due in the coming weeks, and 50 recent deviations not yet remedied; the rest of the book is
settled history. So a command whose cost follows what it shows costs the same at 1k and at 1M.

The outcome columns of each promise are computed by ``rules.assess`` and ``store.base.outcome_columns``,
exactly as ``pk deliver`` writes them. The history is written as the store writes it: one ``change`` per
command (``promise add``, ``deliver``, ``done``, ``promise amend``, ``promise cancel``, ``remedy``) and
its typed ``event`` rows (the fields of ``rules.terms_data``, ``outcome_data`` and ``moment_data``).
Rows go in with executemany through SQLAlchemy Core, in chunks, into a database made by ``pk``'s own
schema code (a SQLite file or a PostgreSQL URL).

    python bench/generate.py 1000000                 # -> bench/data/book-1000000.db
    python bench/generate.py 1000 --db postgresql+psycopg://…/bench
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import SQLModel

from promisekeeper.db import Database
from promisekeeper.models import UTCDateTime
from promisekeeper.money import Money
from promisekeeper.rules import assess, moment_data, outcome_data, terms_data
from promisekeeper.store import customer_key
from promisekeeper.store.base import outcome_columns
from promisekeeper.store.bulk import KeptPause
from promisekeeper.views import Fulfilment, Outcome, Terms
from promisekeeper.when import end_of_day

NOW = "2026-11-23T09:00:00+01:00"  # a Monday morning in Berlin; the benchmark pins PK_NOW to it
TZ = ZoneInfo("Europe/Berlin")
YEARS = 10
OVERDUE, DUE_TODAY, UPCOMING, UNREMEDIED = 200, 100, 300, 50
REGULAR, REGULAR_PROMISES = "Anna Smith", 40
CHUNK = 20_000
TABLES = SQLModel.metadata.tables

STAFF = ("Jo", "Sam", "Alex", "Mira", "Tom", "Lena")
TAGS = ("boots", "repair", "order", "rental", "gift")
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "Dario",
    "Emma",
    "Femi",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kaito",
    "Lea",
    "Malik",
    "Nora",
    "Oskar",
    "Paula",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Bruno",
    "Chiara",
    "Deniz",
    "Elif",
    "Finn",
    "Gina",
    "Hamid",
    "Ida",
    "Jakob",
]
LAST = [
    "Smith",
    "Novak",
    "Mendes",
    "Okafor",
    "Schulz",
    "Rossi",
    "Tanaka",
    "Meyer",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Costa",
    "Weber",
    "Fischer",
    "Nguyen",
    "Silva",
    "Becker",
    "Jansen",
    "Wolf",
    "Moreau",
    "Lindqvist",
    "Petrov",
    "Yilmaz",
    "Dubois",
    "Keller",
    "Sato",
    "Horvat",
    "Brandt",
]
PRODUCTS = (
    ("Hiking boots size 38", 24000),
    ("Hiking boots size 42", 24000),
    ("Rain jacket size M", 18000),
    ("Rain jacket size L", 18000),
    ("Tent, 2 person", 32900),
    ("Sleeping bag -10°C", 21950),
    ("Trekking poles (pair)", 8990),
    ("Backpack 45 l", 15900),
    ("Ski binding service", 4500),
    ("Boot resoling", 6900),
    ("Merino socks", 1895),
    ("Headlamp 400 lm", 4990),
    ("Climbing rope 60 m", 17900),
    ("Stove and fuel", 7450),
    ("Map: Alps West 1:50k", 1290),
)
CALLS = (
    "Call back about the ski binding order",
    "Call back: is the tent in stock",
    "Call back with the repair quote",
    "Reply to the mail about the boot sizes",
    "Reply to the question about returns",
    "Send the rental terms",
)


@dataclass
class Book:
    """The rows of one chunk, per table."""

    promise: list[dict[str, Any]] = field(default_factory=list)
    tag: list[dict[str, Any]] = field(default_factory=list)
    delivery: list[dict[str, Any]] = field(default_factory=list)
    change: list[dict[str, Any]] = field(default_factory=list)
    event: list[dict[str, Any]] = field(default_factory=list)
    remedy: list[dict[str, Any]] = field(default_factory=list)

    def size(self) -> int:
        return len(self.promise)


@dataclass(frozen=True, slots=True)
class Plan:
    """One promise to generate: when it was made, what becomes of it (``fate``), for whom."""

    created: datetime
    fate: str  # history | overdue | today | upcoming
    customer: int | None


class Generator:
    def __init__(self, n: int, now: datetime, seed: int) -> None:
        self.n = n
        self.now = now
        self.rng = random.Random(seed)
        self.customers = max(60, n // 20)
        self.history = n - OVERDUE - DUE_TODAY - UPCOMING
        if self.history < REGULAR_PROMISES * 2:
            raise SystemExit(f"N must be at least {OVERDUE + DUE_TODAY + UPCOMING + REGULAR_PROMISES * 2}.")
        self.next_change = 1
        self.next_event = 1
        self.next_delivery = 1
        self.next_remedy = 1
        self.recent_deliveries: list[tuple[int, str, int | None, datetime]] = []

    # --- the plan: who, when, and which fate ---------------------------------------------------------

    def customer_rows(self) -> list[dict[str, Any]]:
        start = self.now - timedelta(days=365 * YEARS + 30)
        rows = []
        for cid in range(1, self.customers + 1):
            if cid == 1:
                name = REGULAR
            else:
                k = cid - 2
                first, last = FIRST[k % len(FIRST)], LAST[(k // len(FIRST)) % len(LAST)]
                rounds = k // (len(FIRST) * len(LAST))
                name = f"{first} {last}" + (f" {rounds + 1}" if rounds else "")
                if name == REGULAR:
                    name = f"{REGULAR} Jr"
            email = f"{name.lower().replace(' ', '.')}@example.com" if cid % 3 else None
            phone = f"+49 30 {1000000 + cid}" if cid % 4 == 0 else None
            rows.append(
                {
                    "id": cid,
                    "name": name,
                    "name_key": customer_key(name),
                    "email": email,
                    "phone": phone,
                    "note": None,
                    "created": start + timedelta(days=self.rng.random() * 365),
                    "forgotten_at": None,
                }
            )
        return rows

    def _someone(self) -> int | None:
        r = self.rng.random()
        if r < 0.08:
            return None
        # Skewed: a few customers come often, most now and then; never the regular by chance.
        return 2 + int((self.customers - 1) * self.rng.random() ** 2.2) % (self.customers - 1)

    def plans(self) -> Iterator[Plan]:
        """Every promise in the order it was made (so ids grow with time, as at a real till)."""
        span = timedelta(days=365 * YEARS)
        start = self.now - span
        regular = {int((k + 0.5) * self.history / REGULAR_PROMISES) for k in range(REGULAR_PROMISES)}
        active: list[Plan] = []
        for fate, count, back in (
            ("overdue", OVERDUE, 45),
            ("today", DUE_TODAY, 14),
            ("upcoming", UPCOMING, 7),
        ):
            for _ in range(count):
                created = self.now - timedelta(days=self.rng.uniform(0.2, back))
                active.append(Plan(created, fate, self._someone()))
        active.sort(key=lambda p: p.created)
        history_end = span - timedelta(days=3)  # the last days' promises are all still active or settled
        step = history_end / self.history
        a = 0
        for i in range(self.history):
            created = start + step * i + timedelta(seconds=self.rng.uniform(0, step.total_seconds()))
            while a < len(active) and active[a].created <= created:
                yield active[a]
                a += 1
            yield Plan(created, "history", 1 if i in regular else self._someone())
        yield from active[a:]

    # --- one promise --------------------------------------------------------------------------------

    def _change(self, book: Book, at: datetime, command: str) -> int:
        """One command's change (as ``store.base.change_id`` makes it); its events carry the id."""
        change = self.next_change
        book.change.append({"id": change, "at": at, "command": command, "undone_by": None})
        self.next_change += 1
        return change

    def _event(
        self, book: Book, change: int, row: dict[str, Any], at: datetime, kind: str, /, **data: Any
    ) -> None:
        """One history event of the promise ``row``: its kind and typed fields, as ``append_event`` writes."""
        book.event.append(
            {
                "id": self.next_event,
                "change_id": change,
                "promise_id": row["id"],
                "customer_id": row["customer_id"],
                "at": at,
                "kind": kind,
                "data": data,
            }
        )
        self.next_event += 1

    def _deliver(
        self,
        book: Book,
        row: dict[str, Any],
        at: datetime,
        what: str,
        qty: int,
        minor: int | None,
        *,
        event: bool = True,
    ) -> tuple[Fulfilment, int]:
        """A delivery under its own change: ``pk deliver`` (with a ``delivered`` event), or ``pk done``
        (``event=False``: done records the delivery as promised and only a ``done`` event)."""
        pid = row["id"]
        change = self._change(book, at, "deliver" if event else "done")
        book.delivery.append(
            {
                "id": self.next_delivery,
                "promise_id": pid,
                "at": at,
                "what": what,
                "quantity": qty,
                "price_minor": minor,
                "currency": "EUR" if minor is not None else None,
                "note": None,
            }
        )
        self.next_delivery += 1
        if event:
            self._event(
                book,
                change,
                row,
                at,
                "delivered",
                what=what,
                quantity=qty,
                price_minor=minor,
                currency="EUR" if minor is not None else None,
                at=moment_data(at),
                note=None,
            )
        return Fulfilment(
            at, what, qty, Money.from_minor(minor, "EUR") if minor is not None else None
        ), change

    def _due(self, created: datetime, fate: str) -> tuple[datetime, bool]:
        rng, now = self.rng, self.now
        today = now.astimezone(TZ).date()
        if fate == "overdue":
            day = today - timedelta(days=1 + int(rng.random() ** 2 * 30))
        elif fate == "today":
            if rng.random() < 0.3:
                hour = rng.randint(now.astimezone(TZ).hour + 1, 18)
                return datetime(today.year, today.month, today.day, hour, tzinfo=TZ), False
            return end_of_day(today, TZ), True
        elif fate == "upcoming":
            day = today + timedelta(days=rng.randint(1, 28))
        else:
            day = created.astimezone(TZ).date() + timedelta(days=rng.choice((0, 1, 1, 2, 3, 3, 5, 7, 7, 14)))
        if rng.random() < 0.2:
            return datetime(day.year, day.month, day.day, rng.randint(9, 17), tzinfo=TZ), False
        return end_of_day(day, TZ), True

    def promise(self, book: Book, pid: int, plan: Plan, fate_code: str) -> None:
        rng = self.rng
        created = plan.created
        r = rng.random()
        parent: int | None = None
        price: int | None
        if r < 0.72:
            kind = "delivery"
            what, unit = rng.choice(PRODUCTS)
            qty = 1 if rng.random() < 0.8 else rng.randint(2, 4)
            price = unit * qty if rng.random() < 0.97 else None
        elif r < 0.88 or not self.recent_deliveries or plan.customer == 1:
            kind = "callback" if r < 0.8 else "reply"
            what, qty, price = rng.choice(CALLS), 1, None
        elif r < 0.98:
            kind = "followup"
            parent, parent_what, parent_customer, _ = rng.choice(self.recent_deliveries)
            what, qty, price = f"Follow up: {parent_what}", 1, None
            plan = Plan(plan.created, plan.fate, parent_customer if parent_customer != 1 else None)
        else:
            kind, what, qty, price = "other", "Put the tent aside for the weekend", 1, None
        due, date_only = self._due(created, plan.fate)
        if due < created:
            created = due - timedelta(hours=rng.uniform(1, 48))
        renegotiated = plan.fate == "history" and rng.random() < 0.02
        original_due = due - timedelta(days=3) if renegotiated else None
        staff = rng.choice(STAFF)
        row: dict[str, Any] = {
            "id": pid,
            "kind": kind,
            "customer_id": plan.customer,
            "what": what,
            "quantity": qty,
            "price_minor": price,
            "currency": "EUR" if price is not None else None,
            "due": due,
            "date_only": date_only,
            "original_due": original_due,
            "original_date_only": date_only if renegotiated else None,
            "renegotiated": renegotiated,
            "staff": staff,
            "note": "Customer asked for gift wrapping" if rng.random() < 0.03 else None,
            "parent_id": parent,
            "created": created,
            "state": "active",
            "closed_at": None,
            "unhappy": False,
            "remedied": False,
        }
        money = Money.from_minor(price, "EUR") if price is not None else None
        terms = Terms(what, qty, money, due)
        first = Terms(what, qty, money, original_due) if original_due is not None else terms
        self._event(
            book,
            self._change(book, created, "promise add"),
            row,
            created,
            "promised",
            **terms_data(first, date_only=date_only),
            kind=kind,
            staff=staff,
            parent_id=parent,
        )
        if renegotiated:
            # Right after it was made, so always while it is still open.
            at = created + timedelta(minutes=2)
            self._event(
                book,
                self._change(book, at, "promise amend"),
                row,
                at,
                "amended",
                before=terms_data(first, date_only=date_only),
                after=terms_data(terms, date_only=date_only),
                reason="Supplier delay; agreed by phone",
            )
        if rng.random() < 0.15:
            book.tag.append({"promise_id": pid, "tag": rng.choice(TAGS)})

        done: list[Fulfilment] = []
        closed_at: datetime | None = None
        cancelled = False
        closing: int | None = None  # the change that closed it as fulfilled
        if plan.fate == "history":
            cancelled, closed_at, closing = self._settle(book, row, terms, created, due, fate_code, done)
        elif plan.fate == "overdue" and qty > 1 and rng.random() < 0.3:
            part = max(due - timedelta(days=1), created + timedelta(minutes=10))  # never before it was made
            done.append(self._deliver(book, row, part, what, 1, None)[0])
        outcome = assess(terms, done, now=self.now, closed_at=closed_at, cancelled=cancelled)
        row.update(outcome_columns(outcome, fulfilled=row["state"] == "fulfilled"))
        if closing is not None and closed_at is not None:
            self._closed(book, row, closing, closed_at, outcome)
        if (outcome.deviations and row["state"] == "fulfilled") or row["unhappy"]:
            self._remedy(book, row, (closed_at or due) + timedelta(hours=rng.uniform(1, 30)))
            row["remedied"] = True  # but for the latest few: see reopen()
        if kind == "delivery" and row["state"] == "fulfilled":
            self.recent_deliveries.append((pid, what, plan.customer, closed_at or due))
            if len(self.recent_deliveries) > 200:
                self.recent_deliveries.pop(0)
        book.promise.append(row)

    def _settle(
        self,
        book: Book,
        row: dict[str, Any],
        terms: Terms,
        created: datetime,
        due: datetime,
        fate: str,
        done: list[Fulfilment],
    ) -> tuple[bool, datetime | None, int | None]:
        """Close a promise of the history: fulfilled as ``fate`` says, or cancelled.

        Returns whether it was cancelled, when it was fulfilled, and the change that fulfilled it.
        """
        rng = self.rng
        what, qty, price = terms.what, terms.quantity, row["price_minor"]
        if fate == "cancelled":
            at = min(created + timedelta(hours=rng.uniform(1, 72)), self.now - timedelta(hours=1))
            row.update(state="cancelled", closed_at=at)
            change = self._change(book, at, "promise cancel")
            self._event(book, change, row, at, "cancelled", reason="Customer found one elsewhere")
            return True, None, None
        by_delivery = row["kind"] == "delivery"  # the others are closed by `pk done`
        on_time = min(due - timedelta(hours=rng.uniform(0.5, 30)), self.now - timedelta(hours=1))
        on_time = max(on_time, created + timedelta(minutes=5))
        at = on_time
        if fate == "late":
            at = min(due + timedelta(hours=rng.uniform(1, 120)), self.now - timedelta(minutes=30))
        if fate == "short" and qty > 1:
            short = price * (qty - 1) // qty if price else None
            delivery, change = self._deliver(book, row, at, what, qty - 1, short, event=by_delivery)
        elif fate == "split" and qty > 1 and price is not None:
            first = price // qty
            part = max(at - timedelta(hours=4), created + timedelta(minutes=1))  # after it was made
            done.append(self._deliver(book, row, part, what, 1, first, event=by_delivery)[0])
            delivery, change = self._deliver(book, row, at, what, qty - 1, price - first, event=by_delivery)
        else:
            item = what + (" (another colour)" if fate == "substituted" and row["kind"] == "delivery" else "")
            charged = price
            if fate == "price" and price is not None:
                charged = price + rng.choice((-1, 1)) * max(100, price // 10)
            extra = 1 if fate == "excess" and row["kind"] == "delivery" else 0
            if extra and price is not None:
                charged = price + price // qty
            delivery, change = self._deliver(book, row, at, item, qty + extra, charged, event=by_delivery)
        done.append(delivery)
        row.update(state="fulfilled", closed_at=at)
        row["unhappy"] = row["kind"] == "followup" and fate == "unhappy"
        return False, at, change

    def _closed(self, book: Book, row: dict[str, Any], change: int, at: datetime, outcome: Outcome) -> None:
        """The verdict event of the change that closed the promise: ``fulfilled`` after the delivery that
        completed it, or ``done`` (a callback, reply, follow-up or other promise; or a delivery closed
        short, by a ``pk done`` of its own after the partial delivery).
        """
        if row["kind"] == "delivery" and outcome.delivered_quantity >= row["quantity"]:
            self._event(book, change, row, at, "fulfilled", **outcome_data(outcome))
        else:
            if row["kind"] == "delivery":
                change = self._change(book, at, "done")
            self._event(
                book, change, row, at, "done", **outcome_data(outcome), unhappy=row["unhappy"], note=None
            )

    def _remedy(self, book: Book, row: dict[str, Any], at: datetime) -> None:
        at = min(at, self.now - timedelta(minutes=10))
        action, prevent = "Apologised and refunded the difference", "Check the order before it leaves"
        book.remedy.append(
            {"id": self.next_remedy, "promise_id": row["id"], "at": at, "action": action, "prevent": prevent}
        )
        self.next_remedy += 1
        self._event(
            book, self._change(book, at, "remedy"), row, at, "remedied", action=action, prevent=prevent
        )

    def fates(self) -> bytearray:
        """The fate of every history promise (one byte each)."""
        codes = bytearray()
        table = (
            (0.05, b"c"),  # cancelled
            (0.065, b"l"),  # late
            (0.02, b"p"),  # price
            (0.012, b"s"),  # substituted
            (0.01, b"h"),  # short
            (0.004, b"e"),  # excess
            (0.02, b"2"),  # split into two deliveries, kept
            (0.004, b"u"),  # unhappy (on a follow-up)
        )
        for _ in range(self.history):
            r, code = self.rng.random(), b"k"
            for p, c in table:
                if r < p:
                    code = c
                    break
                r -= p
            codes += code
        return codes


FATE = {
    ord("k"): "kept",
    ord("c"): "cancelled",
    ord("l"): "late",
    ord("p"): "price",
    ord("s"): "substituted",
    ord("h"): "short",
    ord("e"): "excess",
    ord("2"): "split",
    ord("u"): "unhappy",
}


def write(conn: sa.Connection, book: Book) -> None:
    for name, rows in (
        ("promise", book.promise),
        ("promise_tag", book.tag),
        ("delivery", book.delivery),
        ("change", book.change),
        ("event", book.event),
        ("remedy", book.remedy),
    ):
        insert_rows(conn, TABLES[name], rows)


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-value processing would take most of the time.

    Moments are stored as ``UTCDateTime`` stores them: naive UTC (as text on SQLite, in the format
    SQLAlchemy writes and reads); JSON columns (an event's ``data``) as the JSON text ``sa.JSON`` writes.
    """
    if not rows:
        return
    names = [c.name for c in table.columns]
    moments = {c.name for c in table.columns if isinstance(c.type, UTCDateTime)}
    documents = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    sqlite = conn.dialect.name == "sqlite"

    def moment(value: datetime | None) -> Any:
        if value is None:
            return None
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(" ", "microseconds") if sqlite else naive

    marks = ", ".join("?" if sqlite else "%s" for _ in names)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"

    # A column the generator does not fill takes its schema default (a customer's consent is "none").
    pairs = [(c.name, _default(c)) for c in table.columns]
    convert: list[tuple[int, Callable[[Any], Any]]] = [
        (i, moment) for i, n in enumerate(names) if n in moments
    ]
    convert += [(i, json.dumps) for i, n in enumerate(names) if n in documents]
    data = []
    for r in rows:
        cells = [r.get(n, d) for n, d in pairs]
        for i, f in convert:
            cells[i] = f(cells[i])
        data.append(tuple(cells))
    conn.exec_driver_sql(sql, data)


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    return getattr(default, "arg", None) if default is not None and default.is_scalar else None


def generate(n: int, target: str, now: datetime, seed: int) -> dict[str, int]:
    gen = Generator(n, now, seed)
    database = Database(target)
    engine = database.engine  # creates the schema exactly as pk does
    with engine.connect() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(TABLES["promise"])).scalar():
            raise SystemExit(f"{target} already holds promises; give a new file or an empty database.")
    fates = gen.fates()
    with engine.begin() as conn:
        kept = KeptPause(conn)  # the kept totals counted once at the end, as a bulk import counts them
        write_customers(conn, gen.customer_rows())
        book, h = Book(), 0
        for pid, plan in enumerate(gen.plans(), start=1):
            code = "kept"
            if plan.fate == "history":
                code = FATE[fates[h]]
                h += 1
            gen.promise(book, pid, plan, code)
            if book.size() >= CHUNK:
                write(conn, book)
                book = Book()
                print(f"\r{pid:>10,} promises", end="", file=sys.stderr, flush=True)
        write(conn, book)
        removed = reopen(conn, UNREMEDIED)
        kept.resume()
        print(file=sys.stderr)
        if engine.dialect.name == "postgresql":
            for table in ("customer", "promise", "delivery", "change", "event", "remedy"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return {
        "promises": n,
        "customers": gen.customers,
        "changes": gen.next_change - 1 - removed,
        "events": gen.next_event - 1 - removed,
    }


def reopen(conn: sa.Connection, count: int) -> int:
    """Take the remedy back from the latest ``count`` deviations: the ones the shop has not put right yet.

    Their ``remedy`` changes go too (each held only that event); returns how many.
    """
    promise, remedy, event, change = (TABLES[name] for name in ("promise", "remedy", "event", "change"))
    latest = sa.select(promise.c.id).where(promise.c.remedied).order_by(promise.c.id.desc()).limit(count)
    ids = [row[0] for row in conn.execute(latest)]
    conn.execute(sa.update(promise).where(promise.c.id.in_(ids)).values(remedied=False))
    conn.execute(sa.delete(remedy).where(remedy.c.promise_id.in_(ids)))
    remedied = event.c.promise_id.in_(ids) & (event.c.kind == "remedied")
    changes = [row[0] for row in conn.execute(sa.select(event.c.change_id).where(remedied))]
    conn.execute(sa.delete(event).where(remedied))
    conn.execute(sa.delete(change).where(change.c.id.in_(changes)))
    return len(changes)


def write_customers(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        insert_rows(conn, TABLES["customer"], rows[i : i + CHUNK])


def default_path(n: int) -> Path:
    return Path(__file__).parent / "data" / f"book-{n}.db"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many promises (e.g. 1000, 100000, 1000000)")
    parser.add_argument("--db", help="SQLite file or SQLAlchemy URL (default: bench/data/book-N.db)")
    parser.add_argument("--now", default=NOW, help=f"the morning the book ends at (default {NOW})")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    target = args.db or str(default_path(args.n))
    if "://" not in target and Path(target).exists():
        raise SystemExit(f"{target} exists; remove it first (the generator only fills a new database).")
    now = datetime.fromisoformat(args.now).astimezone(UTC)
    started = time.perf_counter()
    counts = generate(args.n, target, now, args.seed)
    took = time.perf_counter() - started
    print(
        f"{target}: {counts['promises']:,} promises, {counts['customers']:,} customers, "
        f"{counts['events']:,} history events ({counts['changes']:,} changes) in {took:.1f} s"
    )


if __name__ == "__main__":
    main()
