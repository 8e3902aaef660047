"""Data in and out: JSON (everything, versioned), CSV (one promise a row) and ICS (the open promises).

- A JSON export is a faithful copy of every table: ids, moments in UTC, money in minor units, the whole
  history, the remedies and the sent-log. Importing it into an *empty* database reproduces it exactly.
- A CSV import brings promises kept elsewhere (a till, years of a spreadsheet), deliveries included, so
  each promise is judged by ``rules.assess`` like any other.

An import is read and checked in full before the database is touched (``read_import``: no I/O but the
bytes given), then written by ``write_import`` with bulk inserts inside the caller's one transaction:
all or nothing, holding the write lock only for the writing. ``Progress`` callbacks report the phases.
"""

from __future__ import annotations

import csv
import io
import json
import operator
import os
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from promisekeeper import __version__, render, store
from promisekeeper.errors import BadInput
from promisekeeper.models import SCHEMA_VERSION, Customer, Delivery, Event, Promise, Tag, UTCDateTime
from promisekeeper.money import Money, currency_code, format_money, parse_price
from promisekeeper.rules import (
    KINDS,
    Fulfilment,
    Terms,
    assess,
    closes,
    default_charge,
    terms_text,
    verdict_text,
)
from promisekeeper.when import Clock, Due, parse_when

FORMAT = "promisekeeper"
FORMAT_VERSION = 1
FORMATS = ("json", "csv", "ics")
CSV_COLUMNS = (
    "customer",
    "what",
    "quantity",
    "price",
    "currency",
    "due",
    "kind",
    "staff",
    "note",
    "tags",
    "delivered_at",
    "delivered_what",
    "delivered_quantity",
    "charged",
)
CSV_REQUIRED = ("what", "due")
STATES = ("active", "fulfilled", "cancelled")

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: called now and then while reading and writing an import."""

_BATCH = 2000
# The columns of a promise that a CSV row fills in (all but ``id`` and ``customer_id``), in this order.
_RECORD_FIELDS = (
    *("kind", "what", "quantity", "price_minor", "currency", "due", "date_only", "original_due"),
    *("original_date_only", "renegotiated", "staff", "note", "parent_id", "created", "state", "closed_at"),
    *("unhappy", "remedied", "fulfilled_at", "delivered_quantity", "charged_minor", "charged_currency"),
    *("late_seconds", "dev_late", "dev_substituted", "dev_price", "dev_short", "dev_excess"),
)
_TICK = 2000
# Table name -> its key in a JSON export; a table not named here is exported under its own name.
_JSON_KEYS = {
    "customer": "customers",
    "promise": "promises",
    "delivery": "deliveries",
    "event": "history",
    "remedy": "remedies",
    "sent_report": "sent_reports",
    "sent_item": "sent_items",
}
_NOT_EXPORTED = ("pk_meta", Tag.__tablename__)  # the schema's own facts; tags ride inside their promise
_HEADER_KEYS = ("format", "version", "schema_version", "pk_version", "exported_at")


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


# --- export ----------------------------------------------------------------------------------------


def export_format(fmt: str | None, output: Path | None) -> str:
    """``--format`` when given, else the output file's extension when it names one, else JSON."""
    if fmt is not None:
        return fmt
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return suffix if suffix in FORMATS else "json"


def export(session: Session, fmt: str, out: IO[str], *, clock: Clock, tz: ZoneInfo, shop: str) -> int:
    """Write the export to ``out``; return how many promises it holds."""
    if fmt == "json":
        return _export_json(session, out, clock=clock)
    if fmt == "csv":
        return _export_csv(session, out, clock=clock, tz=tz)
    if fmt == "ics":
        return _export_ics(session, out, clock=clock, tz=tz, shop=shop)
    raise BadInput(f"Unknown export format {fmt!r}; use json, csv or ics.")


