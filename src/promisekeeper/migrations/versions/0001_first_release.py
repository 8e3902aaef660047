"""The first release's schema (pk 3670dc2, schema version 1), exactly as its models created it.

A release-1 book has no Alembic version table; ``migrations.upgrade`` stamps it with this revision.
Written out rather than derived from ``models``: a revision is history and must not follow the
models as they change.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_FLAGS = ("dev_late", "dev_substituted", "dev_price", "dev_short", "dev_excess", "unhappy")


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("name_key", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_name_key", "customer", ["name_key"], unique=True)
    op.create_table(
        "promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("due", sa.DateTime(), nullable=False),
        sa.Column("date_only", sa.Boolean(), nullable=False),
        sa.Column("original_due", sa.DateTime(), nullable=True),
        sa.Column("original_date_only", sa.Boolean(), nullable=True),
        sa.Column("renegotiated", sa.Boolean(), nullable=False),
        sa.Column("staff", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_quantity", sa.Integer(), nullable=False),
        sa.Column("charged_minor", sa.BigInteger(), nullable=True),
        sa.Column("charged_currency", sa.String(length=3), nullable=True),
        sa.Column("late_seconds", sa.BigInteger(), nullable=True),
        sa.Column("dev_late", sa.Boolean(), nullable=False),
        sa.Column("dev_substituted", sa.Boolean(), nullable=False),
        sa.Column("dev_price", sa.Boolean(), nullable=False),
        sa.Column("dev_short", sa.Boolean(), nullable=False),
        sa.Column("dev_excess", sa.Boolean(), nullable=False),
        sa.Column("unhappy", sa.Boolean(), nullable=False),
        sa.Column("remedied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["parent_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_promise_state_due", "promise", ["state", "due"])
    op.create_index("ix_promise_fulfilled", "promise", ["state", "fulfilled_at"])
    op.create_index("ix_promise_customer_id", "promise", ["customer_id"])
    op.create_index("ix_promise_staff", "promise", ["staff"])
    op.create_index("ix_promise_parent_id", "promise", ["parent_id"])
    _create_needs_remedy_index()
    op.create_table(
        "promise_tag",
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("promise_id", "tag"),
    )
    op.create_index("ix_promise_tag_tag", "promise_tag", ["tag"])
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_promise_id", "delivery", ["promise_id"])
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_promise_id", "event", ["promise_id"])
    op.create_table(
        "remedy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("prevent", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_remedy_promise_id", "remedy", ["promise_id"])
    op.create_table(
        "sent_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recipients", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sent_report_at", "sent_report", ["at"])
    op.create_table(
        "sent_item",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["sent_report.id"]),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.PrimaryKeyConstraint("report_id", "promise_id"),
    )
    op.create_index("ix_sent_item_promise_id", "sent_item", ["promise_id"])
    meta = op.create_table(
        "pk_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"}])


def _create_needs_remedy_index() -> None:
    """The partial index of deviated or unhappy promises not yet remedied, in the dialect's own words.

    Release 1 made it in an ``after_create`` listener by compiling this very expression, so the
    text (``remedied = 0 AND (dev_late = 1 OR …)`` on SQLite, ``NOT remedied AND (…)`` on PostgreSQL)
    is the one a release-1 book holds.
    """
    bind = op.get_bind()
    promise = sa.table("promise", *(sa.column(c, sa.Boolean()) for c in ("remedied", *_FLAGS)))
    where = sa.and_(sa.not_(promise.c.remedied), sa.or_(*(promise.c[flag] for flag in _FLAGS))).compile(
        dialect=bind.dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    op.execute(f"CREATE INDEX ix_promise_needs_remedy ON promise (due) WHERE {where}")


def downgrade() -> None:
    for table in (
        "pk_meta",
        "sent_item",
        "sent_report",
        "remedy",
        "event",
        "delivery",
        "promise_tag",
        "promise",
        "customer",
    ):
        op.drop_table(table)
