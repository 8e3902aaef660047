"""The engine for a path or URL, the schema version and migrations, and the one-transaction session scope.

SQLite gets WAL, a busy timeout, foreign keys and a new file readable by its owner only. Write
commands take the write lock at ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
of one failing with "database is locked" when it upgrades a read lock. On PostgreSQL, write
transactions queue the same way on one advisory lock (see ``_postgres_begin``), so the server has no
cause to abort one as a serialization failure or a deadlock victim.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col

from promisekeeper.errors import BadInput, StorageError
from promisekeeper.models import SCHEMA_VERSION, Meta

BUSY_TIMEOUT_MS = 15_000
COMMAND_KEY = "pk_command"  # the session's info key naming the command whose change it writes


def _wait_text(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:g} s"


def is_url(target: str) -> bool:
    return "://" in target


def describe(target: str) -> str:
    """The database as the user named it, without a password."""
    if is_url(target):
        return unquote(sa.make_url(target).render_as_string(hide_password=True))
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


def _sqlite_pragmas(dbapi_conn: Any, busy_ms: int) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is issued by _sqlite_begin, with the right lock
    # SQLite's own lower() folds only A-Z; Python's folds every script, as PostgreSQL's does.
    dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
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


# The advisory lock that PostgreSQL writers queue on (with the schema's hash as its second key), and
# the SQLSTATEs with which the server asks for a transaction to be run again.
PG_WRITE_LOCK = 0x706B
RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected


def _postgres_begin(conn: Connection, busy_ms: int) -> None:
    """Bound every lock wait by the busy timeout; a write transaction first takes the one write lock.

    Serialised like SQLite's ``BEGIN IMMEDIATE``, no two commands interleave their read-then-write
    (a customer created on the spot, the quantity still owed), so READ COMMITTED loses no write and
    the server has no cause to abort one; a till that waits beyond the timeout gets exit 4.
    """
    write = conn.get_execution_options().get("pk_write", True)
    params = {"timeout": f"{int(busy_ms)}ms", "key": PG_WRITE_LOCK}
    if write:
        conn.exec_driver_sql(
            "SELECT set_config('lock_timeout', %(timeout)s, true), "
            "pg_advisory_xact_lock(%(key)s, hashtext(coalesce(current_schema(), '')))",
            params,
        )
    else:
        conn.exec_driver_sql("SELECT set_config('lock_timeout', %(timeout)s, true)", params)


def _server_engine(url: sa.URL, busy_ms: int) -> Engine:
    """An engine for a database server; PostgreSQL gets a connect timeout and the write lock."""
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        if "connect_timeout" not in url.query:
            args["connect_timeout"] = 10
        if "application_name" not in url.query:
            args["application_name"] = "pk"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=args)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", lambda conn: _postgres_begin(conn, busy_ms))
    return engine


def make_engine(target: str, busy_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine for a file path or a SQLAlchemy URL (``postgresql+psycopg://…``); ``busy_ms`` bounds every
    wait for another command's lock."""
    if is_url(target):
        try:
            url = sa.make_url(target)
        except sa.exc.ArgumentError as exc:
            raise StorageError(
                f"Cannot read the database URL {target!r}; use e.g. postgresql+psycopg://host/db."
            ) from exc
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return make_engine(url.database, busy_ms)
        try:
            return _server_engine(url, busy_ms)
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            raise StorageError(
                f"No driver for {url.drivername}; install it (pip install 'promisekeeper[postgres]')."
            ) from exc
    path = Path(target).expanduser()
    _prepare_sqlite_file(path)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    event.listen(engine, "connect", lambda dbapi_conn, _record: _sqlite_pragmas(dbapi_conn, busy_ms))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE a database server gave for the error (or its cause), if any."""
    while exc is not None:
        code = getattr(getattr(exc, "orig", exc), "sqlstate", None)
        if isinstance(code, str):
            return code
        exc = exc.__cause__
    return None


def _server_error(code: str | None, text: str, where: str, busy_ms: int) -> str | None:
    """One sentence for what a database server said, or ``None`` when it is not a server's error."""
    low = text.lower()
    said = text.rsplit("FATAL:", 1)[-1].strip() if "FATAL:" in text else text.rsplit(" failed: ", 1)[-1]
    if code in RETRY_SQLSTATES:
        return f"The database {where} was busy with other tills' changes ({said}); try again."
    if code == "55P03" or "lock timeout" in low:
        wait = _wait_text(busy_ms)
        return f"The database {where} is locked by another program beyond the {wait} wait; try again."
    if code == "42501":
        return f"The database {where} refused the change ({said}); grant the user the privileges on it."
    if (
        (code or "").startswith("28")
        or "authentication failed" in low
        or ("role " in low and "does not exist" in low)
    ):
        return (
            f"The database server refused the login to {where} ({said}); "
            "check the user name and password in the URL (or ~/.pgpass)."
        )
    if code == "3D000" or ("database " in low and "does not exist" in low):
        return f"The database {where} does not exist on the server ({said}); create it, or fix its name."
    unreachable = (
        "connection refused",
        "connection to server",
        "could not connect",
        "resolve host",
        "timeout",
    )
    if any(s in low for s in unreachable):
        return (
            f"Cannot reach the database server of {where} ({said}); "
            "check that it is running and the host and port in the URL."
        )
    return None


