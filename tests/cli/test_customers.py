"""Customers, follow-ups, remedies, notices and the track record through the command layer."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Pk, PkJson, env_in
from tests.conftest import SQL


def test_customer_add_then_show_with_track_record(pk: Pk, pkj: PkJson) -> None:
    assert pk("customer", "add", "Anna Smith", "--email", "anna@example.com").stdout.strip() == (
        "Added customer Anna Smith."
    )
    pk("promise", "add", "Boots", "-c", "anna smith", "-p", "240", "-d", "today")
    pk("promise", "add", "Socks", "-c", "ANNA SMITH", "-p", "10", "-d", "2026-11-20")
    pk("promise", "add", "Laces", "-c", "Anna Smith", "-d", "2026-11-19")
    pk("deliver", "1", "--no-followup")
    pk("deliver", "3", "--no-followup")
    shown = pkj("customer", "show", "Anna Smith")
    assert {
        k: shown[k] for k in ("name", "email", "promises", "kept", "deviated", "overdue", "open", "cancelled")
    } == {
        "name": "Anna Smith",
        "email": "anna@example.com",
        "promises": 3,
        "kept": 1,
        "deviated": 1,
        "overdue": 1,
        "open": 0,
        "cancelled": 0,
    }
    assert shown["kept_rate"] == 0.5
    assert [p["what"] for p in shown["history"]] == ["Laces", "Socks", "Boots"]
    listed = pkj("customer", "list")
    assert listed == [{k: v for k, v in shown.items() if k != "history"}]
    table = pk("customer", "show", "anna smith").stdout
    assert "3 promises: 1 kept, 1 deviated, 1 overdue" in table
    assert "kept rate 50%" in table


def test_customer_add_on_a_known_name_fills_in_details(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Boots", "-c", "Ben", "-d", "today")
    assert pk("customer", "add", "ben", "--phone", "+49 30 123").stdout.strip() == "Updated customer Ben."
    assert pkj("customer", "show", "Ben")["phone"] == "+49 30 123"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--email", "anna-at-example"),
        ("--email", "anna@localhost"),
        ("--phone", "call me"),
        ("--phone", "12"),
    ],
)
def test_contact_details_are_checked_lightly(pk: Pk, option: str, value: str) -> None:
    result = pk("customer", "add", "Anna", option, value)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1


def test_unknown_customer_is_exit_3(pk: Pk) -> None:
    pk("customer", "add", "Somebody")  # a book, so that it is the customer who is missing
    for args in (("customer", "show", "Nobody"), ("customer", "forget", "Nobody")):
        result = pk(*args)
        assert result.exit_code == 3
        assert "no customer named 'Nobody'" in result.stderr


def test_forget_leaves_no_trace_of_the_name_and_keeps_the_statistics(
    pk: Pk, pkj: PkJson, db_sql: SQL
) -> None:
    pk("customer", "add", "Zelda Quixote", "--email", "zelda@example.com", "--phone", "+1 555 0100")
    pk(
        "promise",
        "add",
        "Boots for Zelda Quixote",
        "-c",
        "Zelda Quixote",
        "-p",
        "240",
        "-d",
        "2026-11-20",
        "-n",
        "zelda quixote prefers mornings",
    )
    pk(
        "deliver",
        "1",
        "--what",
        "Boots (Zelda Quixote's size)",
        "--no-followup",
        "--note",
        "Zelda  Quixote picked up",
    )
    pk("remedy", "1", "--action", "Called Zelda Quixote to apologise")
    pk("notice", "1")
    # issue 11: a note on another customer's promise, and the name across a line break
    pk("promise", "add", "Tent", "-c", "Ben", "-d", "2026-11-25", "-n", "Ask Zelda\nQuixote about it")
    pk("promise", "cancel", "2", "--reason", "zelda QUIXOTE lent him hers")
    before = pkj("stats")
    result = pk("customer", "forget", "zelda quixote", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Forgot Zelda Quixote: name and contact details erased; 1 promise kept anonymised; "
        "11 texts that mentioned them now say [forgotten customer].",
        "No backups made by pk db backup before now; copies made in other ways are not known to pk.",
    ]
    assert pkj("stats") == before
    assert pk("customer", "show", "Zelda Quixote").exit_code == 3
    shown = pkj("promise", "show", "1")
    assert shown["customer"] is None
    assert shown["status"] == "deviated"
    assert shown["deliveries"][0]["note"] == "[forgotten customer] picked up"
    assert shown["history"][-1]["event"] == "forgotten"
    tent = pkj("promise", "show", "2")
    assert (tent["customer"], tent["note"]) == ("Ben", "Ask [forgotten customer] about it")
    assert tent["history"][-1]["detail"] == "[forgotten customer] lent him hers"
    dump = db_sql.dump().lower()
    for trace in ("zelda", "quixote", "example.com", "555 0100"):
        assert trace not in dump
    csv_out = pk("promise", "list", "--format", "csv").stdout.lower()
    assert "zelda" not in csv_out


@pytest.mark.sqlite_only  # pk db backup copies a SQLite book; a server's backups are its own
def test_forget_names_the_backups_made_before_now(pk: Pk, tmp_path: Path) -> None:
    pk("promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today")
    for n, now in enumerate(("2026-11-20T09:00:00+01:00", "2026-11-21T09:00:00+01:00")):
        assert pk("db", "backup", str(tmp_path / f"b{n}.db"), now=now).exit_code == 0
    assert pk("db", "backup", str(tmp_path / "later.db"), now="2026-11-23T09:00:00+01:00").exit_code == 0
    result = pk("customer", "forget", "Zelda Quixote", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"2 backups made before now may still hold their details: {tmp_path / 'b1.db'}, {tmp_path / 'b0.db'}."
    )
    assert b"Zelda Quixote" in (tmp_path / "b0.db").read_bytes()  # what the line warns of


def test_forget_cannot_be_undone_so_it_is_never_implied(pk: Pk, pkj: PkJson) -> None:
    """Without a terminal (CliRunner's stdin is not one) and without --yes: exit 2, nothing erased."""
    pk("promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today")
    result = pk("customer", "forget", "zelda quixote")
    assert result.exit_code == 2
    assert result.stderr == (
        "pk: Forgetting a customer cannot be undone and there is no terminal to confirm it on; "
        "add --yes to forget Zelda Quixote.\n"
    )
    assert pkj("customer", "show", "Zelda Quixote")["name"] == "Zelda Quixote"


# --- through the installed pk: a pipe, a terminal, and the bytes on disk -----------------------------

PK = Path(sys.executable).parent / "pk"
installed = pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")


def pk_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an installed ``pk`` on ``tmp_path/p.db`` (PATH and the like kept)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PK_")}
    return {**base, **env_in(tmp_path, str(tmp_path / "p.db")), "TERM": "dumb"}


def run_pk(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PK), *args], input=stdin, capture_output=True, text=True, env=pk_env(tmp_path), timeout=60
    )


