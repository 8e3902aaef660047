"""Streams of rows in and out of the book: the JSON export's records, the CSV export's promises, the checked
imports' batches, and ``pk db copy`` from one database to another.

Everything streams, a batch at a time: a book of a million promises goes out and comes in within a few
dozen megabytes. This module owns the batch sizes and the column converters, so ``exchange`` only parses
and writes file formats and never touches SQL. Every write runs in the caller's one transaction: all or
nothing. On SQLite the rows go straight to the driver (``executemany``), never through ORM objects.
"""

from __future__ import annotations

import json
import operator
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, select

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
    recount_sql,
)
from promisekeeper.money import Money, currency_code
from promisekeeper.rules import assess, closes, money_of
from promisekeeper.store.base import change_id, judge, outcome_columns, ready_of, views
from promisekeeper.store.customers import customer_key
from promisekeeper.text import unsafe_character, visible
from promisekeeper.views import (
    DeviationKind,
    EventKind,
    Fulfilment,
    Handover,
    Kind,
    PromiseView,
    State,
    Status,
    Terms,
)
from promisekeeper.when import Clock, Due

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called now and then while an import or export runs."""

BATCH = 2000
_RECOUNT_AFTER = 10 * BATCH
_CACHE_KIB = 16 * 1024  # SQLite's page cache while an import writes: more of its indexes in memory
EXPORT_CHUNK = 2000
COPY_CHUNK = 5_000
# Table name -> its key in a JSON export; a table not named here is exported under its own name.
_JSON_KEYS = {
    "customer": "customers",
    "promise": "promises",
    "delivery": "deliveries",
    "change": "changes",
    "event": "history",
    "remedy": "remedies",
    "supply_order": "supply_orders",
    "supply_link": "supply_links",
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
_RECORD = operator.itemgetter(*_RECORD_FIELDS)
# The outcome columns that the rules decide (``outcome_columns``), with ``closed_at``: what an import
# recomputes rather than trusts.
_JUDGED = (
    *("closed_at", "fulfilled_at", "delivered_quantity", "charged_minor", "charged_currency"),
    *("late_seconds", "dev_late", "dev_substituted", "dev_price", "dev_short", "dev_excess"),
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


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _driver(session: Session) -> Any:
    """The DB-API connection under the session's transaction (SQLite's ``sqlite3.Connection``)."""
    return session.connection().connection.driver_connection


def _roomy(session: Session) -> None:
    """A page cache large enough to keep the indexes that a bulk write changes in memory (SQLite)."""
    session.execute(sa.text(f"PRAGMA cache_size = -{_CACHE_KIB}"))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- export: JSON ------------------------------------------------------------------------------------


def section_keys() -> tuple[str, ...]:
    """The keys of the tables in a JSON export, in the order they are written (parents first)."""
    return tuple(_json_key(t) for t in _data_tables())


def export_records(session: Session) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """Every table as (its key in a JSON export, its records as JSON texts, a chunk at a time), parents
    first, each table in id order; a promise's record carries its ``tags``.

    On SQLite the database writes each record (``json_object``, moments as UTC ISO 8601); on another engine
    Python does, from the typed rows. Both stream: memory stays flat whatever the size of the book.
    """
    sqlite = _is_sqlite(session)
    for table in _data_tables():
        records = _sqlite_records(session, table) if sqlite else _python_records(session, table)
        yield _json_key(table), records


# A moment as SQLAlchemy stores it on SQLite (``UTCDateTime``: naive UTC, always with microseconds).
_CANONICAL_MOMENT = "-".join(["[0-9]" * 4, "[0-9]" * 2, "[0-9]" * 2]) + " " + ":".join(["[0-9]" * 2] * 3)
_CANONICAL_MOMENT += "." + "[0-9]" * 6


def _moment_reader(dialect: sa.Dialect) -> Callable[[Any], datetime]:
    """SQLAlchemy's own reading of a stored moment (naive UTC) on this dialect."""
    parse = sa.DateTime().dialect_impl(dialect).result_processor(dialect, None)
    return cast(Callable[[Any], datetime], parse if parse is not None else _same)


def _json_moments(dialect: sa.Dialect) -> Callable[[Any], str]:
    """What the typed path writes for a stored moment that is not in the usual form (SQLite's fallback)."""
    parse = _moment_reader(dialect)

    def moment(value: Any) -> str:
        return str(parse(value).replace(tzinfo=UTC).isoformat())

    return moment


def _sqlite_json_value(column: sa.Column[Any]) -> str:
    """The SQL that makes a column's JSON value as the typed path would (``_json_value``)."""
    c = _quoted(column.name)
    if isinstance(column.type, UTCDateTime):
        return (
            f"CASE WHEN {c} IS NULL THEN NULL WHEN {c} GLOB '{_CANONICAL_MOMENT}' THEN substr({c}, 1, 10) "
            f"|| 'T' || substr({c}, 12, CASE WHEN substr({c}, 21) = '000000' THEN 8 ELSE 15 END) || '+00:00' "
            f"ELSE pk_json_moment({c}) END"
        )
    if isinstance(column.type, sa.Boolean):
        return f"CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN json('true') ELSE json('false') END"
    return c


