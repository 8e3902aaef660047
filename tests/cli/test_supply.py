"""Suppliers, pickup and deposits through ``pk`` (SPEC "Suppliers, pickup and deposits"): supplier
order/list/eta/receive, promise link, ready, deposit, promise add --deposit/--handover, their refusals
and their undo. In-process on SQLite and PostgreSQL, and through the installed ``pk`` at the end.

The clock stands on Sunday 22 Nov 2026, 10:00 in Berlin: ``wed`` is 25 Nov, ``thu`` 26 Nov.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli import test_notify
from tests.cli.conftest import Pk, PkJson
from tests.cli.test_corrections import fails, ok
from tests.cli.test_messages import configure
from tests.cli.test_notify import Server
from tests.conftest import SQL

PK = Path(sys.executable).parent / "pk"
smtp = test_notify.smtp  # a real SMTP server on loopback, shared with pk notify's tests


def book(db_sql: SQL) -> tuple[Any, ...]:
    """Everything a refusal must leave alone."""
    return (
        db_sql.rows("SELECT count(*) FROM event")[0][0],
        db_sql.rows("SELECT count(*) FROM change")[0][0],
        db_sql.rows("SELECT id, eta, state, received_quantity FROM supply_order ORDER BY id"),
        db_sql.rows("SELECT promise_id, order_id FROM supply_link ORDER BY promise_id, order_id"),
        db_sql.rows("SELECT id, ready_at, deposit_minor, state FROM promise ORDER BY id"),
    )


def shop(pk: Pk) -> None:
    """Anna (with email and phone) and Ben waiting for boots on order S1, due Thursday and Wednesday."""
    ok(pk, "customer", "add", "Anna Smith", "--email", "anna@example.com", "--phone", "+49 30 1234")
    ok(pk, "promise", "add", "Hiking boots", "-c", "Anna Smith", "-p", "240", "--deposit", "50", "-d", "thu")
    ok(pk, "promise", "add", "Hiking boots", "-c", "Ben", "-p", "240", "-d", "wed")
    ok(
        pk,
        "supplier",
        "order",
        "Hiking boots",
        "--supplier",
        "Alpine",
        "--qty",
        "2",
        "--eta",
        "wed",
        "--for",
        "1",
        "--for",
        "2",
    )


# --- orders -------------------------------------------------------------------------------------------


def test_order_list_and_its_json_and_csv(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna", "-d", "thu")
    out = ok(
        pk,
        "supplier",
        "order",
        "Boots 38",
        "--supplier",
        "Alpine Wholesale",
        "--eta",
        "wed",
        "--ref",
        "PO-7",
        "--for",
        "1",
    )
    assert (
        out
        == "Ordered S1: Boots 38 from Alpine Wholesale, expected Wed 25 Nov (end of day), ref PO-7; for #1\n"
    )
    (listed,) = pkj("supplier", "list")
    assert listed == {
        "id": "S1",
        "supplier": "Alpine Wholesale",
        "what": "Boots 38",
        "quantity": 1,
        "eta": "2026-11-25T23:59:59.999999+01:00",
        "ref": "PO-7",
        "created": "2026-11-22T10:00:00+01:00",
        "state": "open",
        "received_quantity": 0,
        "received_at": None,
        "overdue": False,
        "promises": [1],
    }
    csv = ok(pk, "supplier", "list", "--format", "csv").splitlines()
    assert (
        csv[0]
        == "id,supplier,what,quantity,eta,ref,created,state,received_quantity,received_at,overdue,promises"
    )
    assert csv[1].startswith("S1,Alpine Wholesale,Boots 38,1,")
    table = ok(pk, "supplier", "list")
    assert table.splitlines()[1].split() == [
        "S1",
        "Alpine",
        "Wholesale",
        "Boots",
        "38",
        "0/1",
        "Wed",
        "25",
        "Nov",
        "open",
        "#1",
        "PO-7",
    ]
    assert pkj("promise", "show", "1")["orders"] == ["S1"]
    ok(pk, "supplier", "order", "Laces", "--supplier", "Lacy")
    ok(pk, "supplier", "receive", "S2")
    assert [o["id"] for o in pkj("supplier", "list", "--open")] == ["S1"]
    assert ok(pk, "supplier", "list", "--open", now="2026-11-27T10:00:00+01:00").count("overdue") == 1


def test_a_supplier_order_starts_a_book_and_an_empty_list_says_so(pk: Pk) -> None:
    assert "No supply orders yet" in ok(pk, "supplier", "list")
    assert ok(pk, "supplier", "order", "Laces", "--supplier", "Lacy").startswith(
        "Ordered S1: Laces from Lacy, no delivery date yet"
    )
    ok(pk, "supplier", "receive", "1")
    assert ok(pk, "supplier", "list", "--open") == "No supply order is awaited.\n"


def test_an_eta_slip_puts_the_waiting_promise_at_risk(pk: Pk, pkj: PkJson) -> None:
    shop(pk)
    out = ok(pk, "supplier", "eta", "S1", "2026-11-30", "--reason", "Truck broke down")
    first = out.splitlines()[0]
    assert first == "S1 from Alpine is now expected Mon 30 Nov (end of day); 2 promises now at risk"
    assert "At risk: 2" in out
    anna = pkj("promise", "show", "1")
    assert anna["at_risk"] is True
    assert anna["risk"].startswith("S1 from Alpine now arrives Mon 30 Nov")
    slip = anna["history"][-1]
    assert (slip["event"], slip["data"]["reason"]) == ("eta_changed", "Truck broke down")
    assert slip["detail"] == (
        "S1 now expected Mon 30 Nov (end of day), was Wed 25 Nov (end of day); reason: Truck broke down"
    )
    shown = ok(pk, "promise", "show", "1")
    assert "At risk" in shown
    assert "Waits for  S1" in shown
    moved = pkj("supplier", "eta", "S1", "tue")
    assert (moved["id"], moved["at_risk"]) == ("S1", [])
    assert [e["event"] for e in moved["history"]] == [
        "ordered",
        "linked",
        "linked",
        "eta_changed",
        "eta_changed",
    ]
    assert pkj("promise", "show", "1")["at_risk"] is False


# --- receiving ----------------------------------------------------------------------------------------


def test_receive_lists_the_waiting_customers_with_how_to_reach_them_and_marks_them_ready(
    pk: Pk, pkj: PkJson
) -> None:
    shop(pk)
    out = ok(pk, "supplier", "receive", "S1", now="2026-11-24T09:30:00+01:00")
    lines = out.splitlines()
    assert lines[0] == "Received 2 of S1 (Hiking boots from Alpine): all have arrived; 2 customers to tell."
    assert lines[1] == "Ready for pickup: 2"
    ben, anna = lines[3], lines[4]  # earliest due first
    assert ben.split()[:2] == ["2", "Ben"]
    assert anna.split()[:5] == ["1", "Anna", "Smith", "anna@example.com", "+49"]
    assert "€190.00" in anna  # what Anna still owes: 240 − 50
    for pid in (1, 2):
        shown = pkj("promise", "show", str(pid))
        assert shown["ready_at"] == "2026-11-24T09:30:00+01:00"
        assert shown["history"][-1]["event"] == "ready"
    assert pkj("supplier", "list")[0]["state"] == "received"


def test_a_partial_receipt_serves_the_earliest_due_first_in_json(pk: Pk, pkj: PkJson) -> None:
    shop(pk)
    got = pkj("supplier", "receive", "S1", "--qty", "1")
    assert got["received"] == 1
    assert [(p["id"], p["customer"], p["email"]) for p in got["ready"]] == [(2, "Ben", None)]
    assert [(p["id"], p["email"], p["phone"]) for p in got["waiting"]] == [
        (1, "anna@example.com", "+49 30 1234")
    ]
    assert (got["order"]["received_quantity"], got["order"]["state"]) == (1, "open")
    csv = ok(pk, "supplier", "receive", "S1", "--format", "csv").splitlines()
    assert csv[0] == "id,customer,email,phone,what,quantity,due,ready,balance"
    assert csv[1].startswith("1,Anna Smith,anna@example.com,'+49 30 1234,Hiking boots,1,2026-11-26")
    assert csv[1].endswith(",true,190.00")


# --- pickup -------------------------------------------------------------------------------------------


def test_a_pickup_ready_by_its_due_and_collected_later_is_kept(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna", "-d", "tue")
    out = ok(pk, "ready", "1", now="2026-11-24T12:00:00+01:00")
    assert out == "Ready #1: Boots for Anna waits for pickup (on time)\n"
    late_collection = "2026-11-30T16:00:00+01:00"
    assert pkj("promise", "list", now=late_collection)[0]["status"] == "open"  # waiting, not overdue
    done = pkj("deliver", "1", "--no-followup", now=late_collection)
    assert (done["status"], done["deviations"], done["late_by_seconds"]) == ("kept", [], None)
    assert pkj("stats", now=late_collection)["kept"] == 1


def test_a_pickup_ready_late_is_late_by_ready_minus_due(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna", "-d", "tue 12:00")
    out = ok(pk, "ready", "1", "--at", "2026-11-24 17:00", now="2026-11-25T09:00:00+01:00")
    assert "late by 5 hours" in out
    done = pkj("deliver", "1", "--no-followup", now="2026-11-28T10:00:00+01:00")
    assert (done["status"], done["deviations"], done["late_by_seconds"]) == ("deviated", ["late"], 5 * 3600)
    assert done["ready_at"] == "2026-11-24T17:00:00+01:00"


def test_handover_defaults_to_the_config_and_only_goods_have_one(
    pk: Pk, pkj: PkJson, cli_env: dict[str, str]
) -> None:
    assert pkj("promise", "add", "Boots", "-d", "tue")["handover"] == "pickup"
    assert pkj("promise", "add", "Call", "--kind", "callback", "-d", "tue")["handover"] is None
    Path(cli_env["PK_CONFIG"]).write_text('[shop]\nhandover = "delivery"\n')
    assert pkj("promise", "add", "Sofa", "-d", "tue")["handover"] == "delivery"
    assert pkj("promise", "add", "Lamp", "-d", "tue", "--handover", "pickup")["handover"] == "pickup"
    assert "hands over no goods" in fails(
        pk, "promise", "add", "Call", "--kind", "callback", "-d", "tue", "--handover", "pickup"
    )
    assert "handover delivery" in fails(pk, "ready", "3")
    assert "is a callback" in fails(pk, "ready", "2")


# --- deposits -----------------------------------------------------------------------------------------


def test_deposits_and_balances_in_json_and_show(pk: Pk, pkj: PkJson) -> None:
    added = pkj(
        "promise", "add", "Boots", "-c", "Anna", "-q", "2", "-p", "240", "--deposit", "50", "-d", "thu"
    )
    assert (added["deposit"], added["balance"]) == ("50.00", "190.00")
    assert ok(pk, "deposit", "1", "30") == "Deposit on #1: €80.00 in all; balance €160.00 of €240.00\n"
    half = pkj("deliver", "1", "-q", "1", "--no-followup")
    assert (half["deposit"], half["charged"], half["balance"]) == ("80.00", "120.00", "40.00")
    shown = ok(pk, "promise", "show", "1")
    assert "Deposit   €80.00" in shown.splitlines()
    assert "Balance   €40.00" in shown.splitlines()
    assert "deposit of €30.00 taken, €80.00 in all" in shown
    assert pkj("promise", "add", "Boots", "-d", "thu")["balance"] is None  # no deposit, no balance


# --- refusals: one sentence, exit 2 or 3, nothing written ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("supplier", "receive", "S9"), 3, "There is no supply order S9; `pk supplier list` shows them."),
        (("supplier", "eta", "S9", "fri"), 3, "There is no supply order S9"),
        (("promise", "link", "1", "S9"), 3, "There is no supply order S9"),
        (("promise", "link", "9", "S1"), 3, "There is no promise #9"),
        (("supplier", "order", "Boots", "--supplier", "Alpine", "--for", "9"), 3, "There is no promise #9"),
        (
            ("supplier", "receive", "S1", "--qty", "3"),
            2,
            "S1 has 2 of 2 still to come; 3 cannot have arrived",
        ),
        (("supplier", "receive", "S1", "--qty", "0"), 2, "at least 1"),
        (("supplier", "receive", "X1"), 2, "ORDER must be a supply order such as S3, not 'X1'."),
        (("supplier", "eta", "S1", "2026-11-20"), 2, "The ETA is already past"),
        (("supplier", "eta", "S1", "wed"), 2, "Nothing to change"),
        (("supplier", "order", "Boots", "--supplier", "Alpine", "--eta", "yesterday"), 2, "already past"),
        (("supplier", "order", "Boots", "--supplier", "Al\x1bpine"), 2, "The supplier"),
        (("supplier", "order", "Boots", "--supplier", " "), 2, "The supplier is empty"),
        (("promise", "link", "1", "S1"), 2, "Promise #1 already waits for S1."),
        (("deposit", "1", "--", "-5"), 2, "cannot be negative"),
        (("deposit", "1", "-5"), 2, "No such option: -5"),
        (("deposit", "1", "0"), 2, "A deposit must be more than 0"),
        (("deposit", "1", "191"), 2, "more than the price"),
        (("deposit", "1", "$10"), 2, "The deposit is in USD but the price is in EUR"),
        (("deposit", "9", "10"), 3, "There is no promise #9"),
        (("ready", "1", "--at", "tomorrow 10:00"), 2, "cannot be ready in the future"),
        (("ready", "9"), 3, "There is no promise #9"),
        (("promise", "add", "Boots", "-p", "10", "--deposit", "11", "-d", "fri"), 2, "more than the price"),
    ],
)
def test_bad_input_is_one_sentence_and_writes_nothing(
    pk: Pk, db_sql: SQL, args: tuple[str, ...], code: int, said: str
) -> None:
    shop(pk)
    before = book(db_sql)
    assert said in fails(pk, *args, code=code)
    assert book(db_sql) == before


def test_receiving_an_order_that_all_arrived_and_marking_ready_twice_are_refused(pk: Pk, db_sql: SQL) -> None:
    shop(pk)
    ok(pk, "supplier", "receive", "S1")
    before = book(db_sql)
    assert "S1 has all arrived already (2 of 2)" in fails(pk, "supplier", "receive", "S1")
    assert "marked ready already" in fails(pk, "ready", "1")
    assert "has all arrived already" in fails(pk, "supplier", "eta", "S1", "fri")
    ok(pk, "deliver", "1", "--no-followup")
    assert "already fulfilled" in fails(pk, "ready", "1")
    assert book(db_sql) != before


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_reverses_each_new_command_newest_first(pk: Pk, pkj: PkJson) -> None:
    shop(pk)
    ok(pk, "promise", "add", "Laces", "-c", "Ben", "-d", "fri")
    ok(pk, "promise", "link", "3", "S1")
    ok(pk, "supplier", "eta", "S1", "2026-11-30")
    ok(pk, "supplier", "receive", "S1", "--qty", "1")
    ok(pk, "deposit", "1", "10")
    ok(pk, "promise", "add", "Sandals", "-d", "fri")
    ok(pk, "ready", "4")

    def order() -> dict[str, Any]:
        found: dict[str, Any] = pkj("supplier", "list")[0]
        return found

    assert ok(pk, "undo", "--yes").startswith("Undid: pk ready, ")
    assert pkj("promise", "show", "4")["ready_at"] is None
    ok(pk, "undo", "--yes")  # the sandals
    assert ok(pk, "undo", "--yes").startswith("Undid: pk deposit, ")
    assert pkj("promise", "show", "1")["deposit"] == "50.00"
    assert ok(pk, "undo", "--yes").startswith("Undid: pk supplier receive, ")
    assert (order()["received_quantity"], order()["state"]) == (0, "open")
    assert pkj("promise", "show", "2")["ready_at"] is None
    assert ok(pk, "undo", "--yes").startswith("Undid: pk supplier eta, ")
    assert order()["eta"] == "2026-11-25T23:59:59.999999+01:00"
    assert pkj("promise", "show", "1")["at_risk"] is False
    assert ok(pk, "undo", "--yes").startswith("Undid: pk promise link, ")
    assert order()["promises"] == [1, 2]
    ok(pk, "undo", "--yes")  # the laces
    assert ok(pk, "undo", "--yes").startswith("Undid: pk supplier order, ")
    assert pkj("supplier", "list") == []
    assert pkj("promise", "show", "1")["orders"] == []
    assert "There is no supply order S1" in fails(pk, "supplier", "receive", "S1", code=3)
    assert ok(pk, "undo", "--yes").startswith("Undid: pk promise add, ")  # Ben's boots
    assert ok(pk, "undo", "--yes").startswith("Undid: pk promise add, ")  # Anna's, with its deposit
    assert pkj("promise", "list") == []


def test_receive_tell_tells_those_who_agreed_and_names_the_others(
    pk: Pk, pkj: PkJson, tmp_path: Path, smtp: Server
) -> None:
    configure(tmp_path, smtp.port)
    ok(pk, "customer", "add", "Anna Smith", "--email", "anna@example.com", "--consent", "email")
    ok(pk, "promise", "add", "Hiking boots", "-c", "Anna Smith", "-p", "240", "-d", "thu")
    ok(pk, "promise", "add", "Hiking boots", "-c", "Ben", "-d", "wed")
    ok(pk, "customer", "add", "Cara Diaz", "--email", "cara@example.com", "--consent", "email")
    ok(pk, "promise", "add", "Hiking boots", "-c", "Cara Diaz", "-d", "fri", "--handover", "delivery")
    ok(pk, "supplier", "order", "Boots", "--supplier", "Alpine", "-q", "3", "--for", "1", "--for", "2")
    ok(pk, "promise", "link", "3", "S1")
    result = pk("supplier", "receive", "S1", "--tell")
    assert result.exit_code == 0, result.stderr
    assert "3 customers to tell" in result.stdout
    assert "Ready for pickup: 2" in result.stdout
    assert "Ready to deliver: 1" in result.stdout  # Cara's boots are brought to her: no pickup message
    assert "Sent the ready message for #1 to Anna Smith <anna@example.com> by email (en)." in result.stdout
    assert "Not sent:" in result.stderr
    assert "Ben" in result.stderr
    [got] = smtp.received
    assert got.message["To"] == "Anna Smith <anna@example.com>"
    for pid in ("1", "2", "3"):
        assert pkj("promise", "show", pid)["ready_at"] == "2026-11-22T10:00:00+01:00"
    assert pkj("promise", "show", "3")["at_risk"] is False
    told = [e["event"] for e in pkj("promise", "show", "1")["history"]]
    assert told[-2:] == ["ready", "message_sent"]


def test_every_new_command_has_an_example_in_its_help(pk: Pk) -> None:
    for args in (
        ("supplier", "order"),
        ("supplier", "list"),
        ("supplier", "eta"),
        ("supplier", "receive"),
        ("promise", "link"),
        ("ready",),
        ("deposit",),
    ):
        assert "Example: pk " in ok(pk, *args, "--help"), args


# --- through the installed pk ------------------------------------------------------------------------


def run(
    tmp_path: Path, *args: str, now: str = "2026-11-22T10:00:00+01:00"
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PK_") and k not in ("NO_COLOR", "COLUMNS")
    }
    env.update(
        PK_DB=str(tmp_path / "p.db"),
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW=now,
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    return subprocess.run([str(PK), *args], capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.slow
@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment")
def test_the_installed_pk_receives_readies_judges_and_takes_deposits(tmp_path: Path) -> None:
    def pk(*args: str, now: str = "2026-11-22T10:00:00+01:00") -> str:
        done = run(tmp_path, *args, now=now)
        assert done.returncode == 0, done.stderr
        assert "\x1b[" not in done.stdout
        return done.stdout

    def shown(pid: int, now: str = "2026-11-22T10:00:00+01:00") -> dict[str, Any]:
        found: dict[str, Any] = json.loads(pk("promise", "show", str(pid), "--json", now=now))
        return found

    pk("customer", "add", "Anna Smith", "--email", "anna@example.com", "--phone", "+49 30 1234")
    pk("promise", "add", "Hiking boots", "-c", "Anna Smith", "-p", "240", "--deposit", "50", "-d", "tue")
    pk("promise", "add", "Tent", "-c", "Ben", "-d", "tue 12:00")
    pk("supplier", "order", "Hiking boots", "--supplier", "Alpine", "--eta", "mon", "--for", "1")
    # Receive lists the waiting customer with how to reach her, and marks her promise ready.
    out = pk("supplier", "receive", "S1", now="2026-11-23T11:00:00+01:00")
    assert "1 customer to tell" in out
    assert "Anna Smith  anna@example.com  +49 30 1234" in out
    assert shown(1)["ready_at"] == "2026-11-23T11:00:00+01:00"
    # A pickup ready by its due and collected days later is kept.
    kept = json.loads(pk("deliver", "1", "--no-followup", "--json", now="2026-11-30T17:00:00+01:00"))
    assert (kept["status"], kept["late_by_seconds"]) == ("kept", None)
    # Ready late is late by ready − due, however soon it is collected after.
    pk("ready", "2", "--at", "2026-11-24 15:30", now="2026-11-25T09:00:00+01:00")
    late = json.loads(pk("deliver", "2", "--no-followup", "--json", now="2026-11-25T10:00:00+01:00"))
    assert (late["status"], late["late_by_seconds"]) == ("deviated", 3 * 3600 + 30 * 60)
    # Deposits and balances in JSON and in show.
    assert pk("deposit", "1", "40").startswith("Deposit on #1: €90.00 in all")
    assert (shown(1)["deposit"], shown(1)["balance"]) == (
        "90.00",
        "0.00",
    )  # 240 − 90 − 240 charged, never below 0
    assert ["Balance", "€0.00"] in [line.split() for line in pk("promise", "show", "1").splitlines()]


@pytest.mark.slow
@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment")
def test_the_installed_pk_refuses_bad_supply_input_in_one_sentence_and_undoes_each_command(
    tmp_path: Path,
) -> None:
    def pk(*args: str) -> str:
        done = run(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def refused(code: int, *args: str) -> str:
        done = run(tmp_path, *args)
        assert (done.returncode, done.stdout, done.stderr.count("\n")) == (code, "", 1), done.stderr
        return done.stderr

    pk("promise", "add", "Boots", "-c", "Anna", "-p", "240", "-d", "thu")
    pk("supplier", "order", "Boots", "--supplier", "Alpine", "--qty", "2", "--eta", "wed", "--for", "1")
    before = pk("undo", "--list")
    assert (
        refused(3, "supplier", "receive", "S7")
        == "pk: There is no supply order S7; `pk supplier list` shows them.\n"
    )
    assert "cannot be negative" in refused(2, "deposit", "1", "--", "-10")
    assert "The ETA is already past" in refused(2, "supplier", "eta", "S1", "2026-11-01")
    assert "S1 has 2 of 2 still to come; 5 cannot have arrived" in refused(
        2, "supplier", "receive", "S1", "--qty", "5"
    )
    assert pk("undo", "--list") == before  # nothing was written

    pk("supplier", "eta", "S1", "2026-11-30")
    pk("supplier", "receive", "S1", "--qty", "2")
    pk("deposit", "1", "20")
    for command in ("deposit", "supplier receive", "supplier eta", "supplier order", "promise add"):
        assert pk("undo", "--yes").startswith(f"Undid: pk {command}, ")
    assert json.loads(pk("supplier", "list", "--json")) == []
