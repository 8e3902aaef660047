"""History is data: each event a kind plus typed fields, written by a change (one command, one change).

Release 1's ``event(promise_id, at, event, detail)`` held English sentences. Every old row becomes
exactly one new row, read back by ``legacy.parse_event`` against its promise's row (what it cannot
read with certainty is kept as a ``note`` holding the sentence); its id, promise and moment stay, its
customer is the promise's, and its change is one ``legacy`` change per distinct old moment (the
commands of release 1 wrote all their events at one moment).

Built as a new table that takes the old one's place (create, copy, drop, rename, index), which works
alike on SQLite and PostgreSQL. The rows are read a few hundred promises at a time, so a book of any
size converts in flat memory.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from promisekeeper.legacy import FORGOTTEN, LegacyDelivery, LegacyPromise, parse_event

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_CHUNK = 500  # promises per batch; also the most values in one IN (...)
_EVENT_INDEXES = (
    ("ix_event_change_id", "change_id"),
    ("ix_event_promise_id", "promise_id"),
    ("ix_event_customer_id", "customer_id"),
)

# The tables as this revision reads and writes them (frozen: not the models, which move on).
_customer = sa.table("customer", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
_promise = sa.table(
    "promise",
    *(sa.column(c, sa.Integer()) for c in ("id", "customer_id", "parent_id", "quantity")),
    *(sa.column(c, sa.String()) for c in ("kind", "what", "currency", "staff")),
    *(sa.column(c, sa.BigInteger()) for c in ("price_minor", "late_seconds")),
    *(sa.column(c, sa.DateTime()) for c in ("due", "original_due")),
    *(sa.column(c, sa.Boolean()) for c in ("date_only", "original_date_only", "renegotiated")),
)
_delivery = sa.table(
    "delivery",
    sa.column("id", sa.Integer()),
    sa.column("promise_id", sa.Integer()),
    sa.column("at", sa.DateTime()),
    sa.column("what", sa.String()),
    sa.column("quantity", sa.Integer()),
    sa.column("price_minor", sa.BigInteger()),
    sa.column("currency", sa.String()),
    sa.column("note", sa.String()),
)
_remedy = sa.table(
    "remedy",
    sa.column("id", sa.Integer()),
    sa.column("promise_id", sa.Integer()),
    sa.column("at", sa.DateTime()),
    sa.column("action", sa.String()),
    sa.column("prevent", sa.String()),
)
_old_event = sa.table(
    "event",
    sa.column("id", sa.Integer()),
    sa.column("promise_id", sa.Integer()),
    sa.column("at", sa.DateTime()),
    sa.column("event", sa.String()),
    sa.column("detail", sa.String()),
)
_change = sa.table(
    "change", sa.column("id", sa.Integer()), sa.column("at", sa.DateTime()), sa.column("command", sa.String())
)
_new_event = sa.table(
    "event_new",
    *(sa.column(c, sa.Integer()) for c in ("id", "change_id", "promise_id", "customer_id")),
    sa.column("at", sa.DateTime()),
    sa.column("kind", sa.String()),
    sa.column("data", sa.JSON()),
)
_meta = sa.table("pk_meta", sa.column("key", sa.String()), sa.column("value", sa.String()))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["undone_by"], ["change.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "event_new",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["change.id"]),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    moments = sa.select(_old_event.c.at).distinct().subquery()
    bind.execute(
        sa.insert(_change).from_select(
            ["at", "command"],
            sa.select(moments.c.at, sa.literal("legacy", sa.String())).order_by(moments.c.at),
        )
    )
    op.create_index("ix_change_at_legacy", "change", ["at"])  # for the look-ups below; dropped after
    if bind.execute(sa.select(sa.func.count()).select_from(_old_event)).scalar():
        config = op.get_context().config
        tz = config.attributes.get("tz") if config is not None else None
        if not tz:
            raise RuntimeError(
                "Converting release 1's history needs the shop's time zone (attributes['tz'])."
            )
        for rows in _converted(bind, str(tz)):
            bind.execute(sa.insert(_new_event), rows)
    count = sa.select(sa.func.count())
    old, new = (bind.execute(count.select_from(t)).scalar() for t in (_old_event, _new_event))
    if old != new:  # an event whose promise is gone (only possible with foreign keys off): refuse, not lose
        raise RuntimeError(f"{old} history events but {new} converted; the book's events need repair first.")
    op.drop_index("ix_change_at_legacy", table_name="change")
    op.drop_table("event")
    op.rename_table("event_new", "event")
    if bind.dialect.name == "postgresql":
        _tidy_postgres_names(bind)
    for name, column in _EVENT_INDEXES:
        op.create_index(name, "event", [column])
    done = bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="2"))
    if not done.rowcount:
        bind.execute(sa.insert(_meta).values(key="schema_version", value="2"))


def _converted(bind: sa.Connection, tz: str) -> Iterator[list[dict[str, Any]]]:
    """The new event rows, a batch of promises at a time, in promise and then event id order."""
    last = 0
    while True:
        ids = list(
            bind.execute(
                sa.select(_promise.c.id).where(_promise.c.id > last).order_by(_promise.c.id).limit(_CHUNK)
            ).scalars()
        )
        if not ids:
            return
        last = ids[-1]
        rows = _anchors(bind, ids, tz)
        events = bind.execute(
            sa.select(_old_event)
            .where(_old_event.c.promise_id.in_(ids))
            .order_by(_old_event.c.promise_id, _old_event.c.id)
        ).all()
        changes = _change_ids(bind, sorted({e.at for e in events}))
        out = []
        for e in events:
            row = rows[e.promise_id]
            kind, data = parse_event(e.event, e.detail, _aware(e.at), row)
            out.append(
                {
                    "id": e.id,
                    "change_id": changes[e.at],
                    "promise_id": e.promise_id,
                    "customer_id": row.customer_id,
                    "at": e.at,
                    "kind": kind,
                    "data": data,
                }
            )
        if out:
            yield out


def _anchors(bind: sa.Connection, ids: Sequence[int], tz: str) -> dict[int, LegacyPromise]:
    """Each promise's row, customer, deliveries and remedies: what its sentences are read against."""
    deliveries: dict[int, list[LegacyDelivery]] = defaultdict(list)
    for d in bind.execute(
        sa.select(_delivery).where(_delivery.c.promise_id.in_(ids)).order_by(_delivery.c.at, _delivery.c.id)
    ):
        deliveries[d.promise_id].append(
            LegacyDelivery(_aware(d.at), d.what, d.quantity, d.price_minor, d.currency, d.note)
        )
    remedies: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for r in bind.execute(
        sa.select(_remedy).where(_remedy.c.promise_id.in_(ids)).order_by(_remedy.c.at, _remedy.c.id)
    ):
        remedies[r.promise_id].append((r.action, r.prevent))
    query = (
        sa.select(_promise, _customer.c.name.label("customer_name"))
        .select_from(_promise.outerjoin(_customer, _customer.c.id == _promise.c.customer_id))
        .where(_promise.c.id.in_(ids))
    )
    out = {}
    for p in bind.execute(query):
        if p.customer_id is None:
            customer = None
        else:
            customer = p.customer_name if p.customer_name is not None else FORGOTTEN
        out[p.id] = LegacyPromise(
            id=p.id,
            kind=p.kind,
            what=p.what,
            quantity=p.quantity,
            price_minor=p.price_minor,
            currency=p.currency,
            due=_aware(p.due),
            date_only=bool(p.date_only),
            tz=tz,
            original_due=_aware(p.original_due) if p.original_due is not None else None,
            original_date_only=None if p.original_date_only is None else bool(p.original_date_only),
            renegotiated=bool(p.renegotiated),
            staff=p.staff,
            customer=customer,
            customer_id=p.customer_id,
            parent_id=p.parent_id,
            late_seconds=p.late_seconds,
            deliveries=tuple(deliveries[p.id]),
            remedies=tuple(remedies[p.id]),
        )
    return out


