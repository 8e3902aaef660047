"""The morning commands: ``pk due`` and ``pk check``."""

from __future__ import annotations

from typing import Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, state
from promisekeeper.views import Format, StatsBy

TOP = 20
"""``pk stats --by customer`` shows this many customers, most promises first, unless told otherwise."""


@app.command("due")
def due(
    ctx: typer.Context,
    within: Annotated[
        str | None,
        typer.Option(
            "--within", "-w", help="Widen the window: 2d, 1w, 24h, 2bd (default: until the end of today)."
        ),
    ] = None,
    staff: Annotated[
        str | None, typer.Option("--staff", "-s", help="Only promises made by this person.")
    ] = None,
    fail_on_overdue: Annotated[
        bool, typer.Option("--fail-on-overdue", help="Exit 1 when anything is overdue (for monitoring).")
    ] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """The morning list: overdue promises (most overdue first), then those at risk, due soon and due today
    (follow-ups included), then the pickups ready and waiting for the customer.

    A promise is at risk when a supply order it waits for will arrive too late (its ETA after the due
    less [supply] margin), has no ETA close to the due, or is itself overdue; the Risk column says which.
    At-risk and ready promises are listed whatever their due; each promise is in one section only.

    Example: pk due

    Example: pk due --within 2d --staff Jo
    """
    from promisekeeper import store
    from promisekeeper.when import parse_within

    st = state(ctx)
    until = parse_within(within, st.clock) if within is not None else None
    from promisekeeper.cli.policy import soon_until

    soon = soon_until(st)  # [policy] warn_before: the "Due soon" section
    with st.session(write=False) as session:
        report = store.due_report(session, clock=st.clock, until=until, staff=staff, soon_until=soon)
    st.renderer(fmt, as_json).due(report)
    if fail_on_overdue and report.overdue:
        raise typer.Exit(1)


@app.command("check")
def check(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="Only promises due since then (a WHEN).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include the promises already remedied.")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Deviated, overdue and unhappy promises that have no remedy yet, then the promises at risk whose
    customer has not been warned (pk notice ID) since the risk appeared.

    Example: pk check

    Example: pk check --all --since 2026-11-01 --json
    """
    from promisekeeper import store
    from promisekeeper.when import parse_since

    st = state(ctx)
    start = parse_since(since, st.clock) if since is not None else None
    with st.session(write=False) as session:
        views = store.check(session, clock=st.clock, since=start, include_remedied=all_)
    st.renderer(fmt, as_json).check(views)


@app.command("stats")
def stats(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="Start of the period (a WHEN); default: all time.")
    ] = None,
    by: Annotated[StatsBy | None, typer.Option("--by", help="Break the figures down.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", help=f"With --by customer: the N customers with most promises (default {TOP}).", min=1
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="With --by customer: every customer.")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """The track record: kept rate (kept ÷ fulfilled), on-time, in-full and at-price rates, average lateness,
    and how many were late because of a supplier.

    A promise counts in the period when it was fulfilled or cancelled in it, or, still owed, fell due in it.
    A pickup ready by its due is on time however late it was collected.

    Example: pk stats --since 2026-11-01 --by week

    Example: pk stats --by staff --json

    Example: pk stats --by customer --limit 50
    """
    from promisekeeper import store
    from promisekeeper.errors import BadInput
    from promisekeeper.rules import stats_report
    from promisekeeper.when import parse_since

    if (limit is not None or all_) and by != StatsBy.customer:
        raise BadInput("--limit and --all choose customers; give them with --by customer.")
    if limit is not None and all_:
        raise BadInput("--limit and --all contradict each other; give one of them.")
    st = state(ctx)
    begin = parse_since(since, st.clock) if since is not None else None
    with st.session(write=False) as session:  # --all streams: the rows are printed as they are read
        result = store.stats(
            session, clock=st.clock, since=begin, by=by, limit=None if all_ else limit or TOP, stream=all_
        )
        st.renderer(fmt, as_json).stats(stats_report(result, by))
