"""SQLModel tables: customers, promises, deliveries, history events, remedies and the sent-log.

Money is integer minor units plus an ISO 4217 code; moments are stored in UTC and come back aware
(``UTCDateTime``), so no naive datetime leaves this module. The outcome columns of ``Promise``
(``state``, ``fulfilled_at``, ``dev_*``) are written by the store in the same transaction as the
delivery that decides them: they let SQL answer due/check/stats without loading every row, and
``rules.assess`` remains the judge of what they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, col

SCHEMA_VERSION = 5
"""The schema this release writes; each Alembic revision ``000N`` leaves a book at version N."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as UTC without an offset on every engine."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database layer")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def moment(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself, such as ``schema_version``."""

    __tablename__ = "pk_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    id: int | None = Field(default=None, primary_key=True)
    name: str | None = None
    name_key: str | None = Field(default=None, unique=True, index=True)
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    created: datetime = moment()
    forgotten_at: datetime | None = moment(default=None)
    language: str | None = Field(default=None, max_length=35)  # BCP 47; None: the shop's language
    consent: str = Field(  # email | sms | none; the server default serves the bulk import's rows
        default="none", max_length=8, sa_column_kwargs={"server_default": "none"}
    )


class Promise(SQLModel, table=True):
    __tablename__ = "promise"
    __table_args__ = (
        sa.Index("ix_promise_state_due", "state", "due"),
        sa.Index("ix_promise_fulfilled", "state", "fulfilled_at"),
        sa.Index("ix_promise_closed", "state", "closed_at"),  # schema 5: a period's cancelled ones
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="delivery", max_length=16)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    what: str
    quantity: int = 1
    price_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    due: datetime = moment()
    date_only: bool = False
    original_due: datetime | None = moment(default=None)
    original_date_only: bool | None = None
    renegotiated: bool = False
    staff: str | None = Field(default=None, index=True)
    note: str | None = None
    parent_id: int | None = Field(default=None, foreign_key="promise.id", index=True)
    created: datetime = moment()
    # Outcome, kept in step with the deliveries by the store (see module docstring).
    state: str = Field(default="active", max_length=16)  # active | fulfilled | cancelled
    closed_at: datetime | None = moment(default=None)
    fulfilled_at: datetime | None = moment(default=None)
    delivered_quantity: int = 0
    charged_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    charged_currency: str | None = Field(default=None, max_length=3)
    late_seconds: int | None = Field(default=None, sa_type=sa.BigInteger)
    dev_late: bool = False
    dev_substituted: bool = False
    dev_price: bool = False
    dev_short: bool = False
    dev_excess: bool = False
    unhappy: bool = False
    remedied: bool = False
    # Pickup and deposits (schema 4): ``handover`` pickup|delivery (None: written before schema 4,
    # judged as pickup, the default); a pickup promise is judged by ``ready_at`` when it is set.
    handover: str | None = Field(default=None, max_length=8)
    ready_at: datetime | None = moment(default=None)
    deposit_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    deposit_currency: str | None = Field(default=None, max_length=3)


def needs_remedy() -> sa.ColumnElement[bool]:
    """Deviated or unhappy and not yet remedied: ``pk check``'s list beside the overdue ones.

    The partial index below holds just these rows (a few, in a book of a million), so ``check`` reads
    them without scanning the book; a query uses it when its WHERE holds this very expression.
    """
    return sa.and_(
        sa.not_(col(Promise.remedied)),
        sa.or_(
            col(Promise.dev_late),
            col(Promise.dev_substituted),
            col(Promise.dev_price),
            col(Promise.dev_short),
            col(Promise.dev_excess),
            col(Promise.unhappy),
        ),
    )


