"""Putting mistakes right: ``pk undo``, ``pk promise fix``, ``pk delivery void``, ``pk customer rename``
and ``pk customer merge``."""

from __future__ import annotations

from typing import Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, state
from promisekeeper.cli.customers import customer_app
from promisekeeper.cli.promises import WHEN_HELP, IdArg, promise_app
from promisekeeper.views import Format, Kind

delivery_app = typer.Typer(name="delivery", help="Put a recorded delivery right.", no_args_is_help=True)
app.add_typer(delivery_app)


@app.command("undo")
def undo(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    list_: Annotated[
        bool, typer.Option("--list", help="Show the last 10 changes and which one undo would reverse.")
    ] = False,
) -> None:
    """Reverse the most recent change to the book (all one command wrote); run again for the one before.

    Nothing is deleted from the history: the promises the change added are voided, its deliveries and
    remedies taken back, and each promise judged again. An import is one change. A customer forget and
    a sent mail cannot be undone. On several tills the newest change may be another till's: --list
    shows what and when first.

    Example: pk undo --list

    Example: pk undo --yes
    """
    from promisekeeper import store, words

    st = state(ctx)
    tz = st.settings.tz
    if list_:
        with st.session(write=False) as session:
            changes = store.recent_changes(session)
            upcoming = store.next_to_undo(session)
        if not changes:
            typer.echo(words.nothing_undone_yet())
        for change in changes:
            mark = "→" if upcoming is not None and change.id == upcoming.id else " "
            note = " (undone)" if change.undone else " (cannot be undone)" if change.blocked else ""
            typer.echo(f"{mark} {change.id:>5}  {_safe(words.change_text(change, tz))}{note}")
        return
    with st.session(write=False) as session:
        shown = store.next_to_undo(session)
    if shown is None:
        raise _bad(words.nothing_undone_yet())
    if shown.blocked is not None:
        raise _bad(words.cannot_undo(shown))
    if not yes and not st.confirm(_safe(words.undo_question(shown, tz)), words.undo_needs_yes()):
        typer.echo("Nothing was undone.")
        return
    with st.session() as session:
        done = store.undo(session, clock=st.clock, expected=shown.id)
    typer.echo(_safe(words.undid(done, tz)))


def _safe(text: str) -> str:
    from promisekeeper.text import visible

    return visible(text)


def _bad(message: str) -> Exception:
    from promisekeeper.errors import BadInput

    return BadInput(message)


@promise_app.command("fix")
def fix(
    ctx: typer.Context,
    promise_id: IdArg,
    what: Annotated[str | None, typer.Option("--what", help="What was promised, typed right.")] = None,
    qty: Annotated[int | None, typer.Option("--qty", "-q", help="How many.")] = None,
    price: Annotated[str | None, typer.Option("--price", "-p", help="The promised total.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217 code of --price.")] = None,
    due: Annotated[str | None, typer.Option("--due", "-d", help="By when. " + WHEN_HELP)] = None,
    customer: Annotated[str | None, typer.Option("--customer", "-c", help="The right customer.")] = None,
    staff: Annotated[str | None, typer.Option("--staff", "-s", help="Who made the promise.")] = None,
    kind: Annotated[Kind | None, typer.Option("--kind", help="What kind of promise.")] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="The note, typed right.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Add a tag; repeat for more.")] = None,
    untag: Annotated[list[str] | None, typer.Option("--untag", help="Remove a tag; repeat for more.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the history.")] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Correct what was typed wrongly — not a renegotiation (that is pk promise amend).

    The history shows old → new; renegotiated and original_due do not change and the statistics do not
    count it. Works on fulfilled promises too, which are judged again. Nothing to change is exit 2.

    Example: pk promise fix 12 --customer "Anna Smith"

    Example: pk promise fix 8 --price 40 --reason "typed 400 at the till"
    """
    from promisekeeper import store
    from promisekeeper.cli.promises import _money, _show
    from promisekeeper.when import parse_when

    st = state(ctx)
    with st.session() as session:
        view = store.fix_promise(
            session,
            clock=st.clock,
            promise_id=promise_id,
            what=what,
            quantity=qty,
            price=_money(st, price, currency),
            due=parse_when(due, st.clock) if due is not None else None,
            customer=customer,
            staff=staff,
            kind=kind,
            note=note,
            tags=tag or [],
            untags=untag or [],
            reason=reason,
        )
    _show(st, fmt, as_json, "fix", view)


@delivery_app.command("void")
def void(
    ctx: typer.Context,
    promise_id: IdArg,
    n: Annotated[int, typer.Argument(metavar="N", help="Which delivery: 1 is the first (pk promise show).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it was recorded by mistake (required).")],
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Take a delivery recorded by mistake out of the judgement; the promise may be open or overdue again.

    The history keeps the delivery, marked voided.

    Example: pk delivery void 12 1 --reason "Recorded on the wrong promise"
    """
    from promisekeeper import store
    from promisekeeper.cli.promises import _show

    st = state(ctx)
    with st.session() as session:
        view = store.void_delivery(session, clock=st.clock, promise_id=promise_id, n=n, reason=reason)
    _show(st, fmt, as_json, "void", view)


@customer_app.command("rename")
def rename(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The name as it is now (any case).")],
    new_name: Annotated[str, typer.Argument(metavar="NEW_NAME", help="The name as it should be.")],
) -> None:
    """Correct a customer's name; their promises and history stay theirs.

    Example: pk customer rename "Anna Smtih" "Anna Smith"
    """
    from promisekeeper import store, words

    st = state(ctx)
    with st.session() as session:
        old, new = store.rename_customer(session, clock=st.clock, name=name, new_name=new_name)
    typer.echo(_safe(words.renamed(old, new)))


@customer_app.command("merge")
def merge(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The customer entered twice (goes away).")],
    into: Annotated[str, typer.Argument(metavar="INTO_NAME", help="The customer to keep.")],
) -> None:
    """Make two customers one: NAME's promises and history move to INTO_NAME, contacts combined.

    Example: pk customer merge "Anna Smtih" "Anna Smith"
    """
    from promisekeeper import store, words

    st = state(ctx)
    with st.session() as session:
        source, target, moved = store.merge_customers(session, clock=st.clock, name=name, into=into)
    typer.echo(_safe(words.merged(source, target, moved)))
