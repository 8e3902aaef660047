"""Data in and out: JSON (everything, versioned), CSV (one promise a row) and ICS (the open promises).

- A JSON export is a faithful copy of every table: ids, moments in UTC, money in minor units, the whole
  history, the remedies, the supply orders and the sent-log. Importing it into an *empty* database
  reproduces it exactly.
- A CSV import brings promises kept elsewhere (a till, years of a spreadsheet), deliveries included, so
  each promise is judged by ``rules.assess`` like any other.

Both directions stream: an export is written as the rows come from the store, and an import is read,
checked and written a batch at a time (``import_file``) inside the caller's one transaction, so a file of
any size needs little memory, and a fault anywhere in it leaves the book as it was (all or nothing).
``read_import`` checks a whole file without a database. ``Progress`` callbacks report how far it got.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from promisekeeper import __version__, store, words
from promisekeeper.errors import BadInput
from promisekeeper.money import Money, currency_code, parse_price
from promisekeeper.render import amount, csv_cell, promise_dict
from promisekeeper.rules import default_charge, money_of
from promisekeeper.store import CsvImport, CsvPromise, JsonImport, Progress, SettledPromise
from promisekeeper.text import csv_safe, csv_unprefix, unsafe_character, visible
from promisekeeper.views import (
    PROMISE_FIELDS,
    Fulfilment,
    Handover,
    ImportResult,
    Kind,
    PromiseView,
    Status,
    Terms,
)
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
# How the goods reach the customer, the deposit taken (in the price's currency), and when a pickup was
# ready: read when present (pk's own export writes them), as ``promise add --handover/--deposit`` and
# ``pk ready --at`` take them.
CSV_PICKUP = ("handover", "deposit", "ready_at")
# The rest of pk's own CSV export (``pk export --format csv``, ``promise list --format csv``): derived or
# the book's own bookkeeping, ignored by an import (and recomputed by the rules where they are derived).
CSV_IGNORED = frozenset({*PROMISE_FIELDS, "due_date"}) - {*CSV_COLUMNS, *CSV_FROM_EXPORT, *CSV_PICKUP}

_CSV_KNOWN = frozenset({*CSV_COLUMNS, *CSV_FROM_EXPORT, *CSV_PICKUP, *CSV_IGNORED})
_TICK = 2000
_HEADER_KEYS = ("format", "version", "schema_version", "pk_version", "exported_at")
_CHUNK = 1 << 20  # characters read at a time
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape decodes it


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
    promises = 0
    sep = ""
    for key, records in store.export_records(session):
        out.write(f"{sep}{json.dumps(key)}: [")
        first = True
        for chunk in records:
            if key == "promises":
                promises += len(chunk)
            out.write(("\n" if first else ",\n") + ",\n".join(chunk))
            first = False
        out.write("]" if first else "\n]")
        sep = ",\n"
    out.write("\n}\n")
    return promises


def _export_csv(session: Session, out: IO[str], *, clock: Clock, tz: ZoneInfo) -> int:
    """Every promise, one a row, with the fields of ``pk promise list --format csv``.

    A settled promise is written straight from its stored row (``_SettledCells``); any other as
    ``promise list`` writes it (``render.promise_dict``). The two agree cell for cell (a test holds them
    to it); the first is what lets a book of a million promises go out at the speed the disk takes it.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PROMISE_FIELDS)
    settled = _SettledCells(tz) if set(PROMISE_FIELDS) <= set(_SETTLED_FIELDS) else None
    count = 0
    for p in store.export_promises(session, clock=clock):
        if isinstance(p, PromiseView) or settled is None:
            view = p if isinstance(p, PromiseView) else store.view(session, p.id, clock)
            record = promise_dict(view, tz)
            writer.writerow([csv_cell(record.get(k)) for k in PROMISE_FIELDS])
        else:
            writer.writerow(settled.row(p))
        count += 1
    return count


_SETTLED_FIELDS = (
    *("id", "kind", "customer", "what", "quantity", "price", "currency", "due", "due_date", "date_only"),
    *("original_due", "renegotiated", "status", "deviations", "delivered_quantity", "charged"),
    *("charged_currency", "fulfilled_at", "late_by_seconds", "staff", "tags", "note", "parent_id"),
    *("remedied", "unhappy", "created", "handover", "ready_at", "deposit", "balance", "orders", "at_risk"),
    "risk",
)
_FLAG = {True: "true", False: "false"}


