"""The root ``pk`` app: global options, the per-run context, and the one place errors become exit codes.

Command modules register their commands on ``app`` at import; a command body parses its options,
calls the store inside ``state.db.session()`` and hands the result to ``render``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from promisekeeper import __version__
from promisekeeper.cli.common import State
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


def main() -> None:
    """Entry point of the ``pk`` console script."""
    app()


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
