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
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from promisekeeper import __version__, store, words
from promisekeeper.errors import BadInput
from promisekeeper.money import Money, currency_code, parse_price
from promisekeeper.render import csv_cell, promise_dict
from promisekeeper.rules import default_charge
from promisekeeper.store import CsvPromise, JsonTables, Progress
from promisekeeper.text import csv_unprefix, unsafe_character, visible
from promisekeeper.views import PROMISE_FIELDS, Fulfilment, ImportResult, Kind, Status, Terms
from promisekeeper.when import Clock, Due, end_of_day, parse_when

if TYPE_CHECKING:
    from promisekeeper.store import Session

FORMAT = "promisekeeper"
FORMAT_VERSION = 2  # 2: history as typed events, with the changes that wrote them
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
# Columns of pk's own CSV export that an import reads besides CSV_COLUMNS: whether the due is a whole day,
# and (in a file without delivered_at) when the promise was fulfilled, which becomes its one delivery.
CSV_FROM_EXPORT = ("date_only", "fulfilled_at")
# The rest of pk's own CSV export (``pk export --format csv``, ``promise list --format csv``): derived or
# the book's own bookkeeping, ignored by an import (and recomputed by the rules where they are derived).
CSV_IGNORED = frozenset({*PROMISE_FIELDS, "due_date"}) - set(CSV_COLUMNS) - set(CSV_FROM_EXPORT)

_TICK = 2000
_HEADER_KEYS = ("format", "version", "schema_version", "pk_version", "exported_at")


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


# --- export ----------------------------------------------------------------------------------------


ICS_EVENTS = "ics-events"
"""The calendar as events (VEVENT) rather than to-dos: what ``--ics-events`` chooses."""


def export_format(fmt: str | None, output: Path | None, *, events: bool = False) -> str:
    """``--format`` when given, else the output file's extension when it names one, else JSON
    (``events``: the calendar as events, ``ics-events``, which is ICS whatever the file is called)."""
    if events:
        if fmt not in (None, "ics"):
            raise BadInput(f"--ics-events writes a calendar; use it with --format ics, not {fmt}.")
        return ICS_EVENTS
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
    if fmt in ("ics", ICS_EVENTS):
        return _export_ics(session, out, clock=clock, tz=tz, shop=shop, events=fmt == ICS_EVENTS)
    raise BadInput(f"Unknown export format {fmt!r}; use json, csv or ics.")


def export_to_file(session: Session, fmt: str, path: Path, *, clock: Clock, tz: ZoneInfo, shop: str) -> int:
    """Export into ``path`` as ``files`` writes any output: a regular file replaced atomically (never
    half-written; readable by its owner only: it holds customers' names and contact details), a symlink
    written through, a device or FIFO streamed."""
    from promisekeeper import files

    with files.text_output(path) as out:
        return export(session, fmt, out, clock=clock, tz=tz, shop=shop)


def _export_json(session: Session, out: IO[str], *, clock: Clock) -> int:
    """One record a line inside a plain JSON object: valid JSON, and still readable with grep and diff."""
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema_version": store.SCHEMA_VERSION,
        "pk_version": __version__,
        "exported_at": clock.now.astimezone(UTC).isoformat(),
    }
    out.write("{\n")
    for key, value in header.items():
        out.write(f"{json.dumps(key)}: {json.dumps(value)},\n")
    sections = list(store.export_sections(session))
    promises = 0
    for i, (key, records) in enumerate(sections):
        out.write(f"{json.dumps(key)}: [")
        sep = "\n"
        for record in records:
            promises += key == "promises"
            out.write(sep + json.dumps(record, ensure_ascii=False))
            sep = ",\n"
        out.write("\n]" if sep != "\n" else "]")
        out.write(",\n" if i < len(sections) - 1 else "\n")
    out.write("}\n")
    return promises


