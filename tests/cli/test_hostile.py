"""Hostile text through the command line and through files (issue 11): escape sequences typed in a shell
are refused naming the field and write nothing; a note keeps its lines; an import refuses a control
character with its line, a file that lies about derived fields, and a file nested without end; pk's own
CSV comes back through ``pk import``; the calendar as events. Where the shell is part of the attack, the
installed ``pk`` runs under ``bash`` exactly as a clerk would type it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Pk, env_in, pk_with

PK = Path(sys.executable).parent / "pk"
installed = pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")


def shell(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``command`` run by bash (so ``$'\\e...'`` is the shell's own quoting), ``pk`` the installed one."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PK_") and k not in ("NO_COLOR", "COLUMNS")
    }
    env.update(
        PATH=f"{PK.parent}{os.pathsep}{env.get('PATH', '')}",
        PK_DB=str(tmp_path / "p.db"),
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW="2026-11-22T10:00:00+01:00",
        XDG_DATA_HOME=str(tmp_path / "data"),
        TERM="xterm-256color",
    )
    return subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


def listed(tmp_path: Path) -> Any:
    result = shell(tmp_path, "pk promise list --format json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "[]")


@installed
@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "field"),
    [
        ("pk promise add $'\\e]0;TITLE\\a\\e[2J\\e[31mTerm' -c $'\\e[31mX' -d today", "WHAT"),
        ("pk promise add Boots -c $'\\e[31mX' -d today", "The customer's name"),
        ("pk promise add Boots -c Anna --staff \"Jo$(printf '\\342\\200\\256')\" -d today", "The staff name"),
        ("pk promise add Boots -d today --note $'size\\e[8m 38'", "The note"),
        ("pk promise add Boots -d today -t \"sale$(printf '\\302\\233')\"", "The tag"),
    ],
)
def test_escape_sequences_typed_in_a_shell_are_refused_and_nothing_is_written(
    tmp_path: Path, command: str, field: str
) -> None:
    result = shell(tmp_path, command)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"pk: {field} contains the ")
    assert result.stderr.endswith("; type it again without it.\n")
    assert result.stderr.count("\n") == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert listed(tmp_path) == []
    customers = shell(tmp_path, "pk customer list --format json")
    assert json.loads(customers.stdout or "[]") == []


@installed
@pytest.mark.slow
def test_a_note_typed_in_a_shell_keeps_its_lines_and_tabs(tmp_path: Path) -> None:
    result = shell(tmp_path, "pk promise add Boots -c Anna -d today --note $'size 38\\n\\twide fit'")
    assert result.returncode == 0, result.stderr
    (promise,) = listed(tmp_path)
    assert promise["note"] == "size 38\n\twide fit"


@installed
@pytest.mark.slow
def test_a_nul_byte_in_a_csv_field_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "till.csv").write_bytes(b"what,due,customer\nBoots,tomorrow,Anna\nSocks\x00,tomorrow,Ben\n")
    result = shell(tmp_path, "pk import till.csv")
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "pk: till.csv, line 3, what: it contains the control character U+0000; remove it and import the "
        "file again; nothing was imported.\n"
    )
    assert listed(tmp_path) == []


@installed
@pytest.mark.slow
def test_a_json_file_nested_100k_deep_is_bad_input_not_an_internal_error(tmp_path: Path) -> None:
    depth = 100_000
    (tmp_path / "deep.json").write_text(
        '{"format": "promisekeeper", "version": 2, "promises": ' + "[" * depth + "]" * depth + "}"
    )
    result = shell(tmp_path, "pk import deep.json")
    assert result.returncode == 2, result.stderr
    assert result.stderr == "pk: deep.json is nested too deeply to be a pk export; nothing was imported.\n"


def other_book(tmp_path: Path, name: str) -> Pk:
    """A ``pk`` on a second, empty book (a SQLite file) beside the test's own."""
    folder = tmp_path / name
    folder.mkdir()
    return pk_with(env_in(folder, str(folder / "p.db")))


def test_an_export_edited_to_say_fulfilled_is_refused_naming_the_promise(pk: Pk, tmp_path: Path) -> None:
    """Issue 11: it used to import, then show ``open``, be missing from ``pk due`` and refuse delivery."""
    assert pk("promise", "add", "Boots", "-c", "Anna", "-d", "tomorrow").exit_code == 0
    assert pk("export", "-o", str(tmp_path / "book.json")).exit_code == 0
    doc = json.loads((tmp_path / "book.json").read_text())
    doc["promises"][0].update(state="fulfilled", closed_at=doc["promises"][0]["created"])
    (tmp_path / "book.json").write_text(json.dumps(doc))
    restored = other_book(tmp_path, "restored")
    result = restored("import", str(tmp_path / "book.json"))
    assert result.exit_code == 2
    assert result.stderr == (
        "pk: book.json: promises[0] (#1) says it was fulfilled, but the file holds no delivery for it; "
        "nothing was imported.\n"
    )
    assert json.loads(restored("promise", "list", "--json").stdout or "[]") == []


