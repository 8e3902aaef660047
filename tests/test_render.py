"""render: tables that lose nothing at any width, escape codes only where colour is wanted, and CSV
cells a spreadsheet can neither run nor misread (docs/reference.md, "Text and output safety", "CSV
output")."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from promisekeeper import render
from promisekeeper.money import Money
from promisekeeper.render import Column, Grid, csv_cell, emit, grid_lines, wrap
from promisekeeper.views import (
    DueReport,
    Format,
    Handover,
    Kind,
    Outcome,
    PromiseView,
    Risk,
    RiskKind,
    Status,
)
from promisekeeper.when import Due, end_of_day

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def text_of(lines: list[render.Line]) -> list[str]:
    return ["".join(piece.plain if isinstance(piece, Text) else piece for piece, _ in line) for line in lines]


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("Climbing rope 60 m", 50, ["Climbing rope 60 m"]),
        ("Climbing rope 60 m", 10, ["Climbing", "rope 60 m"]),
        ("Climbing rope 60 m", 8, ["Climbing", "rope 60", "m"]),
        ("a  b", 4, ["a  b"]),
        ("one\ntwo three", 20, ["one", "two three"]),
        ("Supercalifragilistic", 8, ["Supercal", "ifragili", "stic"]),  # wider than the line: folded
        ("山田 太郎", 4, ["山田", "太郎"]),  # double-width script counts two cells a character
        ("", 10, [""]),
    ],
)
def test_wrap_breaks_at_spaces(text: str, width: int, lines: list[str]) -> None:
    assert [str(line) for line in wrap(text, width)] == lines


def test_wrap_keeps_the_colours_of_a_text() -> None:
    cell = Text("88% ", style="bold") + Text("███", style="green")
    first, second = wrap(cell, 4)
    assert isinstance(second, Text)
    assert (str(first), str(second)) == ("88%", "███")
    assert second.spans
    assert str(second.spans[0].style) == "green"


COLUMNS = (Column("#", right=True), Column("Customer", free=True), Column("What", free=True), Column("Price"))


def grid(rows: Sequence[tuple[str, ...]], title: str | None = "Overdue: 2") -> Grid:
    g = Grid(COLUMNS, title)
    for row in rows:
        g.add(*row)
    return g


ROWS = [
    (
        "1",
        "Maximiliane Wolkenstein-Rautenberg von Hohenfels",
        "Climbing rope 60 m dynamic, dry treated",
        "€179.00",
    ),
    ("12", "Anna Smith", "Merino socks", ""),
]


def test_a_table_that_fits_is_one_line_a_row_aligned() -> None:
    lines = text_of(grid_lines(grid(ROWS), 120))
    assert lines[0] == "Overdue: 2"
    assert lines[1].split() == ["#", "Customer", "What", "Price"]
    assert lines[2].index("Maximiliane") == lines[1].index("Customer") == lines[3].index("Anna")
    assert lines[3].endswith("Merino socks")  # no trailing padding past the last text


def test_a_narrow_table_wraps_the_free_text_at_spaces() -> None:
    lines = text_of(grid_lines(grid(ROWS), 60))
    assert all(cell_len(line) <= 60 for line in lines)
    assert lines[1].split() == ["#", "Customer", "What", "Price"]
    assert len(lines) > 4
    assert Counter(" ".join(lines).split()) >= Counter(" ".join(" ".join(r) for r in ROWS).split())


def test_when_the_columns_cannot_fit_each_row_is_a_block() -> None:
    lines = text_of(grid_lines(grid(ROWS), 40))
    assert lines == [
        "Overdue: 2",
        "#:        1",
        "Customer: Maximiliane",
        "          Wolkenstein-Rautenberg von",
        "          Hohenfels",
        "What:     Climbing rope 60 m dynamic,",
        "          dry treated",
        "Price:    €179.00",
        "",
        "#:        12",
        "Customer: Anna Smith",
        "What:     Merino socks",
    ]


def test_a_header_is_never_split_inside_a_word() -> None:
    g = Grid((Column("Customer"), Column("Kept rate", right=True)))
    g.add("Al", "5%")
    lines = text_of(grid_lines(g, 16))
    assert lines[0].split() == ["Customer", "Kept"]
    assert lines[1].split() == ["rate"]


def test_cells_are_made_visible() -> None:
    g = Grid((Column("Customer"),))
    g.add("\x1b]0;TITLE\x07\x1b[2JX")
    assert text_of(grid_lines(g, 80))[1] == "␛]0;TITLE␇␛[2JX"


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäö山田-", min_size=1, max_size=14)
CELL = st.lists(WORD, min_size=0, max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=6),
    width=st.integers(min_value=40, max_value=160),
)
def test_nothing_is_lost_and_nothing_is_too_wide(rows: list[tuple[str, ...]], width: int) -> None:
    lines = text_of(grid_lines(grid(rows, title=None), width))
    assert all(cell_len(line) <= width for line in lines)
    assert all(line == line.rstrip() for line in lines)
    shown = Counter(" ".join(lines).split())
    assert shown >= Counter(" ".join(" ".join(r) for r in rows).split())


def console(*, colour: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    made = Console(
        file=out,
        width=80,
        force_terminal=colour,
        color_system="truecolor" if colour else None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    return made, out


def test_emit_writes_escape_codes_only_with_a_colour_system() -> None:
    lines = grid_lines(grid(ROWS), 80)
    lines[2] = [(piece, style or "red") for piece, style in lines[2]]
    plain, out = console(colour=False)
    emit(plain, lines)
    assert "\x1b" not in out.getvalue()
    assert out.getvalue().splitlines() == text_of(lines)
    coloured, out = console(colour=True)
    emit(coloured, lines)
    assert "\x1b[1m" in out.getvalue()  # bold title
    assert "\x1b[31m" in out.getvalue()  # the red row
    assert all(line == line.rstrip() for line in out.getvalue().splitlines())


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("-2+3", "'-2+3"),
        ("\x1b[31mRed", "␛[31mRed"),
        ("line one\nline two", "line one\nline two"),
        (["=tag", "sale"], "'=tag;sale"),
        ("240.00", "240.00"),
        (240, 240),
        (True, "true"),
        (None, ""),
    ],
)
def test_csv_cells_are_safe_for_spreadsheets(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def view(due: Due, charged: Money | None = None) -> PromiseView:
    outcome = Outcome(Status.open, (), 0, charged, None, None)
    return PromiseView(
        id=1,
        kind=Kind.delivery,
        customer="Anna",
        what="Boots",
        quantity=1,
        price=Money(Decimal("240"), "EUR"),
        due=due,
        original_due=None,
        renegotiated=False,
        staff=None,
        tags=(),
        note=None,
        parent_id=None,
        created=NOW,
        outcome=outcome,
        remedied=False,
        unhappy=False,
    )


def test_due_date_is_the_shops_day_and_each_amount_has_its_currency() -> None:
    whole_day = render.promise_dict(view(Due(end_of_day(datetime(2026, 11, 23).date(), TZ), True)), TZ)
    assert whole_day["due"] == "2026-11-23T23:59:59.999999+01:00"
    assert whole_day["due_date"] == "2026-11-23"
    late_evening = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # already the 24th in Berlin
    p = render.promise_dict(view(Due(late_evening, False), charged=Money(Decimal("180"), "USD")), TZ)
    assert p["due_date"] == "2026-11-24"
    assert (p["price"], p["currency"], p["charged"], p["charged_currency"]) == (
        "240.00",
        "EUR",
        "180.00",
        "USD",
    )


# --- the morning list's at-risk and ready sections, and check's (issue 14) -----------------------------


def _due_report() -> DueReport:
    """#1 overdue, #2 at risk (S3 late), #3 due today, #4 ready since Thursday (€40 deposit)."""
    today = Due(end_of_day(datetime(2026, 11, 22).date(), TZ), True)
    friday = end_of_day(datetime(2026, 11, 27).date(), TZ)
    risk = Risk(
        RiskKind.eta_late, 3, "Meindl \x1b[31m", end_of_day(datetime(2026, 11, 30).date(), TZ), friday
    )
    overdue = replace(view(Due(datetime(2026, 11, 20, 16, 0, tzinfo=UTC), False)), id=1)
    overdue = replace(overdue, outcome=replace(overdue.outcome, status=Status.overdue))
    at_risk = replace(view(Due(friday, True)), id=2, risk=risk, orders=(3,))
    ready = replace(
        view(today),
        id=4,
        what="Tent",
        ready_at=datetime(2026, 11, 19, 15, 0, tzinfo=TZ),
        deposit=Money(Decimal("40"), "EUR"),
        handover=Handover.pickup,
    )
    return DueReport(
        NOW,
        today.moment,
        [overdue],
        [replace(view(today), id=3, what="Rope")],
        at_risk=[at_risk],
        ready=[ready],
    )