@event.listens_for(SQLModel.metadata.tables["promise"], "after_create")
def _create_needs_remedy_index(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    """``ix_promise_needs_remedy``, a partial index, written in the engine's own dialect.

    Made here rather than as ``sa.Index(..., sqlite_where=, postgresql_where=)``: those keywords make
    SQLAlchemy import every named dialect when this module loads, 50 ms on every command.
    """
    where = needs_remedy().compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    connection.exec_driver_sql(f"CREATE INDEX ix_promise_needs_remedy ON {table.name} (due) WHERE {where}")


class Tag(SQLModel, table=True):
    __tablename__ = "promise_tag"
    promise_id: int = Field(foreign_key="promise.id", primary_key=True)
    tag: str = Field(primary_key=True, index=True)


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    id: int | None = Field(default=None, primary_key=True)
    promise_id: int = Field(foreign_key="promise.id", index=True)
    at: datetime = moment()
    what: str
    quantity: int
    price_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    note: str | None = None


class Change(SQLModel, table=True):
    """One command's writes: every event it appended carries this id (``pk undo`` reverses a change)."""

    __tablename__ = "change"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment()
    command: str = Field(max_length=64)
    undone_by: int | None = Field(default=None, foreign_key="change.id")


class Event(SQLModel, table=True):
    """The history: a kind and its typed fields (ids, minor units, UTC moments), never a sentence.

    Appended, never updated or deleted (but scrubbed by ``forget``); ``words.event_text`` says it.
    """

    __tablename__ = "event"
    id: int | None = Field(default=None, primary_key=True)
    change_id: int = Field(foreign_key="change.id", index=True)
    promise_id: int | None = Field(default=None, foreign_key="promise.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    # No foreign key: SQLite cannot add one to a table without rebuilding it, and this one is the book's
    # largest (schema 4 added the column); the store writes only ids of existing supply orders.
    order_id: int | None = Field(default=None, index=True)
    at: datetime = moment()
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class SupplyOrder(SQLModel, table=True):
    """An order placed with a supplier (``S1``, ``S2``…): what, how many, the ETA the supplier gave
    (its changes are ``eta_changed`` events) and how many arrived. ``state``: open | received | voided."""

    __tablename__ = "supply_order"
    __table_args__ = (sa.Index("ix_supply_order_state_eta", "state", "eta"),)
    id: int | None = Field(default=None, primary_key=True)
    supplier: str
    what: str
    quantity: int = 1
    eta: datetime | None = moment(default=None)
    eta_date_only: bool = False
    ref: str | None = None
    created: datetime = moment()
    state: str = Field(default="open", max_length=16)
    received_quantity: int = 0
    received_at: datetime | None = moment(default=None)


class SupplyLink(SQLModel, table=True):
    """A promise waiting for a supply order (``pk promise link``, ``supplier order --for``)."""

    __tablename__ = "supply_link"
    promise_id: int = Field(foreign_key="promise.id", primary_key=True)
    order_id: int = Field(foreign_key="supply_order.id", primary_key=True, index=True)


class Remedy(SQLModel, table=True):
    __tablename__ = "remedy"
    id: int | None = Field(default=None, primary_key=True)
    promise_id: int = Field(foreign_key="promise.id", index=True)
    at: datetime = moment()
    action: str
    prevent: str | None = None


class SentReport(SQLModel, table=True):
    """One morning mail that the SMTP server accepted: when, to whom, and how many of each section."""

    __tablename__ = "sent_report"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment(index=True)
    recipients: str  # the envelope recipients, joined with ", "
    subject: str
    overdue: int = 0
    due: int = 0


class SentItem(SQLModel, table=True):
    """A promise in a sent report and the section it was in (``overdue``, ``due_soon``, ``due`` or
    ``escalate``) with its due at the time (``None`` before schema 3): for ``--only-new``."""

    __tablename__ = "sent_item"
    report_id: int = Field(foreign_key="sent_report.id", primary_key=True)
    promise_id: int = Field(foreign_key="promise.id", primary_key=True, index=True)
    section: str = Field(max_length=8)
    due: datetime | None = moment(default=None)


class SentTo(SQLModel, table=True):
    """One recipient of a sent report: the sent-log per recipient, so ``--only-new`` is per recipient.

    ``recipient`` is a mail address in lower case, or ``url:`` and a digest of an apprise URL (a URL
    may hold a token, which the book does not keep)."""

    __tablename__ = "sent_to"
    report_id: int = Field(foreign_key="sent_report.id", primary_key=True)
    recipient: str = Field(primary_key=True, max_length=320)


# --- Kept totals (schema 5): the settled history's track record, kept by the database itself --------

KEPT = sa.MetaData()
"""Tables the database derives from ``promise`` with its own triggers, on every write whatever wrote it
(a command, an import, ``pk db copy``, a migration). Not part of the book: never exported, copied or
imported (the promises written rebuild them); the migrations must still arrive at exactly them."""

TALLY_COUNTS = (
    "promises",
    "kept",
    "deviated",
    "cancelled",
    "on_time",
    "in_full",
    "at_price",
    "late",
    "late_seconds",
    "renegotiated",
    "collected_late",
)
"""What a kept total counts of the settled promises (fulfilled or cancelled): the fields of
``views.Tally`` that do not depend on the moment asked (``open`` and ``overdue`` do; they are counted
live from the few active promises)."""


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in TALLY_COUNTS]


TALLY_CUSTOMER = sa.Table(
    "tally_customer",
    KEPT,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),  # 0: no customer
    *_counts(),
    sa.Index("ix_tally_customer_promises", "promises"),
)
TALLY_GROUP = sa.Table(
    "tally_group",
    KEPT,
    sa.Column("staff", sa.String, primary_key=True),  # "": no staff named
    sa.Column("kind", sa.String(16), primary_key=True),
    *_counts(),
)
TALLY_DELTA = sa.Table(
    "tally_delta",
    KEPT,
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("staff", sa.String, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    *_counts(),
)
"""PostgreSQL only: each write's changes to the kept totals, folded into them when its transaction
commits (empty otherwise, and always on SQLite). Updating one total row again and again in a transaction
leaves a chain of row versions that every later update walks: a copy of 40,000 promises took twice as
long, and it grows with the square of the rows."""
_TALLY_KEYS = {
    "tally_customer": ("COALESCE({r}.customer_id, 0)",),
    "tally_group": ("COALESCE({r}.staff, '')", "{r}.kind"),
}


def settled_sql(r: str) -> str:
    """A promise whose fate is decided (fulfilled or cancelled, at a known moment): what the kept
    totals count. ``r`` names the row (``NEW``, ``OLD``, a table alias)."""
    return (
        f"(({r}.state = 'fulfilled' AND {r}.fulfilled_at IS NOT NULL)"
        f" OR ({r}.state = 'cancelled' AND {r}.closed_at IS NOT NULL))"
    )


def tally_sql(r: str) -> dict[str, str]:
    """What one settled promise ``r`` adds to each kept count, as SQL on both engines. The same
    judgement as ``store.stats.tally_columns`` (which counts the same things live), from the outcome
    columns ``rules.assess`` wrote."""
    f = f"{r}.state = 'fulfilled'"
    dev = f"({r}.dev_late OR {r}.dev_substituted OR {r}.dev_price OR {r}.dev_short OR {r}.dev_excess)"
    pickup = f"{r}.kind = 'delivery' AND COALESCE({r}.handover, 'pickup') = 'pickup'"

    def one(cond: str) -> str:
        return f"CASE WHEN {cond} THEN 1 ELSE 0 END"

    return {
        "promises": "1",
        "kept": one(f"{f} AND NOT {dev}"),
        "deviated": one(f"{f} AND {dev}"),
        "cancelled": one(f"{r}.state = 'cancelled'"),
        "on_time": one(f"{f} AND NOT {r}.dev_late"),
        "in_full": one(f"{f} AND NOT {r}.dev_short AND NOT {r}.dev_excess"),
        "at_price": one(f"{f} AND NOT {r}.dev_price"),
        "late": one(f"{f} AND {r}.dev_late"),
        "late_seconds": f"CASE WHEN {f} AND {r}.dev_late THEN COALESCE({r}.late_seconds, 0) ELSE 0 END",
        "renegotiated": one(f"{r}.renegotiated"),
        "collected_late": one(
            f"{f} AND {pickup} AND {r}.ready_at IS NOT NULL AND {r}.ready_at <= {r}.due"
            f" AND {r}.fulfilled_at > {r}.due"
        ),
    }


_TALLY_INPUTS = (
    *("state", "customer_id", "staff", "kind", "fulfilled_at", "closed_at", "due", "ready_at", "handover"),
    *("late_seconds", "dev_late", "dev_substituted", "dev_price", "dev_short", "dev_excess", "renegotiated"),
)
"""The promise columns a kept total depends on: an update of any other column leaves them alone."""


def _add_rows(table: str, source: str, r: str, *, sign: str = "1", grouped: bool = True) -> str:
    """``INSERT … SELECT`` adding ``sign`` × each settled row of ``source`` to ``table``'s counts."""
    keys = [k.format(r=r) for k in _TALLY_KEYS[table]]
    names = [*(c.name for c in KEPT.tables[table].primary_key), *TALLY_COUNTS]
    counts = [f"{'SUM' if grouped else ''}({sign} * ({e}))" for e in tally_sql(r).values()]
    group = f" GROUP BY {', '.join(keys)}" if grouped else ""
    conflict = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in TALLY_COUNTS)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join([*keys, *counts])}"
        f" FROM {source} WHERE {settled_sql(r)}{group}"
        f" ON CONFLICT ({', '.join(names[: len(keys)])}) DO UPDATE SET {conflict}"
    )


