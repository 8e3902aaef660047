"""Shared fixtures: the shop's zone, a pinned clock and a fresh database per test, on every engine.

A test that asks for ``db`` (or ``db_target``, the path or URL) runs once on a new SQLite file and once
on PostgreSQL in a schema of its own, made for it and dropped after it; the PostgreSQL run is skipped
where ``PK_TEST_POSTGRES_URL`` is not set. A test that inspects the SQLite file itself is marked
``sqlite_only`` and runs on SQLite alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from promisekeeper.db import Database
from promisekeeper.when import Clock

BERLIN = ZoneInfo("Europe/Berlin")
POSTGRES_URL_VAR = "PK_TEST_POSTGRES_URL"
NO_POSTGRES = f"{POSTGRES_URL_VAR} is not set: no PostgreSQL server to test against"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: inspects the SQLite file itself; runs on SQLite only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a database runs on each engine (``engine`` is ``sqlite`` or ``postgres``)."""
    if "engine" not in metafunc.fixturenames:
        return
    params = [pytest.param("sqlite", id="sqlite")]
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        # A real PostgreSQL server is a slow test's business: ``-m "not slow"`` runs on SQLite alone.
        params.append(pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.slow]))
    metafunc.parametrize("engine", params)


def postgres_url() -> str:
    """The test server's URL, or a skip saying why there is none."""
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if not url:
        pytest.skip(NO_POSTGRES)
    return url


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema (via ``search_path``); dropped afterwards."""
    import sqlalchemy as sa

    schema = f"pk_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        base = sa.make_url(url)
        given = base.query.get("options") or ()
        options = " ".join([*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"])
        scoped = base.update_query_dict({"options": options})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def db_target(engine: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for this test alone: a SQLite file path or a PostgreSQL URL."""
    if engine == "sqlite":
        yield str(tmp_path / "p.db")
        return
    with postgres_schema(postgres_url()) as url:
        yield url


class SQL:
    """Plain SQL on a test database, for asserting on what was stored, on either engine."""

    def __init__(self, target: str) -> None:
        self.target = target

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; the rows it returns, if any."""
        import sqlalchemy as sa

        url = self.target if "://" in self.target else f"sqlite:///{self.target}"
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                result = conn.exec_driver_sql(statement)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) FROM {table}")[0][0])

    def dump(self) -> str:
        """Every value in every table, as one text (to prove that something is nowhere in the database)."""
        import sqlalchemy as sa

        url = self.target if "://" in self.target else f"sqlite:///{self.target}"
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                tables = sa.inspect(conn).get_table_names()
                return "\n".join(
                    repr(tuple(row)) for t in tables for row in conn.exec_driver_sql(f'SELECT * FROM "{t}"')
                )
        finally:
            engine.dispose()


@pytest.fixture
def db_sql(db_target: str) -> SQL:
    return SQL(db_target)


@pytest.fixture
def tz() -> ZoneInfo:
    return BERLIN


@pytest.fixture
def clock(tz: ZoneInfo) -> Clock:
    """Sunday 22 Nov 2026, 10:00 in Berlin."""
    return Clock(now=datetime(2026, 11, 22, 10, 0, tzinfo=tz), tz=tz)


@pytest.fixture
def db(db_target: str) -> Database:
    """A new database (a file in ``tmp_path``, or a PostgreSQL schema): never shared, never mocked."""
    return Database(db_target)
