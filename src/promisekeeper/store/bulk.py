"""Streams of rows in and out of the book: the JSON export's tables, the checked import's bulk inserts, and
``pk db copy`` from one database to another.

This module owns the batch sizes and the column converters, so ``exchange`` only parses and writes
file formats and never touches SQL. Every write runs in the caller's one transaction: all or nothing.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel

from promisekeeper.db import Database, describe, is_url, make_engine, read_version, storage_error
from promisekeeper.errors import BadInput
from promisekeeper.models import (
    SCHEMA_VERSION,
    Customer,
    Delivery,
    Event,
    Meta,
    Promise,
    Remedy,
    Tag,
    UTCDateTime,
)
from promisekeeper.money import Money, currency_code
from promisekeeper.rules import assess, closes, money_of
from promisekeeper.store.base import change_id, judge, outcome_columns
from promisekeeper.store.customers import customer_key
from promisekeeper.text import unsafe_character, visible
from promisekeeper.views import EventKind, Fulfilment, Kind, State, Terms
from promisekeeper.when import Clock, Due

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called now and then while reading and writing an import."""

BATCH = 2000
COPY_CHUNK = 5_000
# Table name -> its key in a JSON export; a table not named here is exported under its own name.
_JSON_KEYS = {
    "customer": "customers",
    "promise": "promises",
    "delivery": "deliveries",
    "change": "changes",
    "event": "history",
    "remedy": "remedies",
    "sent_report": "sent_reports",
    "sent_item": "sent_items",
}
_NOT_EXPORTED = (Meta.__tablename__, Tag.__tablename__)  # the schema's own facts; tags ride in their promise
# The columns of a promise that a CSV row fills in (all but ``id`` and ``customer_id``), in this order.
_RECORD_FIELDS = (
    *("kind", "what", "quantity", "price_minor", "currency", "due", "date_only", "original_due"),
    *("original_date_only", "renegotiated", "staff", "note", "parent_id", "created", "state", "closed_at"),
    *("unhappy", "remedied", "fulfilled_at", "delivered_quantity", "charged_minor", "charged_currency"),
    *("late_seconds", "dev_late", "dev_substituted", "dev_price", "dev_short", "dev_excess"),
    *("handover", "ready_at", "deposit_minor", "deposit_currency"),
)


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