def _sqlite_records(session: Session, table: sa.Table) -> Iterator[list[str]]:
    """A table's records as JSON texts made by SQLite. A JSON column (an event's ``data``) is stored as the
    JSON text SQLAlchemy wrote, and goes out as it is."""
    raw = _driver(session)
    raw.create_function("pk_json_moment", 1, _json_moments(session.get_bind().dialect), deterministic=True)
    documents = [c.name for c in table.columns if isinstance(c.type, sa.JSON)]
    pairs = ", ".join(
        f"'{c.name}', {_sqlite_json_value(c)}" for c in table.columns if c.name not in documents
    )
    order = ", ".join(_quoted(c.name) for c in table.primary_key.columns)
    extra = "".join(f", {_quoted(name)}" for name in documents)
    is_promise = table.name == Promise.__tablename__
    if is_promise:
        extra += ", id"
    cursor = raw.execute(f"SELECT json_object({pairs}){extra} FROM {_quoted(table.name)} ORDER BY {order}")
    tags = _tag_stream(session) if is_promise else None
    keys = [f',"{name}":' for name in documents]
    while rows := cursor.fetchmany(EXPORT_CHUNK):
        if not documents and tags is None:
            yield [row[0] for row in rows]
            continue
        out = []
        for row in rows:
            text = row[0][:-1]
            for i, key in enumerate(keys, start=1):
                text += key + (row[i] if row[i] is not None else "null")
            if tags is not None:
                text += ',"tags":' + json.dumps(tags.of(row[-1]), ensure_ascii=False)
            out.append(text + "}")
        yield out


class _TagStream:
    """The tags of promises asked for in id order, read alongside them (one pass over the tag table)."""

    def __init__(self, rows: Iterator[tuple[int, str]]) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def of(self, promise_id: int) -> list[str]:
        found: list[str] = []
        while self._next is not None and self._next[0] <= promise_id:
            if self._next[0] == promise_id:
                found.append(self._next[1])
            self._next = next(self._rows, None)
        return found


def _tag_stream(session: Session) -> _TagStream:
    tag = _table(Tag)
    query = sa.select(tag.c.promise_id, tag.c.tag).order_by(tag.c.promise_id, tag.c.tag)
    rows = session.connection().execution_options(yield_per=EXPORT_CHUNK).execute(query)
    return _TagStream(iter(cast(Iterator[tuple[int, str]], rows)))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _python_records(session: Session, table: sa.Table) -> Iterator[list[str]]:
    """A table's records as JSON texts made from the typed rows (any engine)."""
    names = [c.name for c in table.columns]
    is_promise = table.name == Promise.__tablename__
    tags = _tag_stream(session) if is_promise else None
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = session.connection().execution_options(yield_per=EXPORT_CHUNK).execute(query)
    for rows in result.partitions():
        out = []
        for row in rows:
            record = {name: _json_value(value) for name, value in zip(names, row, strict=True)}
            if tags is not None:
                record["tags"] = tags.of(record["id"])
            out.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        yield out


# --- export: CSV, one promise a row ---------------------------------------------------------------


class SettledPromise(NamedTuple):
    """A promise whose judgement is settled, as the book keeps it: fulfilled (or cancelled with nothing
    delivered), not waiting for goods, without a readiness or a deposit. The outcome columns hold what
    ``rules.assess`` decided when it was settled, which no later ``now`` changes; ``status`` and
    ``deviations`` are read from them. Everything else is exported through ``PromiseView``."""

    id: int
    kind: str
    customer: str | None
    what: str
    quantity: int
    price_minor: int | None
    currency: str | None
    due: datetime
    date_only: bool
    original_due: datetime | None
    renegotiated: bool
    status: str
    deviations: tuple[str, ...]
    delivered_quantity: int
    charged_minor: int | None
    charged_currency: str | None
    fulfilled_at: datetime | None
    late_seconds: int | None
    staff: str | None
    tags: tuple[str, ...]
    note: str | None
    parent_id: int | None
    remedied: bool
    unhappy: bool
    created: datetime
    handover: str | None


_DEVIATION_FLAGS = (
    (DeviationKind.late, "dev_late"),
    (DeviationKind.substituted, "dev_substituted"),
    (DeviationKind.price, "dev_price"),
    (DeviationKind.short, "dev_short"),
    (DeviationKind.excess, "dev_excess"),
)
_TAG_SEPARATOR = "\x1f"  # no tag holds it: a tag is one line of text without control characters
_KINDS = frozenset(Kind)


