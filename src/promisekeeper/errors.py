"""Errors that carry their own exit code (docs/reference.md, "Exit codes").

Raised anywhere below the CLI; turned into one line on stderr and the exit code in one place
(``promisekeeper.cli.main``).
"""

from __future__ import annotations


def quote(text: str) -> str:
    """The user's text for an error message: one line, printable, not overlong."""
    s = " ".join(text.split())
    if len(s) > 40:
        s = s[:40] + "…"
    if not s.isprintable():
        s = s.encode("unicode_escape").decode("ascii")
    return f'"{s}"'


class PkError(Exception):
    """A failure the user can act on: its message is one sentence, shown as is."""

    exit_code: int = 1


class BadInput(PkError):
    """Unparseable or impossible input: the user typed something we cannot accept."""

    exit_code = 2


class NotFound(PkError):
    """No such promise id or customer."""

    exit_code = 3


class StorageError(PkError):
    """The database is locked beyond the wait, unreadable, corrupt, too new or not writable."""

    exit_code = 4


class MailError(PkError):
    """The report could not be mailed (connection, authentication, refusal)."""

    exit_code = 5
