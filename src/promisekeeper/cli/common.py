"""What the command modules share: the per-run ``State``, the output options, and small parsers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.errors import NotFound
from promisekeeper.views import Format

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session

    from promisekeeper.config import Settings
    from promisekeeper.db import Database
    from promisekeeper.render import Renderer
    from promisekeeper.when import Clock

FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table (for people), json or csv (for programs).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]


#: The commands that may start a book where there is none yet (SPEC, "A book that is not there"): the
#: ones that record something new. ``pk demo`` and ``pk db upgrade`` open theirs directly.
STARTS_A_BOOK = frozenset({"promise add", "customer add", "contact", "supplier order", "import"})


def pick(fmt: Format, as_json: bool) -> Format:
    return Format.json if as_json else fmt


@dataclass
class State:
    """What every command shares for one run: settings, clock, database, console (each made lazily).

    The real clock is read here, once per run (``PK_NOW`` pins it); nothing below the CLI reads it.
    """

    db_option: str | None = None
    command: str = "pk"
    _settings: Settings | None = None
    _clock: Clock | None = None
    _db: Database | None = None
    _told_missing: bool = False
    told_languages: set[str] = field(default_factory=set)  # said once a run: no catalog for them
    _console: Console | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from promisekeeper.config import load_settings

            self._settings = load_settings(db=self.db_option)
        return self._settings

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            from datetime import UTC, datetime

            from promisekeeper.when import Clock

            s = self.settings
            now = s.pinned_now or datetime.now(UTC)
            self._clock = Clock(
                now=now,
                tz=s.tz,
                date_order=s.date_order,
                country=s.country,
                hours=s.hours,
                supply_margin=s.supply.margin,
                no_eta_warn=s.supply.no_eta_warn,
            )
        return self._clock

    @property
    def db(self) -> Database:
        if self._db is None:
            from promisekeeper.db import Database

            s = self.settings
            self._db = Database(s.db, busy_ms=s.busy_timeout_ms, tz=s.timezone, now=lambda: self.clock.now)
        return self._db

    def close(self) -> None:
        """Give back the run's database connection (a process may run many commands: a till, a test)."""
        if self._db is not None:
            self._db.close()

    @contextmanager
    def session(self, *, write: bool = True, require: bool = False) -> Iterator[Session]:
        """The command's one transaction; its writes are one change, named after the command.

        Only the writes of the commands in ``STARTS_A_BOOK`` create a book that is not there yet. Any
        other change to a missing book is exit 3 (``require``: exit 4, for ``pk notify``); a read answers
        as on an empty book, with one line on stderr naming the path, so a mistyped ``PK_DB`` is seen,
        never created.
        """
        db = self.db
        starts = self.command in STARTS_A_BOOK
        if db.missing and not (write and starts):
            if write or require:
                raise db.missing_error(4 if require else 3)
            try:
                with db.empty_session(command=self.command) as session:
                    yield session
            except NotFound as exc:  # promise #12 or customer Anna: the whole book is not there
                raise db.missing_error() from exc
            if not starts and not self._told_missing:
                self._told_missing = True
                sys.stderr.write(
                    f"pk: There is no promise book at {db.target} yet, so this is what an empty one holds; "
                    "start one with pk promise add (or check --db or PK_DB).\n"
                )
                sys.stderr.flush()
            return
        with db.session(write=write, command=self.command) as session:
            yield session

    @property
    def console(self) -> Console:
        if self._console is None:
            import os
            import sys

            from rich.console import Console

            # Colour, bold, underline and links only on a terminal and without NO_COLOR (any non-empty
            # value, no-color.org); FORCE_COLOR does not make a pipe a terminal. Piped, nothing is
            # hard-wrapped: a confirmation stays one line, tables take COLUMNS (else 80) as their width.
            try:
                tty = sys.stdout.isatty()
            except (AttributeError, ValueError):
                tty = False
            plain = not tty or bool(os.environ.get("NO_COLOR"))
            # Nothing we print is Rich markup or emoji codes: it is what customers and staff typed.
            self._console = Console(
                highlight=False,
                markup=False,
                emoji=False,
                force_terminal=tty,
                color_system=None if plain else "auto",
                soft_wrap=not tty,
            )
        return self._console

    def confirm(self, question: str, refusal: str) -> bool:
        """The answer to ``question`` on a terminal (no answer is no); without one, bad input ``refusal``."""
        import click

        from promisekeeper.errors import BadInput

        if not sys.stdin.isatty():
            raise BadInput(refusal)
        try:
            return typer.confirm(question, default=False)
        except click.exceptions.Abort:  # end of input or Ctrl-C at the prompt
            typer.echo(err=True)
            return False

    def warn(self, message: str) -> None:
        """One line on stderr that does not stop the command (the result still goes to stdout); what it
        quotes of the book is shown visibly, never raw."""
        from promisekeeper.text import visible

        sys.stderr.write(f"pk: {visible(message)}\n")
        sys.stderr.flush()

    def renderer(self, fmt: Format, as_json: bool = False) -> Renderer:
        """The one renderer for this run's ``--format``."""
        from promisekeeper.render import renderer

        return renderer(pick(fmt, as_json), self.console, self.settings.tz, self.clock.now)


def state(ctx: typer.Context) -> State:
    """The run's shared state, made on first use (also when a command runs without the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    root.obj.command = ctx.command_path.removeprefix(f"{root.info_name} ").strip() or "pk"
    return root.obj
