"""Data commands: ``pk export``, ``pk import``, ``pk db path|backup|copy|upgrade`` and ``pk demo``."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import state

if TYPE_CHECKING:
    from promisekeeper.store import Progress

BAR_BYTES = 256 * 1024  # an import file this large shows a progress bar (when stderr is a terminal)

db_app = typer.Typer(name="db", help="Where the database is, and its upkeep.", no_args_is_help=True)
app.add_typer(db_app)


@db_app.command("path")
def db_path(ctx: typer.Context) -> None:
    """Print the database in use (a file path or a URL without its password).

    Example: pk db path
    """
    from promisekeeper.db import describe

    typer.echo(describe(state(ctx).settings.db))


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Where to write the copy; a folder gets a dated file; - is standard output.",
            show_default=False,
        ),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing FILE without asking.")] = False,
) -> None:
    """Copy the database to FILE while it is in use (SQLite's online backup API: a consistent copy).

    An existing FILE is replaced only when you say so: on a terminal pk asks, elsewhere give --force.
    A symlink is written through to its target; a device or FIFO is written directly.

    Example: pk db backup /mnt/usb/promises-$(date +%F).db

    Example: pk db backup --force ~/backups/promises-latest.db
    """
    from promisekeeper.db import describe
    from promisekeeper.store import remember_backup

    st = state(ctx)
    now = st.clock.now.astimezone(st.settings.tz)
    dest = st.db.backup_target(file, now=now)
    if not force:
        _may_replace(dest)
    dest = st.db.backup(dest, now=now)
    remember_backup(st.db, at=st.clock.now, path=dest)
    typer.echo(f"Backed up {describe(st.db.target)} to {dest}.", err=dest == Path("-"))


@db_app.command("copy")
def db_copy(
    source: Annotated[
        str, typer.Argument(metavar="SRC", help="The book to copy: a file or URL.", show_default=False)
    ],
    target: Annotated[
        str, typer.Argument(metavar="DST", help="A new or empty database: a file or URL.", show_default=False)
    ],
) -> None:
    """Copy a whole promise book, ids and history, into a new or empty database (e.g. onto PostgreSQL).

    Example: pk db copy ~/.local/share/promisekeeper/promises.db postgresql+psycopg://shop@db.lan/promises
    """
    from promisekeeper.db import Database, describe
    from promisekeeper.store import copy_book

    book = Database(source)
    if book.missing:
        raise book.missing_error()
    counts = copy_book(source, target)
    typer.echo(
        f"Copied {counts.get('promise', 0)} promises, {counts.get('customer', 0)} customers and "
        f"{counts.get('event', 0)} history events from {describe(source)} to {describe(target)}."
    )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Upgrade an older database's schema now, after a backup copy (pk also does it on first use).

    Example: pk db upgrade
    """
    from promisekeeper.db import describe

    st = state(ctx)
    done = st.db.upgrade()
    where = describe(st.db.target)
    if done.before is None:
        typer.echo(f"Created {where} at schema {done.after}.")
    elif done.before == done.after:
        typer.echo(f"{where} is up to date (schema {done.after}).")
    else:
        kept = f"; the old one is kept at {done.backup}" if done.backup else ""
        typer.echo(f"Upgraded {where} from schema {done.before} to {done.after}{kept}.")


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"
    ics = "ics"


class ImportFormat(StrEnum):
    json = "json"
    csv = "csv"


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="json: everything; csv: every promise, one a row; ics: the open promises as a calendar "
            "(default: the output file's extension, else json).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (default, or -: standard output). A symlink is written through; "
            "a device or FIFO directly.",
        ),
    ] = None,
    ics_events: Annotated[
        bool,
        typer.Option(
            "--ics-events", help="ics: events at each due instead of to-dos (for khal, Google Calendar)."
        ),
    ] = False,
) -> None:
    """Export everything (json), every promise (csv), or the open promises as a calendar (ics).

    The JSON holds customers, promises, deliveries, history, remedies and the sent-log; pk import of it
    into an empty database reproduces them exactly.

    Example: pk export -o promises-backup.json

    Example: pk export --format ics -o open-promises.ics
    """
    from promisekeeper import exchange, words

    st = state(ctx)
    if output == Path("-"):
        output = None
    chosen = exchange.export_format(fmt.value if fmt else None, output, events=ics_events)
    tz, shop = st.settings.tz, st.settings.shop_name
    with st.session(write=False) as session:
        if output is None:
            with _utf8_stdout() as out:
                exchange.export(session, chosen, out, clock=st.clock, tz=tz, shop=shop)
            return
        count = exchange.export_to_file(session, chosen, output, clock=st.clock, tz=tz, shop=shop)
    typer.echo(f"Exported {words.plural(count, 'promise')} to {output} ({chosen}).")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A CSV file (columns: see the README) or a pk export JSON file; - reads standard input.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="csv or json (default: by the file's extension, else its content).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check the whole file and say what would be imported; write nothing."),
    ] = False,
) -> None:
    """Import promises from a CSV file (a till, years of a spreadsheet) or a JSON export: all or nothing.

    A malformed row stops the import with its line number and the reason (exit 2), and nothing is written.
    A JSON export is imported into an empty database only, and reproduces it exactly.

    Example: pk import till-2025.csv --dry-run

    Example: pk --db restored.db import promises-backup.json
    """
    from promisekeeper import exchange, words

    st = state(ctx)
    size = _size(file)
    stream = exchange.open_source(file)
    started = not dry_run and st.db.missing
    try:
        with _progress_bar(size) as progress, st.session(write=not dry_run) as session:
            result = exchange.import_file(
                session,
                stream,
                source=file,
                fmt=fmt.value if fmt else None,
                clock=st.clock,
                currency=st.settings.currency,
                dry_run=dry_run,
                size=size,
                progress=progress,
            )
    except BaseException:
        if started:
            st.db.discard()  # the book this import would have started: a file that failed is no book
        raise
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    typer.echo(words.import_summary(result))


