"""The engine for a path or URL, the schema version and migrations, and the one-transaction session scope.

SQLite gets WAL, a busy timeout, foreign keys and a new file readable by its owner only. Write
commands take the write lock at ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead
of one failing with "database is locked" when it upgrades a read lock. On PostgreSQL, write
transactions queue the same way on one advisory lock (see ``_postgres_begin``), so the server has no
cause to abort one as a serialization failure or a deadlock victim.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import sys
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

from promisekeeper.errors import BadInput, NotFound, StorageError
from promisekeeper.models import SCHEMA_VERSION, Meta

BUSY_TIMEOUT_MS = 15_000
_META = Meta.__tablename__
_HELD = ("customer", "promise", "change", "event")  # a book holding a row in any of these is in use
COMMAND_KEY = "pk_command"  # the session's info key naming the command whose change it writes


def _wait_text(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:g} s"


def is_url(target: str) -> bool:
    return "://" in target


def describe(target: str) -> str:
    """The database as the user named it, without a password (also for a URL that cannot be parsed)."""
    if is_url(target):
        try:
            return unquote(sa.make_url(target).render_as_string(hide_password=True))
        except (sa.exc.ArgumentError, ValueError):
            return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", target)
    return target


def sqlite_file(target: str) -> Path | None:
    """The SQLite file a path or ``sqlite:///`` URL names; ``None`` for a server or an in-memory book."""
    if not is_url(target):
        return Path(target).expanduser()
    try:
        url = sa.make_url(target)
    except (sa.exc.ArgumentError, ValueError):
        return None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).expanduser()
    return None


def read_only(path: Path) -> bool:
    """An existing book that this process may read but not write: the file or its folder is not writable.

    ``os.access`` also answers for root on a read-only mount (EROFS), where file modes alone would not.
    """
    return os.path.exists(path) and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


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
    if os.path.isdir(path):
        raise StorageError(f"The database path {path} is a directory; give a file name.")


def _sqlite_pragmas(dbapi_conn: Any, busy_ms: int, *, writable: bool = True) -> None:
    dbapi_conn.isolation_level = None  # BEGIN is issued by _sqlite_begin, with the right lock
    # SQLite's own lower() folds only A-Z; Python's folds every script, as PostgreSQL's does.
    dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    cur.execute("PRAGMA foreign_keys = ON")
    if writable:
        if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _read_only_uri(path: Path) -> str:
    """SQLite's URI for reading a book it may not write. With no ``-wal`` file beside it nothing is
    waiting to be checkpointed, and nobody can be writing the book (no writer left one): ``immutable=1``
    reads it as it is and leaves nothing behind. A ``-wal`` file holds committed changes: ``mode=ro``."""
    from urllib.parse import quote

    wal = path.with_name(path.name + "-wal")
    return f"file:{quote(str(path.absolute()))}?{'mode=ro' if os.path.exists(wal) else 'immutable=1'}"


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


# A command checks the schema version and then runs its one transaction on the same connection: the pool
# keeps the one connection the process opened (a second is opened only while the first is in use).
_ONE_CONNECTION: dict[str, Any] = {"poolclass": sa.pool.QueuePool, "pool_size": 1, "max_overflow": 8}


def _server_engine(url: sa.URL, busy_ms: int) -> Engine:
    """An engine for a database server; PostgreSQL gets a connect timeout and the write lock."""
    args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        if "connect_timeout" not in url.query:
            args["connect_timeout"] = 10
        if "application_name" not in url.query:
            args["application_name"] = "pk"
    engine = sa.create_engine(url, connect_args=args, **_ONE_CONNECTION)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", lambda conn: _postgres_begin(conn, busy_ms))
    return engine


