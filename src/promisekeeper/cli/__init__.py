"""The root ``pk`` app: global options, the per-run context, and the one place errors become exit codes.

Command modules register their commands on ``app`` at import; a command body parses its options,
calls the store inside ``state.db.session()`` and hands the result to ``render``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from promisekeeper import __version__
from promisekeeper.cli.common import State
from promisekeeper.completion import HelpCache
from promisekeeper.config import debug_enabled
from promisekeeper.errors import BadInput, PkError


class PkGroup(TyperGroup):
    """Turns every ``PkError`` and usage error into one line on stderr and its exit code (see docs/)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        debug = debug_enabled()
        try:
            _check_utf8(sys.argv[1:] if args is None else list(args))
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except PkError as exc:
            if debug:
                raise
            _fail(str(exc), exc.exit_code)
        except TyperException as exc:
            if debug:
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.exit(0)  # bare `pk` or `pk promise`: Rich printed the help while raising; not an error
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            # Typer checks choices through Pydantic, which prefixes "Value error, "; the rest is ours.
            message = exc.format_message().replace("Value error, ", "").rstrip(".")
            _fail(f"{message}{hint}.", exc.exit_code if exc.exit_code != 1 else 2)
        except typer.Abort:
            _fail("Aborted.", 130)
        except KeyboardInterrupt:
            _fail("Interrupted; nothing was written.", 130)
        except BrokenPipeError:
            sys.exit(0)
        except Exception as exc:
            if debug:
                raise
            if isinstance(exc, UnicodeEncodeError) and "surrogates" in exc.reason:
                # Bytes that are not UTF-8 reached us from outside (a variable, a file name): not our bug.
                _fail(f"Some text given to pk is not valid UTF-8 ({_escaped(exc.object)}); type it again.", 2)
            if isinstance(exc, ValueError) and "null byte" in str(exc):
                # A NUL in a file name: no shell can pass one, but a program calling pk can.
                _fail(
                    "A file name given to pk holds a NUL character, which no file name can; leave it out.", 2
                )
            _fail(f"Internal error: {type(exc).__name__}: {exc} (run with PK_DEBUG=1 for the traceback).", 1)
        code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _escaped(text: str) -> str:
    """Text that may hold undecodable bytes (as surrogates), with each such byte shown as ``\\xNN``."""
    shown = "".join(
        (f"\\x{ord(ch) - 0xDC00:02x}" if 0xDC80 <= ord(ch) <= 0xDCFF else f"\\u{ord(ch):04x}")
        if 0xD800 <= ord(ch) <= 0xDFFF
        else ch
        for ch in text
    )
    shown = shown.encode("unicode_escape").decode("ascii") if not shown.isprintable() else shown
    return shown if len(shown) <= 60 else shown[:60] + "…"


def _check_utf8(args: Sequence[str]) -> None:
    """An argument that is not valid UTF-8 is bad input (exit 2), before any command sees it."""
    for n, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(
                f"Argument {n} ('{_escaped(arg)}') is not valid UTF-8 text; "
                "type it again, or set the terminal to UTF-8."
            ) from None


def _fail(message: str, code: int) -> None:
    """The one line: a file name or value quoted in ``message`` cannot break it or reach the terminal raw."""
    from promisekeeper.text import visible

    sys.stderr.write(f"pk: {visible(message)}\n")
    sys.stderr.flush()
    sys.exit(code)


app = typer.Typer(
    cls=PkGroup,
    name="pk",
    help="Record every promise made to a customer, check it against what happened, and list what is due.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    epilog="Example: pk promise add 'Hiking boots' -c 'Anna Smith' -p 240 -d tue",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="PK_DB", help="Database file or SQLAlchemy URL (default: the user data dir)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Keep every promise made to a customer: what, how many, for what price, by when."""
    ctx.obj = State(db_option=db)
    ctx.call_on_close(ctx.obj.close)


def main(kept_help: HelpCache | None = None) -> None:
    """Entry point of the ``pk`` console script; ``kept_help``: keep the help this run prints there."""
    with only(app, sys.argv[1:]):
        if kept_help is None:
            app()
            return
        seen = _Copying(sys.stdout)
        sys.stdout = seen
        try:
            app()
        except SystemExit as done:
            if done.code in (0, None) and seen.text:
                kept_help.keep("".join(seen.text))
            raise
        finally:
            sys.stdout = seen.out


class _Copying:
    """Standard output, and a copy of all that is written to it."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.text: list[str] = []

    def write(self, text: str) -> int:
        written = int(self.out.write(text))  # bytes are refused here, as by standard output (Click tries)
        self.text.append(text)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)


# The root's options that take a value: the word after them names no command.
_ROOT_VALUES = frozenset({"--db"})


@contextmanager
def only(typer_app: typer.Typer, args: Sequence[str]) -> Iterator[None]:
    """While it lasts, ``typer_app`` has only the command (or group, and in it the command) that ``args``
    name.

    Typer turns every registered command into a Click command, reading each one's parameters, before it
    runs any: a tenth of a short command's time. A run needs only its own. Without a command word (``pk
    --help``), or with one that names none (a typo: Click's message suggests the near ones), all stay.
    """
    from typer.main import get_command_name, solve_typer_info_defaults

    word = None
    rest: Sequence[str] = ()
    skip = False
    for n, arg in enumerate(args):
        if skip:
            skip = False
        elif arg == "--":
            break
        elif arg.startswith("-"):
            skip = arg in _ROOT_VALUES and typer_app is app
        else:
            word, rest = arg, args[n + 1 :]
            break
    commands = [
        c
        for c in typer_app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == word
    ]
    groups = [g for g in typer_app.registered_groups if solve_typer_info_defaults(g).name == word]
    if not commands and not groups:
        yield
        return
    kept = typer_app.registered_commands, typer_app.registered_groups
    typer_app.registered_commands, typer_app.registered_groups = commands, groups
    try:
        inner = groups[0].typer_instance if groups and rest and not rest[0].startswith("-") else None
        if inner is not None:
            with only(inner, rest):
                yield
        else:
            yield
    finally:
        typer_app.registered_commands, typer_app.registered_groups = kept


# The command modules register themselves on ``app``.
from promisekeeper.cli import (  # noqa: E402, F401
    contact,
    corrections,
    customers,
    data,
    messages,
    notify,
    promises,
    reports,
    supply,
)