def export_to_file(session: Session, fmt: str, path: Path, *, clock: Clock, tz: ZoneInfo, shop: str) -> int:
    """Export into ``path`` atomically (a half-written file never takes its place), readable by its owner
    only: it holds customers' names and contact details."""
    path = path.expanduser()
    if path.is_dir():
        raise BadInput(f"{path} is a folder; give a file name, e.g. {path / ('promises.' + fmt)}.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise BadInput(f"Cannot write {path}: {exc.strerror}; choose a folder you can write to.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            count = export(session, fmt, out, clock=clock, tz=tz, shop=shop)
        os.replace(tmp, path)
    except OSError as exc:
        raise BadInput(f"Cannot write {path}: {exc.strerror}; choose a folder you can write to.") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _data_tables() -> list[sa.Table]:
    """Every table of the schema but the excluded ones, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in _NOT_EXPORTED]


def _json_key(table: sa.Table) -> str:
    return _JSON_KEYS.get(table.name, table.name)


def _tags_by_promise(session: Session) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    tag_table = _table(Tag)
    query = sa.select(tag_table.c.promise_id, tag_table.c.tag).order_by(
        tag_table.c.promise_id, tag_table.c.tag
    )
    for promise_id, tag in session.execute(query):
        tags[promise_id].append(tag)
    return tags


def _export_json(session: Session, out: IO[str], *, clock: Clock) -> int:
    """One record a line inside a plain JSON object: valid JSON, and still readable with grep and diff."""
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "pk_version": __version__,
        "exported_at": clock.now.astimezone(UTC).isoformat(),
    }
    out.write("{\n")
    for key, value in header.items():
        out.write(f"{json.dumps(key)}: {json.dumps(value)},\n")
    tags = _tags_by_promise(session)
    tables = _data_tables()
    promises = 0
    for i, table in enumerate(tables):
        out.write(f"{json.dumps(_json_key(table))}: [")
        names = [c.name for c in table.columns]
        query = sa.select(table).order_by(*table.primary_key.columns)
        sep = "\n"
        for row in session.execute(query):
            record = {name: _json_value(value) for name, value in zip(names, row, strict=True)}
            if table.name == Promise.__tablename__:
                record["tags"] = tags.get(record["id"], [])
                promises += 1
            out.write(sep + json.dumps(record, ensure_ascii=False))
            sep = ",\n"
        out.write("\n]" if sep != "\n" else "]")
        out.write(",\n" if i < len(tables) - 1 else "\n")
    out.write("}\n")
    return promises


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _export_csv(session: Session, out: IO[str], *, clock: Clock, tz: ZoneInfo) -> int:
    """Every promise, one a row, with the fields of ``pk promise list --format csv``."""
    writer = csv.DictWriter(out, fieldnames=list(render.FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for view in store.iter_promises(session, clock=clock):
        writer.writerow({k: _csv_cell(v) for k, v in render.promise_dict(view, tz).items()})
        count += 1
    return count


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "shop"


def _export_ics(session: Session, out: IO[str], *, clock: Clock, tz: ZoneInfo, shop: str) -> int:
    """The open and overdue promises as VTODOs whose DUE is the promise's (a date for a date-only due).

    Written one to-do at a time between the calendar's own lines, so a large book needs little memory.
    """
    # Imported here: icalendar is only needed by this one export.
    from icalendar import Calendar, Todo

    cal = Calendar()
    cal.add("prodid", f"-//promisekeeper//pk {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{shop}: open promises")
    head, end = cal.to_ical().decode("utf-8").split("END:VCALENDAR")
    out.write(head)
    stamp = clock.now.astimezone(UTC)
    domain = _slug(shop)
    count = 0
    for p in store.iter_promises(session, clock=clock, statuses=("open", "overdue")):
        todo = Todo()
        todo.add("uid", f"promise-{p.id}@{domain}.promisekeeper")
        todo.add("dtstamp", stamp)
        todo.add("created", p.created.astimezone(UTC))
        qty = f"{p.quantity} × " if p.quantity != 1 else ""
        to = f" for {p.customer}" if p.customer else ""
        todo.add("summary", f"#{p.id} {qty}{p.what}{to}")
        if p.due.date_only:
            todo.add("due", p.due.moment.astimezone(tz).date())
        else:
            todo.add("due", p.due.moment.astimezone(UTC))
        todo.add("status", "NEEDS-ACTION")
        if p.status == "overdue":
            todo.add("priority", 1)
        lines = [f"Promise #{p.id} ({p.kind}), {p.status}."]
        if p.price is not None:
            lines.append(f"Price: {format_money(p.price)}")
        if p.outcome.delivered_quantity:
            lines.append(f"Delivered so far: {p.outcome.delivered_quantity} of {p.quantity}")
        if p.staff:
            lines.append(f"Promised by: {p.staff}")
        if p.note:
            lines.append(f"Note: {p.note}")
        todo.add("description", "\n".join(lines))
        if p.tags:
            todo.add("categories", list(p.tags))
        out.write(todo.to_ical().decode("utf-8"))
        count += 1
    out.write("END:VCALENDAR" + end)
    return count


# --- import: reading -------------------------------------------------------------------------------


@dataclass(slots=True)
class CsvPromise:
    """One checked CSV row: the promise's terms and, when it was delivered, its delivery."""

    line: int
    customer: str | None
    what: str
    quantity: int
    price: Money | None
    due: Due
    kind: str
    staff: str | None
    note: str | None
    tags: tuple[str, ...]
    delivery: Fulfilment | None
    record: tuple[Any, ...] = ()  # the promise's columns but id and customer_id, as _RECORD_FIELDS
    history: str = ""  # the text of its "imported" history event


@dataclass
class ImportPlan:
    """A whole import file, read and checked, not yet written."""

    source: str
    format: str
    rows: list[CsvPromise] = field(default_factory=list)
    tables: list[tuple[sa.Table, list[dict[str, Any]]]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def promises(self) -> int:
        if self.format == "csv":
            return len(self.rows)
        return sum(len(rows) for table, rows in self.tables if table.name == Promise.__tablename__)

    @property
    def deliveries(self) -> int:
        if self.format == "csv":
            return sum(1 for r in self.rows if r.delivery is not None)
        return sum(len(rows) for table, rows in self.tables if table.name == Delivery.__tablename__)


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    format: str
    promises: int
    deliveries: int
    customers: int  # CSV: customers created by the import; JSON: all customers in the file
    written: bool


def read_source(path: str) -> bytes:
    """The bytes of the file to import (``-``: standard input); a missing or unreadable file is bad input."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).expanduser().read_bytes()
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder; give the file to import.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror}.") from exc


def read_import(
    data: bytes,
    *,
    source: str,
    fmt: str | None,
    clock: Clock,
    currency: str,
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check a whole import file without touching the database; any fault is ``BadInput``."""
    name = Path(source).name if source != "-" else "standard input"
    fmt = fmt or _sniff(source, data)
    if fmt not in ("json", "csv"):
        raise BadInput(f"Unknown import format {fmt!r}; use json or csv.")
    text = _decode(data, name)
    del data  # a large file: hold one copy of it at a time
    if fmt == "csv":
        return _read_csv(text, name, clock=clock, currency=currency, progress=progress or _noop)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{name}, line {exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno}); "
            "nothing was imported."
        ) from None
    del text
    return _read_json(doc, name)


