"""Kept totals: the track record of the settled promises (fulfilled or cancelled) per customer and per
staff × kind, kept by triggers on ``promise`` on every write (on PostgreSQL through ``tally_delta``,
folded in at commit), so ``pk stats`` over all time reads a few
rows instead of every promise; and ``ix_promise_closed`` for a period's cancelled promises.

The totals are counted here from the promises already in the book, in the same transaction as the
triggers are made, so no write falls between the count and the triggers. The tables and triggers come
from ``models.create_kept``, the code a new book is made with. A later revision that rebuilds the
``promise`` table on SQLite (``batch_alter_table``) drops its triggers: it must call ``create_kept``
again.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promisekeeper.models import KEPT, create_kept

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_meta = sa.table("pk_meta", sa.column("key", sa.String()), sa.column("value", sa.String()))
_TRIGGERS = ("tally_insert", "tally_update", "tally_delete")


def upgrade() -> None:
    bind = op.get_bind()
    op.create_index("ix_promise_closed", "promise", ["state", "closed_at"])
    create_kept(bind)
    done = bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="5"))
    if not done.rowcount:
        bind.execute(sa.insert(_meta).values(key="schema_version", value="5"))


def downgrade() -> None:
    bind = op.get_bind()
    for name in _TRIGGERS:
        on = " ON promise" if bind.dialect.name == "postgresql" else ""
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{on}")
        if bind.dialect.name == "postgresql":
            bind.exec_driver_sql(f"DROP FUNCTION IF EXISTS pk_{name}()")
    KEPT.drop_all(bind)
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS pk_tally_fold()")
    op.drop_index("ix_promise_closed", "promise")
    bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="4"))
