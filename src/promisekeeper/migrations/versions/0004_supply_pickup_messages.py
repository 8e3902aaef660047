"""Suppliers, pickup, deposits and customer messages: the ``supply_order`` and ``supply_link`` tables,
a promise's ``handover``, ``ready_at`` and deposit, a customer's ``language`` and ``consent``, and the
supply order an event belongs to.

Only columns and tables are added, all empty or defaulted: an existing promise keeps its judgement
(``handover`` null is judged as pickup, and with no ``ready_at`` a pickup is judged by its collection
as before), and an existing customer has consented to nothing.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_meta = sa.table("pk_meta", sa.column("key", sa.String()), sa.column("value", sa.String()))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "supply_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("eta", sa.DateTime(), nullable=True),
        sa.Column("eta_date_only", sa.Boolean(), nullable=False),
        sa.Column("ref", sa.String(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supply_order_state_eta", "supply_order", ["state", "eta"])
    op.create_table(
        "supply_link",
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["promise_id"], ["promise.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["supply_order.id"]),
        sa.PrimaryKeyConstraint("promise_id", "order_id"),
    )
    op.create_index("ix_supply_link_order_id", "supply_link", ["order_id"])
    op.add_column("promise", sa.Column("handover", sa.String(length=8), nullable=True))
    op.add_column("promise", sa.Column("ready_at", sa.DateTime(), nullable=True))
    op.add_column("promise", sa.Column("deposit_minor", sa.BigInteger(), nullable=True))
    op.add_column("promise", sa.Column("deposit_currency", sa.String(length=3), nullable=True))
    op.add_column("customer", sa.Column("language", sa.String(length=35), nullable=True))
    op.add_column(
        "customer", sa.Column("consent", sa.String(length=8), nullable=False, server_default="none")
    )
    op.add_column("event", sa.Column("order_id", sa.Integer(), nullable=True))
    op.create_index("ix_event_order_id", "event", ["order_id"])
    done = bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="4"))
    if not done.rowcount:
        bind.execute(sa.insert(_meta).values(key="schema_version", value="4"))


def downgrade() -> None:
    op.drop_index("ix_event_order_id", "event")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("order_id")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("consent")
        batch.drop_column("language")
    with op.batch_alter_table("promise") as batch:
        for name in ("deposit_currency", "deposit_minor", "ready_at", "handover"):
            batch.drop_column(name)
    op.drop_index("ix_supply_link_order_id", "supply_link")
    op.drop_table("supply_link")
    op.drop_index("ix_supply_order_state_eta", "supply_order")
    op.drop_table("supply_order")
    bind = op.get_bind()
    bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="3"))