def export_promises(session: Session, *, clock: Clock) -> Iterator[SettledPromise | PromiseView]:
    """Every promise but the undone ones, in ``promise list`` order (due, then id), for the CSV export: a
    settled one as its stored row (``SettledPromise``), any other judged now (``PromiseView``).

    On another engine than SQLite every promise is a ``PromiseView`` (``queries.iter_promises``).
    """
    if not _is_sqlite(session):
        from promisekeeper.store.queries import iter_promises

        yield from iter_promises(session, clock=clock)
        return
    moment = _moment_reader(session.get_bind().dialect)

    def aware(text: Any) -> datetime | None:
        return None if text is None else moment(text).replace(tzinfo=UTC)

    flag_columns = ", ".join(f"p.{name}" for _, name in _DEVIATION_FLAGS)
    cursor = _driver(session).execute(
        "SELECT p.id, p.kind, c.name, p.what, p.quantity, p.price_minor, p.currency, p.due, p.date_only, "
        "p.original_due, p.renegotiated, p.state, p.delivered_quantity, p.charged_minor, p.charged_currency, "
        "p.fulfilled_at, p.late_seconds, p.staff, "
        f"(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM promise_tag WHERE promise_id = p.id "
        "ORDER BY tag)), p.note, p.parent_id, p.remedied, p.unhappy, p.created, p.handover, "
        f"{flag_columns}, "
        "p.ready_at IS NULL AND p.deposit_minor IS NULL AND NOT EXISTS (SELECT 1 FROM supply_link l "
        "JOIN supply_order o ON o.id = l.order_id WHERE l.promise_id = p.id AND o.state != 'voided') AND "
        "(p.state = 'fulfilled' OR (p.state = 'cancelled' AND NOT EXISTS "
        "(SELECT 1 FROM delivery d WHERE d.promise_id = p.id))) "
        "FROM promise p LEFT JOIN customer c ON c.id = p.customer_id "
        "WHERE p.state != 'voided' ORDER BY p.due, p.id"
    )
    handovers = (None, *Handover)
    while rows := cursor.fetchmany(EXPORT_CHUNK):
        out: list[SettledPromise | None] = []
        later: list[int] = []
        for r in rows:
            if not r[30] or r[1] not in _KINDS or r[24] not in handovers:
                out.append(None)
                later.append(r[0])
                continue
            cancelled = r[11] == State.cancelled
            flags = zip(_DEVIATION_FLAGS, r[25:30], strict=True)
            kinds = () if cancelled else tuple(str(k) for (k, _), flag in flags if flag)
            tags = r[18]
            out.append(
                SettledPromise(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[6],
                    aware(r[7]),  # type: ignore[arg-type]
                    bool(r[8]),
                    aware(r[9]),
                    bool(r[10]),
                    Status.cancelled if cancelled else Status.deviated if kinds else Status.kept,
                    kinds,
                    0 if cancelled else r[12],
                    None if cancelled else r[13],
                    None if cancelled else r[14],
                    None if cancelled else aware(r[15]),
                    None if cancelled else r[16],
                    r[17],
                    tuple(tags.split(_TAG_SEPARATOR)) if tags else (),
                    r[19],
                    r[20],
                    bool(r[21]),
                    bool(r[22]),
                    aware(r[23]),  # type: ignore[arg-type]
                    (r[24] or Handover.pickup) if r[1] == Kind.delivery else None,
                )
            )
        judged: dict[int, PromiseView] = {}
        if later:
            loaded = {p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(later)))}
            judged = {v.id: v for v in views(session, [loaded[i] for i in later], clock)}
        for r, settled in zip(rows, out, strict=True):
            yield settled if settled is not None else judged[r[0]]


# --- import: the checks shared by both formats --------------------------------------------------------


def _check_text(value: str, where: str, *, multiline: bool = False) -> None:
    found = unsafe_character(value, multiline=multiline)
    if found is not None:
        raise BadInput(f"{where} contains {found}; nothing was imported.")


def _does_not_fit(source: str, exc: IntegrityError) -> BadInput:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "a constraint failed"
    return BadInput(f"{source} does not fit the database ({reason}); nothing was imported.")


def require_empty(session: Session, name: str) -> None:
    """A JSON export is imported into an empty book only: its ids are kept as they are."""
    first = (Customer.__tablename__, Promise.__tablename__)  # named first: what a user recognises
    for table in sorted(_data_tables(), key=lambda t: t.name not in first):
        if session.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None:
            continue
        count = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        raise BadInput(
            f"The database already holds {count} {_json_key(table).replace('_', ' ')}; a JSON export is "
            f"imported into an empty database only, e.g. pk --db restored.db import {name}."
        )


class _Ids:
    """A set of whole numbers (a table's ids) in little memory: a bit each for the usual small positive ids,
    a set for any other."""

    __slots__ = ("_bits", "_more")
    _LIMIT = 1 << 28  # at most 32 MB of bits

    def __init__(self) -> None:
        self._bits = bytearray()
        self._more: set[int] = set()

    def add(self, value: int) -> bool:
        """Add ``value``; ``False`` when it was there already."""
        if 0 <= value < self._LIMIT:
            byte, mask = value >> 3, 1 << (value & 7)
            bits = self._bits
            if byte >= len(bits):
                bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))
            if bits[byte] & mask:
                return False
            bits[byte] |= mask
            return True
        if value in self._more:
            return False
        self._more.add(value)
        return True

    def __contains__(self, value: object) -> bool:
        if isinstance(value, int) and 0 <= value < self._LIMIT:
            byte = value >> 3
            return byte < len(self._bits) and bool(self._bits[byte] & (1 << (value & 7)))
        return value in self._more


