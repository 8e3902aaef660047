"""What the command modules share: the per-run ``State``, the output options, and small parsers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from promisekeeper.render import Format

FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output: table (for people), json or csv (for programs).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]


def pick(fmt: Format, as_json: bool) -> Format:
    return Format.json if as_json else fmt


@dataclass
class State:
    """What every command shares for one run: settings, the clock, the database, the console."""

    db_option: str | None = None
    _settings: Any = None
    _clock: Any = None
    _db: Any = None
    _console: Any = field(default=None)

    @property
    def settings(self) -> Any:
        if self._settings is None:
            from promisekeeper.config import load_settings

            self._settings = load_settings(db=self.db_option)
        return self._settings

    @property
    def clock(self) -> Any:
        if self._clock is None:
            from promisekeeper.when import Clock, clock_now

            s = self.settings
            self._clock = Clock(
                now=clock_now(os.environ.get("PK_NOW")), tz=s.tz, date_order=s.date_order, country=s.country
            )
        return self._clock

    @property
    def db(self) -> Any:
        if self._db is None:
            from promisekeeper.db import Database

            self._db = Database(self.settings.db)
        return self._db

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=False)
        return self._console


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def state(ctx: typer.Context) -> State:
    """The run's shared state, made on first use (also when a command is invoked without the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj
