"""Erasure: a person's name, email and phone found in every text the book keeps, and the backups that
may still hold them.

``customer forget`` (in ``customers``) replaces each mention with :data:`MENTION`. A mention is the name
in any case and with any white space between its words (two spaces, a line break), the email in any
case, or the phone's digits with any separators. Every text column of every table is either in
:data:`SCRUBBED` or, with its reason, in :data:`EXEMPT`; a test fails when a new column is in neither.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from promisekeeper import words
from promisekeeper.db import Database, storage_error
from promisekeeper.errors import StorageError
from promisekeeper.models import Meta

MENTION = "[forgotten customer]"
"""What stands in the book where a forgotten customer was mentioned."""

SCRUBBED: dict[str, tuple[str, ...]] = {
    "promise": ("what", "note"),
    "promise_tag": ("tag",),
    "delivery": ("what", "note"),
    "remedy": ("action", "prevent"),
    "event": ("data",),  # every string inside, at any depth, but the keys in EXEMPT_DATA_KEYS
    "customer": ("note",),  # other customers' notes; the forgotten customer's own note is erased
    "sent_report": ("recipients", "subject"),
    "sent_to": ("recipient",),
    "supply_order": ("what", "ref"),  # "Boots for Anna Smith", a reference naming her
}
"""The text columns in which mentions are replaced, table by table."""

EXEMPT: dict[str, tuple[str, ...]] = {
    # The forgotten customer's own name, key, email and phone are erased; other customers' are theirs;
    # a language tag and a consent word are codes that mention no one.
    "customer": ("name", "name_key", "email", "phone", "language", "consent"),
    # Codes, not text anyone typed; and staff names are the staff's (statistics group by them).
    "promise": ("kind", "currency", "staff", "state", "charged_currency", "handover", "deposit_currency"),
    "delivery": ("currency",),
    "event": ("kind",),
    "change": ("command",),
    "sent_item": ("section",),
    # A supplier is a business, not a person the book must forget; the state is a code.
    "supply_order": ("supplier", "state"),
    # The schema version and the backups' paths (which `customer forget` names).
    "pk_meta": ("key", "value"),
}
"""The text columns that erasure leaves alone, and why."""

EXEMPT_DATA_KEYS = frozenset({"staff"})
"""Fields of an event's data that hold a staff name, kept as ``promise.staff`` is."""

BACKUP_KEY = "backup "
"""``pk_meta`` keys ``backup 00000001``, … record each ``pk db backup``: its moment and file."""


# --- what a mention is -------------------------------------------------------------------------------


_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")
_PHONE_GAP = r"[\s\-./()]*"