def storage_error(exc: Exception, target: str, busy_ms: int = BUSY_TIMEOUT_MS) -> StorageError:
    """One sentence for a driver error: locked, corrupt, not writable, or unreachable."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    where = describe(target)
    low = text.lower()
    server = _server_error(sqlstate(exc), text, where, busy_ms) if is_url(target) else None
    if server is not None:
        msg = server
    elif "locked" in low or "busy" in low:
        wait = _wait_text(busy_ms)
        msg = f"The database {where} is locked by another program beyond the {wait} wait; try again."
    elif "not a database" in low or "malformed" in low or "corrupt" in low:
        msg = f"The database {where} is unreadable or corrupt ({text}); restore it from a backup."
    elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        msg = f"The database {where} is not writable ({text}); check the file and folder permissions."
    else:
        msg = f"The database {where} could not be used ({text})."
    return StorageError(msg)


def read_version(conn: Connection) -> int | None:
    if not sa.inspect(conn).has_table(Meta.__tablename__):
        return None
    row = conn.execute(sa.select(col(Meta.value)).where(col(Meta.key) == "schema_version")).first()
    return int(row[0]) if row else None


def _backup_before_upgrade(engine: Engine, version: int, now: datetime, busy_ms: int) -> Path | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    src = Path(engine.url.database)
    dest = src.with_name(f"{src.name}.v{version}-{now.astimezone(UTC):%Y%m%d%H%M%S}.bak")
    backup_sqlite(engine, dest, busy_ms)
    return dest


def backup_sqlite(engine: Engine, dest: Path, busy_ms: int = BUSY_TIMEOUT_MS) -> None:
    """A consistent copy through SQLite's online backup API, safe while others write.

    The copy is made beside ``dest`` (readable by its owner only), checked with ``quick_check``, and
    only then takes ``dest``'s place: a failed backup never leaves a half-written file behind.
    """
    import sqlite3

    src_path = engine.url.database
    assert src_path is not None
    tmp = dest.with_name(dest.name + ".part")
    try:
        tmp.unlink(missing_ok=True)
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with (
            closing(sqlite3.connect(src_path, timeout=busy_ms / 1000)) as src,
            closing(sqlite3.connect(tmp)) as out,
        ):
            src.backup(out)
            check = out.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"the copy fails its check: {check}")
        shutil.move(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StorageError(
            f"Cannot write the backup {dest} ({reason}); check the folder and the disk."
        ) from exc


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What opening a database did to its schema; ``before`` is ``None`` when it was created."""

    before: int | None
    after: int
    backup: Path | None = None


HEAD_REVISION = f"{SCHEMA_VERSION:04d}"
"""The Alembic revision of this release's schema: revision ``000N`` leaves a book at schema version N."""