def on_terminal(tmp_path: Path, args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the installed ``pk ARGS`` on a pseudo-terminal; type ``answer`` at its ``[y/N]`` prompt."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(PK), *args], stdin=child, stdout=child, stderr=child, env=pk_env(tmp_path), close_fds=True
    )
    os.close(child)
    seen = b""
    answered = False
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            proc.kill()
            raise AssertionError(f"pk stopped talking: {seen!r}")
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(main, answer)
            answered = True
    os.close(main)
    return proc.wait(timeout=30), seen.decode().replace("\r\n", "\n")


@installed
@pytest.mark.slow
@pytest.mark.parametrize(("answer", "forgotten"), [(b"y\n", True), (b"n\n", False), (b"\n", False)])
def test_forget_asks_on_a_terminal(tmp_path: Path, answer: bytes, forgotten: bool) -> None:
    assert run_pk(tmp_path, "promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today").returncode == 0
    code, said = on_terminal(tmp_path, ["customer", "forget", "zelda quixote"], answer)
    assert code == 0, said
    assert "Forget Zelda Quixote for good (" in said
    assert "1 promise stays, anonymised)? This cannot be undone [y/N]:" in said
    assert ("Forgot Zelda Quixote" in said) is forgotten
    assert ("Nothing was erased; Zelda Quixote is still in the book." in said) is not forgotten
    assert (run_pk(tmp_path, "customer", "show", "Zelda Quixote").returncode == 3) is forgotten