def recount_sql() -> list[str]:
    """Statements that make the kept totals again from every promise (the migration, a check)."""
    out = []
    for table in _TALLY_KEYS:
        out.append(f"DELETE FROM {table}")
        out.append(_add_rows(table, "promise r", "r"))
    return out


def _sqlite_triggers() -> list[str]:
    """Row triggers: the old row's counts taken away, the new row's added (a settled promise only;
    ``UPDATE OF`` the columns the counts depend on)."""

    def take(r: str) -> list[str]:
        out = []
        for table, keys in _TALLY_KEYS.items():
            names = [c.name for c in KEPT.tables[table].primary_key]
            where = " AND ".join(f"{n} = {k.format(r=r)}" for n, k in zip(names, keys, strict=True))
            sets = ", ".join(f"{n} = {n} - ({e})" for n, e in tally_sql(r).items())
            out.append(f"UPDATE {table} SET {sets} WHERE {where} AND {settled_sql(r)};")
        return out

    def add(r: str) -> list[str]:
        return [_add_rows(table, "(SELECT 1) AS one", r, grouped=False) + ";" for table in _TALLY_KEYS]

    return [
        f"CREATE TRIGGER tally_{op} AFTER {fired_by} ON promise WHEN {when} BEGIN {' '.join(body)} END"
        for op, fired_by, when, body in _row_triggers(take, add)
    ]