def _rendered(fmt: Format, report: DueReport) -> str:
    out, buffer = console(colour=False)
    render.renderer(fmt, out, TZ, NOW).due(report)
    return buffer.getvalue()


def test_due_json_has_at_risk_and_ready_arrays_in_order() -> None:
    import json

    doc = json.loads(_rendered(Format.json, _due_report()))
    assert list(doc) == ["as_of", "overdue", "at_risk", "due_soon", "due", "ready"]
    (risky,) = doc["at_risk"]
    assert (risky["id"], risky["at_risk"], risky["orders"]) == (2, True, ["S3"])
    assert risky["risk"].startswith("S3 from Meindl")
    assert [p["id"] for p in doc["ready"]] == [4]
    assert doc["ready"][0]["ready_at"] == "2026-11-19T15:00:00+01:00"


def test_due_csv_rows_follow_the_sections() -> None:
    rows = _rendered(Format.csv, _due_report()).splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_due_table_sections_in_order_with_the_risk_and_the_days_waiting() -> None:
    text = _rendered(Format.table, _due_report())
    titles = [line for line in text.splitlines() if line.endswith(": 1")]
    assert titles == ["Overdue: 1", "At risk: 1", "Due today (Sun 22 Nov): 1", "Ready for pickup: 1"]
    assert "now arrives Mon 30 Nov 2026, too late for the due Fri 27 Nov 2026." in " ".join(text.split())
    assert "␛[31m" in text  # the supplier's stored text is shown visibly, never raw
    assert "\x1b" not in text
    ready = text[text.index("Ready for pickup") :].splitlines()
    assert ready[1].split() == ["#", "Ready", "Waiting", "Customer", "What", "To", "pay", "Staff"]
    assert ready[2].split() == ["4", "Thu", "19", "Nov", "15:00", "3", "days", "Anna", "Tent", "€200.00"]