def _table(model: type[SQLModel]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


def _data_tables() -> list[sa.Table]:
    """Every table of the schema but the excluded ones, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in _NOT_EXPORTED]


def _json_key(table: sa.Table) -> str:
    return _JSON_KEYS.get(table.name, table.name)


def _batches(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


# --- export ----------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def export_sections(session: Session) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    """Every table as (its key in a JSON export, its records as JSON values), parents first.

    Records stream from the database: a book of any size is written in flat memory. A promise's
    record carries its ``tags``.
    """
    tag_table = _table(Tag)
    tags: dict[int, list[str]] = defaultdict(list)
    query = sa.select(tag_table.c.promise_id, tag_table.c.tag).order_by(
        tag_table.c.promise_id, tag_table.c.tag
    )
    for promise_id, tag in session.execute(query):
        tags[promise_id].append(tag)

    def records(table: sa.Table) -> Iterator[dict[str, Any]]:
        names = [c.name for c in table.columns]
        is_promise = table.name == Promise.__tablename__
        for row in session.execute(sa.select(table).order_by(*table.primary_key.columns)):
            record = {name: _json_value(value) for name, value in zip(names, row, strict=True)}
            if is_promise:
                record["tags"] = tags.get(record["id"], [])
            yield record

    for table in _data_tables():
        yield _json_key(table), records(table)


# --- import: checking a JSON export's tables ---------------------------------------------------------


@dataclass
class JsonTables:
    """A JSON export's tables, each record checked against its columns; not yet written."""

    tables: list[tuple[sa.Table, list[dict[str, Any]]]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)

    def count(self, name: str) -> int:
        return sum(len(rows) for table, rows in self.tables if table.name == name)

    @property
    def promises(self) -> int:
        return self.count(Promise.__tablename__)

    @property
    def deliveries(self) -> int:
        return self.count(Delivery.__tablename__)

    @property
    def customers(self) -> int:
        return self.count(Customer.__tablename__)


def section_keys() -> tuple[str, ...]:
    """The keys of the tables in a JSON export."""
    return tuple(_json_key(t) for t in _data_tables())


def check_json_sections(doc: dict[str, Any], name: str) -> JsonTables:
    """Check an export's tables against the schema; each record is dropped from ``doc`` once checked."""
    plan = JsonTables()
    ids: dict[str, set[Any]] = {}
    for table in _data_tables():
        key = _json_key(table)
        records = doc.get(key, [])
        if not isinstance(records, list):
            raise BadInput(f'{name}: "{key}" must be a list of records; nothing was imported.')
        rows = []
        for i, record in enumerate(records):
            where = f"{name}: {key}[{i}]"
            row = _json_record(table, record, where)
            if table.name == Promise.__tablename__:
                plan.tags.extend(_json_tags(row["id"], record.get("tags", []), where))
            rows.append(row)
            records[i] = None
        pk_cols = [c.name for c in table.primary_key.columns]
        seen: set[Any] = set()
        for i, row in enumerate(rows):
            ident = tuple(row[c] for c in pk_cols)
            if ident in seen:
                shown = ", ".join(str(v) for v in ident)
                raise BadInput(f"{name}: {key}[{i}] repeats the id {shown}; nothing was imported.")
            seen.add(ident)
        if len(pk_cols) == 1:
            ids[f"{table.name}.{pk_cols[0]}"] = {i[0] for i in seen}
        plan.tables.append((table, rows))
    for table, rows in plan.tables:
        _check_references(table, rows, ids, f"{name}: {_json_key(table)}")
    _check_derived(plan, name)
    return plan


def _json_tags(promise_id: int, tags: Any, where: str) -> Iterator[dict[str, Any]]:
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise BadInput(f'{where}: "tags" must be a list of words; nothing was imported.')
    for tag in tags:
        _check_text(tag, f'{where}: a tag "{visible(tag)}"')
    for tag in dict.fromkeys(t.strip() for t in tags):
        yield {"promise_id": promise_id, "tag": tag}


def _json_record(table: sa.Table, record: Any, where: str) -> dict[str, Any]:
    """One record checked against its table's columns: known fields only, each of the column's type."""
    if not isinstance(record, dict):
        raise BadInput(f"{where} is not a record; nothing was imported.")
    extra = set(record) - {c.name for c in table.columns} - ({"tags"} if table.name == "promise" else set())
    if extra:
        raise BadInput(
            f'{where} has an unknown field "{sorted(extra)[0]}"; was it written by a newer pk? '
            "Nothing was imported."
        )
    row: dict[str, Any] = {}
    for column in table.columns:
        value = record.get(column.name)
        if value is None:
            if not column.nullable:
                raise BadInput(f'{where} has no "{column.name}"; nothing was imported.')
            row[column.name] = None
            continue
        row[column.name] = _json_cell(column, value, where)
    if table.name == Promise.__tablename__:
        _check_promise(row, where)
    return row


def _json_cell(column: sa.Column[Any], value: Any, where: str) -> Any:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return moment.astimezone(UTC)
        expected = "an ISO 8601 moment with its offset"
    elif isinstance(kind, sa.Boolean):
        if isinstance(value, bool):
            return value
        expected = "true or false"
    elif isinstance(kind, sa.Integer):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63:
            return value
        expected = "a whole number"
    elif isinstance(kind, sa.JSON):
        if isinstance(value, dict):
            _check_fields(value, f'{where}: "{column.name}"')
            return value
        expected = "an object of fields"
    else:
        if isinstance(value, str):
            _check_text(value, f'{where}: "{column.name}"', multiline=column.name == "note")
            return value
        expected = "text"
    raise BadInput(f'{where}: "{column.name}" must be {expected}, not {_shown(value)}; nothing was imported.')


def _shown(value: Any) -> str:
    """A wrong value as an error shows it: a short repr, or what kind of thing it is (a nested list's repr
    could be as long, and as deep, as the file)."""
    if isinstance(value, (str, int, float, bool)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return "a list" if isinstance(value, list) else "an object"


def _check_text(value: str, where: str, *, multiline: bool = False) -> None:
    found = unsafe_character(value, multiline=multiline)
    if found is not None:
        raise BadInput(f"{where} contains {found}; nothing was imported.")


_DEEPEST = 16  # an event's fields are flat, with a list or object or two: deeper is no pk export


def _check_fields(data: dict[str, Any], where: str) -> None:
    """Every text in an event's fields, however nested, checked as text (a note's lines allowed); nested
    deeper than any event pk writes is refused, so no later step recurses without end."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        value, depth = todo.pop()
        if depth > _DEEPEST:
            raise BadInput(f"{where} is nested {_DEEPEST} levels deep or more; nothing was imported.")
        if isinstance(value, str):
            _check_text(value, where, multiline=True)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, where)
                todo.append((item, depth + 1))
        elif isinstance(value, list):
            todo.extend((item, depth + 1) for item in value)


def _check_derived(plan: JsonTables, name: str) -> None:
    """A file's derived promise fields may not contradict what it holds (docs/reference.md, "Import").

    Refused, naming the promise: ``fulfilled`` with no delivery; ``cancelled`` with no ``closed_at``;
    ``remedied`` with no remedy; a ``parent_id`` that is the promise itself or closes a circle. (The
    outcome columns — delivered quantity, charged, fulfilled_at, lateness, deviations — and an open
    promise's or a fulfilled one's ``closed_at`` are recomputed when it is written, by ``_rejudged``.)
    """
    by_table = {table.name: rows for table, rows in plan.tables}
    delivered = {d["promise_id"] for d in by_table.get(Delivery.__tablename__, [])}
    remedied = {r["promise_id"] for r in by_table.get(Remedy.__tablename__, [])}
    promises = by_table.get(Promise.__tablename__, [])
    parents: dict[int, int | None] = {p["id"]: p["parent_id"] for p in promises}
    rooted: set[int] = set()
    for i, p in enumerate(promises):
        where = f"{name}: promises[{i}] (#{p['id']})"
        if p["state"] == State.fulfilled and p["id"] not in delivered:
            raise BadInput(
                f"{where} says it was fulfilled, but the file holds no delivery for it; nothing was imported."
            )
        if p["state"] == State.cancelled and p["closed_at"] is None:
            raise BadInput(
                f'{where} says it was cancelled, but not when ("closed_at"); nothing was imported.'
            )
        if p["remedied"] and p["id"] not in remedied:
            raise BadInput(
                f"{where} says it was remedied, but the file holds no remedy for it; nothing was imported."
            )
        _check_ancestry(p, parents, rooted, where)


def _check_ancestry(
    promise: dict[str, Any], parents: dict[int, int | None], rooted: set[int], where: str
) -> None:
    """Refuse a promise whose parents lead back to itself or into a circle; ``rooted`` remembers the
    promises already known to lead to none, so a long chain is walked once, not once per promise."""
    chain = [promise["id"]]
    on_chain = {promise["id"]}
    parent = promise["parent_id"]
    while parent is not None and parent not in rooted:
        if parent in on_chain:
            if parent == promise["id"] == promise["parent_id"]:
                raise BadInput(f'{where} is its own parent ("parent_id"); nothing was imported.')
            shown = " → ".join(f"#{i}" for i in [*chain[chain.index(parent) :], parent])
            raise BadInput(f"{where} leads to a circle of parents ({shown}); nothing was imported.")
        chain.append(parent)
        on_chain.add(parent)
        parent = parents.get(parent)
    rooted.update(chain)


def _check_promise(row: dict[str, Any], where: str) -> None:
    if row["kind"] not in tuple(Kind):
        raise BadInput(f'{where}: unknown kind "{row["kind"]}"; nothing was imported.')
    if row["state"] not in tuple(State):
        raise BadInput(f'{where}: unknown state "{row["state"]}"; nothing was imported.')
    if row["quantity"] < 1:
        raise BadInput(f"{where}: the quantity must be at least 1; nothing was imported.")
    for code in (row["currency"], row["charged_currency"]):
        if code is not None:
            try:
                currency_code(code)
            except BadInput:
                raise BadInput(f'{where}: unknown currency "{code}"; nothing was imported.') from None


def _check_references(
    table: sa.Table, rows: list[dict[str, Any]], ids: dict[str, set[Any]], where: str
) -> None:
    for column in table.columns:
        for fk in column.foreign_keys:
            known = ids.get(fk.target_fullname)
            if known is None:  # pragma: no cover - every foreign key of the schema points at an id column
                continue
            for i, row in enumerate(rows):
                value = row[column.name]
                if value is not None and value not in known:
                    target = fk.column.table.name
                    raise BadInput(
                        f'{where}[{i}]: "{column.name}" {value} names no {target} in the file; '
                        "nothing was imported."
                    )


# --- import: writing ---------------------------------------------------------------------------------


def _does_not_fit(source: str, exc: IntegrityError) -> BadInput:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "a constraint failed"
    return BadInput(f"{source} does not fit the database ({reason}); nothing was imported.")


def require_empty(session: Session, name: str) -> None:
    """A JSON export is imported into an empty book only: its ids are kept as they are."""
    first = (Customer.__tablename__, Promise.__tablename__)  # named first: what a user recognises
    for table in sorted(_data_tables(), key=lambda t: t.name not in first):
        count = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if count:
            raise BadInput(
                f"The database already holds {count} {_json_key(table).replace('_', ' ')}; a JSON export is "
                f"imported into an empty database only, e.g. pk --db restored.db import {name}."
            )


def write_json_tables(
    session: Session, plan: JsonTables, *, source: str, clock: Clock, progress: Progress | None = None
) -> None:
    """Write a checked export into an empty book, each promise's outcome judged again by the rules."""
    progress = progress or _noop
    require_empty(session, source)
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
        deliveries: dict[int, list[Fulfilment]] = defaultdict(list)
        for table, rows in plan.tables:
            if table.name == Delivery.__tablename__:
                for d in sorted(rows, key=lambda r: (r["at"], r["id"])):
                    deliveries[d["promise_id"]].append(
                        Fulfilment(
                            d["at"], d["what"], d["quantity"], money_of(d["price_minor"], d["currency"])
                        )
                    )
        total = sum(len(rows) for _t, rows in plan.tables) + len(plan.tags)
        done = 0
        for table, rows in plan.tables:
            if table.name == Promise.__tablename__:
                rows = [_rejudged(row, deliveries[row["id"]], clock) for row in rows]
            for batch in _batches(rows, 10 * BATCH):
                _bulk_insert(session, table, batch)
                done += len(batch)
                progress("Writing", done, total)
            if table.name == Promise.__tablename__:
                _bulk_insert(session, _table(Tag), plan.tags)
                done += len(plan.tags)
        _reset_sequences(session, [table for table, _rows in plan.tables])
        session.flush()
    except IntegrityError as exc:
        raise _does_not_fit(source, exc) from None
    progress("Writing", total, total)


def _rejudged(row: dict[str, Any], deliveries: list[Fulfilment], clock: Clock) -> dict[str, Any]:
    """The promise with its derived columns recomputed by the rules, as the store keeps them: an open
    promise has no ``closed_at``; a fulfilled one without it was closed by its last delivery."""
    fulfilled = row["state"] == State.fulfilled
    closed_at = row["closed_at"]
    if row["state"] == State.active:
        closed_at = None
    elif fulfilled and closed_at is None and deliveries:
        closed_at = max(d.at for d in deliveries)
    terms = Terms(row["what"], row["quantity"], money_of(row["price_minor"], row["currency"]), row["due"])
    outcome = judge(terms, deliveries, state=row["state"], closed_at=closed_at, now=clock.now)
    return {**row, "closed_at": closed_at, **outcome_columns(outcome, fulfilled=fulfilled)}


def _reset_sequences(session: Session, tables: Sequence[sa.Table]) -> None:
    """PostgreSQL hands out ids from sequences that explicit ids do not advance: move them past the import."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer) or pk[0].foreign_keys:
            continue
        session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
            )
        )


@dataclass(slots=True)
class CsvPromise:
    """One checked CSV row: the promise's terms and, when it was delivered, its delivery."""

    line: int
    customer: str | None
    what: str
    quantity: int
    price: Money | None
    due: Due
    kind: Kind
    staff: str | None
    note: str | None
    tags: tuple[str, ...]
    delivery: Fulfilment | None
    closed: bool = False  # closed by its delivery even if short (pk's own export said it was fulfilled)
    record: tuple[Any, ...] = ()  # the promise's columns but id and customer_id, as _RECORD_FIELDS


def prepare_csv_row(r: CsvPromise, clock: Clock) -> None:
    """Fill in the row's promise columns, its outcome judged by the rules, before the database is touched
    (a tuple: a third of a dict's memory)."""
    terms = Terms(what=r.what, quantity=r.quantity, price=r.price, due=r.due.moment)
    deliveries = [r.delivery] if r.delivery is not None else []
    closed_at = r.delivery.at if r.delivery is not None and (r.closed or closes(terms, deliveries)) else None
    outcome = assess(terms, deliveries, now=clock.now, closed_at=closed_at)
    record = {
        "kind": str(r.kind),
        "what": r.what,
        "quantity": r.quantity,
        "price_minor": r.price.minor if r.price else None,
        "currency": r.price.currency if r.price else None,
        "due": r.due.moment,
        "date_only": r.due.date_only,
        "original_due": None,
        "original_date_only": None,
        "renegotiated": False,
        "staff": r.staff,
        "note": r.note,
        "parent_id": None,
        "created": clock.now,
        "state": str(State.fulfilled if closed_at is not None else State.active),
        "closed_at": closed_at,
        "unhappy": False,
        "remedied": False,
        **outcome_columns(outcome, fulfilled=closed_at is not None),
        "handover": None,
        "ready_at": None,
        "deposit_minor": None,
        "deposit_currency": None,
    }
    r.record = tuple(record[name] for name in _RECORD_FIELDS)


def _existing_customers(session: Session, keys: Iterable[str]) -> dict[str, int]:
    customer = _table(Customer)
    found: dict[str, int] = {}
    for chunk in _batches(sorted(keys), 500):
        query = sa.select(customer.c.name_key, customer.c.id).where(customer.c.name_key.in_(chunk))
        for key, cid in session.execute(query):
            found[key] = cid
    return found


def new_csv_customers(session: Session, rows: Sequence[CsvPromise]) -> int:
    """How many customers importing these rows would create (for ``--dry-run``)."""
    keys = {customer_key(r.customer) for r in rows if r.customer}
    return len(keys) - len(_existing_customers(session, keys))


def _insert_returning_ids(
    session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[int]:
    """Insert rows and return their new ids, in order.

    SQLite cannot return ids in order from one multi-row insert, and row by row is slow; but the
    transaction holds the write lock from its ``BEGIN IMMEDIATE``, so the next ids are known.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "sqlite":
        start = session.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one() + 1
        ids = list(range(start, start + len(rows)))
        _insert_values(session, table, ["id", *names], [(i, *row) for i, row in zip(ids, rows, strict=True)])
        return ids
    query = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(query, [dict(zip(names, row, strict=True)) for row in rows])]


def write_csv_rows(
    session: Session,
    rows: Sequence[CsvPromise],
    *,
    source: str,
    clock: Clock,
    progress: Progress | None = None,
) -> int:
    """Insert checked CSV rows (customers created by name, tags, deliveries, an ``imported`` event each)
    as one change; return how many customers were created."""
    progress = progress or _noop
    try:
        return _write_csv_rows(session, rows, source=source, clock=clock, progress=progress)
    except IntegrityError as exc:
        raise _does_not_fit(source, exc) from None


def _write_csv_rows(
    session: Session, rows: Sequence[CsvPromise], *, source: str, clock: Clock, progress: Progress
) -> int:
    names: dict[str, str] = {}
    for r in rows:
        if r.customer:
            names.setdefault(customer_key(r.customer), r.customer)
    customer_ids = _existing_customers(session, names)
    new = [key for key in names if key not in customer_ids]
    created = _insert_returning_ids(
        session,
        _table(Customer),
        ("name", "name_key", "created"),
        [(names[key], key, clock.now) for key in new],
    )
    customer_ids.update(zip(new, created, strict=True))
    change = change_id(session, clock.now)

    total = len(rows)
    progress("Writing", 0, total)
    promise_table, tag_table = _table(Promise), _table(Tag)
    delivery_table, event_table = _table(Delivery), _table(Event)
    done = 0
    for batch in _batches(rows):
        promises = [
            (customer_ids[customer_key(r.customer)] if r.customer else None, *r.record) for r in batch
        ]
        ids = _insert_returning_ids(session, promise_table, ("customer_id", *_RECORD_FIELDS), promises)
        tags: list[dict[str, Any]] = []
        deliveries: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for pid, (customer_id, *_rest), r in zip(ids, promises, batch, strict=True):
            tags.extend({"promise_id": pid, "tag": t} for t in r.tags)
            events.append(
                {
                    "change_id": change,
                    "promise_id": pid,
                    "customer_id": customer_id,
                    "at": clock.now,
                    "kind": str(EventKind.imported),
                    "data": {"source": source, "line": r.line},
                }
            )
            d = r.delivery
            if d is not None:
                deliveries.append(
                    {
                        "promise_id": pid,
                        "at": d.at,
                        "what": d.what,
                        "quantity": d.quantity,
                        "price_minor": d.price.minor if d.price else None,
                        "currency": d.price.currency if d.price else None,
                        "note": None,
                    }
                )
        for table, part in ((tag_table, tags), (delivery_table, deliveries), (event_table, events)):
            _bulk_insert(session, table, part)
        done += len(batch)
        progress("Writing", done, total)
    return len(new)


def _bulk_insert(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns."""
    if rows:
        names = list(rows[0])
        get = operator.itemgetter(*names)
        values = [get(row) for row in rows] if len(names) > 1 else [(get(row),) for row in rows]
        _insert_values(session, table, names, values)


def _insert_values(
    session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows of values for ``names``.

    On SQLite the values go through each column type's own bind processor (so they are stored
    exactly as an ORM insert stores them) straight to the driver's ``executemany``: several times
    faster than the general path, which shortens how long a large import holds the write lock.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        session.execute(sa.insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    converters = [_converter(table.c[name].type, conn.dialect) for name in names]
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
    convert = [(i, c) for i, c in enumerate(converters) if c is not _same]
    params = []
    for row in rows:
        cells = list(row)
        for i, c in convert:
            cells[i] = c(cells[i])
        params.append(tuple(cells))
    conn.exec_driver_sql(sql, params)


def _converter(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Callable[[Any], Any]:
    """The column type's bind processor; for moments, remembered per value (dates repeat a lot)."""
    proc = kind.dialect_impl(dialect).bind_processor(dialect)
    if proc is None:
        return _same
    if not isinstance(kind, UTCDateTime):
        return lambda value: None if value is None else proc(value)
    memo: dict[datetime, Any] = {}

    def convert(value: datetime | None) -> Any:
        if value is None:
            return None
        found = memo.get(value)
        if found is None:
            found = memo[value] = proc(value)
        return found

    return convert


def _same(value: Any) -> Any:
    return value


# --- pk db copy --------------------------------------------------------------------------------------


def copy_book(source: str, target: str) -> dict[str, int]:
    """Copy every row of one promise book into a new, empty database, ids and all, in one transaction.

    For moving a SQLite file onto a PostgreSQL server (or back): rows stream table by table in id
    order, a chunk at a time, so a book of a million promises needs no more memory than a few
    thousand rows. The source is only read and must be at this version's schema; the target is
    created if need be and must hold no promises or customers. Returns the rows copied per table.
    """

    def where(t: str) -> str:
        return describe(t) if is_url(t) else str(Path(t).expanduser().resolve())

    if where(source) == where(target):
        raise BadInput("The source and the target are the same database; give another target.")
    src = make_engine(source)
    try:
        with src.connect().execution_options(pk_write=False) as conn:
            version = read_version(conn)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, source) from exc
    if version is None:
        raise BadInput(f"{describe(source)} holds no promise book to copy.")
    if version != SCHEMA_VERSION:
        raise BadInput(
            f"{describe(source)} is at schema {version}, this pk at {SCHEMA_VERSION}; "
            "run pk db upgrade on it first (or use the pk that wrote it)."
        )
    dst = Database(target).engine
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != Meta.__tablename__]
    counts: dict[str, int] = {}
    try:
        snapshot = {"isolation_level": "REPEATABLE READ"} if src.dialect.name == "postgresql" else {}
        reading = src.connect().execution_options(pk_write=False, **snapshot)  # one snapshot for all tables
        with reading as read, dst.begin() as write:
            for name in ("promise", "customer"):
                if write.execute(
                    sa.select(sa.func.count()).select_from(SQLModel.metadata.tables[name])
                ).scalar():
                    raise BadInput(
                        f"{describe(target)} already holds promises or customers; copy into an empty one."
                    )
            for table in tables:
                order = list(table.primary_key.columns)
                rows = read.execution_options(yield_per=COPY_CHUNK).execute(sa.select(table).order_by(*order))
                counts[table.name] = 0
                for chunk in rows.mappings().partitions():
                    write.execute(table.insert(), [dict(r) for r in chunk])
                    counts[table.name] += len(chunk)
            if dst.dialect.name == "postgresql":
                for table in tables:
                    if "id" in table.c and table.c.id.autoincrement is not False and table.c.id.primary_key:
                        write.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                        )
        if dst.dialect.name == "postgresql":
            with dst.connect() as conn:
                # The planner's statistics for the new rows, now rather than when autovacuum gets to them.
                conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in tables)}")
                conn.commit()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, target) from exc
    finally:
        src.dispose()
    return counts
