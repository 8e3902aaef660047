"""A supplier's slip seen before the customer finds out (issue 14): at risk in ``pk due`` and
``pk check``, the early warning drafted by ``pk notice``, the At risk section mailed by ``pk notify``,
and the pickups ready and waiting — through the installed ``pk`` and in-process on each engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Pk, PkJson
from tests.cli.test_installed import PK, run
from tests.cli.test_notify import FROM, TO, Server, _notify, _start
from tests.conftest import SQL

MONDAY = "2026-11-23T09:00:00+01:00"
TUESDAY = "2026-11-24T09:00:00+01:00"


@pytest.mark.slow
@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment")
def test_an_eta_slip_is_at_risk_until_the_customer_is_warned(tmp_path: Path) -> None:
    """Sunday: boots promised for Friday, ordered from Meindl for Wednesday. Monday: Meindl says next
    Monday. The promise is at risk in ``due`` and ``check``; ``notice`` drafts the warning with a new
    date (the ETA plus one working day); then ``check`` has nothing to put right."""

    def pk(*args: str, now: str = MONDAY) -> str:
        result = run(tmp_path, *args, PK_NOW=now, COLUMNS="200")
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    pk("promise", "add", "Hiking boots size 38", "-c", "Anna Smith", "-p", "240", "-d", "fri", now=TUESDAY)
    pk("supplier", "order", "Hiking boots size 38", "--supplier", "Meindl", "--eta", "wed", "--for", "1")
    assert "At risk" not in pk("due", "--within", "1w")
    assert json.loads(pk("check", "--json")) == []

    pk("supplier", "eta", "S1", "2026-11-30", "--reason", "factory delay")
    due = pk("due")
    assert due.splitlines()[0] == "At risk: 1"
    assert "S1 from Meindl now arrives Mon 30 Nov 2026, too late for the due Fri 27 Nov 2026." in " ".join(
        due.split()
    )
    report = json.loads(pk("due", "--json"))
    assert [p["id"] for p in report["at_risk"]] == [1]
    assert (report["overdue"], report["due"], report["ready"]) == ([], [], [])
    assert report["at_risk"][0]["risk"].startswith("S1 from Meindl now arrives Mon 30 Nov 2026")
    check = pk("check")
    assert "At risk, customer not yet warned (pk notice ID): 1" in check
    assert [p["id"] for p in json.loads(pk("check", "--json"))] == [1]

    notice = pk("notice", "1", now=TUESDAY)
    assert "we promised you Hiking boots size 38 for €240.00 by Fri 27 Nov (end of day)." in notice
    assert (
        "our supplier now expects to deliver it to us on Mon 30 Nov: after the date we promised you."
        in notice
    )
    assert "We can have it ready for you to collect by Tue 1 Dec." in notice
    assert "Meindl" not in notice

    assert pk("check", now=TUESDAY).startswith("Nothing to put right")
    assert [p["id"] for p in json.loads(pk("due", "--json", now=TUESDAY))["at_risk"]] == [1]  # still at risk
    history = json.loads(pk("promise", "show", "1", "--json", now=TUESDAY))["history"]
    drafted = history[-1]
    assert drafted["event"] == "notice_drafted"
    assert drafted["data"] == {
        "risk": "eta_late",
        "order": 1,
        "eta": "2026-11-30T22:59:59.999999+00:00",
        "new_due": "2026-12-01T22:59:59.999999+00:00",
    }
    assert drafted["detail"] == (
        "an early warning to the customer was drafted (S1 arrives Mon 30 Nov 2026; new date offered: "
        "Tue 1 Dec 2026)"
    )
    # The supplier slips again: news to tell the customer again.
    pk("supplier", "eta", "S1", "2026-12-03", now=TUESDAY)
    assert [p["id"] for p in json.loads(pk("check", "--json", now=TUESDAY))] == [1]


def _supplied(pk: Pk) -> None:
    """Sunday 22 Nov: #1 boots due Fri 27 waiting for S1 (now Mon 30); #2 a tent waiting for S2, which
    arrived on Friday; #3 a call due today."""
    for args in (
        ("promise", "add", "Hiking boots", "-c", "Anna Smith", "-d", "2026-11-27"),
        ("promise", "add", "Tent", "-c", "Ben", "-p", "200", "--deposit", "50", "-d", "2026-11-21"),
        ("promise", "add", "Call back Cem", "--kind", "callback", "-d", "today 16:00"),
        ("supplier", "order", "Boots", "--supplier", "Meindl", "--eta", "2026-11-30", "--for", "1"),
        ("ready", "2", "--at", "2026-11-20 12:00"),
    ):
        result = pk(*args)
        assert result.exit_code == 0, (args, result.stderr)