def _create(conn: Connection) -> None:
    """A new book: the tables of ``models``, the schema version, and Alembic's record of the revision."""
    SQLModel.metadata.create_all(conn)
    conn.execute(sa.insert(Meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
    conn.exec_driver_sql(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )
    conn.exec_driver_sql(f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}')")


def upgrade_schema(
    engine: Engine, target: str, *, now: datetime, tz: str, busy_ms: int = BUSY_TIMEOUT_MS
) -> Upgrade:
    """Create a new book, upgrade an older one in place (after a backup copy), refuse a newer one.

    Alembic is imported only when a book needs upgrading, never on an everyday command.
    """
    try:
        with engine.connect().execution_options(pk_write=False) as conn:
            version = read_version(conn)
        if version == SCHEMA_VERSION:
            return Upgrade(version, version)
        _refuse_newer(version, target)
        backup = _backup_before_upgrade(engine, version, now, busy_ms) if version is not None else None
        with engine.begin() as conn:
            version = read_version(conn)  # again, under the write lock: another process may have won
            if version is None:
                if sa.inspect(conn).get_table_names():
                    raise StorageError(
                        f"The database {describe(target)} holds tables that are not promisekeeper's; "
                        "point --db at another file."
                    )
                _create(conn)
                return Upgrade(None, SCHEMA_VERSION)
            if version == SCHEMA_VERSION:
                return Upgrade(version, version)
            _refuse_newer(version, target)
            from promisekeeper.migrations import upgrade as migrate

            migrate(conn, from_version=version, tz=tz)
            return Upgrade(version, SCHEMA_VERSION, backup)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, target, busy_ms) from exc


def _refuse_newer(version: int | None, target: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StorageError(
            f"The database {describe(target)} was written by a newer promisekeeper "
            f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade pk."
        )


class Database:
    """One database as the commands use it: the engine, made and checked once, and transactions on it."""

    def __init__(
        self,
        target: str,
        *,
        busy_ms: int = BUSY_TIMEOUT_MS,
        tz: str = "UTC",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.target = target
        self.busy_ms = busy_ms
        self.tz = tz  # the shop's zone: an upgrade reads dates that the first release wrote in it
        self._now = now
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self.upgrade()
        assert self._engine is not None
        return self._engine

    def upgrade(self) -> Upgrade:
        """Bring the schema up to date now, as the first use would (``pk db upgrade``)."""
        engine = self._engine or make_engine(self.target, self.busy_ms)
        result = upgrade_schema(engine, self.target, now=self._now(), tz=self.tz, busy_ms=self.busy_ms)
        self._engine = engine
        return result

    def backup(self, dest: Path, *, now: datetime) -> Path:
        """A consistent copy of the SQLite database while it is in use; into a folder, a dated file."""
        engine = self.engine
        if engine.dialect.name != "sqlite" or not engine.url.database:
            raise BadInput(
                "pk db backup copies a SQLite database file; "
                "back up PostgreSQL with pg_dump, or use pk export."
            )
        src = Path(engine.url.database).resolve()
        dest = dest.expanduser()
        if dest.is_dir():
            dest = dest / f"{src.stem}-{now:%Y%m%d-%H%M%S}{src.suffix or '.db'}"
        if dest.resolve() == src:
            raise BadInput(f"{dest} is the database itself; give another file for the backup.")
        backup_sqlite(engine, dest, self.busy_ms)
        return dest

    @contextmanager
    def session(self, *, write: bool = True, command: str | None = None) -> Iterator[Session]:
        """One transaction: all of the block's writes are committed together, or none of them.

        ``command`` names the change its history events belong to (``pk undo`` shows it).
        """
        bind = self.engine.execution_options(pk_write=write)
        try:
            with Session(bind, expire_on_commit=False, info={COMMAND_KEY: command or "pk"}) as session:
                yield session
                session.commit()
        except (DBAPIError, SQLAlchemyError) as exc:
            raise storage_error(exc, self.target, self.busy_ms) from exc
