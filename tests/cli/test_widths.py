"""Output at any width, colours and pipes, and stored hostile text (docs/reference.md, "Text and output
safety"; issue 12 items 2, 3 and 15, issue 11 "Output").

The installed ``pk`` runs as a process: on a real pseudo-terminal (``pty``, its window size set with
``TIOCSWINSZ`` and ``COLUMNS``/``LINES`` set alike) for what a person sees, and with its output piped for
what a script or a file gets. The book is filled in-process first, with long multi-word names, items,
staff and notes, some of them in double-width script.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from tests.cli.conftest import NOW, env_in, pk_with

PK = Path(sys.executable).parent / "pk"
pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]

WIDTHS = (40, 50, 80, 120)
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")

LONG_NAME = "Maximiliane Wolkenstein-Rautenberg von Hohenfels"
CUSTOMERS = (LONG_NAME, "Jürgen Müller-Lüdenscheidt", "山田 太郎", "Anna Smith")
STAFF = ("Jo-Anne Featherstonehaugh", "Bartholomew Okonkwo-Vasquez", "Jo")
ITEMS = (
    "Climbing rope 60 m dynamic, dry treated, orange and black with rope bag",
    "Hiking boots size 38 wide fit, resoled with Vibram soles",
    "テント 二人用 ultralight tent with footprint",
    "Merino socks",
)


def _environment(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a real process: the user's own, but nothing that would colour or size it."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PK_")
        and k not in ("NO_COLOR", "COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")
    }
    own = env_in(folder, str(folder / "p.db"))
    base.update({k: v for k, v in own.items() if k not in ("NO_COLOR", "COLUMNS", "PK_DEBUG")})
    base["TERM"] = "xterm-256color"
    base.update(extra)
    return base


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shop's book: overdue, due today and deviated promises with long, multi-word texts."""
    folder = tmp_path_factory.mktemp("widths")
    pk = pk_with(env_in(folder, str(folder / "p.db")))
    steps: list[tuple[str, ...]] = [
        (
            "customer",
            "add",
            LONG_NAME,
            "--email",
            "maxi@hohenfels.example",
            "--phone",
            "+49 30 1234 5678",
            "--note",
            "Prefers a call in the afternoon; ask for the back entrance by the courtyard garden",
        ),
    ]
    n = 0
    for i, customer in enumerate(CUSTOMERS):
        for j, item in enumerate(ITEMS):
            n += 1
            due = ("2026-11-20", "2026-11-21 15:30", "today", "today 16:00")[(i + j) % 4]
            steps.append(
                (
                    "promise",
                    "add",
                    item,
                    "-c",
                    customer,
                    "-q",
                    str(1 + j % 3),
                    "-p",
                    f"{120 + 17 * n}.50",
                    "-d",
                    due,
                    "-s",
                    STAFF[(i + j) % len(STAFF)],
                    "-n",
                    "Customer asked for gift wrapping with the blue paper and a handwritten card",
                )
            )
    steps.append(("promise", "add", "Call back about the touring ski bindings", "--kind", "callback",
                  "-c", LONG_NAME, "-d", "today 09:00", "-s", STAFF[0]))  # fmt: skip
    for args in steps:
        result = pk(*args, now=NOW)
        assert result.exit_code == 0, (args, result.stderr)
    # Deviated promises for `check`: late, short, another price and another item (follow-ups made too).
    deliveries: list[tuple[str, ...]] = [
        ("deliver", "1", "--at", "2026-11-21 11:00", "-p", "999", "--no-followup"),
        (
            "deliver",
            "5",
            "--at",
            "2026-11-22 09:00",
            "--what",
            "Hiking boots size 39 narrow fit with red laces",
        ),
        ("deliver", "9", "-q", "1", "--at", "2026-11-21 12:00"),
    ]
    for args in deliveries:
        result = pk(*args, now=NOW)
        assert result.exit_code == 0, (args, result.stderr)
    return folder


