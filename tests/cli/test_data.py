"""``pk export``, ``pk import`` and ``pk db backup|upgrade`` through the command layer."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from icalendar import Calendar

from promisekeeper.models import SCHEMA_VERSION
from tests.cli.conftest import Pk, PkJson
from tests.conftest import SQL

HEADER = "customer,what,quantity,price,due,staff,tags,delivered_at,delivered_what,delivered_quantity,charged"


def busy_shop(pk: Pk) -> None:
    """A week at the till, each step at its own moment: every kind of record the database holds."""
    steps = [
        ("2026-11-16T10:00:00+01:00", ("customer", "add", "Anna Smith", "--email", "anna@example.com")),
        (
            "2026-11-16T10:05:00+01:00",
            (
                *("promise", "add", "Hiking boots", "-c", "anna smith", "-q", "2", "-p", "240"),
                *("-d", "2026-11-18", "-s", "Jo", "-t", "boots", "-t", "urgent", "-n", "size 38"),
            ),
        ),
        ("2026-11-17T11:00:00+01:00", ("deliver", "1", "--qty", "1")),
        ("2026-11-19T16:30:00+01:00", ("deliver", "1", "--price", "130")),
        (
            "2026-11-16T12:00:00+01:00",
            ("promise", "add", "Rain jacket M", "-c", "Ben", "-p", "180", "-d", "tue"),
        ),
        ("2026-11-16T15:00:00+01:00", ("deliver", "4", "--what", "Rain jacket L", "--no-followup")),
        ("2026-11-17T09:00:00+01:00", ("remedy", "4", "--action", "Exchanged", "--prevent", "Check labels")),
        (
            "2026-11-16T13:00:00+01:00",
            ("promise", "add", "Call Ben", "--kind", "callback", "-d", "today 16:00"),
        ),
        ("2026-11-16T15:30:00+01:00", ("done", "5", "--note", "Spoke to Ben")),
        (
            "2026-11-17T10:00:00+01:00",
            ("promise", "add", "Tent", "-c", "Carl", "-p", "300", "-d", "2026-11-20"),
        ),
        (
            "2026-11-18T10:00:00+01:00",
            ("promise", "amend", "6", "--due", "2026-11-27", "--reason", "Supplier"),
        ),
        ("2026-11-17T10:10:00+01:00", ("promise", "add", "Stove", "-c", "Dora", "-d", "2026-11-25")),
        ("2026-11-18T10:10:00+01:00", ("promise", "cancel", "7", "--reason", "Bought elsewhere")),
        (
            "2026-11-18T11:00:00+01:00",
            ("promise", "add", "Knife", "-c", "Emi", "-p", "¥1200", "-d", "2026-11-20"),
        ),
        (
            "2026-11-18T12:00:00+01:00",
            ("promise", "add", "Bag", "-c", "Finn", "-d", "2026-11-30", "-t", "sale"),
        ),
        ("2026-11-19T12:00:00+01:00", ("customer", "forget", "Finn", "--yes")),
        (
            "2026-11-20T12:00:00+01:00",
            ("promise", "add", "Reply to mail", "--kind", "reply", "-d", "today 18:00"),
        ),
    ]
    for now, args in steps:
        result = pk(*args, now=now)
        assert result.exit_code == 0, (args, result.stderr)


def everything(pk: Pk, env: dict[str, str] | None = None) -> dict[str, object]:
    """What a user can see of a database: every list, every promise shown in full, customers, stats."""

    def get(*args: str) -> object:
        result = pk(*args, "--json", env=env)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    listed = get("promise", "list")
    assert isinstance(listed, list)
    seen: dict[str, object] = {"list": listed}
    for p in listed:
        seen[f"show {p['id']}"] = get("promise", "show", str(p["id"]))
    seen["customers"] = get("customer", "list")
    seen["check"] = get("check", "--all")
    seen["due"] = get("due", "--within", "2w")
    seen["stats"] = get("stats", "--by", "staff")
    return seen


@pytest.mark.slow
def test_json_export_then_import_reproduces_list_and_show_exactly(
    pk: Pk, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    busy_shop(pk)
    before = everything(pk)
    assert len(before["list"]) == 10  # type: ignore[arg-type]
    out = tmp_path / "backup.json"
    exported = pk("export", "-o", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout == f"Exported 10 promises to {out} (json).\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    restored = {"PK_DB": str(tmp_path / "restored.db")}
    result = pk("import", str(out), env=restored)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Imported 10 promises with their whole history, 4 deliveries and 6 customers from backup.json.\n"
    )
    assert everything(pk, restored) == before
    again = pk("export", env=restored)
    assert json.loads(again.stdout) == json.loads(out.read_text())


def test_json_export_to_stdout_is_the_same_document(pk: Pk, tmp_path: Path) -> None:
    busy_shop(pk)
    pk("export", "-o", str(tmp_path / "a.json"))
    assert pk("export", "--format", "json").stdout == (tmp_path / "a.json").read_text()


def test_json_import_into_a_database_in_use_is_refused(pk: Pk, tmp_path: Path) -> None:
    busy_shop(pk)
    pk("export", "-o", str(tmp_path / "a.json"))
    result = pk("import", str(tmp_path / "a.json"))
    assert result.exit_code == 2
    assert result.stderr == (
        "pk: The database already holds 6 customers; a JSON export is imported into an empty database only, "
        "e.g. pk --db restored.db import a.json.\n"
    )


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_csv_import_with_deliveries_gives_statuses(pk: Pk, pkj: PkJson, tmp_path: Path) -> None:
    till = write(
        tmp_path / "till.csv",
        "Anna,Boots,2,240,2026-11-10,Jo,boots,2026-11-10 15:00,,,",
        "Ben,Jacket M,1,180,2026-11-10,Jo,,2026-11-12 09:00,,,",
        "Carl,Tent,1,300,2026-11-10,Sam,,2026-11-09,Tent XL,,310",
        "Dana,Socks,4,60,2026-11-10,Sam,,2026-11-10,,1,",
        "Anna,Laces,1,5,2026-11-30,,,,,,",
    )
    result = pk("import", str(till))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Imported 5 promises (4 with a delivery) and 4 new customers from till.csv.\n"
    listed = {p["what"]: p for p in pkj("promise", "list")}
    assert {w: (p["status"], p["deviations"]) for w, p in listed.items()} == {
        "Boots": ("kept", []),
        "Jacket M": ("deviated", ["late"]),
        "Tent": ("deviated", ["substituted", "price"]),
        "Socks": ("overdue", ["short"]),
        "Laces": ("open", []),
    }
    assert listed["Jacket M"]["late_by_seconds"] == 33 * 3600
    assert listed["Tent"]["charged"] == "310.00"
    assert listed["Socks"]["delivered_quantity"] == 1
    shown = pkj("promise", "show", str(listed["Boots"]["id"]))
    assert shown["deliveries"] == [
        {
            "at": "2026-11-10T15:00:00+01:00",
            "what": "Boots",
            "quantity": 2,
            "price": "240.00",
            "currency": "EUR",
            "note": None,
        }
    ]
    assert [h["event"] for h in shown["history"]] == ["imported"]
    assert [p["what"] for p in pkj("check")] == ["Jacket M", "Tent", "Socks"]
    assert [c["name"] for c in pkj("customer", "list")] == ["Anna", "Ben", "Carl", "Dana"]


def test_a_malformed_row_stops_the_import_with_its_line_and_writes_nothing(
    pk: Pk, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    pk("promise", "add", "Gloves", "-d", "tue")
    till = write(
        tmp_path / "till.csv",
        "Anna,Boots,2,240,2026-11-10,,,,,,",
        "Ben,Socks,1,12,2026-11-11,,,,,,",
        "Carl,Tent,1,3OO,2026-11-12,,,,,,",
        "Dora,Stove,1,80,2026-11-13,,,,,,",
    )
    result = pk("import", str(till))
    assert result.exit_code == 2
    assert result.stderr == (
        'pk: till.csv, line 4, price: Unknown currency "OO" in "3OO"; use an ISO 4217 code such as EUR, '
        "USD, GBP or JPY; nothing was imported.\n"
    )
    assert result.stdout == ""
    assert (count(cli_env, "promise"), count(cli_env, "customer"), count(cli_env, "event")) == (1, 0, 1)


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_bad_file_imported_into_a_new_book_leaves_no_book(pk: Pk, tmp_path: Path, suffix: str) -> None:
    """The import streams into the book it starts; a fault on the last line still leaves none behind."""
    book = tmp_path / "new" / "promises.db"
    if suffix == "csv":
        bad = write(
            tmp_path / "till.csv",
            *[f"Anna,Boots {i},1,240,2026-11-10,,,,,," for i in range(3000)],
            "Ben,X,1,1,someday,,,,,,",
        )
    else:
        bad = tmp_path / "export.json"
        bad.write_text('{"format": "promisekeeper", "version": 2, "customers": [{"id": 1}]}\n')
    result = pk("import", str(bad), env={"PK_DB": str(book)})
    assert result.exit_code == 2, result.stderr
    assert "nothing was imported" in result.stderr
    assert not book.exists()
    assert list(book.parent.iterdir()) == []


def test_dry_run_validates_and_writes_nothing(pk: Pk, tmp_path: Path, cli_env: dict[str, str]) -> None:
    pk("promise", "add", "Gloves", "-c", "Anna", "-d", "tue")
    till = write(
        tmp_path / "till.csv", "anna,Boots,2,240,2026-11-10,,,2026-11-10,,,", "Ben,Socks,1,12,tue,,,,,,"
    )
    result = pk("import", str(till), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "till.csv is valid: 2 promises (1 with a delivery) and 1 new customer would be imported; "
        "nothing was written (--dry-run).\n"
    )
    assert count(cli_env, "promise") == 1
    assert count(cli_env, "customer") == 1
    bad = write(tmp_path / "bad.csv", "Ben,Socks,1,12,someday,,,,,,")
    failed = pk("import", str(bad), "--dry-run")
    assert failed.exit_code == 2
    assert "bad.csv, line 2, due: " in failed.stderr


def test_a_file_in_the_wrong_encoding_is_exit_2_in_one_sentence(pk: Pk, tmp_path: Path) -> None:
    latin = tmp_path / "kasse.csv"
    latin.write_bytes("what,due,customer\nSchnürsenkel,2026-11-30,Jürgen\n".encode("latin-1"))
    result = pk("import", str(latin))
    assert result.exit_code == 2
    assert result.stderr == (
        "pk: kasse.csv is not UTF-8 text (byte 0xfc on line 2); save it as UTF-8 "
        "(in a spreadsheet: CSV UTF-8) and import it again.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "missing.csv"), "pk: Cannot read missing.csv: No such file or directory.\n"),
        (("import", "."), "pk: . is a folder; give the file to import.\n"),
        (("import", "x.csv", "--format", "xml"), "'xml' is not one of"),
        (("export", "--format", "pdf"), "'pdf' is not one of"),
    ],
)
def test_bad_import_and_export_arguments_are_exit_2(pk: Pk, args: tuple[str, ...], message: str) -> None:
    result = pk(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_import_reads_standard_input(cli_env: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from promisekeeper.cli import app

    result = CliRunner().invoke(
        app, ["import", "-", "--format", "csv"], input="what,due\nBoots,tue\n", env=cli_env
    )
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout == "Imported 1 promise (0 with a delivery) and 0 new customers from standard input.\n"
    )


def test_ics_holds_a_vtodo_with_due_for_each_open_promise(pk: Pk, pkj: PkJson, tmp_path: Path) -> None:
    busy_shop(pk)
    out = tmp_path / "open.ics"
    assert pk("export", "-o", str(out)).stdout == f"Exported 6 promises to {out} (ics).\n"
    cal = Calendar.from_ical(out.read_bytes())
    assert str(cal["VERSION"]) == "2.0"
    assert "PRODID" in cal
    todos = {str(t["SUMMARY"]).split()[0]: t for t in cal.walk("VTODO")}
    open_ones = {f"#{p['id']}": p for p in pkj("promise", "list", "--status", "open", "--status", "overdue")}
    assert set(todos) == set(open_ones)
    for key, promise in open_ones.items():
        todo = todos[key]
        due = todo.decoded("DUE")
        if promise["date_only"]:
            assert due.isoformat() == promise["due"][:10]
        else:
            assert due.isoformat() == pk_due_in_utc(promise["due"])
        assert "DTSTAMP" in todo
        assert "UID" in todo


def pk_due_in_utc(moment: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(moment).astimezone(UTC).isoformat()


def test_csv_export_is_every_promise_as_promise_list_prints_it(pk: Pk) -> None:
    busy_shop(pk)
    exported = pk("export", "--format", "csv")
    assert exported.exit_code == 0
    assert exported.stdout == pk("promise", "list", "--format", "csv").stdout


# --- db backup and upgrade -------------------------------------------------------------------------


def count(env: dict[str, str], table: str, path: str | None = None) -> int:
    return SQL(path or env["PK_DB"]).count(table)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_backup_is_a_consistent_copy_while_another_program_writes(
    pk: Pk, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    busy_shop(pk)
    writer = sqlite3.connect(cli_env["PK_DB"], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE promise SET what = 'half-written' WHERE id = 1")
    writer.execute("DELETE FROM promise_tag")
    dest = tmp_path / "copy.db"
    result = pk("db", "backup", str(dest))
    writer.execute("ROLLBACK")
    writer.close()
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Backed up {cli_env['PK_DB']} to {dest}.\n"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with sqlite3.connect(dest) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT what FROM promise WHERE id = 1").fetchone()[0] == "Hiking boots"
        assert copy.execute("SELECT count(*) FROM promise_tag").fetchone()[0] == 3
    assert everything(pk, {"PK_DB": str(dest)}) == everything(pk)


@pytest.mark.sqlite_only
def test_backup_into_a_folder_makes_a_dated_file(pk: Pk, tmp_path: Path, cli_env: dict[str, str]) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    folder = tmp_path / "backups"
    folder.mkdir()
    result = pk("db", "backup", str(folder))
    assert result.exit_code == 0, result.stderr
    made = folder / f"{Path(cli_env['PK_DB']).stem}-20261122-100000.db"
    assert result.stdout.endswith(f" to {made}.\n")
    assert count({}, "promise", str(made)) == 1
    assert sorted(os.listdir(folder)) == [made.name]


@pytest.mark.sqlite_only
def test_backup_over_the_database_itself_is_refused(pk: Pk, cli_env: dict[str, str]) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    result = pk("db", "backup", cli_env["PK_DB"])
    assert result.exit_code == 2
    assert "is the database itself" in result.stderr
    assert count(cli_env, "promise") == 1


@pytest.mark.sqlite_only
def test_backup_to_a_folder_that_does_not_exist_is_exit_2(pk: Pk, tmp_path: Path) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    result = pk("db", "backup", str(tmp_path / "nowhere" / "copy.db"))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"pk: The folder {tmp_path / 'nowhere'} does not exist; create it first or choose another.\n"
    )
    assert not (tmp_path / "nowhere").exists()


NOW_AT = SCHEMA_VERSION  # the schema this pk writes
NEXT = NOW_AT + 1
RELEASE1_BOOK = Path(__file__).parents[1] / "data" / "release1" / "book.sql"


def release1_book(path: str) -> None:
    """A real book written by the first release (schema 1, history as prose), at ``path``."""
    with sqlite3.connect(path) as conn:
        conn.executescript(RELEASE1_BOOK.read_text(encoding="utf-8"))


def indexes(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def schema_version(path: str) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("SELECT value FROM pk_meta WHERE key = 'schema_version'").fetchone()[0])


@pytest.mark.sqlite_only
def test_an_older_database_is_backed_up_then_upgraded_on_first_use(pk: Pk, cli_env: dict[str, str]) -> None:
    path = cli_env["PK_DB"]
    release1_book(path)
    promises = count({}, "promise", path)
    listed = pk("promise", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == promises
    assert schema_version(path) == str(NOW_AT)
    (backup,) = Path(path).parent.glob(f"{Path(path).name}.v1-*.bak")
    assert schema_version(str(backup)) == "1"
    assert count({}, "promise", str(backup)) == promises
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert "ix_event_change_id" in indexes(path)


@pytest.mark.sqlite_only
def test_pk_db_upgrade_says_what_it_did(pk: Pk, cli_env: dict[str, str], tmp_path: Path) -> None:
    path = cli_env["PK_DB"]
    created = pk("db", "upgrade")
    assert created.stdout == f"Created {path} at schema {NOW_AT}.\n"
    assert pk("db", "upgrade").stdout == f"{path} is up to date (schema {NOW_AT}).\n"
    old = str(tmp_path / "old.db")
    release1_book(old)
    upgraded = pk("db", "upgrade", env={"PK_DB": old})
    assert upgraded.exit_code == 0, upgraded.stderr
    (backup,) = tmp_path.glob("old.db.v1-*.bak")
    assert upgraded.stdout == f"Upgraded {old} from schema 1 to {NOW_AT}; the old one is kept at {backup}.\n"
    assert pk("db", "upgrade", env={"PK_DB": old}).stdout == f"{old} is up to date (schema {NOW_AT}).\n"


@pytest.mark.sqlite_only
def test_a_failing_upgrade_leaves_the_database_as_it_was(pk: Pk, cli_env: dict[str, str]) -> None:
    path = cli_env["PK_DB"]
    release1_book(path)
    with sqlite3.connect(path) as conn:  # damaged: an event that names a promise that is not there
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DROP TABLE remedy")
    before = count({}, "event", path)
    result = pk("due")
    assert result.exit_code == 4
    assert result.stderr.startswith("pk: The database")
    assert result.stderr.count("\n") == 1
    assert schema_version(path) == "1"
    assert count({}, "event", path) == before


@pytest.mark.sqlite_only
def test_a_newer_database_is_refused_by_upgrade_too(pk: Pk, cli_env: dict[str, str]) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    with sqlite3.connect(cli_env["PK_DB"]) as conn:
        conn.execute("UPDATE pk_meta SET value = ? WHERE key = 'schema_version'", (str(NEXT + 1),))
    result = pk("db", "upgrade")
    assert result.exit_code == 4
    assert result.stderr == (
        f"pk: The database {cli_env['PK_DB']} was written by a newer promisekeeper "
        f"(schema {NEXT + 1}, this one knows {NOW_AT}); upgrade pk.\n"
    )


# --- files pk writes: written, never swapped for another file --------------------------------------------


def reader(path: Path) -> tuple[threading.Thread, list[bytes]]:
    """A thread that reads a FIFO to its end, as a program at the other end of it would."""
    got: list[bytes] = []
    thread = threading.Thread(target=lambda: got.append(path.read_bytes()), daemon=True)
    thread.start()
    return thread, got


def test_export_through_a_symlink_writes_its_target_and_keeps_the_link(pk: Pk, tmp_path: Path) -> None:
    """Before, the link was replaced by a regular file and its target was left as it was."""
    pk("promise", "add", "Boots", "-c", "Anna", "-d", "tue")
    real = tmp_path / "share" / "promises.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = pk("export", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert "Boots" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(os.listdir(real.parent)) == ["promises.csv"]


def test_export_into_a_fifo_streams_to_its_reader_and_keeps_the_fifo(pk: Pk, tmp_path: Path) -> None:
    """Before, the FIFO was replaced by a regular file and its reader waited forever."""
    pk("promise", "add", "Boots", "-c", "Anna", "-d", "tue")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = reader(fifo)
    result = pk("export", "--format", "csv", "-o", str(fifo))
    thread.join(timeout=60)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert got[0].decode().splitlines()[0].startswith("id,")
    assert "Boots" in got[0].decode()


def test_export_to_dash_is_standard_output(pk: Pk, tmp_path: Path) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    result = pk("export", "--format", "csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert "Boots" in result.stdout
    assert not (Path.cwd() / "-").exists()


@pytest.mark.sqlite_only
def test_backup_into_a_fifo_and_through_a_symlink(pk: Pk, tmp_path: Path, cli_env: dict[str, str]) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = reader(fifo)
    assert pk("db", "backup", str(fifo)).exit_code == 0
    thread.join(timeout=60)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    received = tmp_path / "received.db"
    received.write_bytes(got[0])
    assert count({}, "promise", str(received)) == 1
    link = tmp_path / "latest.db"
    link.symlink_to(tmp_path / "real.db")
    assert pk("db", "backup", str(link)).exit_code == 0
    assert link.is_symlink()
    assert count({}, "promise", str(tmp_path / "real.db")) == 1
    assert stat.S_IMODE((tmp_path / "real.db").stat().st_mode) == 0o600


@pytest.mark.sqlite_only
def test_backup_onto_an_existing_file_needs_force_without_a_terminal(
    pk: Pk, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    dest = tmp_path / "copy.db"
    dest.write_text("last week's backup")
    result = pk("db", "backup", str(dest))
    assert result.exit_code == 2
    assert result.stderr == (
        f"pk: {dest} exists already; give --force to replace it (there is no terminal to ask).\n"
    )
    assert dest.read_text() == "last week's backup"
    forced = pk("db", "backup", "--force", str(dest))
    assert forced.exit_code == 0, forced.stderr
    assert count({}, "promise", str(dest)) == 1
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]


@pytest.mark.sqlite_only
def test_backup_to_dash_is_standard_output(pk: Pk, tmp_path: Path) -> None:
    pk("promise", "add", "Boots", "-d", "tue")
    result = pk("db", "backup", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"SQLite format 3\x00")
    assert result.stderr.startswith("Backed up ")