@installed
@pytest.mark.slow
def test_forget_through_a_pipe_needs_yes(tmp_path: Path) -> None:
    assert run_pk(tmp_path, "promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today").returncode == 0
    refused = run_pk(tmp_path, "customer", "forget", "Zelda Quixote", stdin="y\n")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "add --yes" in refused.stderr
    assert refused.stdout == ""
    assert run_pk(tmp_path, "customer", "show", "Zelda Quixote").returncode == 0
    done = run_pk(tmp_path, "customer", "forget", "Zelda Quixote", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Forgot Zelda Quixote:")


def traces_on_disk(db: Path, words: tuple[str, ...]) -> list[str]:
    """Which of ``words`` (any case, as UTF-8 or as a JSON ``\\u`` escape) the database file, its WAL
    or its shared-memory file holds anywhere, free pages included."""
    found = []
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if not path.exists():
            continue
        raw = path.read_bytes().decode("utf-8", errors="replace")
        for word in words:
            escaped = json.dumps(word)[1:-1]
            for form in {word, escaped}:
                if re.search(re.escape(form), raw, re.IGNORECASE):
                    found.append(f"{form} in {path.name}")
    return found


@installed
@pytest.mark.slow
def test_forget_leaves_no_byte_of_the_person_in_the_file_its_log_or_free_pages(tmp_path: Path) -> None:
    """Another program holds the book open throughout, so the log is not removed on close: the erasure
    itself must empty it. Texts replaced before the erasure (Ben's note) leave stale bytes in the file's
    free space, which the erasure must clear too."""
    db = tmp_path / "p.db"
    steps = [
        ("customer", "add", "Zoë Ødegård", "--email", "Zoe.Odegard@example.no", "--phone", "+47 912 34 567"),
        ("customer", "add", "Zelda Quixote", "--note", "sister of ZOË ØDEGÅRD"),
        (
            "promise",
            "add",
            "Skis for Zoë Ødegård",
            "-c",
            "zoë ødegård",
            "-d",
            "2026-11-20",
            "-t",
            "Zoë Ødegård",
        ),
        ("promise", "add", "Poles", "-c", "Zelda Quixote", "-d", "2026-11-23", "-n", "Zoë\nØdegård pays"),
        ("deliver", "1", "--note", "ZOË  Ødegård picked up; mail zoe.odegard@EXAMPLE.no", "--no-followup"),
        ("remedy", "1", "--action", "Phoned +47 912 34 567", "--prevent", "Ask zoë ødegård first"),
        ("customer", "add", "Ben", "--note", "Zoë Ødegård recommended him"),
        ("customer", "add", "Ben", "--note", "a regular"),
    ]
    for args in steps:
        done = run_pk(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
    stats = run_pk(tmp_path, "stats", "--json").stdout
    words = ("Zoë", "Ødegård", "odegard", "912 34 567", "91234567")
    assert traces_on_disk(db, words)  # the test can see them
    with sqlite3.connect(db) as reader:  # another program with the book open, idle
        reader.execute("SELECT count(*) FROM promise").fetchone()
        forgot = run_pk(tmp_path, "customer", "forget", "ZOË ØDEGÅRD", "--yes")
        assert forgot.returncode == 0, forgot.stderr
        assert traces_on_disk(db, words) == []
        assert db.with_name("p.db-wal").stat().st_size == 0
    assert traces_on_disk(db, words) == []
    assert run_pk(tmp_path, "stats", "--json").stdout == stats
    assert "[forgotten customer] pays" in run_pk(tmp_path, "promise", "show", "2").stdout


@pytest.mark.sqlite_only
def test_forget_says_when_another_program_keeps_the_log_from_being_emptied(
    pk: Pk, pkj: PkJson, db_target: str
) -> None:
    """A reader in the middle of a transaction keeps the WAL: the customer is forgotten (committed), and
    exit 4 says the log may hold them until that program closes the book, which then empties it."""
    pk("promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today")
    reader = sqlite3.connect(db_target, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM promise").fetchone()
        result = pk("customer", "forget", "Zelda Quixote", "--yes", env={"PK_BUSY_TIMEOUT_MS": "200"})
        assert result.exit_code == 4
        assert result.stdout.startswith("Forgot Zelda Quixote:")
        assert result.stderr == (
            f"pk: The customer is forgotten, but another program keeps {db_target} open, so its "
            "write-ahead log may still hold their details until that program closes the book.\n"
        )
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert b"zelda" not in Path(db_target).read_bytes().lower()
    assert not Path(db_target + "-wal").exists()
    assert pkj("promise", "show", "1")["customer"] is None


def test_followups_are_due_after_delivery_and_closed_with_done(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Boots", "-c", "Anna", "-d", "today")
    pk("deliver", "1")
    due = pkj("due", "--within", "2d")
    assert [(p["kind"], p["parent_id"], p["due"]) for p in due["due"]] == [
        ("followup", 1, "2026-11-24T23:59:59.999999+01:00")
    ]
    assert pkj("done", "2", "--note", "Fits well")["status"] == "kept"
    assert pkj("check") == []


def test_unhappy_followup_puts_the_parent_in_check_until_remedied(pk: Pk, pkj: PkJson) -> None:
    pk("promise", "add", "Boots", "-c", "Anna", "-d", "today")
    pk("deliver", "1")
    pk("done", "2", "--unhappy", "--note", "Sole squeaks")
    # The parent is what was promised; the follow-up was the shop's reminder and is never in check.
    assert [(p["id"], p["unhappy"]) for p in pkj("check")] == [(1, True)]
    pk("remedy", "1", "--action", "Replaced the boots", "--prevent", "Test soles before sale")
    assert pk("remedy", "2", "--action", "Replaced the boots").exit_code == 2
    assert pkj("check") == []
    history = pkj("promise", "show", "1")["history"]
    assert any(e["event"] == "unhappy" for e in history)
    remedy = next(e for e in history if e["event"] == "remedied")
    assert "Replaced the boots" in remedy["detail"]
    assert "Test soles before sale" in remedy["detail"]


@pytest.mark.parametrize(
    ("now", "after", "expected"),
    [
        # month end: 2 days after 30 Jan is 1 Feb; 30 days after 31 Jan is 2 Mar (2027 is not a leap year)
        ("2027-01-30T12:00:00+01:00", "2d", "2027-02-01T23:59:59.999999+01:00"),
        ("2027-01-31T12:00:00+01:00", "30d", "2027-03-02T23:59:59.999999+01:00"),
        # across the spring-forward night in Berlin the follow-up still ends at 23:59:59 local, now +02:00
        ("2027-03-27T12:00:00+01:00", "2d", "2027-03-29T23:59:59.999999+02:00"),
        # and across the autumn change back to +01:00
        ("2026-10-24T12:00:00+02:00", "2d", "2026-10-26T23:59:59.999999+01:00"),
        # a moment offset counts elapsed time: 48 h across the spring change is 13:00 on the wall clock
        ("2027-03-27T12:00:00+01:00", "48h", "2027-03-29T13:00:00+02:00"),
    ],
)
def test_followup_dates_across_month_ends_and_dst(
    pk: Pk, pkj: PkJson, tmp_path: Path, now: str, after: str, expected: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[followup]\nafter = ["{after}"]\n')
    env = {"PK_CONFIG": str(config)}
    assert pk("promise", "add", "Boots", "-d", "today", now=now, env=env).exit_code == 0
    assert pk("deliver", "1", now=now, env=env).exit_code == 0
    followup = pkj("promise", "show", "2", now=now)
    assert followup["kind"] == "followup"
    assert followup["due"] == expected


def test_no_followups_when_configured_empty(pk: Pk, pkj: PkJson, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[followup]\nafter = []\n")
    pk("promise", "add", "Boots", "-d", "today", env={"PK_CONFIG": str(config)})
    pk("deliver", "1", env={"PK_CONFIG": str(config)})
    assert pkj("promise", "list", "--kind", "followup") == []


def test_notice_for_a_late_delivery_says_what_happened_and_records_it(pk: Pk, pkj: PkJson) -> None:
    pk(
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
        "2026-11-20",
        now="2026-11-18T09:00:00+01:00",
    )
    pk("deliver", "1", "--price", "250", "--no-followup")
    pk("remedy", "1", "--action", "Refunded €10.", "--prevent", "Price the order when it is placed.")
    text = pk("notice", "1").stdout
    assert text.startswith("Dear Anna Smith,\n")
    assert "we promised you 2 × Hiking boots for €240.00 by Fri 20 Nov (end of day)." in text
    assert "We delivered on Sun 22 Nov at 10:00, 1 day 10 hours late." in text
    assert "We charged you €250.00 instead of the €240.00 we agreed: €10.00 more than promised." in text
    assert (
        "To put it right: Refunded €10. So it does not happen again: Price the order when it is placed."
        in text
    )
    for hedge in ("unfortunately", "may have", "might", "perhaps", "inconvenience"):
        assert hedge not in text.lower()
    assert pkj("promise", "show", "1")["history"][-1]["event"] == "notice_drafted"


def test_notice_for_a_renegotiated_promise_gives_the_new_date(pk: Pk) -> None:
    pk("promise", "add", "Trail shoes", "-c", "Kaito", "-d", "2026-11-23")
    pk("promise", "amend", "1", "--due", "2026-11-27", "--reason", "Supplier delay")
    text = pk("notice", "1").stdout
    assert "by Mon 23 Nov (end of day)." in text
    assert (
        "As agreed with you, we changed the date from Mon 23 Nov (end of day) to Fri 27 Nov (end of day)."
        in text
    )


def test_notice_for_a_kept_promise_is_refused(pk: Pk) -> None:
    pk("promise", "add", "Boots", "-d", "today")
    pk("deliver", "1", "--no-followup")
    result = pk("notice", "1")
    assert result.exit_code == 2
    assert "nothing to tell the customer" in result.stderr


def test_stats_on_a_hand_computed_set(pk: Pk, pkj: PkJson, cli_env: dict[str, str]) -> None:
    # A first follow-up one day after, so it falls on Friday 20 Nov and is overdue by Sunday (the default,
    # two working days, would put it on Monday).
    Path(cli_env["PK_CONFIG"]).write_text('[followup]\nafter = ["1d", "30d"]\n')
    early = "2026-11-16T09:00:00+01:00"
    # 1 kept; 2 late by 1 day; 3 late by 3 days and overcharged; 4 short (closed with done); 5 overdue;
    # 6 cancelled; 7 open and not yet due (outside the period); 8 renegotiated then kept.
    for what, due, staff in (
        ("A", "2026-11-17", "Jo"),
        ("B", "2026-11-17 12:00", "Jo"),
        ("C", "2026-11-18 12:00", "Sam"),
        ("D", "2026-11-19", "Sam"),
        ("E", "2026-11-20", "Jo"),
        ("F", "2026-11-21", "Sam"),
        ("G", "2026-11-30", "Jo"),
        ("H", "2026-11-18", "Sam"),
    ):
        assert (
            pk("promise", "add", what, "-q", "2", "-p", "100", "-d", due, "-s", staff, now=early).exit_code
            == 0
        )
    pk("deliver", "1", "--no-followup", now="2026-11-17T10:00:00+01:00")
    pk("deliver", "2", "--no-followup", now="2026-11-18T12:00:00+01:00")
    pk("deliver", "3", "--no-followup", "--price", "120", now="2026-11-21T12:00:00+01:00")
    pk("deliver", "4", "--no-followup", "--qty", "1", now="2026-11-19T10:00:00+01:00")
    pk("done", "4", now="2026-11-19T11:00:00+01:00")
    pk("promise", "cancel", "6", "--reason", "Changed mind", now="2026-11-19T11:00:00+01:00")
    pk("promise", "amend", "8", "--due", "2026-11-20", "--reason", "Agreed", now="2026-11-17T11:00:00+01:00")
    pk("deliver", "8", "--no-followup", now="2026-11-20T09:00:00+01:00")
    # Closing D with `done` fulfils a delivery promise, so its 1-day follow-up (#9, staff Sam) is overdue too.
    # D is short and, by the reference's rule (total charged != promised price), also a price deviation.
    s = pkj("stats")
    assert {
        k: s[k] for k in ("promises", "fulfilled", "kept", "deviated", "overdue", "cancelled", "renegotiated")
    } == {
        "promises": 8,
        "fulfilled": 5,
        "kept": 2,
        "deviated": 3,
        "overdue": 2,
        "cancelled": 1,
        "renegotiated": 1,
    }
    assert s["kept_rate"] == 0.4
    assert s["on_time_rate"] == 0.6
    assert s["in_full_rate"] == 0.8
    assert s["at_price_rate"] == 0.6
    assert s["avg_late_seconds"] == (86400 + 3 * 86400) // 2
    by_staff = {row["key"]: row for row in pkj("stats", "--by", "staff")["by"]}
    assert (by_staff["Jo"]["promises"], by_staff["Jo"]["kept"], by_staff["Jo"]["overdue"]) == (3, 1, 1)
    assert (by_staff["Sam"]["promises"], by_staff["Sam"]["kept"], by_staff["Sam"]["cancelled"]) == (5, 1, 1)
    weeks = pkj("stats", "--by", "week")["by"]
    assert [w["key"] for w in weeks] == ["2026-W47"]
    since = pkj("stats", "--since", "2026-11-20")
    assert since["period"]["since"] == "2026-11-20T00:00:00+01:00"
    assert since["promises"] == 4  # C fulfilled on the 21st, E and #9 fell due, H fulfilled on the 20th
    table = pk("stats", "--by", "staff").stdout
    assert "█" in table
    assert "40%" in table


def test_stats_by_month_uses_the_local_calendar(pk: Pk, pkj: PkJson) -> None:
    # Delivered at 00:30 local on 1 Dec = 23:30 UTC on 30 Nov: it belongs to December in the shop.
    pk("promise", "add", "A", "-d", "2026-12-01", now="2026-11-20T09:00:00+01:00")
    pk("deliver", "1", "--no-followup", now="2026-12-01T00:30:00+01:00")
    assert [m["key"] for m in pkj("stats", "--by", "month", now="2026-12-02T09:00:00+01:00")["by"]] == [
        "2026-12"
    ]


def test_stats_with_nothing_says_so(pk: Pk) -> None:
    assert pk("stats").stdout.strip() == "No promises settled or due all time."
