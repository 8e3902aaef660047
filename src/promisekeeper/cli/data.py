"""Data commands: ``pk demo`` and ``pk db path``."""

from __future__ import annotations

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import state

db_app = typer.Typer(name="db", help="Where the database is, and its upkeep.", no_args_is_help=True)
app.add_typer(db_app)


@db_app.command("path")
def db_path(ctx: typer.Context) -> None:
    """Print the database in use (a file path or a URL without its password).

    Example: pk db path
    """
    from promisekeeper.db import describe

    typer.echo(describe(state(ctx).settings.db))


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
    from promisekeeper.formats import Format
    from promisekeeper.render import show_due, show_promises, show_stats
    from promisekeeper.report import stats_report

    st = state(ctx)
    path = demo_db_path()
    demo_week.reset(path)
    db = Database(str(path))
    demo_week.build(db, st.clock, st.settings.followup_after)
    with db.session(write=False) as session:
        report = store.due_report(session, clock=st.clock)
        broken = store.check(session, clock=st.clock, include_remedied=True)
        record = store.stats(session, clock=st.clock, by="staff")
    tz, now = st.settings.tz, st.clock.now
    st.console.print(
        Text(demo_week.SHOP, style="bold")
        + Text(f": a demo week in {path} (your own promises are untouched).\n")
    )
    st.console.rule("pk due — the morning list, follow-ups included")
    show_due(st.console, Format.table, report, tz)
    st.console.rule("pk check --all — what went wrong, and what was put right")
    show_promises(st.console, Format.table, broken, tz, now, empty="Nothing went wrong.")
    st.console.rule("pk stats --by staff — the track record")
    show_stats(st.console, Format.table, stats_report(record, "staff"), tz)
    fixed = next((p.id for p in broken if p.remedied), None)
    if fixed is not None:
        look = f"pk --db {path} promise show {fixed}"
        st.console.print(f"\nLook closer: {look}   (a late repair and its remedy)")
