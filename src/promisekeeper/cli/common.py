"""What the command modules share: the per-run ``State``, the output options, and small parsers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.formats import Format

if TYPE_CHECKING:
    from rich.console import Console

    from promisekeeper.config import Settings
    from promisekeeper.db import Database
    from promisekeeper.when import Clock

FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table (for people), json or csv (for programs).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]


def pick(fmt: Format, as_json: bool) -> Format:
    return Format.json if as_json else fmt


@dataclass
class State:
    """What every command shares for one run: settings, clock, database, console (each made lazily)."""

    db_option: str | None = None
    _settings: Settings | None = None
    _clock: Clock | None = None
    _db: Database | None = None
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
            from promisekeeper.when import Clock, clock_now

            s = self.settings
            self._clock = Clock(
                now=clock_now(os.environ.get("PK_NOW")), tz=s.tz, date_order=s.date_order, country=s.country
            )
        return self._clock

    @property
    def db(self) -> Database:
        if self._db is None:
            from promisekeeper.db import Database

            self._db = Database(self.settings.db)
        return self._db

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            # Nothing we print is Rich markup or emoji codes: it is what customers and staff typed.
            self._console = Console(highlight=False, soft_wrap=False, markup=False, emoji=False)
        return self._console


def state(ctx: typer.Context) -> State:
    """The run's shared state, made on first use (also when a command runs without the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj
