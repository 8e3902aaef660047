"""The only module that formats: a renderer chosen once from ``--format`` (table, json, csv) prints what
the store returned.

Renderers take plain data (``PromiseView``, ``DueReport``, …) and a ``Console``; nothing here touches
the database, and every sentence comes from ``words``. JSON keys are the reference's (docs/reference.md)
and stable.

Tables for people are laid out here, not by Rich's ``Table``: at any width nothing the user typed is cut
or hidden. Cells wrap at spaces; a column is never narrower than its longest word (headers included);
when the columns cannot fit side by side, each row becomes a block of ``label: value`` lines. Every text
cell passes through ``text.visible`` and every CSV text cell through ``text.csv_safe``. Rich only puts
the colours on (and not at all when the console has no colour system: piped or ``NO_COLOR``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.console import COLOR_SYSTEMS, Console
from rich.style import Style
from rich.text import Text

from promisekeeper import words
from promisekeeper.money import Money, format_amount, format_money
from promisekeeper.rules import rate
from promisekeeper.text import csv_safe, visible
from promisekeeper.views import (
    CUSTOMER_FIELDS,
    FIGURE_FIELDS,
    PROMISE_FIELDS,
    SUPPLY_FIELDS,
    CustomerView,
    DueReport,
    Figures,
    Format,
    Handover,
    Kind,
    PromiseView,
    Receipt,
    StatsReport,
    Status,
    SupplyOrderView,
)
from promisekeeper.when import Due, end_of_day

STYLE = {
    "overdue": "red",
    "due": "yellow",
    "kept": "green",
    "deviated": "magenta",
    "cancelled": "dim",
    "at_risk": "bright_red",
    "ready": "cyan",
}
FIELDS = PROMISE_FIELDS


def iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment is not None else None


def amount(money: Money | None) -> str | None:
    return format_amount(money) if money is not None else None


def promise_dict(
    p: PromiseView, tz: ZoneInfo, *, detail: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """A promise in the reference's JSON shape; ``detail`` adds ``deliveries`` and ``history``."""
    out: dict[str, Any] = {
        "id": p.id,
        "kind": str(p.kind),
        "customer": p.customer,
        "what": p.what,
        "quantity": p.quantity,
        "price": amount(p.price),
        "currency": p.price.currency if p.price else None,
        "due": iso(p.due.moment, tz),
        "due_date": p.due.moment.astimezone(tz).date().isoformat(),
        "date_only": p.due.date_only,
        "original_due": iso(p.original_due.moment, tz) if p.original_due else None,
        "renegotiated": p.renegotiated,
        "status": str(p.status),
        "deviations": [str(k) for k in p.outcome.deviation_kinds],
        "delivered_quantity": p.outcome.delivered_quantity,
        "charged": amount(p.outcome.charged),
        "charged_currency": p.outcome.charged.currency if p.outcome.charged else None,
        "fulfilled_at": iso(p.outcome.fulfilled_at, tz),
        "late_by_seconds": p.outcome.late_by_seconds,
        "staff": p.staff,
        "tags": list(p.tags),
        "note": p.note,
        "parent_id": p.parent_id,
        "remedied": p.remedied,
        "unhappy": p.unhappy,
        "created": iso(p.created, tz),
        "handover": str(p.handover) if p.handover else None,
        "ready_at": iso(p.ready_at, tz),
        "deposit": amount(p.deposit),
        "balance": amount(p.balance),
        "orders": [f"S{o}" for o in p.orders],
        "at_risk": p.at_risk,
        "risk": words.risk_text(p.risk, tz) if p.risk else None,
    }
    if detail:
        shown = now or p.created
        out["deliveries"] = [
            {
                "at": iso(d.at, tz),
                "what": d.what,
                "quantity": d.quantity,
                "price": amount(d.price),
                "currency": d.price.currency if d.price else None,
                "note": d.note,
            }
            for d in p.deliveries
        ]
        out["history"] = [
            {
                "at": iso(e.at, tz),
                "event": e.kind,
                "detail": words.event_text(e, tz, shown, customer=p.customer),
                "data": e.data,
            }
            for e in p.history
        ]
    return out


def customer_dict(c: CustomerView, tz: ZoneInfo, *, history: bool = False) -> dict[str, Any]:
    t = c.tally
    out: dict[str, Any] = {
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "note": c.note,
        "language": c.language,
        "consent": str(c.consent),
        "promises": t.promises,
        "kept": t.kept,
        "deviated": t.deviated,
        "overdue": t.overdue,
        "open": t.open,
        "cancelled": t.cancelled,
        "kept_rate": rate(t.kept, t.fulfilled),
    }
    if history:
        out["history"] = [promise_dict(p, tz) for p in c.history]
    return out