class _SettledCells:
    """The CSV row of a ``SettledPromise``, cell for cell what ``csv_cell(promise_dict(view)[key])`` writes
    for it: texts through ``text.csv_safe`` (remembered, as names and items repeat), amounts through
    ``render.amount``, moments in the shop's zone. A moment in ISO 8601 starts with a digit and holds no
    control character, so ``csv_safe`` leaves it as it is."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._texts: dict[str, str] = {}
        self._money: dict[tuple[int | None, str | None], tuple[str, str]] = {}
        self._order = [_SETTLED_FIELDS.index(k) for k in PROMISE_FIELDS]
        self._same_order = tuple(PROMISE_FIELDS) == _SETTLED_FIELDS

    def text(self, value: str | None) -> str:
        if value is None:
            return ""
        found = self._texts.get(value)
        if found is None:
            if len(self._texts) > 100_000:
                self._texts.clear()
            found = self._texts[value] = csv_safe(value)
        return found

    def money(self, minor: int | None, currency: str | None) -> tuple[str, str]:
        """An amount and its currency as two cells (both empty without an amount)."""
        key = (minor, currency)
        found = self._money.get(key)
        if found is None:
            money = money_of(minor, currency)
            shown = amount(money)
            found = self._money[key] = (
                (self.text(shown), self.text(money.currency)) if money and shown else ("", "")
            )
        return found

    def moment(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.tz).isoformat()

    def row(self, p: SettledPromise) -> list[Any]:
        text = self.text
        due = p.due.astimezone(self.tz).isoformat()
        price, currency = self.money(p.price_minor, p.currency)
        charged, charged_currency = self.money(p.charged_minor, p.charged_currency)
        cells = [
            p.id,
            text(p.kind),
            text(p.customer),
            text(p.what),
            p.quantity,
            price,
            currency,
            due,
            due[:10],
            _FLAG[p.date_only],
            self.moment(p.original_due),
            _FLAG[p.renegotiated],
            text(p.status),
            text(";".join(p.deviations)),
            p.delivered_quantity,
            charged,
            charged_currency,
            self.moment(p.fulfilled_at),
            "" if p.late_seconds is None else p.late_seconds,
            text(p.staff),
            text(";".join(p.tags)),
            text(p.note),
            "" if p.parent_id is None else p.parent_id,
            _FLAG[p.remedied],
            _FLAG[p.unhappy],
            self.moment(p.created),
            text(p.handover),
            "",  # ready_at: a settled row has none
            "",  # deposit: ... nor a deposit
            "",  # balance: ... so no balance
            "",  # orders: ... nor supply orders
            "false",  # at_risk: a settled promise never is
            "",  # risk
        ]
        return cells if self._same_order else [cells[i] for i in self._order]


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


# --- import ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportPlan:
    """A whole import file, read and checked (``read_import``), not yet written."""

    source: str
    format: str
    data: bytes
    clock: Clock
    currency: str
    promises: int
    deliveries: int


def open_source(path: str) -> IO[bytes]:
    """The file to import, opened (``-``: standard input); a missing or unreadable file is bad input."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return Path(path).expanduser().open("rb")
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder; give the file to import.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror}.") from exc


def import_file(
    session: Session,
    stream: IO[bytes],
    *,
    source: str,
    fmt: str | None,
    clock: Clock,
    currency: str,
    dry_run: bool = False,
    size: int = 0,
    progress: Progress | None = None,
) -> ImportResult:
    """Read, check and (unless ``dry_run``) write an import file in one pass, a batch at a time, in the
    caller's transaction: a fault anywhere is ``BadInput``, and the caller's transaction then writes
    nothing. ``size``: the file's size in bytes, for ``progress``."""
    return _run(
        session, stream, source, fmt, clock, currency, write=not dry_run, size=size, progress=progress
    )


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
    found = _run(
        None, io.BytesIO(data), source, fmt, clock, currency, write=False, size=len(data), progress=progress
    )
    return ImportPlan(found.source, found.format, data, clock, currency, found.promises, found.deliveries)


def check_import(session: Session, plan: ImportPlan) -> ImportResult:
    """What ``write_import`` would do, without writing: for ``--dry-run``."""
    return _run(
        session, io.BytesIO(plan.data), plan.source, plan.format, plan.clock, plan.currency, write=False
    )