def _row_triggers(
    take: Callable[[str], list[str]], add: Callable[[str], list[str]]
) -> list[tuple[str, str, str, list[str]]]:
    """Each row trigger on ``promise``: its name, event, condition and statements."""
    return [
        ("insert", "INSERT", settled_sql("NEW"), add("NEW")),
        ("delete", "DELETE", settled_sql("OLD"), take("OLD")),
        (
            "update",
            f"UPDATE OF {', '.join(_TALLY_INPUTS)}",
            f"{settled_sql('OLD')} OR {settled_sql('NEW')}",
            [*take("OLD"), *add("NEW")],
        ),
    ]


def _postgres_triggers() -> list[str]:
    """Row triggers that append each change to ``tally_delta``, and a deferred constraint trigger that
    folds them into the totals once, at commit (the first of its calls does it; a setting local to the
    transaction makes the others return at once)."""

    def delta(r: str, sign: str) -> list[str]:
        names = [c.name for c in TALLY_DELTA.columns]
        keys = [k.format(r=r) for keys in _TALLY_KEYS.values() for k in keys]
        counts = [f"{sign}({e})" for e in tally_sql(r).values()]
        return [
            f"INSERT INTO tally_delta ({', '.join(names)}) SELECT {', '.join([*keys, *counts])}"
            f" FROM (SELECT 1) AS one WHERE {settled_sql(r)};"
        ]

    out = []
    for op, fired_by, when, body in _row_triggers(lambda r: delta(r, "-"), lambda r: delta(r, "")):
        out.append(
            f"CREATE OR REPLACE FUNCTION pk_tally_{op}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {' '.join(body)} RETURN NULL; END $$"
        )
        out.append(
            f"CREATE TRIGGER tally_{op} AFTER {fired_by} ON promise FOR EACH ROW WHEN ({when}) "
            f"EXECUTE FUNCTION pk_tally_{op}()"
        )
    folds = []
    for table in _TALLY_KEYS:
        keys = ", ".join(c.name for c in KEPT.tables[table].primary_key)
        sums = ", ".join(f"SUM({n})" for n in TALLY_COUNTS)
        conflict = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in TALLY_COUNTS)
        folds.append(
            f"INSERT INTO {table} ({keys}, {', '.join(TALLY_COUNTS)}) SELECT {keys}, {sums} FROM tally_delta"
            f" GROUP BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {conflict};"
        )
    out.append(
        "CREATE OR REPLACE FUNCTION pk_tally_fold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF current_setting('pk.tally_folded', true) = 'on' THEN RETURN NULL; END IF; "
        "PERFORM set_config('pk.tally_folded', 'on', true); "
        f"{' '.join(folds)} DELETE FROM tally_delta; RETURN NULL; END $$"
    )
    out.append(
        "CREATE CONSTRAINT TRIGGER tally_fold AFTER INSERT ON tally_delta DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION pk_tally_fold()"
    )
    return out


def create_kept(connection: sa.Connection) -> None:
    """The kept-totals tables and the triggers that keep them, counted from the promises already there."""
    KEPT.create_all(connection)
    triggers = _postgres_triggers() if connection.dialect.name == "postgresql" else _sqlite_triggers()
    for statement in [*triggers, *recount_sql()]:
        connection.exec_driver_sql(statement)


@event.listens_for(SQLModel.metadata.tables["promise"], "after_create")
def _create_kept(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    create_kept(connection)