def _sniff(source: str, data: bytes) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" else "csv"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInput(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 (in a spreadsheet: CSV UTF-8) and import it again."
        ) from None


def _row_error(name: str, line: int, column: str | None, reason: str) -> BadInput:
    where = f"{name}, line {line}" + (f", {column}" if column else "")
    return BadInput(f"{where}: {reason.rstrip('.')}; nothing was imported.")


def _header_name(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


def _delimiter(first_line: str) -> str:
    """Comma, or the semicolon or tab of a spreadsheet saved with European or TSV settings."""
    for candidate in (",", ";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def _read_csv(text: str, name: str, *, clock: Clock, currency: str, progress: Progress) -> ImportPlan:
    default_currency = currency_code(currency)
    total = text.count("\n") + (0 if text.endswith("\n") else 1)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _row_error(name, 1, None, f"the header row cannot be read ({exc})") from None
    if header is None or not any(cell.strip() for cell in header):
        raise BadInput(f"{name} is empty; it needs a header row naming {', '.join(CSV_REQUIRED)} at least.")
    columns = [_header_name(cell) for cell in header]
    for column in columns:
        if column not in CSV_COLUMNS:
            raise _row_error(
                name, 1, None, f'unknown column "{column}"; the columns are {", ".join(CSV_COLUMNS)}'
            )
    if len(set(columns)) != len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        raise _row_error(name, 1, None, f'the column "{twice}" is named twice')
    for column in CSV_REQUIRED:
        if column not in columns:
            raise _row_error(name, 1, None, f'there is no "{column}" column, and every promise needs one')

    parser = _RowParser(clock=clock, currency=default_currency)
    rows: list[CsvPromise] = []
    line = 2
    try:
        for n, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                if len(cells) > len(columns):
                    raise _row_error(
                        name, line, None, f"it has {len(cells)} fields but the header names {len(columns)}"
                    )
                values = dict(zip(columns, cells, strict=False))
                try:
                    row = parser.row(line, values)
                except _CellError as exc:
                    raise _row_error(name, line, exc.column, exc.reason) from None
                _prepare(row, clock, name)
                rows.append(row)
            line = reader.line_num + 1
            if n % _TICK == 0:
                progress(f"Reading {name}", reader.line_num, total)
    except csv.Error as exc:
        raise _row_error(name, reader.line_num, None, f"the row cannot be read as CSV ({exc})") from None
    progress(f"Reading {name}", total, total)
    return ImportPlan(source=name, format="csv", rows=rows)


class _CellError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class _RowParser:
    """Turns a CSV row into a ``CsvPromise`` by the same rules as the commands; remembers repeated
    dates and prices, as a spreadsheet of years repeats them thousands of times."""

    def __init__(self, *, clock: Clock, currency: str) -> None:
        self.clock = clock
        self.currency = currency
        self._when: dict[str, Due] = {}
        self._price: dict[tuple[str, str], Money] = {}

    def when(self, text: str) -> Due:
        due = self._when.get(text)
        if due is None:
            due = self._when[text] = parse_when(text, self.clock)
        return due

    def price(self, text: str, currency: str) -> Money:
        key = (text, currency)
        money = self._price.get(key)
        if money is None:
            money = self._price[key] = parse_price(text, default_currency=currency)
        return money

    def row(self, line: int, values: dict[str, str]) -> CsvPromise:
        def cell(column: str) -> str | None:
            value = values.get(column)
            if value is None or not value.strip():
                return None
            return value.strip()

        column = "what"
        try:
            what = store._text(values.get("what"), "WHAT")
            column = "due"
            due_text = cell("due")
            if due_text is None:
                raise BadInput("no due given; every promise needs one, e.g. 2026-11-24")
            due = self.when(due_text)
            column = "kind"
            kind = (cell("kind") or "delivery").lower()
            if kind not in KINDS:
                raise BadInput(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
            column = "quantity"
            quantity = _whole(cell("quantity"), 1)
            column = "currency"
            code_text = cell("currency")
            code = currency_code(code_text) if code_text else None
            column = "price"
            price_text = cell("price")
            price = self.price(price_text, code or self.currency) if price_text else None
            if price is not None and code is not None and price.currency != code:
                raise BadInput(f"the price {price_text!r} is in {price.currency} but the currency is {code}")
            column = "customer"
            customer = store._optional(values.get("customer"))
            customer = " ".join(customer.split()) if customer else None
            tags = tuple(dict.fromkeys(t.strip() for t in (cell("tags") or "").split(";") if t.strip()))
        except BadInput as exc:
            raise _CellError(column, str(exc)) from None
        delivery = self._delivery(
            values, cell, what=what, quantity=quantity, price=price, due=due, currency=code
        )
        return CsvPromise(
            line=line,
            customer=customer,
            what=what,
            quantity=quantity,
            price=price,
            due=due,
            kind=kind,
            staff=store._optional(values.get("staff")),
            note=store._optional(values.get("note")),
            tags=tags,
            delivery=delivery,
        )

    def _delivery(
        self,
        values: dict[str, str],
        cell: Callable[[str], str | None],
        *,
        what: str,
        quantity: int,
        price: Money | None,
        due: Due,
        currency: str | None,
    ) -> Fulfilment | None:
        at_text = cell("delivered_at")
        if at_text is None:
            for column in ("delivered_what", "delivered_quantity", "charged"):
                if cell(column) is not None:
                    raise _CellError(column, "a delivery needs its delivered_at (when it was delivered)")
            return None
        try:
            at = store.delivered_at(self.when(at_text), self.clock)
        except BadInput as exc:
            raise _CellError("delivered_at", str(exc)) from None
        if at > self.clock.now:
            raise _CellError(
                "delivered_at", f"{at_text!r} is in the future; a delivery is recorded up to now"
            )
        try:
            item_text = cell("delivered_what")
            item = store._text(item_text, "The delivered WHAT") if item_text else what
        except BadInput as exc:
            raise _CellError("delivered_what", str(exc)) from None
        try:
            qty = _whole(cell("delivered_quantity"), quantity)
        except BadInput as exc:
            raise _CellError("delivered_quantity", str(exc)) from None
        charged_text = cell("charged")
        try:
            if charged_text is not None:
                charge: Money | None = self.price(charged_text, currency or self.currency)
            else:
                charge = default_charge(Terms(what, quantity, price, due.moment), [], qty)
        except BadInput as exc:
            raise _CellError("charged", str(exc)) from None
        return Fulfilment(at=at, what=item, quantity=qty, price=charge)


def _whole(text: str | None, default: int) -> int:
    """A quantity: a whole number of at least 1 (``2``, ``2.0``); empty means ``default``."""
    if text is None:
        return default
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise BadInput(f"{text!r} is not a whole number; give e.g. 2")
    if number.adjusted() > 12:
        raise BadInput(f"{text!r} is too large; the most is 1000000000")
    return store._quantity(int(number))


def _read_json(doc: Any, name: str) -> ImportPlan:
    """Check a parsed export against the schema; each record is dropped from ``doc`` once checked."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadInput(f"{name} is not a promisekeeper export; pk export --format json writes one.")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadInput(f'{name} has no valid format version; it should say "version": {FORMAT_VERSION}.')
    if version > FORMAT_VERSION:
        raise BadInput(
            f"{name} was written by a newer pk (export format {version}, this one reads {FORMAT_VERSION}); "
            "upgrade pk to import it."
        )
    tables = _data_tables()
    known = {_json_key(t): t for t in tables}
    for key in doc:
        if key not in known and key not in _HEADER_KEYS:
            raise BadInput(f'{name} has an unknown section "{key}"; was it written by a newer pk?')
    plan = ImportPlan(source=name, format="json")
    ids: dict[str, set[Any]] = {}
    for table in tables:
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
                raise BadInput(f"{name}: {key}[{i}] repeats the id {_ident(ident)}; nothing was imported.")
            seen.add(ident)
        if len(pk_cols) == 1:
            ids[f"{table.name}.{pk_cols[0]}"] = {i[0] for i in seen}
        plan.tables.append((table, rows))
    for table, rows in plan.tables:
        _check_references(table, rows, ids, f"{name}: {_json_key(table)}")
    promise_ids = ids[f"{Promise.__tablename__}.id"]
    for i, tag in enumerate(plan.tags):
        if tag["promise_id"] not in promise_ids:  # pragma: no cover - tags come from their promise
            raise BadInput(f"{name}: tag {i} names no promise; nothing was imported.")
    return plan


def _ident(ident: tuple[Any, ...]) -> str:
    return ", ".join(str(i) for i in ident)


def _json_tags(promise_id: int, tags: Any, where: str) -> Iterator[dict[str, Any]]:
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise BadInput(f'{where}: "tags" must be a list of words; nothing was imported.')
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
    else:
        if isinstance(value, str):
            return value
        expected = "text"
    raise BadInput(f'{where}: "{column.name}" must be {expected}, not {value!r}; nothing was imported.')


def _check_promise(row: dict[str, Any], where: str) -> None:
    if row["kind"] not in KINDS:
        raise BadInput(f'{where}: unknown kind "{row["kind"]}"; nothing was imported.')
    if row["state"] not in STATES:
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


# --- import: writing -------------------------------------------------------------------------------


def check_import(session: Session, plan: ImportPlan) -> ImportResult:
    """What ``write_import`` would do, without writing: for ``--dry-run``."""
    if plan.format == "json":
        _require_empty(session, plan.source)
        customers = sum(len(rows) for table, rows in plan.tables if table.name == Customer.__tablename__)
    else:
        keys = {store.customer_key(r.customer) for r in plan.rows if r.customer}
        customers = len(keys) - len(_existing_customers(session, keys))
    return ImportResult(plan.source, plan.format, plan.promises, plan.deliveries, customers, written=False)


def write_import(
    session: Session, plan: ImportPlan, *, clock: Clock, progress: Progress | None = None
) -> ImportResult:
    """Write a checked import in the caller's transaction (all of it, or none if anything fails)."""
    progress = progress or _noop
    try:
        if plan.format == "json":
            customers = _write_json(session, plan, clock=clock, progress=progress)
        else:
            customers = _write_csv(session, plan, clock=clock, progress=progress)
    except IntegrityError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "a constraint failed"
        raise BadInput(f"{plan.source} does not fit the database ({reason}); nothing was imported.") from None
    return ImportResult(plan.source, plan.format, plan.promises, plan.deliveries, customers, written=True)


def _table(model: type[SQLModel]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


def _batches(rows: Sequence[Any], size: int = _BATCH) -> Iterable[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _require_empty(session: Session, name: str) -> None:
    for table in _data_tables():
        count = session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if count:
            raise BadInput(
                f"The database already holds {count} {_json_key(table).replace('_', ' ')}; a JSON export is "
                f"imported into an empty database only, e.g. pk --db restored.db import {name}."
            )


def _write_json(session: Session, plan: ImportPlan, *, clock: Clock, progress: Progress) -> int:
    _require_empty(session, plan.source)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
    deliveries: dict[int, list[Fulfilment]] = defaultdict(list)
    for table, rows in plan.tables:
        if table.name == Delivery.__tablename__:
            for d in sorted(rows, key=lambda r: (r["at"], r["id"])):
                deliveries[d["promise_id"]].append(
                    Fulfilment(d["at"], d["what"], d["quantity"], _money(d["price_minor"], d["currency"]))
                )
    total = sum(len(rows) for _t, rows in plan.tables) + len(plan.tags)
    done = 0
    customers = 0
    for table, rows in plan.tables:
        if table.name == Promise.__tablename__:
            rows = [_rejudged(row, deliveries[row["id"]], clock) for row in rows]
        if table.name == Customer.__tablename__:
            customers = len(rows)
        for batch in _batches(rows, 10 * _BATCH):
            _bulk_insert(session, table, batch)
            done += len(batch)
            progress("Writing", done, total)
        if table.name == Promise.__tablename__:
            _bulk_insert(session, _table(Tag), plan.tags)
            done += len(plan.tags)
    _reset_sequences(session, [table for table, _rows in plan.tables])
    progress("Writing", total, total)
    return customers


def _money(minor: int | None, currency: str | None) -> Money | None:
    return Money.from_minor(minor, currency) if minor is not None and currency is not None else None


def _rejudged(row: dict[str, Any], deliveries: list[Fulfilment], clock: Clock) -> dict[str, Any]:
    """The promise with its outcome columns recomputed by the rules, as ``store`` keeps them."""
    fulfilled = row["state"] == "fulfilled"
    terms = Terms(row["what"], row["quantity"], _money(row["price_minor"], row["currency"]), row["due"])
    outcome = store.judge(terms, deliveries, state=row["state"], closed_at=row["closed_at"], now=clock.now)
    return {**row, **store.outcome_columns(outcome, fulfilled=fulfilled)}


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


def _existing_customers(session: Session, keys: Iterable[str]) -> dict[str, int]:
    customer = _table(Customer)
    found: dict[str, int] = {}
    for chunk in _batches(sorted(keys), 500):
        query = sa.select(customer.c.name_key, customer.c.id).where(customer.c.name_key.in_(chunk))
        for key, cid in session.execute(query):
            found[key] = cid
    return found


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


def _write_csv(session: Session, plan: ImportPlan, *, clock: Clock, progress: Progress) -> int:
    names: dict[str, str] = {}
    for r in plan.rows:
        if r.customer:
            names.setdefault(store.customer_key(r.customer), r.customer)
    customer_ids = _existing_customers(session, names)
    new = [key for key in names if key not in customer_ids]
    created = _insert_returning_ids(
        session,
        _table(Customer),
        ("name", "name_key", "created"),
        [(names[key], key, clock.now) for key in new],
    )
    customer_ids.update(zip(new, created, strict=True))

    total = len(plan.rows)
    progress("Writing", 0, total)
    promise_table, tag_table = _table(Promise), _table(Tag)
    delivery_table, event_table = _table(Delivery), _table(Event)
    done = 0
    for batch in _batches(plan.rows):
        promises = [
            (customer_ids[store.customer_key(r.customer)] if r.customer else None, *r.record) for r in batch
        ]
        ids = _insert_returning_ids(session, promise_table, ("customer_id", *_RECORD_FIELDS), promises)
        tags: list[dict[str, Any]] = []
        deliveries: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for pid, r in zip(ids, batch, strict=True):
            tags.extend({"promise_id": pid, "tag": t} for t in r.tags)
            events.append({"promise_id": pid, "at": clock.now, "event": "imported", "detail": r.history})
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
        for table, rows in ((tag_table, tags), (delivery_table, deliveries), (event_table, events)):
            _bulk_insert(session, table, rows)
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


def _prepare(r: CsvPromise, clock: Clock, source: str) -> None:
    """Fill in the promise's row (its outcome judged by the rules) and its history event, before the
    database is touched."""
    terms = Terms(what=r.what, quantity=r.quantity, price=r.price, due=r.due.moment)
    deliveries = [r.delivery] if r.delivery is not None else []
    closed_at = r.delivery.at if r.delivery is not None and closes(terms, deliveries) else None
    outcome = assess(terms, deliveries, now=clock.now, closed_at=closed_at)
    record = {
        "kind": r.kind,
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
        "state": "fulfilled" if closed_at is not None else "active",
        "closed_at": closed_at,
        "unhappy": False,
        "remedied": False,
        **store.outcome_columns(outcome, fulfilled=closed_at is not None),
    }
    r.record = tuple(record[name] for name in _RECORD_FIELDS)  # a tuple: a third of a dict's memory
    to = f" to {r.customer}" if r.customer else ""
    by = f" by {r.staff}" if r.staff else ""
    detail = f"{terms_text(r.what, r.quantity, r.price, r.due, clock.tz, clock.now)}{to}{by}"
    if r.delivery is not None:
        d = r.delivery
        cost = f" for {format_money(d.price)}" if d.price else ""
        local = d.at.astimezone(clock.tz)
        verdict = (
            verdict_text(outcome)
            if closed_at is not None
            else f"partial, {r.quantity - d.quantity} still owed"
        )
        detail += f"; delivered {d.quantity} × {d.what}{cost} on {local:%a %d %b %Y %H:%M}: {verdict}"
    r.history = f"{detail} (from {source}, line {r.line})"