@pytest.mark.slow
def test_due_has_each_section_once_in_order(pk: Pk, pkj: PkJson) -> None:
    _supplied(pk)
    report = pkj("due")
    sections = {name: [p["id"] for p in report[name]] for name in ("overdue", "at_risk", "due_soon", "due")}
    assert sections == {"overdue": [], "at_risk": [1], "due_soon": [], "due": [3]}
    (tent,) = report["ready"]
    assert (tent["id"], tent["status"], tent["deposit"], tent["balance"]) == (2, "open", "50.00", "150.00")
    lines = pk("due").stdout.splitlines()
    titles = [line for line in lines if line.endswith(": 1")]
    assert titles == ["At risk: 1", "Due today (Sun 22 Nov): 1", "Ready for pickup: 1"]
    ready = lines[lines.index("Ready for pickup: 1") + 2].split()
    assert ready[:7] == ["2", "Fri", "20", "Nov", "12:00", "2", "days"]
    assert ready[-1] == "€150.00"
    csv = pk("due", "--format", "csv").stdout.splitlines()
    assert [row.split(",")[0] for row in csv[1:]] == ["1", "3", "2"]


@pytest.mark.slow
def test_notice_on_a_promise_neither_late_nor_at_risk_is_refused(pk: Pk) -> None:
    _supplied(pk)
    result = pk("notice", "3")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "with nothing late, changed, wrong or at risk; there is nothing to tell the customer.\n"
    )
    assert pk("notice", "1").exit_code == 0


@pytest.fixture
def smtp() -> Iterator[Server]:
    controller, server = _start()
    yield server
    controller.stop()


@pytest.mark.slow
def test_notify_mails_the_at_risk_section_and_logs_it(pk: Pk, smtp: Server, db_sql: SQL) -> None:
    _supplied(pk)
    result = _notify(pk, smtp)
    assert result.exit_code == 0, result.stderr
    (got,) = smtp.received
    assert (got.sender, got.recipients) == (FROM, [TO])
    assert got.message["Subject"] == "Our shop: 0 overdue, 1 at risk, 1 due today"
    plain, page = got.message.get_body(("plain",)), got.message.get_body(("html",))
    assert plain is not None
    assert page is not None
    text, markup = str(plain.get_content()), str(page.get_content())
    assert text.index("At risk: 1") < text.index("Due today") < text.index("Ready for pickup: 1")
    assert "too late for the due Fri 27 Nov 2026." in " ".join(text.split())
    assert "At risk: 1" in markup
    assert "ready, waiting 2 days" in markup
    assert sorted(db_sql.rows("SELECT promise_id, section FROM sent_item")) == [
        (1, "at_risk"),
        (2, "ready"),
        (3, "due"),
    ]
    # --only-new: the risk was told to this recipient; nothing else became news.
    again = _notify(pk, smtp, "--smtp-security", "none", "--only-new", "--only-if-any")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "Nothing to report; no mail sent.\n"
    pk("supplier", "eta", "S1", "2026-12-02", now=MONDAY)
    third = _notify(pk, smtp, "--smtp-security", "none", "--only-new", "--only-if-any", now=MONDAY)
    assert third.exit_code == 0, third.stderr
    assert len(smtp.received) == 2
    assert "1 at risk" in smtp.received[1].message["Subject"]
