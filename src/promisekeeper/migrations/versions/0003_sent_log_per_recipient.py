"""The sent-log per recipient: ``sent_to`` names each recipient of a sent report, and ``sent_item``
keeps the promise's due as it was reported, so ``pk notify --only-new`` is judged per recipient.

Every existing report's ``recipients`` (the envelope addresses joined with ", ") becomes one
``sent_to`` row per address, in lower case: a recipient told before the upgrade is still told.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_CHUNK = 500

_report = sa.table("sent_report", sa.column("id", sa.Integer()), sa.column("recipients", sa.String()))
_sent_to = sa.table("sent_to", sa.column("report_id", sa.Integer()), sa.column("recipient", sa.String()))
_meta = sa.table("pk_meta", sa.column("key", sa.String()), sa.column("value", sa.String()))


def recipients_of(joined: str) -> list[str]:
    """The addresses of one old report, each once, in lower case (as the envelope lists them)."""
    return list(dict.fromkeys(a.strip().lower() for a in joined.split(",") if a.strip()))


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "sent_to",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["sent_report.id"]),
        sa.PrimaryKeyConstraint("report_id", "recipient"),
    )
    op.add_column("sent_item", sa.Column("due", sa.DateTime(), nullable=True))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(_report.c.id, _report.c.recipients)
            .where(_report.c.id > last)
            .order_by(_report.c.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        copied = [
            {"report_id": r.id, "recipient": a} for r in rows for a in recipients_of(r.recipients or "")
        ]
        if copied:
            bind.execute(sa.insert(_sent_to), copied)
    done = bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="3"))
    if not done.rowcount:
        bind.execute(sa.insert(_meta).values(key="schema_version", value="3"))


def downgrade() -> None:
    op.drop_column("sent_item", "due")
    op.drop_table("sent_to")
    bind = op.get_bind()
    bind.execute(sa.update(_meta).where(_meta.c.key == "schema_version").values(value="2"))
