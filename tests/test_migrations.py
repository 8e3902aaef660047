"""The Alembic revisions: 0001 is release 1's schema, 0002 turns its history into data, losing nothing,
0003 keeps the sent-log per recipient, 0005 keeps the totals of the settled promises.

Run on a new SQLite file and, where ``PK_TEST_POSTGRES_URL`` is set, on PostgreSQL in a schema of its
own. The book is a real one, written by release 1 (``tests/data/release1/make_book.py``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from promisekeeper import migrations
from promisekeeper.models import KEPT

DATA = Path(__file__).parent / "data" / "release1"
TZ = "Europe/Berlin"
# The book's events that cannot be read back with certainty (see test_legacy.EXPECTED_NOTES).
NOTES = {59, 60}
PARTIAL_INDEX = "ix_promise_needs_remedy"


def target_metadata() -> list[sa.MetaData]:
    """The schema as the models declare it (and the kept totals, ``models.KEPT``): the migrations must
    arrive at exactly this."""
    return [SQLModel.metadata, KEPT]


def make_engine(target: str) -> sa.Engine:
    """An engine as pk's own: on SQLite, foreign keys on and a real BEGIN, so DDL is in the transaction."""
    if "://" in target:
        return sa.create_engine(target, poolclass=sa.pool.NullPool)
    engine = sa.create_engine(f"sqlite:///{target}", poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@pytest.fixture
def book(db_target: str) -> Iterator[sa.Engine]:
    """Release 1's book (``book.sql``) in a new database: a SQLite file, or PostgreSQL made by 0001."""
    engine = make_engine(db_target)
    script = (DATA / "book.sql").read_text(encoding="utf-8")
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(db_target)) as conn:
            conn.executescript(script)
    else:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "0001")
            conn.exec_driver_sql("DELETE FROM pk_meta")
        source = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
        with source.connect() as read:
            read.connection.driver_connection.executescript(script)  # type: ignore[union-attr]
            tables = sa.MetaData()
            tables.reflect(read)
            with engine.begin() as write:
                for table in tables.sorted_tables:
                    rows = [dict(r) for r in read.execute(sa.select(table)).mappings()]
                    if rows:
                        write.execute(table.insert(), rows)
        source.dispose()
    yield engine
    engine.dispose()


def differences(conn: sa.Connection) -> list[Any]:
    """What ``compare_metadata`` finds between the database and ``target_metadata()``.

    The partial index ``ix_promise_needs_remedy`` is made in the dialect's own SQL (by 0001, and by
    the models' ``after_create`` listener); it is checked on its own by ``partial_index``.
    """

    def include_name(name: str | None, kind: str, parent: Any) -> bool:
        return not (kind == "index" and name == PARTIAL_INDEX)

    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
    # Alembic compares with a sequence of MetaData too (autogenerate's target_metadata); its hint says one.
    return list(compare_metadata(context, target_metadata()))  # type: ignore[arg-type]


def partial_index(conn: sa.Connection) -> str:
    """The WHERE of ``ix_promise_needs_remedy`` as the database holds it, white space collapsed."""
    if conn.dialect.name == "sqlite":
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (PARTIAL_INDEX,)
        ).scalar_one()
    else:
        sql = conn.exec_driver_sql(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index JOIN pg_class c ON c.oid = indexrelid "
            "WHERE c.relname = %(name)s AND pg_table_is_visible(c.oid)",
            {"name": PARTIAL_INDEX},
        ).scalar_one()
    return " ".join(str(sql).split(" WHERE ", 1)[1].split())


def history() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((DATA / "history.json").read_text(encoding="utf-8"))
    return events


def naive_utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)


def rows(conn: sa.Connection, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2"))]


# --- the revisions -----------------------------------------------------------------------------------


def test_0001_then_0002_make_the_schema_of_the_models(db_target: str) -> None:
    engine = make_engine(db_target)
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "head")
        with engine.connect() as conn:
            assert differences(conn) == []
            assert "remedied" in partial_index(conn)
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0005"
            meta = conn.exec_driver_sql("SELECT value FROM pk_meta WHERE key = 'schema_version'").scalar_one()
            assert meta == str(migrations.HEAD) == "5"
    finally:
        engine.dispose()


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str, str | None]]:
    found = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version' ORDER BY name"
    )
    return [
        (kind, name, None if sql is None else " ".join(sql.replace('"', "").split()))
        for kind, name, sql in found
    ]


