"""The book's schema history as Alembic revisions, run on the caller's connection and transaction.

``upgrade`` is the one door: ``db`` calls it with the connection of the transaction that holds the
write lock, so the whole upgrade commits or rolls back with it. Alembic is imported only in here, when
a book needs upgrading: no everyday command pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

HEAD = 5
"""The schema version the newest revision makes (``pk_meta.schema_version``)."""

VERSION_TABLE = "alembic_version"


def revision_of(version: int) -> str:
    """The revision id that makes schema ``version``: ``"0002"`` for 2."""
    return f"{version:04d}"


def config(connection: Connection, **attributes: Any) -> Config:
    """Alembic's configuration for this package's revisions, bound to ``connection`` (no alembic.ini)."""
    from alembic.config import Config

    cfg = Config(attributes={"connection": connection, **attributes})
    cfg.set_main_option("script_location", str(Path(__file__).parent).replace("%", "%%"))
    return cfg


def upgrade(connection: Connection, *, from_version: int, tz: str) -> None:
    """Bring a book at schema ``from_version`` to ``HEAD`` inside the caller's transaction.

    A book written before Alembic (release 1) has no version table: it is stamped with the revision
    of ``from_version`` first. ``tz`` is the shop's zone, in which release 1 wrote its history.
    """
    import sqlalchemy as sa
    from alembic import command

    if not 1 <= from_version <= HEAD:
        raise ValueError(f"no migration from schema version {from_version} (this one knows 1 to {HEAD})")
    cfg = config(connection, tz=tz)
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        command.stamp(cfg, revision_of(from_version))
    command.upgrade(cfg, "head")
