"""The engine for a path or URL, the schema version and migrations, and the one-transaction session scope.

SQLite gets WAL, a busy timeout, foreign keys and a new file readable by its owner only. Write
commands take the write lock at ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
of one failing with "database is locked" when it upgrades a read lock. On PostgreSQL, write
transactions queue the same way on one advisory lock (see ``_postgres_begin``), and ``Database.run``
replays a transaction that the server aborted as a serialization failure or a deadlock victim.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col

from promisekeeper.errors import BadInput, StorageError
from promisekeeper.models import SCHEMA_VERSION, Meta

BUSY_TIMEOUT_MS = 15_000


def busy_timeout_ms() -> int:
    """How long a command waits for another's write lock: 15 s, or ``PK_BUSY_TIMEOUT_MS`` milliseconds."""
    raw = os.environ.get("PK_BUSY_TIMEOUT_MS", "").strip()
    if not raw:
        return BUSY_TIMEOUT_MS
    if not raw.isdigit() or len(raw) > 9:
        raise BadInput(f"PK_BUSY_TIMEOUT_MS={raw!r} must be a number of milliseconds, e.g. 15000.")
    return int(raw)


def _wait_text(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:g} s"


T = TypeVar("T")

# Ordered migrations: MIGRATIONS[n] takes a database at schema version n to n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is issued by _sqlite_begin, with the right lock
    # SQLite's own lower() folds only A-Z; Python's folds every script, as PostgreSQL's does.
    dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
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
RETRY_ATTEMPTS = 6


def _postgres_begin(conn: Connection) -> None:
    """Bound every lock wait by the busy timeout; a write transaction first takes the one write lock.

    Serialised like SQLite's ``BEGIN IMMEDIATE``, no two commands interleave their read-then-write
    (a customer created on the spot, the quantity still owed), so READ COMMITTED loses no write and
    the server has no cause to abort one; a till that waits beyond the timeout gets exit 4.
    """
    write = conn.get_execution_options().get("pk_write", True)
    params = {"timeout": f"{busy_timeout_ms()}ms", "key": PG_WRITE_LOCK}
    if write:
        conn.exec_driver_sql(
            "SELECT set_config('lock_timeout', %(timeout)s, true), "
            "pg_advisory_xact_lock(%(key)s, hashtext(coalesce(current_schema(), '')))",
            params,
        )
    else:
        conn.exec_driver_sql("SELECT set_config('lock_timeout', %(timeout)s, true)", params)


def _server_engine(url: sa.URL) -> Engine:
    """An engine for a database server; PostgreSQL gets a connect timeout and the write lock."""
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        if "connect_timeout" not in url.query:
            args["connect_timeout"] = 10
        if "application_name" not in url.query:
            args["application_name"] = "pk"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=args)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_begin)
    return engine


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
            return _server_engine(url)
        except (ImportError, sa.exc.NoSuchModuleError) as exc:
            raise StorageError(
                f"No driver for {url.drivername}; install it (pip install 'promisekeeper[postgres]')."
            ) from exc
    path = Path(target).expanduser()
    busy_timeout_ms()  # a bad PK_BUSY_TIMEOUT_MS is reported here, before any connection
    _prepare_sqlite_file(path)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)
    event.listen(engine, "connect", _sqlite_pragmas)
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


def _server_error(code: str | None, text: str, where: str) -> str | None:
    """One sentence for what a database server said, or ``None`` when it is not a server's error."""
    low = text.lower()
    said = text.rsplit("FATAL:", 1)[-1].strip() if "FATAL:" in text else text.rsplit(" failed: ", 1)[-1]
    if code in RETRY_SQLSTATES:
        return f"The database {where} was busy with other tills' changes ({said}); try again."
    if code == "55P03" or "lock timeout" in low:
        wait = _wait_text(busy_timeout_ms())
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