def test_0001_is_exactly_the_schema_release_1_created(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    engine = make_engine(str(path))
    with engine.begin() as conn:
        command.upgrade(migrations.config(conn), "0001")
    engine.dispose()
    with closing(sqlite3.connect(path)) as made, closing(sqlite3.connect(":memory:")) as release1:
        release1.executescript((DATA / "book.sql").read_text(encoding="utf-8"))
        assert _schema(made) == _schema(release1)
        assert made.execute("SELECT * FROM pk_meta").fetchall() == [("schema_version", "1")]


# --- a real release-1 book ---------------------------------------------------------------------------


def test_a_release_1_book_keeps_every_event_and_every_promise(book: sa.Engine) -> None:
    old = history()
    with book.connect() as conn:
        promises_before = rows(conn, "promise")
        customers_before = rows(conn, "customer")
        deliveries_before = rows(conn, "delivery")
    with book.begin() as conn:
        migrations.upgrade(conn, from_version=1, tz=TZ)
    with book.connect() as conn:
        assert differences(conn) == []
        # Schema 4 appends columns, empty (or "none" consent) on every row that was there.
        assert [r[: len(promises_before[0])] for r in rows(conn, "promise")] == promises_before
        assert {r[len(promises_before[0]) :] for r in rows(conn, "promise")} == {(None,) * 4}
        assert [r[: len(customers_before[0])] for r in rows(conn, "customer")] == customers_before
        assert {r[len(customers_before[0]) :] for r in rows(conn, "customer")} == {(None, "none")}
        assert rows(conn, "delivery") == deliveries_before
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0005"
        assert conn.exec_driver_sql("SELECT value FROM pk_meta").scalar_one() == "5"
        owner: dict[int, int | None] = dict(conn.exec_driver_sql("SELECT id, customer_id FROM promise").all())
        changes = {
            r.id: (r.at, r.command)
            for r in conn.execute(sa.text("SELECT id, at, command FROM change").columns(at=sa.DateTime()))
        }
        query = "SELECT id, change_id, promise_id, customer_id, at, kind, data FROM event ORDER BY id"
        new_rows = conn.execute(sa.text(query).columns(at=sa.DateTime(), data=sa.JSON())).all()
    assert len(new_rows) == len(old) == 66
    assert [r.id for r in new_rows] == [e["id"] for e in old]
    assert len(changes) == len({e["at"] for e in old})
    for e, r in zip(old, new_rows, strict=True):
        assert (r.promise_id, r.at) == (e["promise_id"], naive_utc(e["at"]))
        assert r.customer_id == owner[e["promise_id"]]
        assert changes[r.change_id] == (r.at, "legacy")
        if e["id"] in NOTES:
            assert (r.kind, r.data) == ("note", {"text": e["detail"], "event": e["event"]})
        else:
            assert r.kind == {"notice": "notice_drafted"}.get(e["event"], e["event"])
    assert sum(r.kind == "note" for r in new_rows) == len(NOTES)
    with book.begin() as conn:  # the next event and change get the next ids (PostgreSQL: its sequences)
        change = conn.execute(
            sa.text("INSERT INTO change (at, command) VALUES (:at, 'test') RETURNING id"),
            {"at": datetime(2026, 12, 1)},
        ).scalar_one()
        added = conn.execute(
            sa.text(
                "INSERT INTO event (change_id, at, kind, data) VALUES (:c, :at, 'note', '{}') RETURNING id"
            ),
            {"c": change, "at": datetime(2026, 12, 1)},
        ).scalar_one()
    assert (change, added) == (len(changes) + 1, len(old) + 1)


def test_the_upgrade_of_a_book_at_the_head_does_nothing(book: sa.Engine) -> None:
    with book.begin() as conn:
        migrations.upgrade(conn, from_version=1, tz=TZ)
    with book.connect() as conn:
        before = rows(conn, "event")
    with book.begin() as conn:
        migrations.upgrade(conn, from_version=migrations.HEAD, tz=TZ)
    with book.connect() as conn:
        assert rows(conn, "event") == before


def test_a_failed_upgrade_leaves_the_book_as_it_was(tmp_path: Path) -> None:
    """All in the caller's transaction: an event whose promise is gone stops it, and nothing changed."""
    path = tmp_path / "book.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript((DATA / "book.sql").read_text(encoding="utf-8"))
        conn.execute("INSERT INTO event (promise_id, at, event, detail) VALUES (999, '2026-11-28', 'x', 'y')")
        conn.commit()
        before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    engine = make_engine(str(path))
    with pytest.raises(RuntimeError, match="67 history events but 66 converted"), engine.begin() as conn:
        migrations.upgrade(conn, from_version=1, tz=TZ)
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
        assert conn.execute("SELECT count(*) FROM event").fetchone() == (67,)


def test_migrations_do_not_load_alembic_until_asked() -> None:
    import subprocess
    import sys

    code = "import sys, promisekeeper.migrations, promisekeeper.legacy; print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ValueError, match="no migration from schema version 6"):
        migrations.upgrade(None, from_version=6, tz=TZ)  # type: ignore[arg-type]


def test_revision_ids_follow_the_schema_versions() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.config(None))  # type: ignore[arg-type]
    assert script.get_current_head() == migrations.revision_of(migrations.HEAD)
    assert [r.revision for r in script.walk_revisions()] == ["0005", "0004", "0003", "0002", "0001"]
    assert re.fullmatch(r"\d{4}", migrations.revision_of(1))


