"""Several tills on one PostgreSQL server: writes at once from many processes, the write lock and its
wait, transactions the server asks to replay, its errors as one sentence, and the schema on both engines.

The store and CLI suites already run on PostgreSQL through the parametrised ``db``/``cli_env``
fixtures (tests/conftest.py); this module holds what only a server shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from promisekeeper import store
from promisekeeper.db import PG_WRITE_LOCK, Database
from promisekeeper.errors import BadInput, StorageError
from promisekeeper.models import SCHEMA_VERSION
from promisekeeper.money import Money
from promisekeeper.views import Kind, StatsBy
from promisekeeper.when import Clock, Due, end_of_day
from tests.conftest import SQL, postgres_schema, postgres_url

PK = Path(sys.executable).parent / "pk"
NOW = "2026-11-22T10:00:00+01:00"
pytestmark = pytest.mark.slow  # a real PostgreSQL server, and most tests start pk as processes
needs_pk = pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed here")


@pytest.fixture
def pg_target() -> Iterator[str]:
    """A URL of a new, empty PostgreSQL schema for this test alone (skipped without a server)."""
    with postgres_schema(postgres_url()) as url:
        yield url


def pk_env(target: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PK_")}
    env.update(
        PK_DB=target,
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW=NOW,
        NO_COLOR="1",
        XDG_DATA_HOME=str(tmp_path / "data"),
        **extra,
    )
    return env


def run_pk(target: str, tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PK), *args],
        capture_output=True,
        text=True,
        env=pk_env(target, tmp_path, **extra),
        timeout=120,
        check=False,
    )


# --- many tills at once ----------------------------------------------------------------------------

# One till: a long-lived process that runs the installed ``pk`` script again and again, as a clerk
# would from a shell, but paying Python's start-up once (800 separate processes take minutes on two
# cores). Each run opens its own connections, exactly as a separate process does.
TILL = textwrap.dedent(
    """
    import contextlib, io, json, runpy, sys

    def pk(*args):
        out, err = io.StringIO(), io.StringIO()
        sys.argv = ["pk", *args]
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                runpy.run_path(PK, run_name="__main__")
            except SystemExit as exc:
                code = exc.code or 0
        return code, out.getvalue(), err.getvalue()

    PK, till, shared, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    added, failures = [], []
    for i in range(rounds):
        who = f"Customer {i % 5}"
        code, out, err = pk("promise", "add", f"Item {till}-{i}", "-c", who, "-d", "today", "--json")
        if code == 0:
            added.append(json.loads(out)["id"])
        else:
            failures.append(["add", code, err])
        code, out, err = pk("deliver", shared, "--qty", "1", "--no-followup", "--json")
        if code != 0 or err:
            failures.append(["deliver", code, err])
    print(json.dumps({"added": added, "failures": failures}))
    """
)


@needs_pk
def test_eight_tills_adding_and_delivering_at_once_lose_nothing(pg_target: str, tmp_path: Path) -> None:
    tills, rounds = 8, 50
    first = run_pk(pg_target, tmp_path, "promise", "add", "Firewood", "-q", str(tills * rounds), "-d", "3d")
    assert first.returncode == 0, first.stderr
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TILL, str(PK), str(t), "1", str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=pk_env(pg_target, tmp_path),
        )
        for t in range(tills)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert [r["failures"] for r in results] == [
        []
    ] * tills  # no error, serialization or other, reached a till
    added = [pid for r in results for pid in r["added"]]
    assert len(added) == tills * rounds
    assert len(set(added)) == len(added)
    assert 1 not in added

    sql = SQL(pg_target)
    assert sql.count("promise") == tills * rounds + 1
    assert sorted(r[0] for r in sql.rows("SELECT name FROM customer")) == [f"Customer {i}" for i in range(5)]
    assert sql.rows("SELECT state, delivered_quantity FROM promise WHERE id = 1") == [
        ("fulfilled", tills * rounds)
    ]
    assert sql.rows("SELECT count(*), sum(quantity) FROM delivery WHERE promise_id = 1") == [
        (tills * rounds, tills * rounds)
    ]
    events = dict(sql.rows("SELECT kind, count(*) FROM event WHERE promise_id = 1 GROUP BY kind"))
    assert events == {"promised": 1, "delivered": tills * rounds, "fulfilled": 1}


@needs_pk
def test_eight_tills_starting_at_once_on_a_new_database_create_it_once(
    pg_target: str, tmp_path: Path
) -> None:
    env = pk_env(pg_target, tmp_path)
    procs = [
        subprocess.Popen(
            [str(PK), "promise", "add", f"Boots {i}", "-c", "Anna Smith", "-d", "tue"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(8)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert (proc.returncode, err) == (0, ""), err
        assert out.startswith("Promised #")
    sql = SQL(pg_target)
    assert sql.count("promise") == 8
    assert sql.count("customer") == 1
    assert sql.rows("SELECT key, value FROM pk_meta") == [("schema_version", str(SCHEMA_VERSION))]


# --- the write lock ------------------------------------------------------------------------------------


@needs_pk
def test_a_writer_waits_for_the_lock_up_to_the_busy_timeout_and_readers_never_wait(
    pg_target: str, tmp_path: Path
) -> None:
    assert run_pk(pg_target, tmp_path, "promise", "add", "Boots", "-d", "today").returncode == 0
    holder = sa.create_engine(pg_target, poolclass=sa.pool.NullPool)
    try:
        with holder.begin() as conn:
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%(k)s, hashtext(coalesce(current_schema(), '')))",
                {"k": PG_WRITE_LOCK},
            )
            blocked = run_pk(pg_target, tmp_path, "deliver", "1", PK_BUSY_TIMEOUT_MS="300")
            reading = run_pk(pg_target, tmp_path, "due", PK_BUSY_TIMEOUT_MS="300")
    finally:
        holder.dispose()
    assert blocked.returncode == 4
    assert blocked.stderr.startswith("pk: The database ")
    assert "locked by another program beyond the 300 ms wait; try again." in blocked.stderr
    assert blocked.stderr.count("\n") == 1
    assert reading.returncode == 0, reading.stderr
    assert "Boots" in reading.stdout
    after = run_pk(pg_target, tmp_path, "deliver", "1")
    assert after.returncode == 0, after.stderr


# --- transactions the server asks to replay ----------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    return Clock(now=datetime(2026, 11, 22, 10, 0, tzinfo=tz), tz=tz)


def _raise(session: Session, sqlstate: str) -> None:
    session.connection().exec_driver_sql(
        f"DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '{sqlstate}'; END $$"
    )


def test_a_server_error_gives_exit_4_and_writes_nothing(pg_target: str, clock: Clock) -> None:
    db = Database(pg_target)

    def work() -> None:
        with db.session() as session:
            store.add_promise(session, clock=clock, what="Boots", due=Due(clock.now, False))
            _raise(session, "22012")

    with pytest.raises(StorageError) as caught:
        work()
    assert caught.value.exit_code == 4
    assert SQL(pg_target).count("promise") == 0


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization_failure", "deadlock"])
def test_a_transaction_the_server_aborts_is_one_sentence(pg_target: str, sqlstate: str) -> None:
    db = Database(pg_target)
    with (
        pytest.raises(StorageError, match=r"was busy with other tills' changes .*; try again\.$"),
        db.session() as s,
    ):
        _raise(s, sqlstate)


# --- the server's errors as one sentence -----------------------------------------------------------------


def _with(url: str, **parts: Any) -> str:
    return sa.make_url(url).set(**parts).render_as_string(hide_password=False)


def _have_psycopg() -> bool:
    import importlib.util

    return importlib.util.find_spec("psycopg") is not None


@needs_pk
@pytest.mark.skipif(not _have_psycopg(), reason="psycopg is not installed (the postgres extra)")
def test_a_server_that_is_not_there_is_exit_4_in_one_sentence_without_the_password(tmp_path: Path) -> None:
    result = run_pk("postgresql+psycopg://shop:s3cret@127.0.0.1:1/promises", tmp_path, "due")
    assert result.returncode == 4
    assert result.stderr.startswith("pk: Cannot reach the database server of postgresql+psycopg://shop:***@")
    assert "check that it is running" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "s3cret" not in result.stderr


@needs_pk
@pytest.mark.skipif(_have_psycopg(), reason="psycopg is installed here, so the driver is not missing")
def test_a_postgresql_url_without_the_driver_says_which_extra_to_install(tmp_path: Path) -> None:
    result = run_pk("postgresql+psycopg://shop:s3cret@127.0.0.1:1/promises", tmp_path, "due")
    assert result.returncode == 4
    extra = "pip install 'promisekeeper[postgres]'"
    assert result.stderr == f"pk: No driver for postgresql+psycopg; install it ({extra}).\n"


@needs_pk
@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ({"username": "pk_no_such_role"}, "refused the login"),
        ({"database": "pk_no_such_database"}, "does not exist on the server"),
    ],
    ids=["login", "database"],
)
def test_a_refused_login_or_a_missing_database_is_exit_4_in_one_sentence(
    tmp_path: Path, parts: dict[str, str], words: str
) -> None:
    result = run_pk(_with(postgres_url(), **parts), tmp_path, "due")
    assert result.returncode == 4
    assert result.stderr.startswith("pk: ")
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


# --- what is stored, and the schema ----------------------------------------------------------------------


def test_money_is_stored_in_minor_units_and_moments_in_utc(pg_target: str, clock: Clock) -> None:
    due = Due(end_of_day(clock.today.replace(day=24), clock.tz), date_only=True)
    with Database(pg_target).session() as s:
        store.add_promise(s, clock=clock, what="Boots", due=due, price=Money(Decimal("240.50"), "EUR"))
    assert SQL(pg_target).rows("SELECT price_minor, currency, due FROM promise") == [
        (24050, "EUR", datetime(2026, 11, 24, 22, 59, 59, 999999))
    ]


# --- moving a book: pk db copy ---------------------------------------------------------------------------


def _book(target: str, clock: Clock) -> None:
    """A small book with every kind of row: tags, partial and deviated deliveries, remedies, follow-ups."""
    later = Clock(now=clock.now + timedelta(days=3), tz=clock.tz)
    db = Database(target)
    with db.session() as s:
        store.add_customer(s, clock=clock, name="Anna Smith", email="anna@example.com")
        boots = store.add_promise(
            s,
            clock=clock,
            what="Boots",
            due=Due(clock.now + timedelta(days=1), False),
            customer="Anna Smith",
            quantity=2,
            price=Money(Decimal("240"), "EUR"),
            tags=["boots", "order"],
            staff="Jo",
        )
        tent = store.add_promise(s, clock=clock, what="Tent", due=Due(clock.now + timedelta(hours=2), False))
        call = store.add_promise(
            s, clock=clock, what="Call Ben", due=Due(clock.now, False), kind=Kind.callback
        )
        gone = store.add_promise(s, clock=clock, what="Skis", due=Due(clock.now, False), customer="Carla")
    with db.session() as s:
        store.deliver(s, clock=clock, promise_id=boots, quantity=1)
        store.cancel(s, clock=clock, promise_id=gone, reason="Found elsewhere")
        store.amend(
            s, clock=clock, promise_id=call, reason="Ben asked", due=Due(clock.now + timedelta(days=2), False)
        )
    with db.session() as s:
        store.deliver(
            s, clock=later, promise_id=boots, price=Money(Decimal("250"), "EUR"), followup_after=["2d"]
        )
        store.deliver(s, clock=later, promise_id=tent, what="Tent (green)")
    with db.session() as s:
        store.remedy(s, clock=later, promise_id=tent, action="Swapped it", prevent="Check the colour")


def _everything(target: str, clock: Clock) -> tuple[Any, ...]:
    with Database(target).session(write=False) as s:
        views = store.list_promises(s, clock=clock)
        return (
            [store.view(s, v.id, clock, detail=True) for v in views],
            store.customer_list(s, clock=clock),
            store.stats(s, clock=clock, by=StatsBy.customer),
        )


def test_a_book_is_copied_whole_with_its_ids_into_an_empty_database(
    db_target: str, tmp_path: Path, clock: Clock
) -> None:
    source = str(tmp_path / "till.db")
    _book(source, clock)
    counts = store.copy_book(source, db_target)
    assert counts["promise"] == 5
    assert counts["promise_tag"] == 2
    assert _everything(db_target, clock) == _everything(source, clock)
    with Database(db_target).session() as s:  # the ids go on where the source's ended
        assert store.add_promise(s, clock=clock, what="Socks", due=Due(clock.now, False)) == 6
    with pytest.raises(BadInput, match="already holds promises"):
        store.copy_book(source, db_target)


@needs_pk
def test_pk_db_copy_says_what_it_copied_and_refuses_the_same_database(tmp_path: Path, clock: Clock) -> None:
    source = str(tmp_path / "till.db")
    _book(source, clock)
    done = run_pk(source, tmp_path, "db", "copy", source, str(tmp_path / "copy.db"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Copied 5 promises, 2 customers and ")
    same = run_pk(source, tmp_path, "db", "copy", source, str(tmp_path / "." / "till.db"))
    assert same.returncode == 2
    assert same.stderr == "pk: The source and the target are the same database; give another target.\n"
