"""The engine for a path or URL, the schema version and migrations, and the one-transaction session scope.

SQLite gets WAL, a busy timeout, foreign keys and a new file readable by its owner only. Write
commands take the write lock at ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
of one failing with "database is locked" when it upgrades a read lock.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col

from promisekeeper.errors import StorageError
from promisekeeper.models import SCHEMA_VERSION, Meta

BUSY_TIMEOUT_MS = 15_000

# Ordered migrations: MIGRATIONS[n] takes a database at schema version n to n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def is_url(target: str) -> bool:
    return "://" in target


def describe(target: str) -> str:
    """The database as the user named it, without a password."""
    if is_url(target):
        return sa.make_url(target).render_as_string(hide_password=True)
    return target


def _prepare_sqlite_file(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"Cannot create the database {path}: {exc.strerror}.") from exc
    if path.is_dir():
        raise StorageError(f"The database path {path} is a directory; give a file name.")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is issued by _sqlite_begin, with the right lock
    # SQLite's own lower() folds only A-Z; Python's folds every script, as PostgreSQL's does.
    dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("pk_write", True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(target: str) -> Engine:
    """An engine for a file path or a SQLAlchemy URL (``postgresql+psycopg://…``)."""
    if is_url(target):
        try:
            url = sa.make_url(target)
        except sa.exc.ArgumentError as exc:
            raise StorageError(
                f"Cannot read the database URL {target!r}; use e.g. postgresql+psycopg://host/db."
            ) from exc
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return make_engine(url.database)
        try:
            return sa.create_engine(url, poolclass=sa.pool.NullPool)
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            raise StorageError(
                f"No driver for {url.drivername}; install it (pip install 'promisekeeper[postgres]')."
            ) from exc
    path = Path(target).expanduser()
    _prepare_sqlite_file(path)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def storage_error(exc: Exception, target: str) -> StorageError:
    """One sentence for a driver error: locked, corrupt, not writable, or unreachable."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    where = describe(target)
    low = text.lower()
    if "locked" in low or "busy" in low:
        wait = BUSY_TIMEOUT_MS // 1000
        msg = f"The database {where} is locked by another program beyond the {wait} s wait; try again."
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        msg = f"The database {where} is unreadable or corrupt ({text}); restore it from a backup."
    elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        msg = f"The database {where} is not writable ({text}); check the file and folder permissions."
    else:
        msg = f"The database {where} could not be used ({text})."
    return StorageError(msg)


def _read_version(conn: Connection) -> int | None:
    if not sa.inspect(conn).has_table(Meta.__tablename__):
        return None
    row = conn.execute(sa.select(col(Meta.value)).where(col(Meta.key) == "schema_version")).first()
    return int(row[0]) if row else None


def _backup_before_upgrade(engine: Engine, version: int) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    src = Path(engine.url.database)
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    dest = src.with_name(f"{src.name}.v{version}-{stamp}.bak")
    backup_sqlite(engine, dest)
    return dest


def backup_sqlite(engine: Engine, dest: Path) -> None:
    """A consistent copy through SQLite's online backup API, safe while others write."""
    import sqlite3

    src_path = engine.url.database
    assert src_path is not None
    tmp = dest.with_name(dest.name + ".part")
    try:
        with sqlite3.connect(src_path) as src, sqlite3.connect(tmp) as out:
            src.backup(out)
        os.chmod(tmp, 0o600)
        shutil.move(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"Cannot write the backup {dest}: {exc}.") from exc


def ensure_schema(engine: Engine, target: str) -> int:
    """Create a new database, upgrade an older one (after a backup), refuse a newer one."""
    try:
        with engine.connect().execution_options(pk_write=False) as conn:
            version = _read_version(conn)
        if version == SCHEMA_VERSION:
            return version
        if version is not None and version > SCHEMA_VERSION:
            raise StorageError(
                f"The database {describe(target)} was written by a newer promisekeeper "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade pk."
            )
        if version is not None:
            _backup_before_upgrade(engine, version)
        with engine.begin() as conn:
            version = _read_version(conn)  # again, under the write lock: another process may have won
            if version is None:
                if sa.inspect(conn).get_table_names():
                    raise StorageError(
                        f"The database {describe(target)} holds tables that are not promisekeeper's; "
                        "point --db at another file."
                    )
                SQLModel.metadata.create_all(conn)
                conn.execute(sa.insert(Meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
                return SCHEMA_VERSION
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
            conn.execute(sa.update(Meta).where(col(Meta.key) == "schema_version").values(value=str(version)))
            return version
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, target) from exc


class Database:
    """One database as the commands use it: the engine, made and checked once, and transactions on it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            engine = make_engine(self.target)
            ensure_schema(engine, self.target)
            self._engine = engine
        return self._engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: all of the block's writes are committed together, or none of them."""
        bind = self.engine.execution_options(pk_write=write)
        try:
            with Session(bind, expire_on_commit=False) as session:
                yield session
                session.commit()
        except (DBAPIError, SQLAlchemyError) as exc:
            raise storage_error(exc, self.target) from exc