def run_on_a_terminal(folder: Path, args: tuple[str, ...], columns: int, **env: str) -> str:
    """``pk ARGS`` on a pseudo-terminal ``columns`` wide; what it showed, line ends as ``\\n``."""
    lines = 50
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    process = subprocess.Popen(
        [str(PK), *args],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=_environment(folder, COLUMNS=str(columns), LINES=str(lines), **env),
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode().replace("\r\n", "\n")


def run_piped(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(PK), *args],
        capture_output=True,
        text=True,
        env=_environment(folder, **env),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def plain(shown: str) -> str:
    return ESCAPES.sub("", shown)


def words_of(*texts: str | None) -> Counter[str]:
    return Counter(word for text in texts if text for word in text.split())


def expected_words(folder: Path, args: tuple[str, ...]) -> Counter[str]:
    """Every word of every cell the command shows that someone typed, as often as it is shown."""
    data: Any = json.loads(run_piped(folder, *args, "--json").stdout)
    if args[0] == "due":
        promises = [*data["overdue"], *data["due"]]
    elif args[0] == "check":
        promises = data
    elif args[0] == "stats":
        return words_of(*(row["key"] for row in data["by"]))
    else:  # customer show
        promises = data["history"]
        extra = words_of(data["name"], data["email"], data["phone"], data["note"])
        return extra + words_of(*(f"{p['customer']} {p['what']} {p['staff'] or ''}" for p in promises))
    assert promises, args
    return words_of(*(f"{p['customer'] or ''} {p['what']} {p['staff'] or ''} {p['id']}" for p in promises))


COMMANDS = (("due",), ("check",), ("stats", "--by", "staff"), ("customer", "show", LONG_NAME))


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_nothing_typed_is_lost_or_cut_at_any_width(book: Path, args: tuple[str, ...], columns: int) -> None:
    shown = plain(run_on_a_terminal(book, args, columns))
    lines = shown.split("\n")
    too_wide = [line for line in lines if cell_len(line) > columns]
    assert not too_wide, f"wider than {columns}: {too_wide[:3]}"
    tokens = Counter(shown.split())
    missing = {word: n for word, n in expected_words(book, args).items() if tokens[word] < n}
    assert not missing, f"words lost or cut at {columns} columns: {missing}"


def test_a_narrow_terminal_gets_blocks_and_whole_headers(book: Path) -> None:
    narrow = plain(run_on_a_terminal(book, ("due",), 40))
    assert "Customer: " + LONG_NAME.split()[0] in narrow  # a block of label: value lines
    assert "\n\n" in narrow  # blocks apart
    assert narrow.startswith("Overdue: ")  # the section titles kept
    wide = plain(run_on_a_terminal(book, ("due",), 120))
    header = next(line for line in wide.split("\n") if line.lstrip().startswith("#  Due"))
    assert header.split() == ["#", "Due", "Status", "Customer", "What", "Price", "Staff"]
    for columns in (50, 80):
        for line in plain(run_on_a_terminal(book, ("stats", "--by", "staff"), columns)).split("\n"):
            assert not re.search(r"\b(Custome|Promise|Overdu|Promi|Kep)\b", line), line


def test_colour_on_a_terminal_and_none_with_no_color(book: Path) -> None:
    coloured = run_on_a_terminal(book, ("due",), 80)
    assert "\x1b[" in coloured  # the pseudo-terminal shows colours: the check below can fail
    for args in (("due",), ("check",), ("promise", "show", "5"), ("stats", "--by", "staff")):
        shown = run_on_a_terminal(book, args, 80, NO_COLOR="1")
        assert "\x1b" not in shown, args  # no colour, no bold, no underline, no link


def test_piped_output_has_no_codes_no_padding_no_hard_wraps(book: Path) -> None:
    for args in (("due",), ("check",), ("promise", "list"), ("customer", "list"), ("stats", "--by", "staff")):
        out = run_piped(book, *args, FORCE_COLOR="1").stdout  # not a terminal, whatever FORCE_COLOR says
        assert "\x1b" not in out, args
        assert all(line == line.rstrip() for line in out.split("\n")), args
    what = " ".join(["Very long special order"] * 12)
    added = run_piped(
        book, "--db", str(book / "other.db"), "promise", "add", what, "-c", LONG_NAME, "-d", "tue"
    )
    assert added.stdout.count("\n") == 1
    assert added.stdout.startswith("Promised #1: ")
    assert what in added.stdout
    cancelled = run_piped(
        book, "--db", str(book / "other.db"), "promise", "cancel", "1", "-r", "gone", COLUMNS="40"
    )
    assert cancelled.stdout.count("\n") == 1
    assert what in cancelled.stdout


HOSTILE_CUSTOMER = "\x1b]0;TITLE\x07\x1b[2J\x1b[31mX"
FORMULA = '=HYPERLINK("http://evil","x")'


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A book whose customer and item were written by another program, straight into the database."""
    pk = pk_with(env_in(tmp_path, str(tmp_path / "p.db")))
    for args in (
        ("promise", "add", "Boots", "-c", "Anna", "-d", "2026-11-20", "-p", "240"),
        ("promise", "add", "Tent", "-c", "Anna", "-d", "today"),
    ):
        assert pk(*args).exit_code == 0
    with sqlite3.connect(tmp_path / "p.db") as db:
        db.execute("UPDATE customer SET name = ?, note = ?", (HOSTILE_CUSTOMER, "line one\nline\x1b[2J two"))
        db.execute("UPDATE promise SET what = ?, note = ?", (FORMULA, "first\x07\nsecond"))
    db.close()
    return tmp_path


def test_stored_hostile_text_is_shown_harmless(hostile: Path) -> None:
    outputs: dict[tuple[str, ...] | str, str] = {
        args: run_piped(hostile, *args).stdout
        for args in (
            ("due",),
            ("promise", "show", "1"),
            ("customer", "list"),
            ("customer", "show", "Anna"),
            ("promise", "list"),
            ("due", "--format", "csv"),
            ("customer", "list", "--format", "csv"),
            ("promise", "cancel", "2", "-r", "gone"),
        )
    }
    outputs["terminal"] = run_on_a_terminal(hostile, ("due",), 80)
    outputs["terminal show"] = run_on_a_terminal(hostile, ("promise", "show", "1"), 50)
    for args, out in outputs.items():
        for raw in ("\x07", "\x1b]", "\x1b[2J"):  # no bell, no title, no screen cleared
            assert raw not in out, (args, raw)
        if not str(args).startswith("terminal"):
            assert "\x1b" not in out, args  # piped: no escape code at all
        assert "TITLE" in out, args  # the customer is there, shown harmless
    assert "␛]0;TITLE␇␛[2J␛[31mX" in outputs[("due",)]
    assert outputs[("promise", "cancel", "2", "-r", "gone")].startswith("Cancelled #2: =HYPERLINK")
    rows = list(csv.DictReader(io.StringIO(outputs[("due", "--format", "csv")])))
    assert [row["what"] for row in rows] == ["'" + FORMULA, "'" + FORMULA]
    assert rows[0]["customer"] == "␛]0;TITLE␇␛[2J␛[31mX"
    assert rows[0]["note"] == "first␇\nsecond"  # a note keeps its line break, not its bell
    show = outputs[("promise", "show", "1")]
    assert "first␇\n" in show
    assert "second" in show


def test_csv_for_spreadsheets_has_the_day_and_every_amount_beside_its_currency(book: Path) -> None:
    out = run_piped(book, "promise", "list", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    header = out.split("\n", 1)[0].split(",")
    assert header.index("due_date") == header.index("due") + 1
    assert header.index("charged_currency") == header.index("charged") + 1
    by_id = {row["id"]: row for row in rows}
    assert by_id["1"]["due"] == "2026-11-20T23:59:59.999999+01:00"
    assert by_id["1"]["due_date"] == "2026-11-20"
    assert (by_id["1"]["charged"], by_id["1"]["charged_currency"]) == ("999.00", "EUR")
    assert by_id["2"]["due_date"] == "2026-11-21"
    assert by_id["2"]["charged_currency"] == ""
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["due_date"]) for row in rows)
    exported = run_piped(book, "export", "--format", "csv").stdout
    assert exported.split("\n", 1)[0] == out.split("\n", 1)[0]  # the export has the same columns