def _may_replace(dest: Path) -> None:
    """Going on means replacing ``dest``: asked on a terminal; without one, exit 2 (``--force`` skips).

    The question and its answer stay on the terminal (stderr and stdin): stdout carries only the result.
    """
    from promisekeeper import files
    from promisekeeper.errors import BadInput

    if files.is_stdout(dest) or not files.resolve(dest).exists:
        return
    where = files.shown(dest)
    if not sys.stdin.isatty():
        raise BadInput(f"{where} exists already; give --force to replace it (there is no terminal to ask).")
    sys.stderr.write(f"{where} exists already. Replace it with this backup? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):  # end of input is no, too
        raise BadInput(f"{where} was kept; nothing was written (--force replaces it without asking).")


def _size(file: str) -> int:
    """The import file's size; 0 for standard input, or when it cannot be read (the read says why)."""
    try:
        return 0 if file == "-" else Path(file).stat().st_size
    except OSError:
        return 0


@contextmanager
def _utf8_stdout() -> Iterator[IO[str]]:
    """Standard output as UTF-8 whatever the locale says: an export is a UTF-8 file."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        yield sys.stdout
        return
    sys.stdout.flush()
    out = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield out
    finally:
        out.flush()
        out.detach()


@contextmanager
def _progress_bar(size: int) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr for a large import, when stderr is a terminal; else nothing."""
    if size < BAR_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    tasks: dict[str, TaskID] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


@app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Fill a separate demo database with a week of a small shop's promises, and show its pk due.

    The demo never touches your real database; it is rebuilt on every run.

    Example: pk demo
    """

    from rich.text import Text

    from promisekeeper import demo as demo_week
    from promisekeeper import store
    from promisekeeper.config import demo_db_path
    from promisekeeper.db import Database
    from promisekeeper.render import renderer
    from promisekeeper.rules import stats_report
    from promisekeeper.views import Format, StatsBy

    st = state(ctx)
    path = demo_db_path()
    demo_week.reset(path)
    db = Database(str(path), busy_ms=st.settings.busy_timeout_ms, tz=st.settings.timezone)
    demo_week.build(db, st.clock, st.settings.followup_after)
    with db.session(write=False) as session:
        report = store.due_report(session, clock=st.clock)
        broken = store.check(session, clock=st.clock, include_remedied=True)
        record = store.stats(session, clock=st.clock, by=StatsBy.staff)
    show = renderer(Format.table, st.console, st.settings.tz, st.clock.now)
    st.console.print(
        Text(demo_week.SHOP, style="bold")
        + Text(f": a demo week in {path} (your own promises are untouched).\n")
    )
    st.console.rule("pk due — the morning list, follow-ups included")
    show.due(report)
    st.console.rule("pk check --all — what went wrong, and what was put right")
    show.promises(broken, empty="Nothing went wrong.")
    st.console.rule("pk stats --by staff — the track record")
    show.stats(stats_report(record, StatsBy.staff))
    fixed = next((p.id for p in broken if p.remedied), None)
    if fixed is not None:
        st.console.print(
            f"\nLook closer: pk --db {path} promise show {fixed}   (a late repair and its remedy)"
        )