# --- 0003: the sent-log per recipient ------------------------------------------------------------------


def test_0003_gives_every_recipient_of_an_old_report_its_own_row(book: sa.Engine) -> None:
    """Reports mailed before the upgrade (release 1's and more): each address (any case, each once)
    becomes a ``sent_to`` row, so ``--only-new`` goes on knowing who was told; the items stay, no due."""
    with book.begin() as conn:
        cfg = migrations.config(conn, tz=TZ)
        command.stamp(cfg, "0001")
        command.upgrade(cfg, "0002")
        old = {r.id: r.recipients for r in conn.execute(sa.text("SELECT id, recipients FROM sent_report"))}
        at = datetime(2026, 11, 23, 6, 30)
        added = {901: "owner@example.com, Jo@Example.com, jo@example.com", 902: "Jo@Example.com", 903: ""}
        for rid, recipients in added.items():
            conn.execute(
                sa.text(
                    "INSERT INTO sent_report (id, at, recipients, subject, overdue, due) "
                    "VALUES (:id, :at, :r, 's', 1, 0)"
                ),
                {"id": rid, "at": at, "r": recipients},
            )
        conn.execute(
            sa.text("INSERT INTO sent_item (report_id, promise_id, section) VALUES (901, 1, 'overdue')")
        )
        items = rows(conn, "sent_item")
    assert old, "release 1's book has sent reports"
    with book.begin() as conn:
        migrations.upgrade(conn, from_version=2, tz=TZ)
    with book.connect() as conn:
        assert differences(conn) == []
        sent_to = rows(conn, "sent_to")
        assert [r for r in sent_to if r[0] > 900] == [
            (901, "jo@example.com"),
            (901, "owner@example.com"),
            (902, "jo@example.com"),
        ]
        for rid, recipients in old.items():
            assert {a for r, a in sent_to if r == rid} == {a.strip().lower() for a in recipients.split(",")}
        assert rows(conn, "sent_item") == [(*item, None) for item in items]
        assert conn.exec_driver_sql("SELECT value FROM pk_meta").scalar_one() == str(migrations.HEAD)
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0005"


# --- 0005: the kept totals -----------------------------------------------------------------------------