def write_import(
    session: Session, plan: ImportPlan, *, clock: Clock | None = None, progress: Progress | None = None
) -> ImportResult:
    """Write a checked import in the caller's transaction (all of it, or none if anything fails)."""
    data = io.BytesIO(plan.data)
    return _run(
        session,
        data,
        plan.source,
        plan.format,
        clock or plan.clock,
        plan.currency,
        write=True,
        progress=progress,
    )


def _run(
    session: Session | None,
    stream: IO[bytes],
    source: str,
    fmt: str | None,
    clock: Clock,
    currency: str,
    *,
    write: bool,
    size: int = 0,
    progress: Progress | None = None,
) -> ImportResult:
    name = Path(source).name if source != "-" else "standard input"
    fmt = fmt or _sniff(source, _peek(stream))
    if fmt not in ("json", "csv"):
        raise BadInput(f"Unknown import format {fmt!r}; use json or csv.")
    tick = _ticker(stream, f"Reading {name}", size, progress or _noop)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        if fmt == "csv":
            rows = CsvImport(session, source=name, clock=clock, write=write)
            _read_csv(text, name, rows, clock=clock, currency=currency, tick=tick)
            counts: Any = rows.finish()
        else:
            tables = JsonImport(session, source=name, clock=clock, write=write)
            _read_json(text, name, tables, tick=tick)
            counts = tables.finish(progress)
    finally:
        text.detach()  # the caller's stream stays open (standard input, or its file)
    tick(final=True)
    written = write and session is not None
    return ImportResult(name, fmt, counts.promises, counts.deliveries, counts.customers, written=written)


def _peek(stream: IO[bytes]) -> bytes:
    """The first bytes of the stream, left in it to be read."""
    peek = getattr(stream, "peek", None)
    if peek is not None:
        return bytes(peek(512)[:512])
    if stream.seekable():
        at = stream.tell()
        head = stream.read(512)
        stream.seek(at)
        return head
    return b""


def _sniff(source: str, head: bytes) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" else "csv"


class _Tick(Protocol):
    def __call__(self, *, final: bool = False) -> None: ...


def _ticker(stream: IO[bytes], phase: str, size: int, progress: Progress) -> _Tick:
    """Tells ``progress`` how many bytes of ``size`` have been read, when called (every few rows)."""

    def tick(*, final: bool = False) -> None:
        if final:
            progress(phase, size, size)
            return
        try:
            done = stream.tell()
        except (OSError, ValueError):
            return
        progress(phase, min(done, size), size)

    return tick


def _not_utf8(name: str, byte: str, line: int) -> BadInput:
    return BadInput(
        f"{name} is not UTF-8 text (byte 0x{ord(byte) - 0xDC00:02x} on line {line}); "
        "save it as UTF-8 (in a spreadsheet: CSV UTF-8) and import it again."
    )


# --- import: CSV -----------------------------------------------------------------------------------


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


def _lines(text: IO[str], name: str, taken: list[str]) -> Iterator[str]:
    """The physical lines of the file for ``csv.reader``, each checked for bytes that are not UTF-8 and
    kept in ``taken`` until the caller takes them (the text of the row the reader made of them)."""
    search = _NOT_UTF8.search
    keep = taken.append
    for n, line in enumerate(text, start=1):
        bad = search(line)
        if bad is not None:
            raise _not_utf8(name, bad.group(), n)
        keep(line)
        yield line


def _read_csv(text: IO[str], name: str, rows: CsvImport, *, clock: Clock, currency: str, tick: _Tick) -> None:
    default_currency = currency_code(currency)
    taken: list[str] = []
    lines = _lines(text, name, taken)
    first = next(lines, "")
    reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _row_error(name, 1, None, f"the header row cannot be read ({exc})") from None
    if header is None or not any(cell.strip() for cell in header):
        raise BadInput(f"{name} is empty; it needs a header row naming {', '.join(CSV_REQUIRED)} at least.")
    columns = [_header_name(csv_unprefix(cell)) for cell in header]
    for column in columns:
        if column not in _CSV_KNOWN:
            known = ", ".join((*CSV_COLUMNS, *CSV_PICKUP))
            raise _row_error(name, 1, None, f'unknown column "{visible(column)}"; the columns are {known}')
    if len(set(columns)) != len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        raise _row_error(name, 1, None, f'the column "{twice}" is named twice')
    for column in CSV_REQUIRED:
        if column not in columns:
            raise _row_error(name, 1, None, f'there is no "{column}" column, and every promise needs one')
    # pk's own export: the fulfilment moment stands for the delivery that closed the promise.
    from_export = "fulfilled_at" in columns and "delivered_at" not in columns
    used = [(i, column) for i, column in enumerate(columns) if column not in CSV_IGNORED]

    parser = _RowParser(clock=clock, currency=default_currency, from_export=from_export)
    line = 2
    taken.clear()
    try:
        for n, cells in enumerate(reader, start=1):
            raw = taken[0] if len(taken) == 1 else "".join(taken)
            taken.clear()
            if "".join(cells).strip():
                if len(cells) > len(columns):
                    raise _row_error(
                        name, line, None, f"it has {len(cells)} fields but the header names {len(columns)}"
                    )
                values = _cells(name, line, used, cells, raw, from_export=from_export)
                try:
                    row = parser.row(line, values)
                except _CellError as exc:
                    raise _row_error(name, line, exc.column, exc.reason) from None
                rows.add(row)
            line = reader.line_num + 1
            if n % _TICK == 0:
                tick()
    except csv.Error as exc:
        raise _row_error(name, reader.line_num, None, f"the row cannot be read as CSV ({exc})") from None