def storage_error(exc: Exception, target: str) -> StorageError:
    """One sentence for a driver error: locked, corrupt, not writable, or unreachable."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    where = describe(target)
    low = text.lower()
    server = _server_error(sqlstate(exc), text, where) if is_url(target) else None
    if server is not None:
        msg = server
    elif "locked" in low or "busy" in low:
        wait = _wait_text(busy_timeout_ms())
        msg = f"The database {where} is locked by another program beyond the {wait} wait; try again."
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
            closing(sqlite3.connect(src_path, timeout=busy_timeout_ms() / 1000)) as src,
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


def ensure_schema(engine: Engine, target: str) -> int:
    """Create a new database, upgrade an older one (after a backup), refuse a newer one."""
    return upgrade_schema(engine, target).after


def upgrade_schema(engine: Engine, target: str) -> Upgrade:
    """``ensure_schema``, telling what it did (for ``pk db upgrade``)."""
    try:
        with engine.connect().execution_options(pk_write=False) as conn:
            version = _read_version(conn)
        if version == SCHEMA_VERSION:
            return Upgrade(version, version)
        if version is not None and version > SCHEMA_VERSION:
            raise StorageError(
                f"The database {describe(target)} was written by a newer promisekeeper "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade pk."
            )
        backup = _backup_before_upgrade(engine, version) if version is not None else None
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
                return Upgrade(None, SCHEMA_VERSION)
            start = version
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
            conn.execute(sa.update(Meta).where(col(Meta.key) == "schema_version").values(value=str(version)))
            return Upgrade(start, version, backup if start < version else None)
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

    def upgrade(self) -> Upgrade:
        """Bring the schema up to date now, as the first use would (``pk db upgrade``)."""
        engine = self._engine or make_engine(self.target)
        result = upgrade_schema(engine, self.target)
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
        backup_sqlite(engine, dest)
        return dest

    def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """``work`` in one ``session``, run again from the start when the server asks for it.

        PostgreSQL may abort a transaction as a serialization failure or a deadlock victim and
        expects it to be retried; a ``with session()`` block cannot be replayed, a function can.
        """
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                with self.session(write=write) as session:
                    return work(session)
            except StorageError as exc:
                if attempt == RETRY_ATTEMPTS or sqlstate(exc.__cause__) not in RETRY_SQLSTATES:
                    raise
                time.sleep(random.uniform(0.0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

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


COPY_CHUNK = 5_000


def copy_database(source: str, target: str) -> dict[str, int]:
    """Copy every row of one promise book into a new, empty database, ids and all, in one transaction.

    For moving a SQLite file onto a PostgreSQL server (or back): rows stream table by table in id
    order, a chunk at a time, so a book of a million promises needs no more memory than a few
    thousand rows. The source is only read and must be at this version's schema; the target is
    created if need be and must hold no promises or customers. Returns the rows copied per table.
    """

    def where(t: str) -> str:
        return describe(t) if is_url(t) else str(Path(t).expanduser().resolve())

    if where(source) == where(target):
        raise BadInput("The source and the target are the same database; give another target.")
    src = make_engine(source)
    try:
        with src.connect().execution_options(pk_write=False) as conn:
            version = _read_version(conn)
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, source) from exc
    if version is None:
        raise BadInput(f"{describe(source)} holds no promise book to copy.")
    if version != SCHEMA_VERSION:
        raise BadInput(
            f"{describe(source)} is at schema {version}, this pk at {SCHEMA_VERSION}; "
            "run pk db upgrade on it first (or use the pk that wrote it)."
        )
    dst = Database(target).engine
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name != Meta.__tablename__]
    counts: dict[str, int] = {}
    try:
        snapshot = {"isolation_level": "REPEATABLE READ"} if src.dialect.name == "postgresql" else {}
        reading = src.connect().execution_options(pk_write=False, **snapshot)  # one snapshot for all tables
        with reading as read, dst.begin() as write:
            for name in ("promise", "customer"):
                if write.execute(
                    sa.select(sa.func.count()).select_from(SQLModel.metadata.tables[name])
                ).scalar():
                    raise BadInput(
                        f"{describe(target)} already holds promises or customers; copy into an empty one."
                    )
            for table in tables:
                order = list(table.primary_key.columns)
                rows = read.execution_options(yield_per=COPY_CHUNK).execute(sa.select(table).order_by(*order))
                counts[table.name] = 0
                for chunk in rows.mappings().partitions():
                    write.execute(table.insert(), [dict(r) for r in chunk])
                    counts[table.name] += len(chunk)
            if dst.dialect.name == "postgresql":
                for table in tables:
                    if "id" in table.c and table.c.id.autoincrement is not False and table.c.id.primary_key:
                        write.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                        )
        if dst.dialect.name == "postgresql":
            with dst.connect() as conn:
                # The planner's statistics for the new rows, now rather than when autovacuum gets to them.
                conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in tables)}")
                conn.commit()
    except (DBAPIError, SQLAlchemyError) as exc:
        raise storage_error(exc, target) from exc
    finally:
        src.dispose()
    return counts