def figures_dict(f: Figures) -> dict[str, Any]:
    return {name: getattr(f, name) for name in FIGURE_FIELDS}


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: lists joined with ``;``, booleans as ``true``/``false``, nothing as empty,
    and text made safe for a spreadsheet (``text.csv_safe``: control characters visible, a formula-like
    start prefixed with ``'``). The one place every ``--format csv`` and the CSV export pass through."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_safe(value)
    return "" if value is None else value


class Renderer(Protocol):
    """What every printing command hands its result to; one is chosen per run from ``--format``."""

    def promise(self, verb: str, p: PromiseView) -> None: ...
    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None: ...
    def detail(self, p: PromiseView) -> None: ...
    def due(self, report: DueReport) -> None: ...
    def check(self, promises: Sequence[PromiseView]) -> None: ...
    def customers(self, customers: Sequence[CustomerView]) -> None: ...
    def customer(self, c: CustomerView) -> None: ...
    def stats(self, report: StatsReport) -> None: ...


class JsonRenderer:
    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def _write(self, data: Any) -> None:
        self.console.file.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def promise(self, verb: str, p: PromiseView) -> None:
        self._write(promise_dict(p, self.tz, detail=bool(p.history), now=self.now))

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        self._write([promise_dict(p, self.tz) for p in promises])

    def detail(self, p: PromiseView) -> None:
        self._write(promise_dict(p, self.tz, detail=True, now=self.now))

    def due(self, report: DueReport) -> None:
        self._write(
            {
                "as_of": iso(report.as_of, self.tz),
                "overdue": [promise_dict(p, self.tz) for p in report.overdue],
                "at_risk": [promise_dict(p, self.tz) for p in report.at_risk],
                "due_soon": [promise_dict(p, self.tz) for p in report.due_soon],
                "due": [promise_dict(p, self.tz) for p in report.due],
                "ready": [promise_dict(p, self.tz) for p in report.ready],
            }
        )

    def check(self, promises: Sequence[PromiseView]) -> None:
        self.promises(promises, empty="")

    def customers(self, customers: Sequence[CustomerView]) -> None:
        self._write([customer_dict(c, self.tz) for c in customers])

    def customer(self, c: CustomerView) -> None:
        self._write(customer_dict(c, self.tz, history=True))

    def stats(self, report: StatsReport) -> None:
        """The figures, then ``by`` written a row at a time as the rows come (every customer of a large
        book streams), each row on a line of its own: never the whole in memory, and the C encoder's
        speed (an indented row takes Python's, 40 µs)."""
        period = {"since": iso(report.since, self.tz), "until": iso(report.until, self.tz), "by": report.by}
        head = {"period": period, **figures_dict(report.total), "more": report.more, "by": []}
        out = self.console.file
        out.write(json.dumps(head, ensure_ascii=False, indent=2).removesuffix("[]\n}"))
        rows = 0
        for f in report.rows:
            out.write(
                ("[\n    " if not rows else ",\n    ")
                + json.dumps({"key": f.key, **figures_dict(f)}, ensure_ascii=False)
            )
            rows += 1
        out.write("\n  ]\n}\n" if rows else "[]\n}\n")


class CsvRenderer:
    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def _write(self, rows: Sequence[dict[str, Any]], fields: Sequence[str] = FIELDS) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
        self.console.file.write(buf.getvalue())

    def promise(self, verb: str, p: PromiseView) -> None:
        self._write([promise_dict(p, self.tz)])

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        self._write([promise_dict(p, self.tz) for p in promises])

    def detail(self, p: PromiseView) -> None:
        self.promise("show", p)

    def due(self, report: DueReport) -> None:
        sections = (report.overdue, report.at_risk, report.due_soon, report.due, report.ready)
        self.promises([p for section in sections for p in section], empty="")

    def check(self, promises: Sequence[PromiseView]) -> None:
        self.promises(promises, empty="")

    def customers(self, customers: Sequence[CustomerView]) -> None:
        self._write([customer_dict(c, self.tz) for c in customers], CUSTOMER_FIELDS)

    def customer(self, c: CustomerView) -> None:
        self.promises(c.history, empty="")

    def stats(self, report: StatsReport) -> None:
        """The total, then a row per ``by`` key, written as they come."""
        fields = ("key", *FIGURE_FIELDS)
        writer = csv.DictWriter(
            self.console.file, fieldnames=fields, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        for key, f in (("total", report.total), *((f.key, f) for f in report.rows)):
            writer.writerow({k: csv_cell(v) for k, v in {"key": key, **figures_dict(f)}.items()})


# --- tables for people: laid out so that nothing the user typed is lost -------------------------------

GAP = "  "
"""Between two columns, and between a label and its value."""

HEADER_STYLE = "bold underline"
LABEL_STYLE = "bold"
TITLE_STYLE = "bold"

Cell = str | Text
"""A cell: text (made visible on the way in) or a ``Text`` of our own with its colours (the kept bar)."""

Piece = tuple[Cell, str]
"""Part of an output line and the style the whole part is shown in (``""``: none)."""

Line = list[Piece]

_WORD = re.compile(r"\S+")


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _safe(cell: Cell | None, *, keep_lines: bool = False) -> Cell:
    """Stored text made harmless for a terminal: control characters shown visibly, tabs as spaces."""
    if cell is None:
        return ""
    if isinstance(cell, Text):
        return cell
    return visible(cell, keep_lines=keep_lines).expandtabs(4) if keep_lines else visible(cell)


def _cells(text: str) -> int:
    """The terminal cells one line of text takes: its length when it is printable ASCII (most cells of
    a long list), else Rich's measure (wide and combining characters, what ``visible`` stands in)."""
    return len(text) if text.isascii() and text.isprintable() else cell_len(text)


def _longest_word(text: str) -> int:
    return max((_cells(w) for w in text.split()), default=0)


def _widest_line(text: str) -> int:
    if "\n" not in text:
        return _cells(text)
    return max(_cells(line) for line in text.split("\n"))


def _fold(line: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """A word wider than the whole line cut into pieces that fit: the one cut pk ever makes."""
    pieces: list[tuple[int, int]] = []
    begin, used = start, 0
    for i in range(start, end):
        w = cell_len(line[i])
        if used + w > width and i > begin:
            pieces.append((begin, i))
            begin, used = i, 0
        used += w
    pieces.append((begin, end))
    return pieces


def _wrap_spans(text: str, width: int) -> list[tuple[int, int]]:
    """Where ``text`` breaks into lines of at most ``width`` cells: at spaces and line breaks only (a
    word longer than a whole line is folded). Spans index ``text``; the spaces at a break are dropped."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for paragraph in text.split("\n"):
        start = end = -1
        used = 0
        for m in _WORD.finditer(paragraph):
            ws, we = m.span()
            w = cell_len(m.group())
            if start >= 0:
                gap = cell_len(paragraph[end:ws])
                if used + gap + w <= width:
                    end, used = we, used + gap + w
                    continue
                spans.append((offset + start, offset + end))
                start = -1
            if w <= width:
                start, end, used = ws, we, w
                continue
            *whole, (last_start, last_end) = _fold(paragraph, ws, we, width)
            spans.extend((offset + a, offset + b) for a, b in whole)
            start, end, used = last_start, last_end, cell_len(paragraph[last_start:last_end])
        spans.append((offset + start, offset + end) if start >= 0 else (offset, offset))
        offset += len(paragraph) + 1
    return spans


def wrap(cell: Cell, width: int) -> list[Cell]:
    """``cell`` as lines of at most ``width`` cells, broken at spaces (a ``Text`` keeps its colours)."""
    plain = _plain(cell)
    if "\n" not in plain and _cells(plain) <= width:
        return [cell]
    return [cell[a:b] for a, b in _wrap_spans(plain, width)]


def _pad(cell: Cell, width: int, style: str, *, right: bool) -> Line:
    """The cell in its style, with the spaces that fill its column (unstyled) on the left or right."""
    room = width - _cells(_plain(cell))
    if room <= 0:
        return [(cell, style)]
    return [(" " * room, ""), (cell, style)] if right else [(cell, style), (" " * room, "")]


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    right: bool = False
    """Numbers align right."""
    free: bool = False
    """Free text (what people typed): wraps before the short columns (dates, statuses, amounts) do."""


@dataclass(slots=True)
class Grid:
    """A table for people: a title, its columns, and rows of cells, each row with its colour."""

    columns: tuple[Column, ...]
    title: str | None = None
    rows: list[tuple[tuple[Cell, ...], str]] = field(default_factory=list)

    def add(self, *cells: Cell | None, style: str = "") -> None:
        self.rows.append((tuple(_safe(c) for c in cells), style))


COMFORT = 16
"""A free-text column is narrowed below this many cells only after the short columns have wrapped."""


def _shrink(widths: list[int], floors: Sequence[int], columns: Sequence[int], excess: int) -> int:
    """Narrow ``columns`` (indices), the widest first, none below its floor; return what is still
    too much."""
    while excess > 0:
        shrinkable = [i for i in columns if widths[i] > floors[i]]
        if not shrinkable:
            break
        widest = max(widths[i] for i in shrinkable)
        for i in shrinkable:
            if widths[i] == widest and excess > 0:
                widths[i] -= 1
                excess -= 1
    return excess


def _size(cell: Cell) -> int:
    """The width of the cell's widest line; for a cell of more than one line ``~width`` (negative)."""
    text = cell if isinstance(cell, str) else cell.plain
    if text.isascii() and text.isprintable():
        return len(text)
    return ~_widest_line(text) if "\n" in text else cell_len(text)


def _measure(grid: Grid) -> list[list[int]]:
    """Each cell's ``_size``, row by row: measured once, for the layout and for the lines."""
    return [[_size(c) for c in cells] for cells, _ in grid.rows]


def _widths(grid: Grid, width: int, measured: list[list[int]] | None = None) -> list[int] | None:
    """Each column's width so that the table fits ``width``, or ``None`` when it cannot without breaking
    a word (then the rows are printed as blocks).

    Columns start as wide as their widest line. When that is too wide, the widest free-text columns
    (customer, what, staff, …) wrap first, down to ``COMFORT`` cells; then the widest of all columns.
    No column ever gets narrower than its longest word."""
    headers = [c.header for c in grid.columns]
    natural = [cell_len(h) for h in headers]
    for row in _measure(grid) if measured is None else measured:
        natural = [max(n, ~w if w < 0 else w) for n, w in zip(natural, row, strict=True)]
    room = width - len(GAP) * (len(natural) - 1)
    excess = sum(natural) - room
    if excess <= 0:
        return natural
    least = [_longest_word(h) for h in headers]
    for cells, _style in grid.rows:
        for i, cell in enumerate(cells):
            w = _longest_word(_plain(cell))
            if w > least[i]:
                least[i] = w
    if sum(least) > room:
        return None
    widths = list(natural)
    free = [i for i, c in enumerate(grid.columns) if c.free]
    short = [i for i, c in enumerate(grid.columns) if not c.free]
    comfort = [max(m, min(n, COMFORT)) for n, m in zip(natural, least, strict=True)]
    excess = _shrink(widths, comfort, free, excess)
    _shrink(widths, least, range(len(widths)), excess)
    # A wrapped short column may need less than it was given ("Mon 23 Nov" of "Mon 23 Nov 17:00"):
    # the cells it does not use go to the free-text columns that still wrap, the neediest first.
    for i in short:
        if widths[i] < natural[i]:
            widths[i] = max(
                (_cells(_plain(line)) for cells, _ in grid.rows for line in wrap(cells[i], widths[i])),
                default=0,
            )
            widths[i] = max(widths[i], least[i])
    for _ in range(room - sum(widths)):
        needy = [i for i in free if widths[i] < natural[i]]
        if not needy:
            break
        widths[max(needy, key=lambda i: natural[i] - widths[i])] += 1
    return widths


def _title(title: str, width: int) -> list[Line]:
    return [[(line, TITLE_STYLE)] for line in wrap(title, width)]


def _table_lines(grid: Grid, widths: list[int], measured: list[list[int]] | None = None) -> list[Line]:
    """The rows under their header, each cell padded to its column (numbers to the right), a cell too
    wide for its column wrapped onto more lines. A row whose cells all fit on one line is laid out
    straight away: on a long list that is nearly every row."""
    out: list[Line] = []
    header: list[Cell] = [c.header for c in grid.columns]
    rights = [c.right for c in grid.columns]
    sizes = [[_size(h) for h in header], *(_measure(grid) if measured is None else measured)]
    for (cells, style), size in zip([(tuple(header), HEADER_STYLE), *grid.rows], sizes, strict=True):
        if all(0 <= s <= w for s, w in zip(size, widths, strict=True)):
            out.append(_one_line(cells, size, widths, rights, style))
            continue
        wrapped = [wrap(cell, w) for cell, w in zip(cells, widths, strict=True)]
        for n in range(max(len(lines) for lines in wrapped)):
            line: Line = []
            for i, (lines, column) in enumerate(zip(wrapped, grid.columns, strict=True)):
                if i:
                    line.append((GAP, ""))
                part = lines[n] if n < len(lines) else ""
                line.extend(_pad(part, widths[i], style, right=column.right))
            out.append(line)
    return out


def _one_line(
    cells: Sequence[Cell], size: Sequence[int], widths: Sequence[int], rights: Sequence[bool], style: str
) -> Line:
    """A row that fits: what ``_pad`` makes of each cell, the padding and gaps run together into one
    unstyled piece (a row with no style and no ``Text``: one piece in all)."""
    line: Line = []
    run = ""
    for i, cell in enumerate(cells):
        room = " " * (widths[i] - size[i])
        run += GAP if i else ""
        if rights[i]:
            run += room
        if style or not isinstance(cell, str):
            if run:
                line.append((run, ""))
            line.append((cell, style))
            run = ""
        else:
            run += cell
        if not rights[i] and i < len(cells) - 1:
            run += room
    if run:
        line.append((run, ""))
    return line


def _pairs(
    pairs: Sequence[tuple[str, Cell, str]], width: int, *, colon: bool, labels_from: Sequence[str] = ()
) -> list[Line]:
    """``label  value`` lines (``label: value`` with ``colon``): the labels in a column as wide as the
    widest of them (and of ``labels_from``), each value wrapped beside its label, or below it, indented,
    when the labels leave it less than 12 cells."""
    labels = [f"{label}:" if colon else label for label, _, _ in pairs]
    others = [f"{label}:" if colon else label for label in labels_from]
    gap = " " if colon else GAP
    label_width = max((cell_len(label) for label in [*labels, *others]), default=0)
    room = width - label_width - len(gap)
    beside = room >= 12
    indent = " " * (label_width + len(gap)) if beside else GAP
    if not beside:
        room = max(width - len(GAP), 1)
    out: list[Line] = []
    for label, (_, value, style) in zip(labels, pairs, strict=True):
        plain = _plain(value)
        lines = wrap(value[len(plain) - len(plain.lstrip()) :], room)
        if beside:
            out.append(
                [(label, LABEL_STYLE), (" " * (label_width - cell_len(label)) + gap, ""), (lines[0], style)]
            )
        else:
            out.append([(label, LABEL_STYLE)])
            out.append([(indent, ""), (lines[0], style)])
        out.extend([(indent, ""), (line, style)] for line in lines[1:])
    return out


def grid_lines(grid: Grid, width: int) -> list[Line]:
    """The grid as lines of at most ``width`` cells: a table when its columns fit side by side, else one
    block of ``label: value`` lines per row (empty cells left out), blocks apart by a blank line. Its
    title comes first."""
    out = _title(grid.title, width) if grid.title else []
    measured = _measure(grid)
    widths = _widths(grid, width, measured)
    if widths is not None:
        return out + [_trimmed(line) for line in _table_lines(grid, widths, measured)]
    headers = [c.header for c in grid.columns]
    for n, (cells, style) in enumerate(grid.rows):
        if n:
            out.append([])
        pairs = [(h, cell, style) for h, cell in zip(headers, cells, strict=True) if _plain(cell).strip()]
        out.extend(_pairs(pairs, width, colon=True, labels_from=headers))
    return out


def _trimmed(line: Line) -> Line:
    """The line without the padding at its end (a piped line carries no trailing spaces)."""
    if line:
        last = line[-1][0]
        end = last if isinstance(last, str) else last.plain
        if end and not end[-1].isspace():
            return line  # nothing to take off (most lines): no copy
    line = list(line)
    while line:
        piece, style = line[-1]
        plain = _plain(piece)
        if plain.strip():
            if plain != plain.rstrip():
                line[-1] = (piece.rstrip() if isinstance(piece, str) else piece[: len(plain.rstrip())], style)
            break
        line.pop()
    return line


def emit(console: Console, lines: Iterable[Line]) -> None:
    """Write laid-out lines as they are, with no trailing spaces: no wrapping or padding by Rich, and no
    escape codes at all when the console has no colour system (piped, ``NO_COLOR``, a dumb terminal).

    The styles are turned into escape codes here, piece by piece, rather than by ``Console.print`` of
    one long ``Text``: on a long list that was most of the time spent (sorting every span of the page)."""
    done = [_trimmed(line) for line in lines]
    system = COLOR_SYSTEMS.get(console.color_system or "")
    if system is None:
        console.file.write(
            "\n".join("".join([p if isinstance(p, str) else p.plain for p, _ in line]) for line in done)
            + "\n"
        )
        return
    styles: dict[str, Style] = {}
    drawn: dict[tuple[str, str, tuple[Any, ...], str], str] = {}  # a Text as escape codes (bars repeat)

    def style_of(name: str) -> Style:
        if name not in styles:
            styles[name] = console.get_style(name)
        return styles[name]

    out: list[str] = []
    for line in done:
        for piece, name in line:
            if isinstance(piece, str):
                out.append(style_of(name).render(piece, color_system=system) if name else piece)
                continue
            key = (piece.plain, str(piece.style), tuple(piece.spans), name)
            if key not in drawn:
                base = style_of(name) if name else Style()
                parts = []
                for segment in piece.render(console):
                    style = base + segment.style if segment.style else base
                    parts.append(style.render(segment.text, color_system=system))
                drawn[key] = "".join(parts)
            out.append(drawn[key])
        out.append("\n")
    console.file.write("".join(out))


def row_style(p: PromiseView, now: datetime, tz: ZoneInfo) -> str:
    if p.status == Status.open:
        return STYLE["due"] if p.due.moment.astimezone(tz).date() == now.astimezone(tz).date() else ""
    return STYLE.get(p.status, "")


PROMISE_COLUMNS = (
    Column("#", right=True),
    Column("Due"),
    Column("Status"),
    Column("Customer", free=True),
    Column("What", free=True),
    Column("Price", right=True),
    Column("Staff", free=True),
)


def promise_table(
    promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime, title: str | None = None
) -> Grid:
    """The promise list of ``pk due``, ``check``, ``promise list``, ``customer show`` and the mail."""
    grid = Grid(PROMISE_COLUMNS, title)
    for p in promises:
        grid.add(
            str(p.id),
            words.due_cell(p.due, tz, now),
            words.when_words(p, now) + (f" {words.RENEGOTIATED_MARK}" if p.renegotiated else ""),
            p.customer,
            words.what_cell(p),
            format_money(p.price) if p.price else None,
            p.staff,
            style=row_style(p, now, tz),
        )
    return grid


def risk_table(
    promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime, title: str | None = None
) -> Grid:
    """The promise list of the at-risk promises (``pk due``, ``pk check``, the mail) with why each is
    at risk (``words.risk_text``) in a column of its own."""
    grid = Grid((*PROMISE_COLUMNS, Column("Risk", free=True)), title)
    listed = promise_table(promises, tz, now)
    for p, (cells, _style) in zip(promises, listed.rows, strict=True):
        risk = words.risk_text(p.risk, tz) if p.risk is not None else ""
        grid.rows.append(((*cells, _safe(risk)), STYLE["at_risk"]))
    return grid


def ready_table(
    promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime, title: str | None = None
) -> Grid:
    """The pickups ready and not yet collected: since when, how many days they have waited, and what
    the customer still has to pay (price − deposit − charged)."""
    from promisekeeper.rules import balance

    number, _, _, customer, what, _, staff = PROMISE_COLUMNS
    owed = Column("To pay", right=True)
    grid = Grid((number, Column("Ready"), Column("Waiting"), customer, what, owed, staff), title)
    for p in promises:
        ready = p.ready_at or now
        left = balance(p.price, p.deposit, p.outcome.charged)
        grid.add(
            str(p.id),
            words.due_cell(Due(ready, False), tz, now),
            words.days_waiting(ready, now, tz),
            p.customer,
            words.what_cell(p),
            format_money(left) if left is not None else None,
            p.staff,
            style=STYLE["ready"],
        )
    return grid


def section_grid(name: str, title: str, promises: Sequence[PromiseView], tz: ZoneInfo, now: datetime) -> Grid:
    """The table of one section of the morning list (``overdue``, ``at_risk``, ``due_soon``, ``due``,
    ``ready``), as ``pk due`` and the mail show it."""
    if name == "at_risk":
        return risk_table(promises, tz, now, title)
    if name == "ready":
        return ready_table(promises, tz, now, title)
    return promise_table(promises, tz, now, title)


def only_at_risk(p: PromiseView) -> bool:
    """In ``pk check`` for its risk alone (open, neither overdue nor unhappy): listed apart."""
    return p.at_risk and p.status == Status.open and not p.unhappy


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def bar(value: float | None, width: int = 8) -> Text:
    """A kept-rate bar for the terminal: filled share in green, the rest dim."""
    if value is None:
        return Text("")
    filled = round(value * width)
    return Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")


class TableRenderer:
    """For people: tables that fit the terminal, one-line confirmations, and a sentence where there is
    nothing to show."""

    def __init__(self, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.console, self.tz, self.now = console, tz, now

    def _print(self, *parts: Grid | list[Line]) -> None:
        """Grids (and ready lines) one after another, a blank line between two grids."""
        width = self.console.width
        lines: list[Line] = []
        for part in parts:
            if isinstance(part, Grid):
                if lines:
                    lines.append([])
                lines.extend(grid_lines(part, width))
            else:
                lines.extend(part)
        emit(self.console, lines)

    def promise(self, verb: str, p: PromiseView) -> None:
        """One line, whatever its length: the console does not hard-wrap it when piped."""
        line = visible(words.confirmation(verb, p, self.tz, self.now))
        self.console.print(Text(line, style=row_style(p, self.now, self.tz)))

    def promises(self, promises: Sequence[PromiseView], *, empty: str) -> None:
        if not promises:
            self.console.print(empty)
        else:
            self._print(promise_table(promises, self.tz, self.now), self._legend(promises))

    def _legend(self, *lists: Sequence[PromiseView]) -> list[Line]:
        """Below a table that shows the renegotiated mark, what it means (wrapped to the width)."""
        if not any(p.renegotiated for promises in lists for p in promises):
            return []
        import textwrap

        text = textwrap.wrap(words.renegotiated_legend(), max(20, self.console.width))
        legend: list[Line] = [[]]
        for line in text:
            piece: Piece = (line, "")
            legend.append([piece])
        return legend

    def detail(self, p: PromiseView) -> None:
        """``promise show``: the terms, the verdict, every delivery and the whole history."""
        tz, now = self.tz, self.now
        head: list[tuple[str, Cell, str]] = []

        def row(label: str, value: str, style: str = "", *, keep_lines: bool = False) -> None:
            head.append((label, _safe(value, keep_lines=keep_lines), style))

        row("Promise", f"#{p.id} ({p.kind})")
        row("Status", p.status + (" (renegotiated)" if p.renegotiated else ""), row_style(p, now, tz))
        row("What", words.item(p.what, p.quantity))
        if p.customer:
            row("Customer", p.customer)
        if p.price:
            row("Price", format_money(p.price))
        row("Due", words.describe_due(p.due, tz, now=now))
        if p.original_due:
            row("Originally due", words.describe_due(p.original_due, tz, now=now))
        if p.handover:
            row("Handover", str(p.handover))
        if p.ready_at:
            row("Ready", words.describe_moment(p.ready_at, tz), STYLE["ready"])
        if p.deposit:
            row("Deposit", format_money(p.deposit))
        if p.balance is not None:
            row("Balance", format_money(p.balance))
        if p.orders:
            row("Waits for", ", ".join(words.order_ref(o) for o in p.orders))
        if p.risk:
            row("At risk", words.risk_text(p.risk, tz), STYLE["at_risk"])
        if p.outcome.deviations or p.outcome.fulfilled_at:
            row("Verdict", words.verdict(p))
        elif p.status == Status.overdue:
            row("Verdict", words.when_words(p, now))
        if p.staff:
            row("Staff", p.staff)
        if p.tags:
            row("Tags", ", ".join(p.tags))
        if p.note:
            row("Note", p.note, keep_lines=True)
        if p.parent_id:
            row("Follows up", f"#{p.parent_id}")
        if p.remedied:
            row("Remedied", "yes")
        parts: list[Grid | list[Line]] = [_pairs(head, self.console.width, colon=False)]
        if p.deliveries:
            deliveries = Grid(
                (
                    Column("At"),
                    Column("What", free=True),
                    Column("Qty", right=True),
                    Column("Charged", right=True),
                    Column("Note", free=True),
                ),
                "Deliveries",
            )
            for d in p.deliveries:
                deliveries.add(
                    _local(d.at, tz),
                    d.what,
                    str(d.quantity),
                    format_money(d.price) if d.price else None,
                    d.note,
                )
            parts.append(deliveries)
        history = Grid((Column("At"), Column("Event"), Column("Detail", free=True)), "History")
        for e in p.history:
            history.add(_local(e.at, tz), e.kind, words.event_text(e, tz, now, customer=p.customer))
        parts.append(history)
        self._print(*parts)

    def due(self, report: DueReport) -> None:
        """The morning list: overdue first, then at risk, due soon, due in the window and ready for
        pickup; one line when there is nothing."""
        tz = self.tz
        until = Due(report.until, report.until == end_of_day(report.until.astimezone(tz).date(), tz))
        sections = (
            ("overdue", words.overdue_title(len(report.overdue)), report.overdue),
            ("at_risk", words.at_risk_title(len(report.at_risk)), report.at_risk),
            ("due_soon", words.due_soon_title(len(report.due_soon)), report.due_soon),
            ("due", words.due_title(until, tz, report.as_of, len(report.due)), report.due),
            ("ready", words.ready_title(len(report.ready)), report.ready),
        )
        shown = [(name, title, promises) for name, title, promises in sections if promises]
        if not shown:
            self.console.print(words.nothing_due(until, tz, report.as_of))
            return
        grids = [section_grid(name, title, promises, tz, report.as_of) for name, title, promises in shown]
        self._print(*grids, self._legend(*(promises for _, _, promises in shown)))

    def check(self, promises: Sequence[PromiseView]) -> None:
        """What to put right, then the promises at risk whose customer has not been warned yet."""
        if not promises:
            self.console.print(words.NOTHING_TO_CHECK)
            return
        broken = [p for p in promises if not only_at_risk(p)]
        risky = [p for p in promises if only_at_risk(p)]
        grids: list[Grid | list[Line]] = []
        if broken:
            grids.append(promise_table(broken, self.tz, self.now))
        if risky:
            grids.append(risk_table(risky, self.tz, self.now, title=words.untold_title(len(risky))))
        self._print(*grids, self._legend(promises))

    def customers(self, customers: Sequence[CustomerView]) -> None:
        rows = [customer_dict(c, self.tz) for c in customers]
        if not rows:
            self.console.print(
                "No customers yet; they are created by pk promise add -c NAME or pk customer add NAME."
            )
            return
        grid = Grid(
            (
                Column("Customer", free=True),
                Column("Email", free=True),
                Column("Phone", free=True),
                *(Column(name, right=True) for name in ("Promises", "Kept", "Deviated", "Overdue", "Open")),
                Column("Kept rate", right=True),
            )
        )
        for r in rows:
            grid.add(
                r["name"],
                r["email"],
                r["phone"],
                str(r["promises"]),
                str(r["kept"]),
                str(r["deviated"]),
                str(r["overdue"]),
                str(r["open"]),
                words.percent(r["kept_rate"]),
            )
        self._print(grid)

    def customer(self, c: CustomerView) -> None:
        """A customer's contact details, track record and every promise made to them."""
        from promisekeeper.rules import figures

        head: list[tuple[str, Cell, str]] = [("Customer", _safe(c.name), "")]
        for label, value in (("Email", c.email), ("Phone", c.phone), ("Note", c.note)):
            if value:
                head.append((label, _safe(value, keep_lines=label == "Note"), ""))
        head.append(("Messages", words.consent_text(c.consent, c.language), ""))
        head.append(("Track record", words.track_record(figures(c.name, c.tally)), ""))
        parts: list[Grid | list[Line]] = [_pairs(head, self.console.width, colon=False)]
        if c.history:
            parts.append(promise_table(c.history, self.tz, self.now, title="Promises"))
        self._print(*parts)

    def stats(self, report: StatsReport) -> None:
        t = report.total
        if not t.promises:
            self.console.print(words.no_stats(report.since, self.tz))
            return
        count, rest = words.stats_summary(t, report.since, self.tz)
        summary = [[(line, "")] for line in wrap(Text(count, style="bold") + Text(rest), self.console.width)]
        grid = Grid(
            (
                Column((report.by or "period").capitalize(), free=True),
                Column("Promises", right=True),
                Column("Kept"),
                *(
                    Column(name, right=True)
                    for name in ("On time", "In full", "At price", "Overdue", "Avg late")
                ),
            )
        )
        bars: dict[float | None, Text] = {}  # one per rate: thousands of rows share a few
        for f in [report.total, *report.rows]:
            if f.kept_rate not in bars:
                bars[f.kept_rate] = Text(f"{words.percent(f.kept_rate):>4} ") + bar(f.kept_rate)
            grid.add(
                f.key if f.key is not None else "all",
                str(f.promises),
                bars[f.kept_rate],
                words.percent(f.on_time_rate),
                words.percent(f.in_full_rate),
                words.percent(f.at_price_rate),
                str(f.overdue),
                words.short_span(f.avg_late_seconds) if f.avg_late_seconds else None,
                style="bold" if f is report.total else "",
            )
        notes = [words.lateness(t), words.more_rows(report.more, report.by) if report.more else None]
        below: list[Line] = [
            [(line, "")] for note in notes if note for line in wrap(note, self.console.width)
        ]
        self._print(summary, grid, [[], *below] if below else [])


_RENDERERS: dict[Format, type[JsonRenderer | CsvRenderer | TableRenderer]] = {
    Format.json: JsonRenderer,
    Format.csv: CsvRenderer,
    Format.table: TableRenderer,
}


def renderer(fmt: Format, console: Console, tz: ZoneInfo, now: datetime) -> Renderer:
    """The renderer for ``--format``, chosen once for the run."""
    return _RENDERERS[fmt](console, tz, now)


def plain_tables(sections: Sequence[tuple[str, Sequence[PromiseView]]], tz: ZoneInfo, now: datetime) -> str:
    """``pk due``'s tables as plain text 100 columns wide (for mail): long text wrapped at spaces, no
    escape codes, no trailing spaces."""
    return plain_grids([promise_table(promises, tz, now, title=title) for title, promises in sections])


def plain_grids(grids: Sequence[Grid]) -> str:
    """Tables as plain text 100 columns wide (``plain_tables``; the mail's sections, ``section_grid``)."""
    out: list[str] = []
    for grid in grids:
        for line in grid_lines(grid, 100):
            out.append("".join(_plain(piece) for piece, _ in _trimmed(line)))
        out.append("")
    return "\n".join(out) + "\n"


# --- supply orders (pk supplier …) --------------------------------------------------------------------


def supply_dict(
    o: SupplyOrderView, tz: ZoneInfo, *, detail: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """A supply order in the reference's JSON shape (``SUPPLY_FIELDS``; ``id`` is ``S3``); ``detail``
    adds its ``history`` like a promise's."""
    out: dict[str, Any] = {
        "id": words.order_ref(o.id),
        "supplier": o.supplier,
        "what": o.what,
        "quantity": o.quantity,
        "eta": iso(o.eta.moment, tz) if o.eta else None,
        "ref": o.ref,
        "created": iso(o.created, tz),
        "state": o.state,
        "received_quantity": o.received_quantity,
        "received_at": iso(o.received_at, tz),
        "overdue": o.overdue,
        "promises": list(o.promises),
    }
    if detail:
        shown = now or o.created
        out["history"] = [
            {"at": iso(e.at, tz), "event": e.kind, "detail": words.event_text(e, tz, shown), "data": e.data}
            for e in o.history
        ]
    return out


def _reached(p: PromiseView, r: Receipt, tz: ZoneInfo) -> dict[str, Any]:
    contact = r.contacts.get(p.id)
    return {
        **promise_dict(p, tz),
        "email": contact.email if contact else None,
        "phone": contact.phone if contact else None,
    }


class SupplyPrinter:
    """Prints what the supplier commands return, in the run's ``--format``."""

    def __init__(self, fmt: Format, console: Console, tz: ZoneInfo, now: datetime) -> None:
        self.fmt, self.console, self.tz, self.now = fmt, console, tz, now

    def _json(self, data: Any) -> None:
        JsonRenderer(self.console, self.tz, self.now)._write(data)

    def _csv(self, rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
        CsvRenderer(self.console, self.tz, self.now)._write(rows, fields)

    def _table(self, *parts: Grid | list[Line]) -> None:
        TableRenderer(self.console, self.tz, self.now)._print(*parts)

    def _line(self, text: str, style: str = "") -> None:
        self.console.print(Text(visible(text), style=style))

    def orders(self, orders: Sequence[SupplyOrderView], *, empty: str) -> None:
        """``supplier list``: one row per order."""
        if self.fmt == Format.json:
            self._json([supply_dict(o, self.tz) for o in orders])
        elif self.fmt == Format.csv:
            self._csv([supply_dict(o, self.tz) for o in orders], SUPPLY_FIELDS)
        elif not orders:
            self.console.print(empty)
        else:
            grid = Grid(
                (
                    Column("Order"),
                    Column("Supplier", free=True),
                    Column("What", free=True),
                    Column("Arrived", right=True),
                    Column("ETA"),
                    Column("State"),
                    Column("For", free=True),
                    Column("Ref", free=True),
                )
            )
            for o in orders:
                grid.add(
                    words.order_ref(o.id),
                    o.supplier,
                    o.what,
                    f"{o.received_quantity}/{o.quantity}",
                    words.due_cell(o.eta, self.tz, self.now) if o.eta else "no date",
                    "overdue" if o.overdue else o.state,
                    ", ".join(f"#{i}" for i in o.promises),
                    o.ref,
                    style=STYLE["overdue"] if o.overdue else STYLE["kept"] if o.state == "received" else "",
                )
            self._table(grid)

    def order(self, confirmation: str, o: SupplyOrderView, at_risk: Sequence[PromiseView] = ()) -> None:
        """``supplier order`` and ``supplier eta``: a confirmation line (and the promises now at risk),
        or the order as JSON (with ``at_risk``) or a CSV row."""
        if self.fmt == Format.json:
            self._json(
                {
                    **supply_dict(o, self.tz, detail=True, now=self.now),
                    "at_risk": [promise_dict(p, self.tz) for p in at_risk],
                }
            )
        elif self.fmt == Format.csv:
            self._csv([supply_dict(o, self.tz)], SUPPLY_FIELDS)
        else:
            self._line(confirmation)
            if at_risk:
                self._table(risk_table(at_risk, self.tz, self.now, words.at_risk_title(len(at_risk))))

    def receipt(self, r: Receipt) -> None:
        """``supplier receive``: who to tell (promise, customer, email, phone) and who still waits."""
        if self.fmt == Format.json:
            self._json(
                {
                    "order": supply_dict(r.order, self.tz),
                    "received": r.quantity,
                    "ready": [_reached(p, r, self.tz) for p in r.ready],
                    "waiting": [_reached(p, r, self.tz) for p in r.waiting],
                }
            )
            return
        if self.fmt == Format.csv:
            rows = [{**_reached(p, r, self.tz), "ready": True} for p in r.ready]
            rows += [{**_reached(p, r, self.tz), "ready": False} for p in r.waiting]
            self._csv(
                rows, ("id", "customer", "email", "phone", "what", "quantity", "due", "ready", "balance")
            )
            return
        self._line(words.received_text(r))
        pickups = [p for p in r.ready if p.handover != Handover.delivery]
        deliveries = [p for p in r.ready if p.handover == Handover.delivery]
        grids = [
            self._reach(pickups, r, words.ready_title(len(pickups)), STYLE["ready"]),
            self._reach(deliveries, r, words.to_deliver_title(len(deliveries)), STYLE["ready"]),
            self._reach(r.waiting, r, words.waiting_title(len(r.waiting)), ""),
        ]
        self._table(*(g for g in grids if g.rows))

    def _reach(self, promises: Sequence[PromiseView], r: Receipt, title: str, style: str) -> Grid:
        from promisekeeper.rules import balance

        grid = Grid(
            (
                Column("#", right=True),
                Column("Customer", free=True),
                Column("Email", free=True),
                Column("Phone"),
                Column("What", free=True),
                Column("Due"),
                Column("To pay", right=True),
            ),
            title,
        )
        for p in promises:
            contact = r.contacts.get(p.id)
            owed = balance(p.price, p.deposit, p.outcome.charged)
            grid.add(
                str(p.id),
                p.customer,
                contact.email if contact else None,
                contact.phone if contact else None,
                words.what_cell(p),
                words.due_cell(p.due, self.tz, self.now),
                format_money(owed) if owed is not None else None,
                style=style,
            )
        return grid


__all__ = ["Kind", "Renderer", "renderer"]