class KeptPause:
    """The kept totals' row triggers (``models.KEPT``) set aside on SQLite while an import writes many
    promises, and the totals counted again from the whole book when it is done (``models.recount_sql``):
    the same totals, without two upserts per row. Inside the import's transaction: if it fails, the
    triggers are back as they were. Elsewhere (PostgreSQL folds a transaction's changes once) nothing."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._saved: list[tuple[str, str]] = []
        if conn.dialect.name == "sqlite":
            found = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'promise' "
                "AND name LIKE 'tally%'"
            )
            self._saved = [(name, sql) for name, sql in found]
            for name, _sql in self._saved:
                conn.exec_driver_sql(f"DROP TRIGGER {_quoted(name)}")

    def resume(self) -> None:
        if not self._saved:
            return
        for statement in recount_sql():
            self._conn.exec_driver_sql(statement)
        for _name, sql in self._saved:
            self._conn.exec_driver_sql(sql)
        self._saved = []


# --- import: a JSON export, streamed --------------------------------------------------------------------

_DEEPEST = 16  # an event's fields are flat, with a list or object or two: deeper is no pk export
# What no text in a record can hold: a control character or bidi override, written as it is or escaped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ESCAPED_CONTROL = re.compile(r"\\(?:[bfnrt]|u(?:00[01]|007[fF]|00[89]|202[a-eA-E]|206[6-9]))")
_TEXT, _MOMENT, _BOOL, _INT, _DOC = range(5)


def _kind_of(column: sa.Column[Any]) -> int:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _MOMENT
    if isinstance(kind, sa.Boolean):
        return _BOOL
    if isinstance(kind, sa.Integer):
        return _INT
    if isinstance(kind, sa.JSON):
        return _DOC
    return _TEXT


_EXPECTED = {
    _MOMENT: "an ISO 8601 moment with its offset",
    _BOOL: "true or false",
    _INT: "a whole number",
    _DOC: "an object of fields",
    _TEXT: "text",
}


def _shown(value: Any) -> str:
    """A wrong value as an error shows it: a short repr, or what kind of thing it is (a nested list's repr
    could be as long, and as deep, as the file)."""
    if isinstance(value, (str, int, float, bool)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return "a list" if isinstance(value, list) else "an object"


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


def _scalar_default(column: sa.Column[Any]) -> Any:
    """The column's default value, when it is a plain value (a customer's ``consent``: ``none``)."""
    default = column.default
    return getattr(default, "arg", None) if default is not None and default.is_scalar else None


class _Columns:
    """How to check a table's records: each column's name, kind, whether it may be missing, its default."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.key = _json_key(table)
        self.names = [c.name for c in table.columns]
        self.allowed = frozenset(self.names) | ({"tags"} if table.name == Promise.__tablename__ else set())
        self.columns = [(c.name, _kind_of(c), bool(c.nullable), _scalar_default(c)) for c in table.columns]
        self.pk = [c.name for c in table.primary_key.columns]
        single = table.primary_key.columns.values()
        self.int_pk = len(single) == 1 and isinstance(single[0].type, sa.Integer)
        self.refs = [
            (self.names.index(c.name), c.name, fk.column.table.name)
            for c in table.columns
            for fk in c.foreign_keys
        ]

    def row(self, record: Any, where: str, *, clean: bool = False, flat: bool = False) -> list[Any]:
        """One record checked against the columns: known fields only, each of the column's type; its values
        in column order (moments as aware UTC datetimes). A field that is missing takes the column's
        default (a file of an older schema); one that is ``null`` must be allowed to be. ``clean``: the
        record's text in the file holds no control character or bidi override, raw or escaped, so none
        of its texts does; ``flat``: it holds no object or list but those of the columns, so it is not
        nested too deep."""
        if not isinstance(record, dict):
            raise BadInput(f"{where} is not a record; nothing was imported.")
        if not self.allowed.issuperset(record):
            extra = sorted(set(record) - self.allowed)[0]
            raise BadInput(
                f'{where} has an unknown field "{extra}"; was it written by a newer pk? Nothing was imported.'
            )
        row: list[Any] = []
        for name, kind, nullable, default in self.columns:
            value = record.get(name)
            if value is None:
                if default is not None and name not in record:
                    value = default
                elif nullable:
                    row.append(None)
                    continue
                else:
                    raise BadInput(f'{where} has no "{name}"; nothing was imported.')
            if kind == _TEXT:
                if isinstance(value, str):
                    if not clean and unsafe_character(value, multiline=name == "note") is not None:
                        _check_text(value, f'{where}: "{name}"', multiline=name == "note")
                    row.append(value)
                    continue
            elif kind == _INT:
                if isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63:
                    row.append(value)
                    continue
            elif kind == _MOMENT:
                if isinstance(value, str):
                    try:
                        moment = datetime.fromisoformat(value)
                    except ValueError:
                        moment = None
                    if moment is not None and moment.tzinfo is not None:
                        row.append(moment.astimezone(UTC))
                        continue
            elif kind == _BOOL:
                if isinstance(value, bool):
                    row.append(value)
                    continue
            elif isinstance(value, dict):
                if not clean or not flat:
                    _check_fields(value, f'{where}: "{name}"')
                row.append(value)
                continue
            raise BadInput(
                f'{where}: "{name}" must be {_EXPECTED[kind]}, not {_shown(value)}; nothing was imported.'
            )
        return row


