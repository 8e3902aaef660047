"""Putting mistakes right through ``pk``: undo, promise fix, delivery void, customer rename and merge.

SPEC "Putting mistakes right"; each runs on SQLite and, where ``PK_TEST_POSTGRES_URL`` is set, PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Pk, PkJson

PK = Path(sys.executable).parent / "pk"


def ok(pk: Pk, *args: str, now: str | None = None) -> str:
    result = pk(*args, now=now)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def fails(pk: Pk, *args: str, code: int = 2) -> str:
    result = pk(*args)
    assert result.exit_code == code, result.stderr + result.stdout
    assert result.stderr.startswith("pk: ")
    assert result.stderr.count("\n") == 1
    return result.stderr


def ids(pkj: PkJson, *args: str) -> list[int]:
    return [p["id"] for p in pkj("promise", "list", *args)]


def figures(pkj: PkJson) -> dict[str, Any]:
    s = pkj("stats")
    return {
        k: s[k] for k in ("promises", "fulfilled", "kept", "deviated", "overdue", "cancelled", "renegotiated")
    }


# --- undo -----------------------------------------------------------------------------------------------


def test_undo_of_an_add_takes_the_promise_and_its_new_customer_out_of_every_list(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna Smith", "-d", "today")
    ok(pk, "promise", "add", "Rope", "-c", "Zed Mistake", "-d", "today")
    out = ok(pk, "undo", "--yes")
    assert out.startswith("Undid: pk promise add, ")
    assert "added #2" in out
    assert ids(pkj) == [1]
    assert [c["name"] for c in pkj("customer", "list")] == ["Anna Smith"]
    assert figures(pkj)["promises"] == 0  # nothing settled or due yet; #2 is not counted anywhere
    assert "undone" in fails(pk, "promise", "show", "2", code=3)


def test_undo_twice_walks_back_a_delivery_then_an_amendment(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-q", "2", "-p", "240", "-d", "today")
    ok(pk, "promise", "amend", "1", "--due", "tomorrow", "--reason", "Supplier")
    ok(pk, "deliver", "1", "--price", "40")
    assert pkj("promise", "show", "1")["status"] == "deviated"
    assert "delivery to #1" in ok(pk, "undo", "--yes")
    after_one = pkj("promise", "show", "1")
    assert (after_one["status"], after_one["deliveries"], after_one["renegotiated"]) == ("open", [], True)
    assert ids(pkj, "--kind", "followup") == []  # the follow-ups the delivery made went with it
    assert "amended #1" in ok(pk, "undo", "--yes")
    back = pkj("promise", "show", "1")
    assert back["due"].startswith("2026-11-22")
    assert (back["renegotiated"], back["original_due"]) == (False, None)
    assert [h["event"] for h in back["history"]] == ["promised", "amended", "delivered"] + [
        "followup"
    ] * 2 + [
        "fulfilled",
        "undone",
        "undone",
    ]


def test_undo_of_a_remedy_puts_the_promise_back_in_check(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-p", "240", "-d", "today")
    ok(pk, "deliver", "1", "--price", "250", "--no-followup")
    ok(pk, "remedy", "1", "--action", "Refunded €10")
    assert pkj("check") == []
    ok(pk, "undo", "--yes")
    assert [p["id"] for p in pkj("check")] == [1]
    assert pkj("promise", "show", "1")["remedied"] is False


def test_undo_of_an_import_is_one_change(pk: Pk, pkj: PkJson, tmp_path: Path) -> None:
    source = tmp_path / "old.csv"
    source.write_text("what,due,customer\nTent,2026-11-30,Ola\nStove,2026-12-01,Ola\nMat,2026-12-02,Per\n")
    ok(pk, "promise", "add", "Boots", "-d", "today")
    ok(pk, "import", str(source))
    assert len(ids(pkj)) == 4
    out = ok(pk, "undo", "--yes")
    assert out.startswith("Undid: pk import, ")
    assert ids(pkj) == [1]
    assert pkj("customer", "list") == []


def test_undo_refuses_a_forget_and_says_why(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "today")
    ok(pk, "customer", "forget", "Zelda Quixote", "--yes")
    err = fails(pk, "undo", "--yes")
    assert "cannot be undone" in err
    assert "erasure" in err
    assert ids(pkj) == [1]


def test_undo_without_a_terminal_needs_yes_and_changes_nothing(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-d", "today")
    assert "--yes" in fails(pk, "undo")
    assert ids(pkj) == [1]


def test_undo_list_shows_what_undo_would_reverse(pk: Pk) -> None:
    ok(pk, "promise", "add", "Boots", "-d", "today")
    ok(pk, "deliver", "1")
    ok(pk, "undo", "--yes")
    lines = ok(pk, "undo", "--list").splitlines()
    assert lines[0].startswith("  ")
    assert "pk deliver" in lines[0]
    assert lines[0].endswith("(undone)")
    assert lines[1].startswith("→")
    assert "pk promise add" in lines[1]


def test_nothing_to_undo_is_bad_input(pk: Pk) -> None:
    ok(pk, "customer", "add", "Ben")
    ok(pk, "undo", "--yes")
    assert "nothing to undo" in fails(pk, "undo", "--yes")


# --- promise fix ------------------------------------------------------------------------------------


def test_fix_on_a_fulfilled_promise_judges_it_again_and_is_no_renegotiation(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-p", "400", "-d", "today")
    ok(pk, "deliver", "1", "--price", "40", "--no-followup")
    assert pkj("promise", "show", "1")["deviations"] == ["price"]
    out = ok(pk, "promise", "fix", "1", "--price", "40", "--reason", "typed 400 at the till")
    assert out.startswith("Fixed #1: Boots for €40.00")
    shown = pkj("promise", "show", "1")
    assert (shown["status"], shown["renegotiated"], shown["original_due"]) == ("kept", False, None)
    assert shown["history"][-1]["event"] == "corrected"
    assert shown["history"][-1]["detail"] == "fixed: price €400.00 → €40.00 (typed 400 at the till)"
    assert figures(pkj)["renegotiated"] == 0


def test_fix_changes_customer_staff_kind_note_and_tags(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna Smtih", "-d", "today", "-t", "old")
    ok(pk, "customer", "add", "Anna Smith")
    args = ("--customer", "Anna Smith", "--staff", "Jo", "--kind", "other", "--note", "x", "-t", "gift")
    ok(pk, "promise", "fix", "1", *args, "--untag", "old")
    p = pkj("promise", "show", "1")
    assert (p["customer"], p["staff"], p["kind"], p["note"], p["tags"]) == (
        "Anna Smith",
        "Jo",
        "other",
        "x",
        ["gift"],
    )
    ok(pk, "undo", "--yes")
    p = pkj("promise", "show", "1")
    assert (p["customer"], p["staff"], p["kind"], p["note"], p["tags"]) == (
        "Anna Smtih",
        None,
        "delivery",
        None,
        ["old"],
    )


def test_a_fix_that_changes_nothing_is_refused(pk: Pk) -> None:
    ok(pk, "promise", "add", "Boots", "-q", "2", "-d", "today")
    assert "Nothing to change" in fails(pk, "promise", "fix", "1", "--qty", "2", "--what", "Boots")
    assert "Nothing to change" in fails(pk, "promise", "fix", "1")


# --- delivery void -----------------------------------------------------------------------------------


def test_void_reopens_a_promise_and_keeps_the_delivery_in_the_history(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-q", "2", "-d", "today")
    ok(pk, "deliver", "1", "--no-followup")
    out = ok(pk, "delivery", "void", "1", "1", "--reason", "Recorded on the wrong promise")
    assert out.startswith("Voided the delivery; #1 is now in ")
    p = pkj("promise", "show", "1")
    assert (p["status"], p["deliveries"], p["delivered_quantity"]) == ("open", [], 0)
    assert p["history"][-1]["event"] == "delivery_voided"
    later = pkj("promise", "show", "1", now="2026-11-23T10:00:00+01:00")
    assert later["status"] == "overdue"
    assert "has no delivery" in fails(pk, "delivery", "void", "1", "1", "--reason", "again")


def test_void_of_an_nth_delivery_that_is_not_there(pk: Pk) -> None:
    ok(pk, "promise", "add", "Boots", "-q", "2", "-d", "today")
    ok(pk, "deliver", "1", "-q", "1")
    assert "N must be 1 to 1" in fails(pk, "delivery", "void", "1", "3", "--reason", "x")


# --- customers ----------------------------------------------------------------------------------------


def test_rename_keeps_every_promise_and_the_history(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Anna Smtih", "-d", "today")
    assert (
        ok(pk, "customer", "rename", "anna smtih", "Anna Smith").strip()
        == 'Renamed "Anna Smtih" to "Anna Smith".'
    )
    shown = pkj("customer", "show", "Anna Smith")
    assert [p["id"] for p in shown["history"]] == [1]
    assert pkj("promise", "show", "1")["customer"] == "Anna Smith"
    ok(pk, "customer", "add", "Ben")
    assert "customer merge" in fails(pk, "customer", "rename", "Ben", "anna smith")


def test_merge_moves_promises_and_history_and_combines_contacts(pk: Pk, pkj: PkJson) -> None:
    ok(pk, "customer", "add", "Anna Smith", "--email", "anna@example.com")
    ok(pk, "customer", "add", "Ana Smith", "--phone", "+49 30 1234567")
    ok(pk, "promise", "add", "Boots", "-c", "Anna Smith", "-d", "today")
    ok(pk, "promise", "add", "Rope", "-c", "Ana Smith", "-d", "today")
    before = figures(pkj)
    out = ok(pk, "customer", "merge", "Ana Smith", "Anna Smith")
    assert out.strip() == 'Merged "Ana Smith" into "Anna Smith": 1 promise moved with their history.'
    anna = pkj("customer", "show", "Anna Smith")
    assert (anna["email"], anna["phone"]) == ("anna@example.com", "+49 30 1234567")
    assert sorted(p["id"] for p in anna["history"]) == [1, 2]
    assert [c["name"] for c in pkj("customer", "list")] == ["Anna Smith"]
    assert figures(pkj) == before
    ok(pk, "undo", "--yes")
    assert sorted(c["name"] for c in pkj("customer", "list")) == ["Ana Smith", "Anna Smith"]
    assert pkj("promise", "show", "2")["customer"] == "Ana Smith"
    assert pkj("customer", "show", "Anna Smith")["phone"] is None


# --- through a real process: what the shell sees -------------------------------------------------------


@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")
def test_undo_in_a_pipe_asks_for_yes_and_with_it_reverses(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PK_")},
        "PK_DB": str(tmp_path / "b.db"),
        "PK_CONFIG": str(tmp_path / "none.toml"),
        "PK_NOW": "2026-11-22T10:00:00+01:00",
        "PK_TZ": "Europe/Berlin",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PK), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )

    assert run("promise", "add", "Boots", "-d", "today").returncode == 0
    refused = run("undo")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "--yes" in refused.stderr
    done = run("undo", "--yes")
    assert done.returncode == 0
    assert done.stdout.startswith("Undid: pk promise add, Sun 22 Nov 2026 10:00: added #1")
    listed = run("promise", "list", "--json")
    assert json.loads(listed.stdout) == []


@pytest.mark.sqlite_only
def test_forget_after_a_rename_or_merge_forgets_the_former_names_too(pk: Pk, cli_env: dict[str, str]) -> None:
    ok(pk, "promise", "add", "Boots", "-c", "Zelda Qixote", "-d", "today")
    ok(pk, "customer", "rename", "Zelda Qixote", "Zelda Quixote")
    ok(pk, "promise", "add", "Rope", "-c", "Zelda Quixotte", "-d", "today")
    ok(pk, "customer", "merge", "Zelda Quixotte", "Zelda Quixote")
    ok(pk, "customer", "forget", "Zelda Quixote", "--yes")
    book = Path(cli_env["PK_DB"])
    raw = b"".join(p.read_bytes() for p in book.parent.glob(book.name + "*")).lower()
    for name in (b"qixote", b"quixotte", b"quixote"):
        assert name not in raw


@pytest.mark.slow
@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")
@pytest.mark.parametrize(("answer", "undone"), [(b"y\n", True), (b"n\n", False)])
def test_undo_asks_on_a_terminal(tmp_path: Path, answer: bytes, undone: bool) -> None:
    from tests.cli.test_customers import on_terminal, run_pk

    assert run_pk(tmp_path, "promise", "add", "Boots", "-d", "today").returncode == 0
    code, seen = on_terminal(tmp_path, ["undo"], answer)
    assert code == 0
    assert "Undo pk promise add, Sun 22 Nov 2026 10:00: added #1? [y/N]" in seen
    assert ("Undid: pk promise add" in seen) is undone
    listed = json.loads(run_pk(tmp_path, "promise", "list", "--json").stdout)
    assert [p["id"] for p in listed] == ([] if undone else [1])


@pytest.mark.parametrize("typed", ["Anna Smtih", "Ana Smith"])
def test_a_new_name_close_to_a_customer_asks_did_you_mean(pk: Pk, pkj: PkJson, typed: str) -> None:
    ok(pk, "customer", "add", "Anna Smith")
    result = pk("promise", "add", "Boots", "-c", typed, "-d", "today")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Promised #1: Boots to {typed}")
    hint = '(pk promise fix 1 --customer "Anna Smith")'
    assert result.stderr == f'pk: New customer "{typed}" — did you mean "Anna Smith"? {hint}\n'
    ok(pk, "promise", "fix", "1", "--customer", "Anna Smith")
    assert pkj("promise", "show", "1")["customer"] == "Anna Smith"


@pytest.mark.parametrize("typed", ["Anne Smithers", "anna smith", "Anna  Smith", "ANNA SMITH"])
def test_no_did_you_mean_for_another_person_or_the_same_customer(pk: Pk, pkj: PkJson, typed: str) -> None:
    ok(pk, "customer", "add", "Anna Smith")
    result = pk("promise", "add", "Boots", "-c", typed, "-d", "today")
    assert result.exit_code == 0
    assert result.stderr == ""
    same = typed.lower().split() == ["anna", "smith"]
    assert len(pkj("customer", "list")) == (1 if same else 2)


@pytest.mark.slow
@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")
def test_the_installed_pk_undoes_import_remedy_fix_amend_deliver_and_add_newest_first(tmp_path: Path) -> None:
    from tests.cli.test_customers import run_pk

    def pk(*args: str) -> str:
        done = run_pk(tmp_path, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def shown(pid: int) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(pk("promise", "show", str(pid), "--json"))
        return result

    source = tmp_path / "till.csv"
    source.write_text("what,due,customer\nTent,2026-11-30,Ola\n")
    pk("promise", "add", "Boots", "-c", "Anna Smith", "-p", "240", "-d", "today")
    pk("promise", "amend", "1", "--due", "tomorrow", "--reason", "Supplier")
    pk("deliver", "1", "--price", "250", "--no-followup")
    pk("promise", "fix", "1", "--what", "Boots 38")
    pk("remedy", "1", "--action", "Refunded €10")
    pk("import", str(source))

    def listed() -> list[int]:
        return [p["id"] for p in json.loads(pk("promise", "list", "--json"))]

    assert pk("undo", "--yes").startswith("Undid: pk import, ")
    assert listed() == [1]
    assert pk("undo", "--yes").startswith("Undid: pk remedy, ")
    assert shown(1)["remedied"] is False
    assert pk("undo", "--yes").startswith("Undid: pk promise fix, ")
    assert shown(1)["what"] == "Boots"
    assert pk("undo", "--yes").startswith("Undid: pk deliver, ")
    assert (shown(1)["status"], shown(1)["deliveries"]) == ("open", [])
    assert pk("undo", "--yes").startswith("Undid: pk promise amend, ")
    assert shown(1)["renegotiated"] is False
    assert pk("undo", "--yes").startswith("Undid: pk promise add, ")
    assert listed() == []
    refused = run_pk(tmp_path, "undo", "--yes")
    assert refused.returncode == 2
    assert "nothing to undo" in refused.stderr
