"""``pk stats``: the top customers with ``--limit``/``--all`` (JSON streamed, shaped as ever), the
readiness view (late because of a supplier apart from late on our side; pickups ready in time), and
its bad inputs as one sentence, exit 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.models import Promise, SupplyLink, SupplyOrder
from promisekeeper.store.base import sync
from promisekeeper.when import Clock, Due, end_of_day
from tests.cli.conftest import NOW, Pk, PkJson, env_in

PK = Path(sys.executable).parent / "pk"
BERLIN = "Europe/Berlin"


def clock_at(text: str) -> Clock:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(BERLIN)
    return Clock(now=datetime.fromisoformat(text).astimezone(tz), tz=tz)


def shop(target: str, customers: int) -> None:
    """``customers`` customers: customer N has N promises (kept), the first one a promise overdue too."""
    clock = clock_at("2026-11-10T10:00:00+01:00")
    due = Due(end_of_day(clock.today + timedelta(days=1), clock.tz), date_only=True)
    with Database(target).session() as s:
        for n in range(1, customers + 1):
            for _ in range(n):
                pid = store.add_promise(s, clock=clock, what="Boots", due=due, customer=f"Customer {n:02d}")
                store.deliver(s, clock=clock, promise_id=pid)
        store.add_promise(s, clock=clock, what="Tent", due=due, customer="Customer 01")


def test_by_customer_shows_the_top_20_and_says_how_many_more(pk: Pk, cli_env: dict[str, str]) -> None:
    shop(cli_env["PK_DB"], 23)
    out = pk("stats", "--by", "customer").stdout
    lines = out.splitlines()
    assert sum(1 for line in lines if re.match(r"Customer \d\d ", line)) == 20
    assert "Customer 23" in out
    assert "Customer 03 " not in out  # 3 promises: below the first twenty
    assert "… and 3 more customers: pk stats --by customer --all shows every one" in " ".join(lines)


def test_limit_all_and_the_json_of_every_customer(pk: Pk, pkj: PkJson, cli_env: dict[str, str]) -> None:
    shop(cli_env["PK_DB"], 25)
    top = pkj("stats", "--by", "customer", "--limit", "2")
    assert [row["key"] for row in top["by"]] == ["Customer 25", "Customer 24"]
    assert top["more"] == 23
    text = pk("stats", "--by", "customer", "--all", "--json").stdout
    every = json.loads(text)
    rows = [line for line in text.splitlines() if line.startswith('    {"key": ')]
    assert [json.loads(line.rstrip(",")) for line in rows] == every["by"]  # streamed: a row a line
    assert (len(every["by"]), every["more"]) == (25, 0)
    assert every["by"][-2:] == [
        {**every["by"][-2], "key": "Customer 01", "promises": 2, "overdue": 1},
        {**every["by"][-1], "key": "Customer 02", "promises": 2, "overdue": 0},
    ]
    assert {k: v for k, v in every.items() if k not in ("by", "more")} == {
        k: v for k, v in top.items() if k not in ("by", "more")
    }
    rows = pk("stats", "--by", "customer", "--all", "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("key,promises,fulfilled,")
    assert [r.split(",")[0] for r in rows[1:3]] == ["total", "Customer 25"]
    assert len(rows) == 1 + 1 + 25
    assert pkj("stats", "--by", "customer")["more"] == 5


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--limit", "3"), "--limit and --all choose customers; give them with --by customer."),
        (("--by", "staff", "--all"), "--limit and --all choose customers; give them with --by customer."),
        (("--by", "customer", "--limit", "2", "--all"), "--limit and --all contradict each other"),
        (("--by", "customer", "--limit", "0"), "--limit"),
    ],
)
def test_limit_and_all_refused_where_they_mean_nothing(pk: Pk, args: tuple[str, ...], says: str) -> None:
    result = pk("stats", *args)
    assert result.exit_code == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_readiness_view_in_the_table_and_the_json(pk: Pk, pkj: PkJson, cli_env: dict[str, str]) -> None:
    """Boots ready before its due, collected two days late: on time. Tent made ready a day late, its
    supply order arrived after the due: late because of the supplier. Rope collected late, never
    marked ready: late on our side."""
    start = clock_at("2026-11-10T10:00:00+01:00")
    due = Due(end_of_day(start.today + timedelta(days=2), start.tz), date_only=True)
    db = Database(cli_env["PK_DB"])
    with db.session() as s:
        boots, tent, rope = (
            store.add_promise(s, clock=start, what=what, due=due, customer="Anna") for what in ("B", "T", "R")
        )
        for pid, ready in ((boots, due.moment - timedelta(hours=5)), (tent, due.moment + timedelta(days=1))):
            p = s.get(Promise, pid)
            assert p is not None
            p.ready_at = ready
            sync(s, p, start)
        order = SupplyOrder(
            supplier="Alpina", what="Tent", created=start.now, received_at=due.moment + timedelta(hours=20)
        )
        s.add(order)
        s.flush()
        s.add(SupplyLink(promise_id=tent, order_id=order.id or 0))
    collect = clock_at("2026-11-14T11:00:00+01:00")
    with db.session() as s:
        for pid in (boots, tent, rope):
            store.deliver(s, clock=collect, promise_id=pid)
    figures = pkj("stats")
    assert {k: figures[k] for k in ("late", "late_supplier", "late_ours", "collected_late")} == {
        "late": 2,
        "late_supplier": 1,
        "late_ours": 1,
        "collected_late": 1,
    }
    assert figures["on_time_rate"] == round(1 / 3, 4)
    table = " ".join(pk("stats").stdout.split())
    assert "Late: 2 — 1 because of a supplier (the order arrived after the due), 1 on our side." in table
    assert "1 pickup was ready by the due and collected later: on time." in table
    assert pkj("stats", "--by", "customer")["by"][0]["late_supplier"] == 1


@pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")
def test_every_customer_streams_through_the_installed_pk(tmp_path: Path) -> None:
    target = str(tmp_path / "p.db")
    shop(target, 30)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PK_")}, **env_in(tmp_path, target)}
    done = subprocess.run(
        [str(PK), "stats", "--by", "customer", "--all", "--json"],
        capture_output=True,
        text=True,
        env={**env, "PK_NOW": NOW},
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    every = json.loads(done.stdout)
    assert [row["key"] for row in every["by"]][:2] == ["Customer 30", "Customer 29"]
    assert len(every["by"]) == 30