def _cells(
    name: str, line: int, used: list[tuple[int, str]], cells: list[str], raw: str, *, from_export: bool
) -> dict[str, str]:
    """A row's cells by column: the ``'`` that pk's export puts before a formula-like cell removed, each
    refused if it holds a control character (a note may hold line breaks and tabs). ``raw`` is the row's
    text in the file: when it holds no control character at all, neither does any cell."""
    count = len(cells)
    if unsafe_character(raw.rstrip("\r\n")) is None:
        values = {column: cells[i] for i, column in used if i < count}
        if "'" in raw:
            values = {column: csv_unprefix(value) for column, value in values.items()}
    else:
        values = {}
        for i, column in used:
            if i >= count:
                break
            note = column == "note"
            value = csv_unprefix(cells[i].replace("\r\n", "\n") if note else cells[i])
            found = unsafe_character(value, multiline=note)
            if found is not None:
                raise _row_error(
                    name, line, column, f"it contains {found}; remove it and import the file again"
                )
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
        self._whole: dict[tuple[str | None, int], int] = {}

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

    def whole(self, text: str | None, default: int) -> int:
        key = (text, default)
        found = self._whole.get(key)
        if found is None:
            found = self._whole[key] = _whole(text, default)
        return found

    def row(self, line: int, values: dict[str, str]) -> CsvPromise:
        given = {column: value.strip() for column, value in values.items()}

        def cell(column: str) -> str | None:
            return given.get(column) or None

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
            quantity = self.whole(cell("quantity"), 1)
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
            column = "handover"
            handover = self.handover(cell("handover"), kind)
            column = "deposit"
            deposit_text = cell("deposit")
            deposit = self.price(deposit_text, code or self.currency) if deposit_text else None
            if deposit is not None:
                store.check_deposit(deposit, price)
            column = "ready_at"
            ready_text = cell("ready_at")
            ready_at = self.ready(ready_text, kind, handover) if ready_text else None
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
            handover=handover,
            deposit=deposit,
            ready_at=ready_at,
        )

    @staticmethod
    def handover(text: str | None, kind: Kind) -> Handover | None:
        if text is None:
            return None
        if text.lower() not in tuple(Handover):
            raise BadInput(f"unknown handover {text!r}; use pickup or delivery")
        if kind != Kind.delivery:
            raise BadInput(
                f"a {kind} hands over no goods; a handover is for a promise of goods (kind delivery)"
            )
        return Handover(text.lower())

    def ready(self, text: str, kind: Kind, handover: Handover | None) -> datetime:
        """When the goods of a pickup were ready for the customer (``pk ready --at``): up to now."""
        if kind != Kind.delivery or handover == Handover.delivery:
            raise BadInput("only a pickup is ready for the customer (kind delivery, handover pickup)")
        at = store.delivered_at(self.when(text), self.clock)
        if at > self.clock.now:
            raise BadInput(f"{text!r} is in the future; a pickup is ready up to now")
        return at

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
            qty = self.whole(cell("delivered_quantity"), quantity)
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


# --- import: JSON ----------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\n\r]*")
_NEAR_END = 16  # a value that ends this close to the end of what was read may go on in the next chunk


