"""The daily loop through the command layer: add → due → deliver → check, with its output and errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.conftest import Pk, PkJson
from tests.conftest import SQL


def test_add_prints_the_one_line_confirmation(pk: Pk) -> None:
    result = pk("promise", "add", "Hiking boots", "-c", "Anna Smith", "-q", "2", "-p", "240", "-d", "tue")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Promised #1: 2 × Hiking boots to Anna Smith for €240.00, due Tue 24 Nov (end of day)"
    )


def test_add_json_has_the_spec_keys(pkj: PkJson) -> None:
    p = pkj(
        "promise",
        "add",
        "Hiking boots",
        "-c",
        "Anna Smith",
        "-q",
        "2",
        "-p",
        "240",
        "-d",
        "2026-11-24",
        "-s",
        "Jo",
        "-t",
        "boots",
    )
    assert p == {
        "id": 1,
        "kind": "delivery",
        "customer": "Anna Smith",
        "what": "Hiking boots",
        "quantity": 2,
        "price": "240.00",
        "currency": "EUR",
        "due": "2026-11-24T23:59:59.999999+01:00",
        "due_date": "2026-11-24",
        "date_only": True,
        "original_due": None,
        "renegotiated": False,
        "status": "open",
        "deviations": [],
        "delivered_quantity": 0,
        "charged": None,
        "charged_currency": None,
        "fulfilled_at": None,
        "late_by_seconds": None,
        "staff": "Jo",
        "tags": ["boots"],
        "note": None,
        "parent_id": None,
        "remedied": False,
        "unhappy": False,
        "created": "2026-11-22T10:00:00+01:00",
        "handover": "pickup",
        "ready_at": None,
        "deposit": None,
        "balance": None,
        "orders": [],
        "at_risk": False,
        "risk": None,
    }


def test_deliver_as_promised_is_kept_and_creates_followups(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Boots", "-c", "Anna", "-p", "240", "-d", "tomorrow")
    result = pk("deliver", "1")
    assert result.exit_code == 0
    assert result.stdout.strip() == "Delivered #1: kept; follow-ups #2 Tue 24 Nov, #3 Tue 22 Dec"
    followups = pkj("promise", "list", "--kind", "followup")
    assert [f["parent_id"] for f in followups] == [1, 1]
    assert [f["due"][:10] for f in followups] == ["2026-11-24", "2026-12-22"]


def test_deliver_reports_each_deviation_with_its_size(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "boots size 38", "-p", "240", "-d", "2026-11-20 10:00")
    result = pk("deliver", "1", "--what", "boots size 39", "--price", "250", "--no-followup")
    assert result.exit_code == 0
    line = result.stdout.strip()
    assert line.startswith("Delivered #1: late by 2 days")
    assert "price €250.00 vs €240.00 promised (+€10.00)" in line
    assert 'substituted "boots size 39" for "boots size 38"' in line
    shown = pkj("promise", "show", "1")
    assert shown["status"] == "deviated"
    assert shown["deviations"] == ["late", "substituted", "price"]
    assert shown["late_by_seconds"] == 2 * 86400
    assert shown["charged"] == "250.00"


def test_partial_delivery_keeps_the_promise_open(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Merino socks", "-q", "4", "-p", "60", "-d", "tue")
    first = pkj("deliver", "1", "--qty", "1", "--no-followup")
    assert first["status"] == "open"
    assert first["delivered_quantity"] == 1
    assert first["charged"] == "15.00"
    last = pkj("deliver", "1", "--no-followup")
    assert last["status"] == "kept"
    assert last["charged"] == "60.00"


def test_due_lists_overdue_first_then_due_today(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Old", "-d", "2026-11-18")
    pk("promise", "add", "Older", "-d", "2026-11-15")
    pk("promise", "add", "Today", "-d", "today 17:00")
    pk("promise", "add", "Later", "-d", "2026-11-30")
    report = pkj("due")
    assert report["as_of"] == "2026-11-22T10:00:00+01:00"
    assert [p["what"] for p in report["overdue"]] == ["Older", "Old"]
    assert [p["what"] for p in report["due"]] == ["Today"]
    wide = pkj("due", "--within", "2w")
    assert [p["what"] for p in wide["due"]] == ["Today", "Later"]


def test_due_says_so_in_one_line_when_there_is_nothing(pk: Pk) -> None:
    result = pk("due")
    assert result.exit_code == 0
    assert result.stdout.strip() == "Nothing overdue and nothing due until Sun 22 Nov (end of day)."


def test_fail_on_overdue_exits_1_only_when_something_is_overdue(pk: Pk) -> None:
    pk("promise", "add", "Today", "-d", "today")
    assert pk("due", "--fail-on-overdue").exit_code == 0
    pk("promise", "add", "Old", "-d", "2026-11-18")
    assert pk("due", "--fail-on-overdue").exit_code == 1


def test_check_lists_unremedied_and_remedy_takes_it_off(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Jacket M", "-p", "180", "-d", "today")
    pk("deliver", "1", "--what", "Jacket L", "--no-followup")
    pk("promise", "add", "Kept one", "-d", "today")
    pk("deliver", "2", "--no-followup")
    assert [p["id"] for p in pkj("check")] == [1]
    remedied = pkj("remedy", "1", "--action", "Exchanged for size M", "--prevent", "Check labels")
    assert remedied["remedied"] is True
    assert pkj("check") == []
    assert [p["id"] for p in pkj("check", "--all")] == [1]
    history = pkj("promise", "show", "1")["history"]
    assert history[-1]["event"] == "remedied"
    assert "Exchanged for size M" in history[-1]["detail"]
    assert "Check labels" in history[-1]["detail"]


def test_amend_keeps_the_original_terms(pkj: PkJson) -> None:
    pkj("promise", "add", "Trail shoes", "-d", "2026-11-23")
    amended = pkj("promise", "amend", "1", "--due", "2026-11-27", "--reason", "Supplier delay")
    assert amended["renegotiated"] is True
    assert amended["original_due"] == "2026-11-23T23:59:59.999999+01:00"
    assert amended["due"] == "2026-11-27T23:59:59.999999+01:00"
    event = pkj("promise", "show", "1")["history"][-1]
    assert event["event"] == "amended"
    assert "Mon 23 Nov" in event["detail"]
    assert "Fri 27 Nov" in event["detail"]
    assert "Supplier delay" in event["detail"]


def test_cancel_then_deliver_is_bad_input(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Sleeping bag", "-d", "tue")
    assert pkj("promise", "cancel", "1", "--reason", "Bought elsewhere")["status"] == "cancelled"
    result = pk("deliver", "1")
    assert result.exit_code == 2
    assert result.stderr == "pk: Promise #1 was cancelled; it cannot be delivered.\n"


def test_done_closes_a_callback(pkj: PkJson) -> None:
    pkj("promise", "add", "Call back Ben", "--kind", "callback", "-d", "today 16:00")
    done = pkj("done", "1", "--note", "Spoke to Ben")
    assert done["status"] == "kept"
    assert done["fulfilled_at"] == "2026-11-22T10:00:00+01:00"


def test_show_prints_the_whole_story(pk: Pk) -> None:
    pk("promise", "add", "Boots", "-c", "Anna", "-p", "240", "-d", "2026-11-20")
    pk("deliver", "1", "--no-followup")
    out = pk("promise", "show", "1").stdout
    for expected in (
        "#1 (delivery)",
        "deviated",
        "late by",
        "Deliveries",
        "History",
        "promised",
        "delivered",
        "fulfilled",
    ):
        assert expected in out


def test_list_filters_and_csv(pk: Pk) -> None:
    pk("promise", "add", "A", "-s", "Jo", "-t", "x", "-d", "today")
    pk("promise", "add", "B", "-s", "Sam", "-d", "2026-11-01")
    out = pk("promise", "list", "--status", "overdue", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["what"] for r in rows] == ["B"]
    assert rows[0]["status"] == "overdue"
    by_staff = json.loads(pk("promise", "list", "--staff", "jo", "--json").stdout)
    assert [p["what"] for p in by_staff] == ["A"]
    by_tag = json.loads(pk("promise", "list", "--tag", "x", "--json").stdout)
    assert [p["what"] for p in by_tag] == ["A"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("promise", "add", "", "-d", "today"), 2, "WHAT is empty"),
        (("promise", "add", "   ", "-d", "today"), 2, "WHAT is empty"),
        (("promise", "add", "Boots", "-d", "today", "-p", "abc"), 2, "abc"),
        (("promise", "add", "Boots", "-d", "someday"), 2, "someday"),
        (("promise", "add", "Boots", "-d", "today", "-q", "0"), 2, "at least 1"),
        (
            ("promise", "add", "Boots", "-d", "today", "--kind", "gift"),
            2,
            "'gift' is not one of 'delivery', 'callback'",
        ),
        (("promise", "add", "Boots"), 2, "--due"),
        (("promise", "show", "99"), 3, "no promise #99"),
        (("deliver", "99"), 3, "no promise #99"),
        (("promise", "list", "--customer", "Nobody"), 3, "no customer"),
        (("promise", "list", "--status", "lost"), 2, "'lost' is not one of 'open', 'overdue'"),
        (("deliver", "abc"), 2, "ID must be a promise number such as 12, not 'abc'"),
    ],
)
def test_a_tired_clerk_gets_one_sentence_and_the_right_code(
    pk: Pk, args: tuple[str, ...], code: int, message: str
) -> None:
    pk("customer", "add", "Anna")  # a book, so that what is missing is the promise or customer, not the book
    result = pk(*args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("pk: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_delivering_twice_is_bad_input_and_writes_nothing(pk: Pk, db_sql: SQL) -> None:
    pk("promise", "add", "Boots", "-d", "today")
    assert pk("deliver", "1", "--no-followup").exit_code == 0
    before = db_sql.count("event")
    result = pk("deliver", "1")
    assert result.exit_code == 2
    assert "already fulfilled" in result.stderr
    assert db_sql.count("event") == before


def test_failed_add_leaves_no_customer_behind(pk: Pk, db_sql: SQL) -> None:
    pk("promise", "add", "Boots", "-d", "today")
    result = pk("promise", "add", "Boots", "-c", "New Person", "-d", "today", "-p", "-5")
    assert result.exit_code == 2
    assert db_sql.count("customer") == 0


def test_customer_is_matched_case_insensitively(pkj: PkJson) -> None:
    pkj("promise", "add", "A", "-c", "Anna Smith", "-d", "today")
    pkj("promise", "add", "B", "-c", "anna  SMITH", "-d", "today")
    assert [p["customer"] for p in pkj("promise", "list", "--customer", "ANNA smith")] == ["Anna Smith"] * 2


def test_bad_pk_now_is_bad_input(pk: Pk) -> None:
    result = pk("due", now="yesterday-ish")
    assert result.exit_code == 2
    assert "PK_NOW" in result.stderr


def test_newer_schema_is_refused_with_exit_4(pk: Pk, db_sql: SQL) -> None:
    pk("promise", "add", "Boots", "-d", "today")
    db_sql.rows("UPDATE pk_meta SET value = '999' WHERE key = 'schema_version'")
    result = pk("due")
    assert result.exit_code == 4
    assert "newer" in result.stderr


@pytest.mark.sqlite_only
def test_corrupt_database_is_exit_4(pk: Pk, cli_env: dict[str, str]) -> None:
    Path(cli_env["PK_DB"]).write_bytes(b"this is not a database" * 100)
    result = pk("due")
    assert result.exit_code == 4
    assert result.stderr.startswith("pk: The database")
    assert result.stderr.count("\n") == 1


def test_every_command_has_help_with_an_example(pk: Pk) -> None:
    from typer.main import get_command

    from promisekeeper.cli import app

    root = get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            paths.append(path)

    walk(root, [])
    assert len(paths) >= 10
    for path in paths:
        result = pk(*path, "--help")
        assert result.exit_code == 0, path
        assert "Example:" in result.stdout, f"pk {' '.join(path)} --help has no example"


def test_every_command_is_in_the_readme() -> None:
    from typer.main import get_command

    from promisekeeper.cli import app

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    root = get_command(app)
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None) or {"": None}
        for sub in subs:
            text = f"pk {name} {sub}".strip()
            assert f"`{text}" in readme, f"{text} is not documented in README.md"


@pytest.mark.sqlite_only
def test_a_database_path_that_cannot_be_created_is_exit_4(pk: Pk, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = pk("promise", "add", "Boots", "-d", "today", env={"PK_DB": str(blocker / "sub" / "p.db")})
    assert result.exit_code == 4
    assert result.stderr.startswith("pk: Cannot create the database")
    assert result.stderr.count("\n") == 1


def test_what_people_type_is_shown_as_typed_never_as_markup(pk: Pk) -> None:
    pk(
        "promise",
        "add",
        "[red]Boots[/red] :thumbs_up:",
        "-c",
        "[bold]Anna",
        "-s",
        "[i]Jo",
        "-d",
        "today",
        "-n",
        "[link=x]note",
    )
    later = "2026-11-23T10:00:00+01:00"
    for args, typed in (
        (("due",), "[bold]Anna"),
        (("promise", "list"), "[red]Boots[/red] :thumbs_up:"),
        (("customer", "list"), "[bold]Anna"),
        (("customer", "show", "[bold]anna"), "[i]Jo"),
        (("stats", "--by", "customer"), "[bold]Anna"),
        (("stats", "--by", "staff"), "[i]Jo"),
    ):
        result = pk(*args, now=later)
        assert result.exit_code == 0, (args, result.stderr)
        assert typed in result.stdout, args
    shown = pk("promise", "show", "1").stdout
    for typed in ("[red]Boots[/red] :thumbs_up:", "[bold]Anna", "[i]Jo", "[link=x]note"):
        assert typed in shown


def test_every_help_example_runs(pk: Pk, pkj: PkJson) -> None:
    """The examples in --help are real: the WHEN and PRICE in each parse (the ids exist here)."""
    pk(
        "promise",
        "add",
        "boots size 38",
        "-c",
        "Anna Smith",
        "-p",
        "240",
        "-d",
        "2026-11-20",
        now="2026-11-18T09:00:00+01:00",
    )
    result = pk(
        "deliver",
        "1",
        "--what",
        "boots size 39",
        "--price",
        "250",
        "--at",
        "yesterday 17:30",
        "--no-followup",
    )
    assert result.exit_code == 0, result.stderr
    assert pkj("promise", "show", "1")["fulfilled_at"] == "2026-11-21T17:30:00+01:00"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("promise", "cancel", "1", "--reason", " "), "The reason is empty; say why"),
        (("promise", "amend", "1", "--due", "fri", "--reason", ""), "The reason is empty; say why"),
        (("remedy", "1", "--action", ""), "The action is empty; say what was done"),
        (("customer", "add", "  "), "The customer's name is empty; give it as people say it"),
    ],
)
def test_an_empty_text_is_named_with_a_fitting_hint(pk: Pk, args: tuple[str, ...], hint: str) -> None:
    pk("promise", "add", "Boots", "-d", "2026-11-20")
    result = pk(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"pk: {hint}")
