"""Alembic's environment: run the revisions on the connection ``migrations.upgrade`` hands over.

With no connection in ``config.attributes`` (Alembic's own command line, ``alembic check``) it opens
one to ``sqlalchemy.url``; ``target_metadata`` may be passed the same way for autogenerate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=context.config.attributes.get("target_metadata"),
        compare_type=True,
    )
    # On the caller's open transaction this is a no-op: the caller commits or rolls back.
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("pk's migrations read and rewrite the history; run them online, not with --sql.")
given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Give Alembic a connection in config.attributes or a sqlalchemy.url.")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