class _JsonReader:
    """A JSON document read a value at a time from a text stream (``json.JSONDecoder.raw_decode`` on a
    window of the text), so an export's records are taken one by one and the file is never held whole.
    Knows the line and column of every position, for the errors."""

    def __init__(self, text: IO[str], name: str) -> None:
        self._text = text
        self._name = name
        self._buf = ""
        self.pos = 0
        self._eof = False
        self._line = 1  # the line of _buf[0]
        self._column = 0  # ... and its column, from 0
        self._decode = json.JSONDecoder().raw_decode
        self.text = ""  # the last value as it is written in the file

    def _more(self) -> bool:
        """Read the next chunk into the window (dropping what was taken); ``False`` at the end."""
        if self._eof:
            return False
        chunk = self._text.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        bad = _NOT_UTF8.search(chunk)
        if bad is not None:
            line = self._line + self._buf.count("\n") + chunk.count("\n", 0, bad.start())
            raise _not_utf8(self._name, bad.group(), line)
        if self.pos:
            newlines = self._buf.count("\n", 0, self.pos)
            if newlines:
                self._line += newlines
                self._column = self.pos - self._buf.rfind("\n", 0, self.pos) - 1
            else:
                self._column += self.pos
            self._buf = self._buf[self.pos :]
            self.pos = 0
        self._buf += chunk
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), not taken."""
        while True:
            self.pos = _SPACE.match(self._buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self._buf):
                return self._buf[self.pos]
            if not self._more():
                return ""

    def take(self, char: str, expected: str) -> None:
        if self.peek() != char:
            raise self.error(f"Expecting {expected}", self.pos)
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                found, end = self._decode(self._buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos + _NEAR_END >= len(self._buf) or exc.msg.startswith("Unterminated string")
                if cut and self._more():
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except RecursionError:
                # The decoder recurses per level of nesting; a pk export is three levels deep.
                raise BadInput(
                    f"{self._name} is nested too deeply to be a pk export; nothing was imported."
                ) from None
            if end + _NEAR_END >= len(self._buf) and self._more():
                continue  # a number or a word may go on in the next chunk
            self.text = self._buf[self.pos : end]
            self.pos = end
            return found

    def items(self) -> Iterator[Any]:
        """The values of the array that starts here."""
        self.take("[", "'['")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            char = self.peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise self.error("Expecting ',' delimiter", self.pos - 1)

    def end(self) -> None:
        if self.peek() != "":
            raise self.error("Extra data", self.pos)

    def error(self, message: str, pos: int) -> BadInput:
        newline = self._buf.rfind("\n", 0, pos)
        line = self._line + self._buf.count("\n", 0, pos)
        column = pos - newline if newline >= 0 else self._column + pos + 1
        return BadInput(
            f"{self._name}, line {line}: not valid JSON ({message}, column {column}); nothing was imported."
        )


def _read_json(text: IO[str], name: str, tables: JsonImport, *, tick: _Tick) -> None:
    """Read an export's header, then hand its tables to ``tables`` record by record."""
    reader = _JsonReader(text, name)
    if reader.peek() != "{":
        raise BadInput(f"{name} is not a promisekeeper export; pk export --format json writes one.")
    reader.pos += 1
    header: dict[str, Any] = {}
    checked = False
    closed = reader.peek() == "}"
    if closed:
        reader.pos += 1
    while not closed:
        if reader.peek() != '"':
            raise reader.error("Expecting property name enclosed in double quotes", reader.pos)
        key = reader.value()
        reader.take(":", "':' delimiter")
        if key in _HEADER_KEYS:
            header[key] = reader.value()
        else:
            if not checked:
                _check_header(header, name)
                checked = True
            if not tables.known(key):
                raise BadInput(f'{name} has an unknown section "{key}"; was it written by a newer pk?')
            if reader.peek() != "[":
                reader.value()
                raise BadInput(f'{name}: "{key}" must be a list of records; nothing was imported.')
            tables.section(key)
            for n, record in enumerate(reader.items(), start=1):
                tables.record(record, reader.text)
                if n % _TICK == 0:
                    tick()
        char = reader.peek()
        reader.pos += 1
        if char == "}":
            closed = True
        elif char != ",":
            raise reader.error("Expecting ',' delimiter", reader.pos - 1)
    reader.end()
    if not checked:
        _check_header(header, name)


def _check_header(header: dict[str, Any], name: str) -> None:
    """An export's header: pk's format, in a version this pk reads."""
    if header.get("format") != FORMAT:
        raise BadInput(f"{name} is not a promisekeeper export; pk export --format json writes one.")
    version = header.get("version")
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