def _export_csv(session: Session, out: IO[str], *, clock: Clock, tz: ZoneInfo) -> int:
    """Every promise, one a row, with the fields of ``pk promise list --format csv``."""
    writer = csv.DictWriter(out, fieldnames=list(PROMISE_FIELDS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for view in store.iter_promises(session, clock=clock):
        writer.writerow({k: csv_cell(v) for k, v in promise_dict(view, tz).items()})
        count += 1
    return count


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "shop"


def _export_ics(
    session: Session, out: IO[str], *, clock: Clock, tz: ZoneInfo, shop: str, events: bool = False
) -> int:
    """The open and overdue promises as VTODOs whose DUE is the promise's (a date for a date-only due),
    or (``events``) as VEVENTs at the due — an all-day event for a date-only due — for the calendars
    that ignore to-dos (khal, Google Calendar). Every stored text goes out through ``text.visible``.

    Written one component at a time between the calendar's own lines, so a large book needs little memory.
    """
    # Imported here: icalendar is only needed by this one export.
    from icalendar import Calendar, Event, Todo

    cal = Calendar()
    cal.add("prodid", f"-//promisekeeper//pk {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", visible(f"{shop}: open promises"))
    head, end = cal.to_ical().decode("utf-8").split("END:VCALENDAR")
    out.write(head)
    stamp = clock.now.astimezone(UTC)
    domain = _slug(shop)
    count = 0
    for p in store.iter_promises(session, clock=clock, statuses=(Status.open, Status.overdue)):
        item = Event() if events else Todo()
        # Stable: a calendar that imports the file again updates the entry instead of adding a second.
        item.add("uid", f"promise-{p.id}{'-event' if events else ''}@{domain}.promisekeeper")
        item.add("dtstamp", stamp)
        item.add("created", p.created.astimezone(UTC))
        item.add("summary", visible(words.calendar_summary(p)))
        day = p.due.moment.astimezone(tz).date()
        if events and p.due.date_only:
            item.add("dtstart", day)
            item.add("dtend", day + timedelta(days=1))
        elif events:
            item.add("dtstart", p.due.moment.astimezone(UTC))  # no end: an event at that moment
        else:
            item.add("due", day if p.due.date_only else p.due.moment.astimezone(UTC))
        if events:
            item.add("status", "CONFIRMED")
            item.add("transp", "TRANSPARENT")  # a promise falling due does not make the shop busy
        else:
            item.add("status", "NEEDS-ACTION")
        if p.status == "overdue":
            item.add("priority", 1)
        item.add("description", visible(words.calendar_description(p), keep_lines=True))
        if p.tags:
            item.add("categories", [visible(t) for t in p.tags])
        out.write(item.to_ical().decode("utf-8"))
        count += 1
    out.write("END:VCALENDAR" + end)
    return count


# --- import: reading -------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """A whole import file, read and checked, not yet written."""

    source: str
    format: str
    rows: list[CsvPromise] = field(default_factory=list)
    tables: JsonTables = field(default_factory=JsonTables)

    @property
    def promises(self) -> int:
        return len(self.rows) if self.format == "csv" else self.tables.promises

    @property
    def deliveries(self) -> int:
        if self.format == "csv":
            return sum(1 for r in self.rows if r.delivery is not None)
        return self.tables.deliveries


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
    except RecursionError:
        # The decoder recurses per level of nesting; a pk export is three levels deep.
        raise BadInput(f"{name} is nested too deeply to be a pk export; nothing was imported.") from None
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
    columns = [_header_name(csv_unprefix(cell)) for cell in header]
    for column in columns:
        if column not in CSV_COLUMNS and column not in CSV_FROM_EXPORT and column not in CSV_IGNORED:
            raise _row_error(
                name, 1, None, f'unknown column "{visible(column)}"; the columns are {", ".join(CSV_COLUMNS)}'
            )
    if len(set(columns)) != len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        raise _row_error(name, 1, None, f'the column "{twice}" is named twice')
    for column in CSV_REQUIRED:
        if column not in columns:
            raise _row_error(name, 1, None, f'there is no "{column}" column, and every promise needs one')
    # pk's own export: the fulfilment moment stands for the delivery that closed the promise.
    from_export = "fulfilled_at" in columns and "delivered_at" not in columns

    parser = _RowParser(clock=clock, currency=default_currency, from_export=from_export)
    rows: list[CsvPromise] = []
    line = 2
    try:
        for n, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                if len(cells) > len(columns):
                    raise _row_error(
                        name, line, None, f"it has {len(cells)} fields but the header names {len(columns)}"
                    )
                values = _cells(name, line, columns, cells, from_export=from_export)
                try:
                    row = parser.row(line, values)
                except _CellError as exc:
                    raise _row_error(name, line, exc.column, exc.reason) from None
                store.prepare_csv_row(row, clock)
                rows.append(row)
            line = reader.line_num + 1
            if n % _TICK == 0:
                progress(f"Reading {name}", reader.line_num, total)
    except csv.Error as exc:
        raise _row_error(name, reader.line_num, None, f"the row cannot be read as CSV ({exc})") from None
    progress(f"Reading {name}", total, total)
    return ImportPlan(source=name, format="csv", rows=rows)


def _cells(
    name: str, line: int, columns: list[str], cells: list[str], *, from_export: bool
) -> dict[str, str]:
    """A row's cells by column: the ``'`` that pk's export puts before a formula-like cell removed, each
    refused if it holds a control character (a note may hold line breaks and tabs)."""
    values: dict[str, str] = {}
    for column, cell in zip(columns, cells, strict=False):
        if column in CSV_IGNORED:
            continue
        note = column == "note"
        value = csv_unprefix(cell.replace("\r\n", "\n") if note else cell)
        found = unsafe_character(value, multiline=note)
        if found is not None:
            raise _row_error(name, line, column, f"it contains {found}; remove it and import the file again")
        values[column] = value
    if from_export:
        # A promise the export shows fulfilled comes back with one delivery at that moment, of what it
        # delivered and charged; one still owed comes back owed (a partial delivery is not in a CSV row).
        values["delivered_at"] = values.pop("fulfilled_at", "")
        if not values["delivered_at"].strip():
            values.pop("delivered_quantity", None)
            values.pop("charged", None)
    return values


class _CellError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class _RowParser:
    """Turns a CSV row into a ``CsvPromise`` by the same rules as the commands; remembers repeated
    dates and prices, as a spreadsheet of years repeats them thousands of times."""

    def __init__(self, *, clock: Clock, currency: str, from_export: bool = False) -> None:
        self.clock = clock
        self.currency = currency
        self.from_export = from_export
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
            what = store.clean_text(values.get("what"), "WHAT")
            column = "due"
            due_text = cell("due")
            if due_text is None:
                raise BadInput("no due given; every promise needs one, e.g. 2026-11-24")
            due = self.when(due_text)
            column = "date_only"
            if _flag(cell("date_only")) and not due.date_only:
                due = Due(end_of_day(due.moment.astimezone(self.clock.tz).date(), self.clock.tz), True)
            column = "kind"
            kind_text = (cell("kind") or "delivery").lower()
            if kind_text not in tuple(Kind):
                raise BadInput(f"unknown kind {kind_text!r}; use one of {', '.join(Kind)}")
            kind = Kind(kind_text)
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
            customer = store.optional_text(values.get("customer"), "The customer's name")
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
            staff=store.optional_text(values.get("staff"), "The staff name"),
            note=store.optional_text(values.get("note"), "The note", multiline=True),
            tags=tags,
            delivery=delivery,
            closed=self.from_export and delivery is not None,
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
            item = store.clean_text(item_text, "The delivered WHAT") if item_text else what
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


def _flag(text: str | None) -> bool:
    """A yes/no cell as pk's CSV writes it (``true``/``false``), or as a spreadsheet might; empty is no."""
    if text is None:
        return False
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise BadInput(f"{text!r} is not true or false")


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
    return store.clean_quantity(int(number))


def _read_json(doc: Any, name: str) -> ImportPlan:
    """Check a parsed export: its header here, its tables against the schema in the store."""
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
    if version < FORMAT_VERSION:
        raise BadInput(
            f"{name} is an export of the first release (format {version}); import it with that pk into a "
            "new book, then open the book with this one (it upgrades in place), or use pk db copy."
        )
    known = store.section_keys()
    for key in doc:
        if key not in known and key not in _HEADER_KEYS:
            raise BadInput(f'{name} has an unknown section "{key}"; was it written by a newer pk?')
    return ImportPlan(source=name, format="json", tables=store.check_json_sections(doc, name))


# --- import: writing -------------------------------------------------------------------------------


def check_import(session: Session, plan: ImportPlan) -> ImportResult:
    """What ``write_import`` would do, without writing: for ``--dry-run``."""
    if plan.format == "json":
        store.require_empty(session, plan.source)
        customers = plan.tables.customers
    else:
        customers = store.new_csv_customers(session, plan.rows)
    return ImportResult(plan.source, plan.format, plan.promises, plan.deliveries, customers, written=False)


def write_import(
    session: Session, plan: ImportPlan, *, clock: Clock, progress: Progress | None = None
) -> ImportResult:
    """Write a checked import in the caller's transaction (all of it, or none if anything fails)."""
    if plan.format == "json":
        store.write_json_tables(session, plan.tables, source=plan.source, clock=clock, progress=progress)
        customers = plan.tables.customers
    else:
        customers = store.write_csv_rows(
            session, plan.rows, source=plan.source, clock=clock, progress=progress
        )
    return ImportResult(plan.source, plan.format, plan.promises, plan.deliveries, customers, written=True)