def _check_promise(row: dict[str, Any], where: str) -> None:
    if row["kind"] not in _KINDS:
        raise BadInput(f'{where}: unknown kind "{row["kind"]}"; nothing was imported.')
    if row["state"] not in tuple(State):
        raise BadInput(f'{where}: unknown state "{row["state"]}"; nothing was imported.')
    if row["quantity"] < 1:
        raise BadInput(f"{where}: the quantity must be at least 1; nothing was imported.")
    if row["handover"] is not None and row["handover"] not in tuple(Handover):
        raise BadInput(f'{where}: unknown handover "{row["handover"]}"; nothing was imported.')
    for code in (row["currency"], row["charged_currency"], row["deposit_currency"]):
        if code is not None:
            try:
                currency_code(code)
            except BadInput:
                raise BadInput(f'{where}: unknown currency "{code}"; nothing was imported.') from None


def _json_tags(tags: Any, where: str, *, clean: bool = False) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise BadInput(f'{where}: "tags" must be a list of words; nothing was imported.')
    for tag in tags if not clean else ():
        _check_text(tag, f'{where}: a tag "{visible(tag)}"')
    return list(dict.fromkeys(t.strip() for t in tags))


@dataclass
class ImportCounts:
    """What an import holds: promises, deliveries, and customers (JSON: all in the file; CSV: those made,
    or that would be made)."""

    promises: int = 0
    deliveries: int = 0
    customers: int = 0