@dataclass(frozen=True, slots=True)
class Traces:
    """The ways a person appears in text: a pattern that finds each mention, and SQL ``LIKE`` patterns
    that every text holding a mention matches (to read only the candidate rows of a large book)."""

    pattern: re.Pattern[str]
    likes: tuple[str, ...]

    def scrub(self, text: str) -> str:
        return self.pattern.sub(MENTION, text)

    def scrub_value(self, value: Any) -> Any:
        """A JSON value with every string scrubbed, at any depth (keys of ``EXEMPT_DATA_KEYS`` kept)."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k in EXEMPT_DATA_KEYS else self.scrub_value(v) for k, v in value.items()}
        return value


def _like(pieces: Iterable[str]) -> str:
    """``%a%b%`` from the ASCII letters and digits of ``pieces``, in order, lower case.

    Sound for stored text and for JSON alike: JSON writes other characters as ``\\u00eb`` escapes, and
    the ``%`` between the runs absorb them, the spacing and any separators.
    """
    runs = [r.lower() for piece in pieces for r in _ASCII_RUN.findall(piece)]
    return "%" + "%".join(runs) + "%" if runs else "%"


def traces(names: Sequence[str], *, emails: Sequence[str] = (), phones: Sequence[str] = ()) -> Traces:
    """How ``names`` (each in any case and spacing), ``emails`` and ``phones`` appear in text."""
    alternatives: list[str] = []
    likes: list[str] = []
    for name in names:
        words = name.split()
        if not words:
            continue
        body = r"\s+".join(re.escape(w) for w in words)
        # A whole word only: forgetting "Sam" leaves "sample" alone.
        before = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
        after = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
        alternatives.append(before + body + after)
        likes.append(_like(words))
    for email in emails:
        alternatives.append(re.escape(email))
        likes.append(_like([email]))
    for phone in phones:
        digits = "".join(c for c in phone if c.isdigit())
        if digits:
            alternatives.append(r"(?<![\d+])\+?" + _PHONE_GAP.join(digits) + r"(?!\d)")
            likes.append("%" + "%".join(digits) + "%")
    if not alternatives:
        raise ValueError("nothing to find")
    # Longest first, so that a name is replaced whole where a shorter former name is part of it.
    alternatives.sort(key=len, reverse=True)
    pattern = re.compile("|".join(f"(?:{a})" for a in dict.fromkeys(alternatives)), re.IGNORECASE)
    return Traces(pattern, tuple(dict.fromkeys(likes)))


# --- replacing the mentions --------------------------------------------------------------------------


def _candidates(column: sa.ColumnElement[Any], found: Traces, dialect: str) -> sa.ColumnElement[bool]:
    """The rows whose text may hold a mention: SQL narrows a large book down to these few."""
    text = sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
    if "%" in found.likes:
        return column.is_not(None)
    # The patterns are ASCII: SQLite's own LIKE ignores ASCII case (and is faster than lower() per row).
    likes = (text.like(p) if dialect == "sqlite" else text.ilike(p) for p in found.likes)
    return sa.and_(column.is_not(None), sa.or_(*likes))


def scrub_mentions(session: Session, found: Traces, *, skip_customer: int | None = None) -> int:
    """Replace every mention in the ``SCRUBBED`` columns of the book; return how many texts changed.

    ``skip_customer`` is the forgotten customer, whose own note is erased rather than scrubbed.
    """
    changed = 0
    dialect = session.get_bind().dialect.name
    tables = SQLModel.metadata.tables
    for name, columns in SCRUBBED.items():
        table = tables[name]
        keys = list(table.primary_key.columns)
        for column_name in columns:
            column = table.c[column_name]
            where = _candidates(column, found, dialect)
            if name == "customer" and skip_customer is not None:
                where = sa.and_(where, table.c.id != skip_customer)
            rows = session.execute(sa.select(*keys, column).where(where)).all()
            for row in rows:
                old = row[-1]
                new = found.scrub_value(old) if isinstance(old, dict | list) else found.scrub(old)
                if new == old:
                    continue
                changed += 1
                match = sa.and_(*(k == v for k, v in zip(keys, row[:-1], strict=True)))
                if column in keys and _taken(session, table, keys, row, column, new):
                    session.execute(table.delete().where(match))  # the same tag, scrubbed, is already there
                else:
                    session.execute(table.update().where(match).values({column_name: new}))
    return changed


def _taken(
    session: Session, table: sa.Table, keys: list[sa.Column[Any]], row: Any, column: Any, new: Any
) -> bool:
    """Whether a row with ``column`` = ``new`` and the rest of ``row``'s key already exists."""
    values = [new if k is column else v for k, v in zip(keys, row[:-1], strict=True)]
    found = session.execute(
        sa.select(sa.literal(1)).where(*(k == v for k, v in zip(keys, values, strict=True)))
    ).first()
    return found is not None


def secure_delete(session: Session) -> None:
    """SQLite overwrites what this transaction deletes or replaces with zeros (no-op elsewhere)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA secure_delete = ON")


def clear_free_space(db: Database) -> None:
    """After an erasure is committed: no old copy of a row is left in the SQLite file or its WAL.

    ``VACUUM`` rebuilds the file from the rows as they are now, so no free page or free space inside a
    page keeps text that was replaced before (by this erasure or long ago); a ``TRUNCATE`` checkpoint
    then empties the write-ahead log. PostgreSQL's free space is the server's (see the README).
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("VACUUM")
        busy, _, _ = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cur.close()
    except sqlite3.Error as exc:
        raise storage_error(exc, db.target, db.busy_ms) from exc
    finally:
        raw.close()
    if busy:
        raise StorageError(words.log_still_open(db.target))


# --- backups -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backup:
    """A ``pk db backup`` the book knows of: when it was made, and the file it was written to."""

    at: datetime
    path: str


def record_backup(session: Session, *, at: datetime, path: Path) -> None:
    """Remember a ``pk db backup`` in the book, so an erasure can say which copies may still hold a person."""
    count = len(session.exec(select(Meta.key).where(col(Meta.key).startswith(BACKUP_KEY))).all())
    value = json.dumps({"at": at.astimezone(UTC).isoformat(), "path": str(path.absolute())})
    session.add(Meta(key=f"{BACKUP_KEY}{count + 1:08d}", value=value))
    session.flush()


def remember_backup(db: Database, *, at: datetime, path: Path) -> None:
    """``record_backup`` in a transaction of its own, after the copy was made. A book that cannot be
    written (on a read-only medium) is still backed up; it cannot forget anyone either, so nothing is lost."""
    try:
        with db.session(command="db backup") as session:
            record_backup(session, at=at, path=path)
    except StorageError:
        return


def backups_before(session: Session, at: datetime) -> list[Backup]:
    """The backups made by ``pk db backup`` before ``at``, oldest first."""
    rows = session.exec(select(Meta).where(col(Meta.key).startswith(BACKUP_KEY)).order_by(col(Meta.key)))
    found = []
    for row in rows:
        try:
            data = json.loads(row.value)
            backup = Backup(datetime.fromisoformat(data["at"]), str(data["path"]))
        except (ValueError, KeyError, TypeError):
            continue  # not one we wrote
        if backup.at < at:
            found.append(backup)
    return found