def test_check_lists_the_untold_at_risk_apart() -> None:
    report = _due_report()
    out, buffer = console(colour=False)
    render.renderer(Format.table, out, TZ, NOW).check([*report.overdue, *report.at_risk])
    lines = buffer.getvalue().splitlines()
    assert lines[0].split()[:3] == ["#", "Due", "Status"]
    assert "At risk, customer not yet warned (pk notice ID): 1" in lines
    out, buffer = console(colour=False)
    render.renderer(Format.table, out, TZ, NOW).check([])
    assert buffer.getvalue().startswith("Nothing to put right")


# --- the long list's path: a row that fits is laid out straight away, with the same result ---------------


def _reference_lines(grid: Grid, widths: Sequence[int]) -> list[str]:
    """Every row through ``wrap`` and ``_pad`` cell by cell (the slow, obvious layout), as plain text."""
    out = []
    header = tuple(c.header for c in grid.columns)
    for cells, style in [(header, render.HEADER_STYLE), *grid.rows]:
        wrapped = [wrap(cell, w) for cell, w in zip(cells, widths, strict=True)]
        for n in range(max(len(lines) for lines in wrapped)):
            line: list[render.Piece] = []
            for i, (lines, column) in enumerate(zip(wrapped, grid.columns, strict=True)):
                if i:
                    line.append((render.GAP, ""))
                part = lines[n] if n < len(lines) else ""
                line.extend(render._pad(part, widths[i], style, right=column.right))
            out.append("".join(render._plain(p) for p, _ in render._trimmed(line)).rstrip())
    return out


CELL_TEXT = st.text(
    alphabet=st.sampled_from(["a", "Z", " ", "\n", "é", "\u0301", "東", "😀", "\x1b", "\u202e", "\t", "-"]),
    max_size=14,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(CELL_TEXT, CELL_TEXT, CELL_TEXT, st.sampled_from(["", "bold", "red"])),
        min_size=1,
        max_size=6,
    ),
    st.integers(min_value=12, max_value=90),
)
def test_the_straight_path_lays_out_as_wrapping_every_cell(
    rows: list[tuple[str, str, str, str]], width: int
) -> None:
    """Any text (wide, combining, control characters, line breaks), any width: the lines are those of
    wrapping and padding every cell, and the table or the blocks keep every character."""
    grid = Grid((Column("Who", free=True), Column("N", right=True), Column("What", free=True)))
    for a, b, c, style in rows:
        grid.add(a, b, Text(c, style="green") if style == "red" else c, style=style)
    widths = render._widths(grid, width)
    lines = ["".join(render._plain(p) for p, _ in line) for line in grid_lines(grid, width)]
    if widths is not None:
        assert lines == _reference_lines(grid, widths)
    shown = "".join(lines)
    for cells, _ in grid.rows:
        for cell in cells:
            assert all(ch in shown for ch in render._plain(cell) if not ch.isspace())


def test_a_line_with_nothing_to_trim_is_not_copied() -> None:
    line: render.Line = [("Anna", ""), ("  ", ""), ("240", "bold")]
    assert render._trimmed(line) is line
    assert render._trimmed([("Anna  ", "")]) == [("Anna", "")]


def test_a_long_stats_table_shares_its_bars_and_keeps_every_row() -> None:
    """Thousands of rows (``pk stats --by customer --all``): one line each, the kept bar drawn for each,
    in colour too."""
    from promisekeeper.rules import figures
    from promisekeeper.views import StatsBy, StatsReport, Tally

    rows = [figures(f"Customer {n}", Tally(promises=n % 7 + 1, kept=n % 7 + 1)) for n in range(3000)]
    for colour in (None, "truecolor"):
        report = StatsReport(
            None, NOW, StatsBy.customer, figures(None, Tally(promises=9, kept=9)), iter(rows)
        )
        buf = io.StringIO()
        console = Console(file=buf, width=120, color_system=colour, force_terminal=colour is not None)
        render.TableRenderer(console, TZ, NOW).stats(report)
        text = buf.getvalue()
        assert len(re.findall(r"^Customer \d+ ", text, flags=re.MULTILINE)) == 3000
        assert text.count("████████") == 3001
        assert ("\x1b[" in text) is (colour is not None)