class JsonImport:
    """A JSON export taken in record by record, checked against the schema, and (``session`` given and
    ``write``) written in batches into an empty book in the caller's transaction; then every promise's
    outcome is judged again by the rules from its deliveries (the file's derived fields are never trusted).

    Sections come in pk's order (parents first); ids, references and the derived fields are checked as in
    ``docs/reference.md`` ("Import"), in memory that grows with the ids only (a bit each).
    """

    def __init__(self, session: Session | None, *, source: str, clock: Clock, write: bool = True) -> None:
        self.session = session
        self.name = source
        self.clock = clock
        self.write = write and session is not None
        self.counts = ImportCounts()
        self._order = {_json_key(t): n for n, t in enumerate(_data_tables())}
        self._tables = {_json_key(t): t for t in _data_tables()}
        self._ids: dict[str, _Ids] = {}
        self._keys: set[tuple[Any, ...]] = set()
        self._columns: _Columns | None = None
        self._last = -1
        self._index = 0
        self._buffer: list[list[Any]] = []
        self._tags: list[tuple[int, str]] = []
        self._pending: list[tuple[int, str, int, str]] = []  # a reference to a later row of the same table
        # The promises that say they were fulfilled (or remedied): their place in the file and their id,
        # 16 bytes each, checked against the deliveries (remedies) when they have all been read.
        self._fulfilled = (array("q"), array("q"))
        self._remedied = (array("q"), array("q"))
        self._parents: dict[int, tuple[int, int | None]] = {}
        self._delivered = _Ids()  # the promises that the file's deliveries name
        self._remedies = _Ids()  # ... and its remedies
        self._written: list[sa.Table] = []
        self._kept: KeptPause | None = None
        if self.write:
            assert session is not None
            require_empty(session, source)
            if _is_sqlite(session):
                session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
                _roomy(session)
            self._kept = KeptPause(session.connection())
        elif session is not None:
            require_empty(session, source)

    def known(self, key: str) -> bool:
        return key in self._order

    def section(self, key: str) -> None:
        """The records that follow belong to the section ``key`` (a key of ``section_keys``)."""
        self._end_section()
        order = self._order[key]
        if order <= self._last:
            before = next(k for k, n in self._order.items() if n == self._last)
            raise BadInput(
                f'{self.name}: the section "{key}" comes after "{before}"; a pk export lists its tables in '
                "its own order, parents first. Nothing was imported."
            )
        self._last = order
        self._columns = _Columns(self._tables[key])
        self._index = 0
        if self._columns.int_pk:
            self._ids[self._columns.table.name] = _Ids()
        self._keys = set()

    def record(self, record: Any, text: str | None = None) -> None:
        """The next record of the current section (``text``: as it is written in the file)."""
        cols = self._columns
        assert cols is not None
        i = self._index
        self._index += 1
        where = f"{self.name}: {cols.key}[{i}]"
        clean = text is not None and _CONTROL.search(text) is None and _ESCAPED_CONTROL.search(text) is None
        flat = text is not None and text.count("{") + text.count("[") <= 2
        row = cols.row(record, where, clean=clean, flat=flat)
        table = cols.table.name
        if cols.int_pk:
            ident = row[0] if cols.pk[0] == cols.names[0] else row[cols.names.index(cols.pk[0])]
            if not self._ids[table].add(ident):
                raise BadInput(f"{self.name}: {cols.key}[{i}] repeats the id {ident}; nothing was imported.")
        else:
            key = tuple(row[cols.names.index(c)] for c in cols.pk)
            if key in self._keys:
                shown = ", ".join(str(v) for v in key)
                raise BadInput(f"{self.name}: {cols.key}[{i}] repeats the id {shown}; nothing was imported.")
            self._keys.add(key)
        for n, name, target in cols.refs:
            value = row[n]
            if value is None:
                continue
            known = self._ids.get(target)
            if known is not None and value in known:
                continue
            if target == table:
                self._pending.append((i, name, value, target))
                continue
            raise BadInput(
                f'{self.name}: {cols.key}[{i}]: "{name}" {value} names no {target} in the file; '
                "nothing was imported."
            )
        if table == Promise.__tablename__:
            self._promise(dict(zip(cols.names, row, strict=True)), record, i, where, clean=clean)
        elif table == Delivery.__tablename__:
            self.counts.deliveries += 1
            self._delivered.add(row[cols.names.index("promise_id")])
        elif table == Remedy.__tablename__:
            self._remedies.add(row[cols.names.index("promise_id")])
        elif table == Customer.__tablename__:
            self.counts.customers += 1
        if self.write:
            self._buffer.append(row)
            if len(self._buffer) >= 10 * BATCH:
                self._flush()

    def _promise(self, p: dict[str, Any], record: dict[str, Any], i: int, where: str, *, clean: bool) -> None:
        _check_promise(p, where)
        self.counts.promises += 1
        pid = p["id"]
        tags = _json_tags(record.get("tags", []), where, clean=clean)
        if self.write:
            self._tags.extend((pid, tag) for tag in tags)
        named = f"{self.name}: promises[{i}] (#{pid})"
        if p["state"] == State.fulfilled:
            self._fulfilled[0].append(i)
            self._fulfilled[1].append(pid)
        if p["state"] == State.cancelled and p["closed_at"] is None:
            raise BadInput(
                f'{named} says it was cancelled, but not when ("closed_at"); nothing was imported.'
            )
        if p["remedied"]:
            self._remedied[0].append(i)
            self._remedied[1].append(pid)
        if p["parent_id"] is not None:
            self._parents[pid] = (i, p["parent_id"])

    def _flush(self) -> None:
        cols = self._columns
        if not self.write or cols is None or not (self._buffer or self._tags):
            return
        assert self.session is not None
        try:
            _insert_values(self.session, cols.table, cols.names, self._buffer)
            if self._tags:
                _insert_values(self.session, _table(Tag), ("promise_id", "tag"), self._tags)
        except IntegrityError as exc:
            raise _does_not_fit(self.name, exc) from None
        self._buffer = []
        self._tags = []

    def _end_section(self) -> None:
        cols = self._columns
        if cols is None:
            return
        self._flush()
        if self.write and cols.table not in self._written:
            self._written.append(cols.table)
        for i, name, value, target in self._pending:
            if value not in self._ids[target]:
                raise BadInput(
                    f'{self.name}: {cols.key}[{i}]: "{name}" {value} names no {target} in the file; '
                    "nothing was imported."
                )
        self._pending = []
        if cols.table.name == Promise.__tablename__:
            self._check_ancestry()
        self._columns = None

    def _check_ancestry(self) -> None:
        """Refuse a promise whose parents lead back to itself or into a circle; each chain is walked once."""
        rooted: set[int] = set()
        for pid, (i, parent) in sorted(self._parents.items(), key=lambda item: item[1][0]):
            chain = [pid]
            on_chain = {pid}
            while parent is not None and parent not in rooted:
                if parent in on_chain:
                    where = f"{self.name}: promises[{i}] (#{pid})"
                    if parent == pid == self._parents[pid][1]:
                        raise BadInput(f'{where} is its own parent ("parent_id"); nothing was imported.')
                    shown = " → ".join(f"#{n}" for n in [*chain[chain.index(parent) :], parent])
                    raise BadInput(f"{where} leads to a circle of parents ({shown}); nothing was imported.")
                chain.append(parent)
                on_chain.add(parent)
                found = self._parents.get(parent)
                parent = found[1] if found else None
            rooted.update(chain)
        self._parents = {}

    def finish(self, progress: Progress | None = None) -> ImportCounts:
        """After the last record: the derived fields checked against the file, the outcomes judged again."""
        self._end_section()
        for i, pid in zip(*self._fulfilled, strict=True):
            if pid not in self._delivered:
                raise BadInput(
                    f"{self.name}: promises[{i}] (#{pid}) says it was fulfilled, but the file holds no "
                    "delivery for it; nothing was imported."
                )
        for i, pid in zip(*self._remedied, strict=True):
            if pid not in self._remedies:
                raise BadInput(
                    f"{self.name}: promises[{i}] (#{pid}) says it was remedied, but the file holds no remedy "
                    "for it; nothing was imported."
                )
        if self.write:
            assert self.session is not None
            try:
                rejudge(self.session, clock=self.clock, progress=progress)
                if self._kept is not None:
                    self._kept.resume()
                _reset_sequences(self.session, self._written)
                self.session.flush()
            except IntegrityError as exc:
                raise _does_not_fit(self.name, exc) from None
        return self.counts