TERMS = (
    "kind",
    "customer",
    "what",
    "quantity",
    "price",
    "currency",
    "due",
    "date_only",
    "staff",
    "tags",
    "note",
)


@pytest.mark.parametrize("export", [("promise", "list", "--format", "csv"), ("export", "--format", "csv")])
def test_pk_imports_its_own_csv_with_formula_cells_exactly(
    pk: Pk, tmp_path: Path, export: tuple[str, ...]
) -> None:
    for args in (
        ("promise", "add", '=HYPERLINK("http://evil","x")', "-c", "@SUM(1+1)", "-d", "fri", "--note", "-2+3"),
        ("promise", "add", "+cmd|' /C calc'!A0", "--staff", "-Jo", "-d", "tomorrow 16:00", "-p", "9.50"),
        ("promise", "add", "Boots", "-c", "Anna", "-q", "2", "-p", "240", "-d", "2026-11-20", "-t", "=x"),
    ):
        assert pk(*args).exit_code == 0
    assert pk("deliver", "3", "--at", "yesterday").exit_code == 0
    result = pk(*export)
    assert result.exit_code == 0
    for cell in ('"\'=HYPERLINK(""http://evil"",""x"")"', "'@SUM(1+1)", "'-2+3", "'+cmd", "'-Jo", "'=x"):
        assert cell in result.stdout
    (tmp_path / "list.csv").write_text(result.stdout)
    fresh = other_book(tmp_path, "fresh")
    imported = fresh("import", str(tmp_path / "list.csv"))
    assert imported.exit_code == 0, imported.stderr
    before = json.loads(pk("promise", "list", "--json").stdout)
    after = json.loads(fresh("promise", "list", "--json").stdout)
    assert [{k: p[k] for k in TERMS} for p in after] == [{k: p[k] for k in TERMS} for p in before]
    assert [p["status"] for p in after] == [p["status"] for p in before]
    assert "deviated" in [p["status"] for p in after]  # the late delivery came back as a delivery


def test_the_calendar_as_events(pk: Pk, tmp_path: Path) -> None:
    from icalendar import Calendar

    assert pk("promise", "add", "Boots", "-c", "Anna", "-d", "tomorrow").exit_code == 0
    assert pk("promise", "add", "Call Ben", "--kind", "callback", "-d", "tomorrow 16:00").exit_code == 0
    out = tmp_path / "open.ics"
    assert pk("export", "--ics-events", "-o", str(out)).exit_code == 0
    events = list(Calendar.from_ical(out.read_text()).walk("VEVENT"))
    assert sorted(str(e["SUMMARY"]) for e in events) == ["#1 Boots for Anna", "#2 Call Ben"]
    assert sorted(type(e.decoded("DTSTART")).__name__ for e in events) == ["date", "datetime"]
    wrong = pk("export", "--ics-events", "--format", "csv")
    assert wrong.exit_code == 2
    assert wrong.stderr == "pk: --ics-events writes a calendar; use it with --format ics, not csv.\n"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("deliver", "1", "--what", "Boots\x1b[2J"), "The delivered WHAT"),
        (("deliver", "1", "--note", "\x1b]0;x\x07"), "The note"),
        (("done", "1", "--note", "ok\x00"), "The note"),
        (("promise", "amend", "1", "--what", "X\u202e", "--reason", "asked"), "WHAT"),
        (("promise", "amend", "1", "--due", "fri", "--reason", "late\x1b"), "The reason"),
        (("promise", "cancel", "1", "--reason", "two\nlines"), "The reason"),
        (("customer", "add", "Anna", "--email", "anna@example.com\x07"), "The email address"),
        (("customer", "add", "Anna", "--phone", "+49\x1b 30"), "The phone number"),
        (("customer", "add", "Anna", "--note", "\x1b[2J"), "The note"),
        (("customer", "add", "\u2066Anna"), "The customer's name"),
        (("promise", "fix", "1", "--tag", "sale\x1b[2J"), "The tag"),
        (("promise", "fix", "1", "--staff", "Jo\x1b"), "The staff name"),
    ],
)
def test_every_command_refuses_hostile_text_naming_the_field(
    pk: Pk, args: tuple[str, ...], field: str
) -> None:
    assert pk("promise", "add", "Boots", "-c", "Anna", "-d", "fri").exit_code == 0
    before = pk("promise", "show", "1", "--json").stdout
    result = pk(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"pk: {field} contains the ")
    assert pk("promise", "show", "1", "--json").stdout == before


def test_a_remedy_refuses_hostile_text(pk: Pk) -> None:
    assert pk("promise", "add", "Boots", "-d", "2026-11-20").exit_code == 0
    result = pk("remedy", "1", "--action", "Refunded", "--prevent", "\x1b[2J")
    assert result.exit_code == 2
    assert result.stderr.startswith("pk: The prevention contains the control character U+001B")