def _change_ids(bind: sa.Connection, moments: Sequence[datetime]) -> dict[datetime, int]:
    found: dict[datetime, int] = {}
    for i in range(0, len(moments), _CHUNK):
        part = moments[i : i + _CHUNK]
        found.update(
            (at, cid)
            for cid, at in bind.execute(sa.select(_change.c.id, _change.c.at).where(_change.c.at.in_(part)))
        )
    return found


def _aware(moment: datetime) -> datetime:
    """Stored moments are UTC without an offset (``models.UTCDateTime``)."""
    return moment.replace(tzinfo=UTC)


def _tidy_postgres_names(bind: sa.Connection) -> None:
    """The names PostgreSQL gave ``event_new``'s sequence and constraints, as a new ``event`` would have."""
    bind.exec_driver_sql("ALTER SEQUENCE event_new_id_seq RENAME TO event_id_seq")
    bind.exec_driver_sql("ALTER TABLE event RENAME CONSTRAINT event_new_pkey TO event_pkey")
    for column in ("change_id", "promise_id", "customer_id"):
        bind.exec_driver_sql(
            f"ALTER TABLE event RENAME CONSTRAINT event_new_{column}_fkey TO event_{column}_fkey"
        )
    bind.exec_driver_sql(
        "SELECT setval(pg_get_serial_sequence('event', 'id'), "
        "coalesce((SELECT max(id) FROM event), 0) + 1, false)"
    )


def downgrade() -> None:
    raise NotImplementedError(
        "History as data cannot be turned back into release 1's sentences; "
        "restore the backup pk made before the upgrade."
    )