def rejudge(session: Session, *, clock: Clock, progress: Progress | None = None) -> int:
    """Judge every promise again from its deliveries, as the store keeps them (``base.sync``), and correct
    the stored outcome where it differs: an open promise has no ``closed_at``; a fulfilled one without it was
    closed by its last delivery. Reads the book a chunk of promises at a time; returns how many it judged."""
    progress = progress or _noop
    promise, delivery = _table(Promise), _table(Delivery)
    names = (
        "id",
        "what",
        "quantity",
        "price_minor",
        "currency",
        "due",
        "state",
        "kind",
        "handover",
        "ready_at",
    )
    columns = [promise.c[name] for name in (*names, *_JUDGED)]
    parts = (delivery.c[n] for n in ("promise_id", "at", "what", "quantity", "price_minor", "currency"))
    deliveries = sa.select(*parts).order_by(delivery.c.promise_id, delivery.c.at, delivery.c.id)
    conn = session.connection()
    done, last = 0, None
    while True:
        query = sa.select(*columns).order_by(promise.c.id).limit(BATCH)
        if last is not None:
            query = query.where(promise.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            return done
        last = rows[-1].id
        found: dict[int, list[Fulfilment]] = {}
        between = delivery.c.promise_id.between(rows[0].id, last)
        for pid, at, what, quantity, minor, currency in conn.execute(deliveries.where(between)):
            found.setdefault(pid, []).append(Fulfilment(at, what, quantity, money_of(minor, currency)))
        changed = []
        for p in rows:
            new = _judged(p, found.get(p.id, []), clock)
            if any(new[name] != getattr(p, name) for name in _JUDGED):
                changed.append({"pk_id": p.id, **new})
        _update(session, changed)
        done += len(rows)
        progress("Judging", done, done)


def _judged(p: Any, deliveries: list[Fulfilment], clock: Clock) -> dict[str, Any]:
    """The outcome columns of the stored promise ``p`` (a row of its columns) as the rules judge it."""
    fulfilled = p.state == State.fulfilled
    closed_at = p.closed_at
    if p.state == State.active:
        closed_at = None
    elif fulfilled and closed_at is None and deliveries:
        closed_at = max(d.at for d in deliveries)
    terms = Terms(p.what, p.quantity, money_of(p.price_minor, p.currency), p.due)
    outcome = judge(
        terms,
        deliveries,
        state=p.state,
        closed_at=closed_at,
        now=clock.now,
        ready_at=ready_of(cast(Promise, p)),
    )
    return {"closed_at": closed_at, **outcome_columns(outcome, fulfilled=fulfilled)}


def _update(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        promise = _table(Promise)
        query = sa.update(promise).where(promise.c.id == sa.bindparam("pk_id"))
        session.connection().execute(query, rows)


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


# --- import: CSV rows, streamed ------------------------------------------------------------------------


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
    handover: Handover | None = None
    deposit: Money | None = None
    ready_at: datetime | None = None  # a pickup's readiness
    record: tuple[Any, ...] = ()  # the promise's columns but id and customer_id, as _RECORD_FIELDS


def prepare_csv_row(r: CsvPromise, clock: Clock) -> None:
    """Fill in the row's promise columns, its outcome judged by the rules, before the database is touched
    (a tuple: a third of a dict's memory)."""
    terms = Terms(what=r.what, quantity=r.quantity, price=r.price, due=r.due.moment)
    deliveries = [r.delivery] if r.delivery is not None else []
    closed_at = r.delivery.at if r.delivery is not None and (r.closed or closes(terms, deliveries)) else None
    pickup = r.kind == Kind.delivery and r.handover != Handover.delivery  # as ``base.ready_of`` reads it
    ready_at = r.ready_at if pickup else None
    outcome = assess(terms, deliveries, now=clock.now, closed_at=closed_at, ready_at=ready_at)
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
        "handover": str(r.handover) if r.handover else None,
        "ready_at": r.ready_at,
        "deposit_minor": r.deposit.minor if r.deposit else None,
        "deposit_currency": r.deposit.currency if r.deposit else None,
    }
    r.record = _RECORD(record)


class CsvImport:
    """Checked CSV rows taken in one at a time, each judged by the rules (``prepare_csv_row``), and written
    a batch at a time in the caller's transaction: customers made by name on first sight (a known one found
    case-insensitively), the promises, their tags and deliveries, and an ``imported`` event each, all one
    change. Without ``write`` nothing is written: the rows are counted, and (with a ``session``) the
    customers that would be made."""

    def __init__(self, session: Session | None, *, source: str, clock: Clock, write: bool = True) -> None:
        self.session = session
        self.source = source
        self.clock = clock
        self.write = write and session is not None
        self.counts = ImportCounts()
        self._customers: dict[str, int | None] = {}  # name key -> id (None: not in the book, not writing)
        self._batch: list[CsvPromise] = []
        self._change: int | None = None
        self._kept: KeptPause | None = None
        if self.write and session is not None and _is_sqlite(session):
            _roomy(session)

    def add(self, row: CsvPromise) -> None:
        prepare_csv_row(row, self.clock)
        self._batch.append(row)
        if len(self._batch) >= BATCH:
            self._flush()

    def finish(self) -> ImportCounts:
        self._flush()
        if self._kept is not None:
            self._kept.resume()
        return self.counts

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        self.counts.promises += len(batch)
        self.counts.deliveries += sum(1 for r in batch if r.delivery is not None)
        if self.session is None:
            return
        try:
            self._find_customers(batch)
            if self.write:
                if self._kept is None and self.counts.promises > _RECOUNT_AFTER:
                    # Past this many rows the totals are counted once at the end (a pass over the book)
                    # rather than by the triggers row by row.
                    self._kept = KeptPause(self.session.connection())
                self._write(batch)
        except IntegrityError as exc:
            raise _does_not_fit(self.source, exc) from None

    def _find_customers(self, batch: Sequence[CsvPromise]) -> None:
        assert self.session is not None
        names: dict[str, str] = {}
        for r in batch:
            if r.customer:
                key = customer_key(r.customer)
                if key not in self._customers:
                    names.setdefault(key, r.customer)
        if not names:
            return
        customer = _table(Customer)
        for part in _batches(sorted(names), 500):
            query = sa.select(customer.c.name_key, customer.c.id).where(customer.c.name_key.in_(part))
            for key, cid in self.session.execute(query):
                self._customers[key] = cid
        new = [key for key in names if key not in self._customers]
        self.counts.customers += len(new)
        if not self.write:
            self._customers.update(dict.fromkeys(new))
            return
        created = _insert_returning_ids(
            self.session,
            customer,
            ("name", "name_key", "created"),
            [(names[k], k, self.clock.now) for k in new],
        )
        self._customers.update(zip(new, created, strict=True))

    def _write(self, batch: Sequence[CsvPromise]) -> None:
        session = self.session
        assert session is not None
        now = self.clock.now
        if self._change is None:
            self._change = change_id(session, now)
        customers = self._customers
        promises = [(customers[customer_key(r.customer)] if r.customer else None, *r.record) for r in batch]
        ids = _insert_returning_ids(session, _table(Promise), ("customer_id", *_RECORD_FIELDS), promises)
        tags: list[tuple[int, str]] = []
        deliveries: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        imported, source, change = str(EventKind.imported), self.source, self._change
        for pid, (customer_id, *_rest), r in zip(ids, promises, batch, strict=True):
            if r.tags:
                tags.extend((pid, t) for t in r.tags)
            events.append((change, pid, customer_id, now, imported, {"source": source, "line": r.line}))
            d = r.delivery
            if d is not None:
                price = d.price
                deliveries.append(
                    (
                        pid,
                        d.at,
                        d.what,
                        d.quantity,
                        price.minor if price else None,
                        price.currency if price else None,
                    )
                )
        _insert_values(session, _table(Tag), ("promise_id", "tag"), tags)
        _insert_values(
            session,
            _table(Delivery),
            ("promise_id", "at", "what", "quantity", "price_minor", "currency"),
            deliveries,
        )
        _insert_values(
            session, _table(Event), ("change_id", "promise_id", "customer_id", "at", "kind", "data"), events
        )


def _insert_returning_ids(
    session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[int]:
    """Insert rows and return their new ids, in order.

    SQLite cannot return ids in order from one multi-row insert, and row by row is slow; but the
    transaction holds the write lock from its ``BEGIN IMMEDIATE``, so the next ids are known.
    """
    if not rows:
        return []
    if _is_sqlite(session):
        start = session.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one() + 1
        ids = list(range(start, start + len(rows)))
        _insert_values(session, table, ["id", *names], [(i, *row) for i, row in zip(ids, rows, strict=True)])
        return ids
    query = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [row[0] for row in session.execute(query, [dict(zip(names, row, strict=True)) for row in rows])]


def _insert_values(
    session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[Sequence[Any]]
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
        conn.execute(sa.insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    converters = [_converter(table.c[name].type, conn.dialect) for name in names]
    quoted = ", ".join(_quoted(name) for name in names)
    sql = f"INSERT INTO {_quoted(table.name)} ({quoted}) VALUES ({', '.join('?' * len(names))})"
    convert = [(i, c) for i, c in enumerate(converters) if c is not _same]
    if not convert:
        conn.exec_driver_sql(sql, [tuple(row) for row in rows])
        return
    params = []
    for row in rows:
        cells = list(row)
        for i, c in convert:
            cells[i] = c(cells[i])
        params.append(tuple(cells))
    conn.exec_driver_sql(sql, params)


_CONVERTERS: dict[tuple[type, str], Callable[[Any], Any]] = {}


def _converter(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Callable[[Any], Any]:
    """The column type's bind processor; for moments, remembered per value (dates repeat a lot)."""
    proc = kind.dialect_impl(dialect).bind_processor(dialect)
    if proc is None or (isinstance(kind, sa.Boolean) and dialect.name == "sqlite"):
        return _same  # the driver stores a bool as SQLAlchemy's processor would: 1 or 0
    if not isinstance(kind, UTCDateTime):
        return lambda value: None if value is None else proc(value)
    if dialect.name == "sqlite":
        return _sqlite_moment
    memo: dict[datetime, Any] = {}

    def convert(value: datetime | None) -> Any:
        if value is None:
            return None
        found = memo.get(value)
        if found is None:
            if len(memo) > 100_000:
                memo.clear()
            found = memo[value] = proc(value)
        return found

    return convert


def _sqlite_moment(value: datetime | None) -> str | None:
    """A moment as ``UTCDateTime`` stores it on SQLite (naive UTC, always with microseconds:
    ``2026-11-23 08:00:00.000000``), written by ``datetime.isoformat`` instead of SQLAlchemy's formatter."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the database layer")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


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
            if dst.dialect.name == "sqlite":
                write.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
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