def _triggers(conn: sa.Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    else:
        query = (
            "SELECT DISTINCT tgname FROM pg_trigger JOIN pg_class c ON c.oid = tgrelid "
            "WHERE c.relname = 'promise' AND NOT tgisinternal AND pg_table_is_visible(c.oid) ORDER BY tgname"
        )
    return [str(name) for name in conn.exec_driver_sql(query).scalars()]


def test_0005_counts_the_kept_totals_of_the_book_there_and_keeps_them(book: sa.Engine) -> None:
    """A release-1 book upgraded: the kept totals are the book's own figures (as counted from every
    promise), the triggers are those of a new book, and a write after the upgrade keeps them."""
    from sqlmodel import Session

    from promisekeeper import store
    from promisekeeper.views import StatsBy
    from promisekeeper.when import Clock

    tz = ZoneInfo(TZ)
    clock = Clock(now=datetime(2026, 12, 1, 9, tzinfo=tz), tz=tz)
    with book.begin() as conn:
        migrations.upgrade(conn, from_version=1, tz=TZ)
    with book.connect() as conn:
        assert _triggers(conn) == ["tally_delete", "tally_insert", "tally_update"]
        assert conn.exec_driver_sql("SELECT count(*) FROM tally_customer").scalar_one() > 0

    def both() -> list[tuple[Any, Any]]:
        with Session(book) as s:
            return [
                (store.stats(s, clock=clock, by=by), store.stats(s, clock=clock, by=by, kept=False))
                for by in (None, StatsBy.customer, StatsBy.staff, StatsBy.kind)
            ]

    for kept, counted in both():
        assert kept == counted
        assert kept.total.promises > 0
    with book.begin() as conn:  # writes straight in SQL (the copied book's ids have no sequence here)
        conn.execute(
            sa.text("UPDATE promise SET state = 'cancelled', closed_at = :at WHERE state = 'active'"),
            {"at": datetime(2026, 11, 30, 12)},
        )
        conn.execute(sa.text("UPDATE promise SET customer_id = NULL WHERE id = 1"))
    for kept, counted in both():
        assert kept == counted


# --- 0004: suppliers, pickup, deposits and customer messages -------------------------------------------

_JUDGED = (
    "SELECT id, state, fulfilled_at, delivered_quantity, charged_minor, late_seconds, dev_late, "
    "dev_substituted, dev_price, dev_short, dev_excess FROM promise ORDER BY id"
)


def _judgements_from_rows(conn: sa.Connection, now: datetime) -> dict[int, tuple[Any, ...]]:
    """Every promise judged by ``rules.assess`` from its rows alone (what schema 3 holds)."""
    from promisekeeper.rules import assess, money_of
    from promisekeeper.views import Fulfilment, Terms

    def aware(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=UTC) if moment is not None else None

    stamp = {"due": sa.DateTime(), "closed_at": sa.DateTime(), "at": sa.DateTime()}
    query = "SELECT id, what, quantity, price_minor, currency, due, state, closed_at FROM promise"
    promises = conn.execute(sa.text(query).columns(**{k: stamp[k] for k in ("due", "closed_at")})).all()
    query = "SELECT promise_id, at, what, quantity, price_minor, currency FROM delivery ORDER BY at, id"
    deliveries: dict[int, list[Fulfilment]] = {}
    for d in conn.execute(sa.text(query).columns(at=sa.DateTime())):
        got = Fulfilment(
            at=aware(d.at) or now, what=d.what, quantity=d.quantity, price=money_of(d.price_minor, d.currency)
        )
        deliveries.setdefault(d.promise_id, []).append(got)
    judged = {}
    for p in promises:
        terms = Terms(
            what=p.what,
            quantity=p.quantity,
            price=money_of(p.price_minor, p.currency),
            due=aware(p.due) or now,
        )
        outcome = assess(
            terms,
            deliveries.get(p.id, []),
            now=now,
            closed_at=aware(p.closed_at) if p.state == "fulfilled" else None,
            cancelled=p.state == "cancelled",
        )
        judged[p.id] = (str(outcome.status), outcome.deviation_kinds, outcome.late_by_seconds)
    return judged


def test_0004_keeps_the_judgement_of_every_promise_of_an_old_book(book: sa.Engine) -> None:
    """A book at schema 3 upgraded to 4: every promise keeps its stored outcome and is judged as before
    (a delivery promise is a pickup never marked ready, judged by its collection); it waits for no
    order, holds no deposit and is at risk of nothing; the customers consented to nothing."""
    from zoneinfo import ZoneInfo

    from sqlmodel import Session, select

    from promisekeeper.models import Promise
    from promisekeeper.store.base import sync, views
    from promisekeeper.when import Clock

    tz = ZoneInfo(TZ)
    clock = Clock(now=datetime(2026, 12, 1, 9, tzinfo=tz), tz=tz)
    with book.begin() as conn:
        cfg = migrations.config(conn, tz=TZ)
        command.stamp(cfg, "0001")
        command.upgrade(cfg, "0003")
    with book.connect() as conn:
        stored = conn.exec_driver_sql(_JUDGED).all()
        before = _judgements_from_rows(conn, clock.now)
    assert {status for status, _, _ in before.values()} >= {"kept", "deviated", "open", "overdue"}
    with book.begin() as conn:
        command.upgrade(migrations.config(conn, tz=TZ), "0004")
    with book.connect() as conn:
        assert conn.exec_driver_sql(_JUDGED).all() == stored
        assert conn.exec_driver_sql("SELECT value FROM pk_meta").scalar_one() == "4"
        assert conn.exec_driver_sql("SELECT DISTINCT consent FROM customer").scalars().all() == ["none"]
    with Session(book) as session:
        promises = list(session.exec(select(Promise).order_by(Promise.id)).all())  # type: ignore[arg-type]
        for p in views(session, promises, clock):
            assert (str(p.status), p.outcome.deviation_kinds, p.outcome.late_by_seconds) == before[p.id]
            assert p.handover == ("pickup" if p.kind == "delivery" else None)
            assert (p.ready_at, p.deposit, p.balance, p.orders, p.risk) == (None, None, None, (), None)
        names = [c.strip() for c in _JUDGED.removeprefix("SELECT id, state,").split(" FROM ")[0].split(",")]
        for promise in promises:  # judged again under schema 4's rules: not one stored column moves
            kept = {name: getattr(promise, name) for name in names}
            sync(session, promise, clock)
            assert {name: getattr(promise, name) for name in names} == kept, promise.id
        session.rollback()