def make_engine(target: str, busy_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine for a file path or a SQLAlchemy URL (``postgresql+psycopg://…``); ``busy_ms`` bounds every
    wait for another command's lock. A file that may be read but not written is opened read-only; a
    file that is not there is created (with its folder), so ask ``Database.missing`` first."""
    if is_url(target):
        try:
            url = sa.make_url(target)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise BadInput(
                f"Cannot read the database URL {describe(target)} ({exc}); "
                "use e.g. postgresql+psycopg://user@host:5432/db."
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
    if read_only(path) and not os.path.isdir(path):
        engine = sa.create_engine(
            "sqlite://",
            **_ONE_CONNECTION,
            creator=lambda: sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False),
        )
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _record: _sqlite_pragmas(dbapi_conn, busy_ms, writable=False),
        )
    else:
        _prepare_sqlite_file(path)
        engine = sa.create_engine(f"sqlite:///{path}", **_ONE_CONNECTION)
        event.listen(engine, "connect", lambda dbapi_conn, _record: _sqlite_pragmas(dbapi_conn, busy_ms))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def empty_engine() -> Engine:
    """A new, empty book in memory: what a read command sees where no book has been started yet."""
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    event.listen(
        engine, "connect", lambda dbapi_conn, _record: _sqlite_pragmas(dbapi_conn, 0, writable=False)
    )
    event.listen(engine, "begin", _sqlite_begin)
    with engine.begin() as conn:
        _create(conn)
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
    elif "disk is full" in low or (("disk i/o" in low or "ioerr" in low) and _disk_full(target)):
        msg = f"The disk holding the database {where} is full; nothing was written. Free some space first."
    elif "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        msg = f"The database {where} is not writable ({text}); check the file and folder permissions."
    else:
        msg = f"The database {where} could not be used ({text})."
    return StorageError(msg)


def _disk_full(target: str) -> bool:
    """Whether the disk holding a SQLite book has no room left (SQLite may say only "disk I/O error")."""
    path = sqlite_file(target)
    if path is None:
        return False
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def read_version(conn: Connection, target: str | None = None) -> int | None:
    """The book's schema version; ``None`` for a database without promisekeeper's tables.

    A version that is not a whole number from 1 up was damaged (by hand or by a tool): exit 4, and the
    book is not touched (no upgrade is tried, no backup copy made).
    """
    if conn.dialect.name == "sqlite":  # two plain queries: no reflection, no ORM on every command
        if conn.exec_driver_sql(
            f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{_META}'"
        ).first():
            row = conn.exec_driver_sql(f"SELECT value FROM {_META} WHERE key = 'schema_version'").first()
        else:
            row = None
    elif sa.inspect(conn).has_table(_META):
        row = conn.execute(sa.select(col(Meta.value)).where(col(Meta.key) == "schema_version")).first()
    else:
        row = None
    if row is None:
        return None
    raw = str(row[0]).strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and int(raw) >= 1):
        where = f" {describe(target)}" if target else ""
        raise StorageError(
            f"The database{where} has a damaged schema version ({raw[:20]!r} in pk_meta); "
            "restore it from a backup, or set it back to the version its tables are at."
        )
    return int(raw)


def _backup_before_upgrade(engine: Engine, source: Path, version: int, now: datetime, busy_ms: int) -> Path:
    dest = source.with_name(f"{source.name}.v{version}-{now.astimezone(UTC):%Y%m%d%H%M%S}.bak")
    backup_sqlite(source, dest, busy_ms)
    return dest


def _open_source(source: Path, busy_ms: int) -> sqlite3.Connection:
    """A plain connection to the book for SQLite's backup API, read-only where it cannot be written."""
    if read_only(source):
        return sqlite3.connect(_read_only_uri(source), uri=True, timeout=busy_ms / 1000)
    return sqlite3.connect(source, timeout=busy_ms / 1000)


def backup_sqlite(source: Path, dest: Path, busy_ms: int = BUSY_TIMEOUT_MS) -> None:
    """A consistent copy of the book at ``source`` through SQLite's online backup API, safe while others
    write, checked with ``quick_check`` before it counts.

    ``dest`` is written as ``files`` writes any output: a regular file is replaced atomically (the copy is
    made under a temporary name beside it, removed on any failure), a symlink is written through, a
    device or FIFO is streamed the finished copy; readable by its owner only.
    """
    from promisekeeper import files

    target = files.resolve(dest)
    if files.is_stdout(dest) and sys.stdout.isatty():
        raise BadInput("A backup is a binary file; send it into a file or a pipe (pk db backup - > copy.db).")
    try:
        with closing(_open_source(source, busy_ms)) as src:
            if target.stream:
                with closing(sqlite3.connect(":memory:")) as out:
                    src.backup(out)
                    _check_copy(out)
                    data = out.serialize()
                with files.streaming(target) as stream:
                    stream.write(data)
                return
            with files.replacing(target) as part, closing(sqlite3.connect(part.path)) as out:
                out.execute("PRAGMA journal_mode = OFF")  # the copy is new: nothing to roll back to
                src.backup(out)
                _check_copy(out)
    except sqlite3.Error as exc:
        if "full" in str(exc).lower():
            raise files.write_error(OSError(errno.ENOSPC, str(exc)), dest) from exc
        raise StorageError(
            f"Cannot write the backup {dest} ({exc}); check the disk and the database."
        ) from exc


def _check_copy(out: sqlite3.Connection) -> None:
    check = out.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise sqlite3.DatabaseError(f"the copy fails its check: {check}")


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
    source = sqlite_file(target) if engine.dialect.name == "sqlite" else None
    backup: Path | None = None
    try:
        with engine.connect().execution_options(pk_write=False) as conn:
            version = read_version(conn, target)
        if version == SCHEMA_VERSION:
            return Upgrade(version, version)
        _refuse_newer(version, target)
        if source is not None and read_only(source):
            raise StorageError(
                f"The database {describe(target)} is not writable (a read-only file or folder), and pk must "
                f"{'upgrade' if version else 'create'} it before use; copy it somewhere writable."
            )
        if version is not None and source is not None:
            backup = _backup_before_upgrade(engine, source, version, now, busy_ms)
        with engine.begin() as conn:
            version = read_version(conn, target)  # again, under the write lock: another process may have won
            if version is None:
                if sa.inspect(conn).get_table_names():
                    raise StorageError(
                        f"The database {describe(target)} holds tables that are not promisekeeper's; "
                        "point --db at another file."
                    )
                _create(conn)
                return Upgrade(None, SCHEMA_VERSION)
            if version == SCHEMA_VERSION:
                _discard(backup)  # another process upgraded it meanwhile, after its own copy
                return Upgrade(version, version)
            _refuse_newer(version, target)
            from promisekeeper.migrations import upgrade as migrate

            migrate(conn, from_version=version, tz=tz)
            return Upgrade(version, SCHEMA_VERSION, backup)
    except (DBAPIError, SQLAlchemyError) as exc:
        _discard(backup)
        raise storage_error(exc, target, busy_ms) from exc
    except BaseException:
        _discard(backup)  # the book is as it was: a copy of it is litter
        raise


def _discard(backup: Path | None) -> None:
    if backup is not None:
        backup.unlink(missing_ok=True)


def _refuse_newer(version: int | None, target: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StorageError(
            f"The database {describe(target)} was written by a newer promisekeeper "
            f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade pk."
        )


class Database:
    """One database as the commands use it: the engine, made and checked once, and transactions on it.

    A SQLite book that is not there yet (``missing``) is created on first use of ``engine``; the CLI
    asks first, since only the commands that record something may start a book. A book this process
    may not write (``read_only``) is opened read-only: every read works, a write is exit 4.
    """

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
        self._empty: Engine | None = None

    @property
    def file(self) -> Path | None:
        """The SQLite file of the book; ``None`` on a database server."""
        return sqlite_file(self.target)

    @property
    def missing(self) -> bool:
        """A SQLite book that has not been started yet (a server's database is never "missing" here)."""
        path = self.file
        return self._engine is None and path is not None and not os.path.lexists(path)

    @property
    def read_only(self) -> bool:
        path = self.file
        return path is not None and read_only(path)

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

    def close(self) -> None:
        """Close the connections the engines keep (the next use opens them again)."""
        for engine in (self._engine, self._empty):
            if engine is not None:
                engine.dispose()

    def discard(self) -> None:
        """Remove the SQLite book that this process started for a change that then failed (an import of a
        bad file into a new book): a failed command leaves no new book behind. Kept if it holds anything
        (another program may have started writing it meanwhile)."""
        path = self.file
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if path is None or not path.is_file():
            return
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                if any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in _HELD if t in tables):
                    return
        except sqlite3.Error:
            return
        for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
            path.with_name(name).unlink(missing_ok=True)

    def missing_error(self, code: int = NotFound.exit_code) -> NotFound | StorageError:
        """The book is not there: exit 3 for a change to it, exit 4 where a missing book must not pass."""
        text = (
            f"There is no promise book at {self.target} yet; check --db or PK_DB, "
            "or start one with pk promise add."
        )
        return StorageError(text) if code == StorageError.exit_code else NotFound(text)

    def backup_target(self, dest: Path, *, now: datetime) -> Path:
        """Where ``pk db backup DEST`` writes: ``DEST``, or in a folder a dated file named after the book."""
        from promisekeeper import files

        src = self.file
        if src is None:
            raise BadInput(
                "pk db backup copies a SQLite database file; "
                "back up PostgreSQL with pg_dump, or use pk export."
            )
        if files.is_stdout(dest):
            return dest
        dest = files.backup_name(dest, src, now)
        if files.same_file(dest, src):
            raise BadInput(f"{files.shown(dest)} is the database itself; give another file for the backup.")
        return dest

    def backup(self, dest: Path, *, now: datetime) -> Path:
        """A consistent copy of the SQLite database while it is in use (see ``backup_target``)."""
        dest = self.backup_target(dest, now=now)
        if self.missing:
            raise self.missing_error()
        self.engine  # noqa: B018 - an older book is upgraded (after its own copy) before it is copied
        assert self.file is not None
        backup_sqlite(self.file, dest, self.busy_ms)
        return dest

    def require_writable(self) -> None:
        """Exit 4 on a book pk may read but not write: before a write, or before anything (a mail) that
        the book must then record."""
        if self.read_only:
            raise StorageError(
                f"The database {describe(self.target)} is not writable (a read-only file or folder); "
                "pk can read it but not change it."
            )

    @contextmanager
    def session(self, *, write: bool = True, command: str | None = None) -> Iterator[Session]:
        """One transaction: all of the block's writes are committed together, or none of them.

        ``command`` names the change its history events belong to (``pk undo`` shows it).
        """
        if write:
            self.require_writable()
        with self._session(self.engine, write=write, command=command) as session:
            yield session

    @contextmanager
    def empty_session(self, *, command: str | None = None) -> Iterator[Session]:
        """A read-only transaction on an empty book in memory: a missing book, read without creating it."""
        if self._empty is None:
            self._empty = empty_engine()
        with self._session(self._empty, write=False, command=command) as session:
            yield session

    @contextmanager
    def _session(self, engine: Engine, *, write: bool, command: str | None) -> Iterator[Session]:
        bind = engine.execution_options(pk_write=write)
        try:
            with Session(bind, expire_on_commit=False, info={COMMAND_KEY: command or "pk"}) as session:
                yield session
                session.commit()
        except (DBAPIError, SQLAlchemyError) as exc:
            raise storage_error(exc, self.target, self.busy_ms) from exc
