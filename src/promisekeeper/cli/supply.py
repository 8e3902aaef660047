"""Suppliers, pickup and deposits: ``pk supplier order|list|eta|receive``, ``pk ready`` and ``pk deposit``
(``pk promise link`` and ``promise add --deposit --handover`` live with the other promise commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, State, pick, state
from promisekeeper.cli.promises import (
    PRICE_HELP,
    WHEN_HELP,
    IdArg,
    OrderArg,
    _maybe_when,
    _money,
    _show,
    promise_number,
)
from promisekeeper.views import Format, Handover

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlmodel import Session

    from promisekeeper.cli.messages import Outbox
    from promisekeeper.render import SupplyPrinter
    from promisekeeper.views import PromiseView

supplier_app = typer.Typer(
    name="supplier",
    help="Orders placed with suppliers for the customers' promises: their dates, and what arrived.",
    no_args_is_help=True,
)
app.add_typer(supplier_app)

TellOpt = Annotated[
    bool,
    typer.Option(
        "--tell",
        help="Also send each customer whose goods are now ready the ready-for-pickup message (only with "
        "their consent and an address).",
    ),
]


def _printer(st: State, fmt: Format, as_json: bool) -> SupplyPrinter:
    from promisekeeper.render import SupplyPrinter

    return SupplyPrinter(pick(fmt, as_json), st.console, st.settings.tz, st.clock.now)


def _tell(st: State, session: Session, views: Sequence[PromiseView], *, strict: bool) -> Outbox:
    """``--tell``: plan the ready-for-pickup message to each customer of ``views`` inside the command's
    transaction (``cli.messages.tell_ready``); the caller sends it after the commit."""
    from promisekeeper.cli.messages import tell_ready

    return tell_ready(st, session, views, strict=strict)


@supplier_app.command("order")
def order(
    ctx: typer.Context,
    what: Annotated[
        str, typer.Argument(help="What was ordered, e.g. 'Hiking boots size 38'.", show_default=False)
    ],
    supplier: Annotated[str, typer.Option("--supplier", help="Who it was ordered from (required).")],
    qty: Annotated[int, typer.Option("--qty", "-q", help="How many.")] = 1,
    eta: Annotated[
        str | None, typer.Option("--eta", help="When the supplier expects to deliver. " + WHEN_HELP)
    ] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="The supplier's or your order reference.")] = None,
    for_: Annotated[
        list[str] | None,
        typer.Option("--for", help="The promise (ID) this order is for; repeat for several customers."),
    ] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Record an order placed with a supplier (numbered S1, S2, …) and the promises waiting for it.

    A promise waiting for an order is at risk when the order's ETA comes too close to its due, and
    becomes ready for pickup when the order arrives (pk supplier receive).

    Example: pk supplier order "Hiking boots size 38" --supplier "Alpine Wholesale" --eta wed --for 12

    Example: pk supplier order "Laces, red" --supplier Lacy --qty 10 --ref PO-4471
    """
    from promisekeeper import store, words
    from promisekeeper.when import parse_when

    st = state(ctx)
    promise_ids = [promise_number(text) for text in for_ or []]
    when = parse_when(eta, st.clock) if eta is not None else None
    with st.session() as session:
        placed = store.place_order(
            session,
            clock=st.clock,
            supplier=supplier,
            what=what,
            quantity=qty,
            eta=when,
            ref=ref,
            for_ids=promise_ids,
        )
    _printer(st, fmt, as_json).order(words.order_placed(placed, st.settings.tz, st.clock.now), placed)


@supplier_app.command("list")
def list_(
    ctx: typer.Context,
    open_: Annotated[bool, typer.Option("--open", help="Only the orders still awaited.")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """List the supply orders: what, from whom, how many arrived, the ETA and the promises waiting.

    Example: pk supplier list --open

    Example: pk supplier list --format csv > orders.csv
    """
    from promisekeeper import store, words

    st = state(ctx)
    with st.session(write=False) as session:
        orders = store.list_orders(session, clock=st.clock, open_only=open_)
    _printer(st, fmt, as_json).orders(orders, empty=words.orders_empty(open_))


@supplier_app.command("eta")
def eta(
    ctx: typer.Context,
    order_id: OrderArg,
    when: Annotated[
        str, typer.Argument(metavar="WHEN", help="The new ETA. " + WHEN_HELP, show_default=False)
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="What the supplier said, for the history.")
    ] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """The supplier moved the date: record the new ETA and see which promises it puts at risk.

    An ETA already past is bad input. The promises waiting for the order show the change in their
    history; those now at risk are listed (pk notice ID drafts the early warning).

    Example: pk supplier eta S3 "next mon" --reason "Truck broke down"
    """
    from promisekeeper import store, words
    from promisekeeper.when import parse_when

    st = state(ctx)
    new = parse_when(when, st.clock)
    with st.session() as session:
        moved = store.change_eta(session, clock=st.clock, order_id=order_id, eta=new, reason=reason)
        waiting = [store.view(session, pid, st.clock) for pid in moved.promises]
    at_risk = [p for p in waiting if p.at_risk]
    said = words.eta_moved(moved, len(at_risk), st.settings.tz, st.clock.now)
    _printer(st, fmt, as_json).order(said, moved, at_risk)


@supplier_app.command("receive")
def receive(
    ctx: typer.Context,
    order_id: OrderArg,
    qty: Annotated[
        int | None, typer.Option("--qty", "-q", help="How many arrived (default: all still to come).")
    ] = None,
    tell: TellOpt = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Goods arrived: the promises waiting for them become ready, and the customers to tell are listed
    with their email and phone.

    A partial delivery serves the earliest-due promises first, each with its whole quantity. Receiving
    more than is still to come is bad input.

    Example: pk supplier receive S3

    Example: pk supplier receive S3 --qty 2 --tell
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        receipt = store.receive(session, clock=st.clock, order_id=order_id, quantity=qty)
        # Pickups only (the shop delivers the others); a customer who cannot be told (no consent, no
        # address) is named on stderr, the others are told.
        pickups = [p for p in receipt.ready if p.handover == Handover.pickup]
        outbox = _tell(st, session, pickups, strict=False) if tell else None
    _printer(st, fmt, as_json).receipt(receipt)
    if outbox is not None:
        outbox.send()


@app.command("ready")
def ready(
    ctx: typer.Context,
    promise_id: IdArg,
    at: Annotated[
        str | None, typer.Option("--at", help="When it was ready, if not now. " + WHEN_HELP)
    ] = None,
    tell: TellOpt = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """The goods of a pickup promise are ready for the customer.

    From then on the promise is judged by when it was ready: on time when ready by its due, however
    late the customer collects (pk deliver ID when they do); late by ready − due otherwise.

    Example: pk ready 12

    Example: pk ready 12 --at "yesterday 16:00" --tell
    """
    from promisekeeper import store

    st = state(ctx)
    when = store.delivered_at(_maybe_when(st, at), st.clock) if at is not None else None
    with st.session() as session:
        view = store.mark_ready(session, clock=st.clock, promise_id=promise_id, at=when)
        # A customer who cannot be told is exit 2 here, and the promise is not marked ready either.
        outbox = _tell(st, session, [view], strict=True) if tell else None
    _show(st, fmt, as_json, "ready", view)
    if outbox is not None:
        outbox.send()


@app.command("deposit")
def deposit(
    ctx: typer.Context,
    promise_id: IdArg,
    price: Annotated[str, typer.Argument(metavar="PRICE", help="The deposit taken. " + PRICE_HELP)],
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Record a deposit the customer paid (adding to any taken before); the balance is what is left.

    The balance is price − deposits − charged; a deposit in another currency than the price, or more
    than the price, is bad input.

    Example: pk deposit 12 50
    """
    from promisekeeper import store

    st = state(ctx)
    amount = _money(st, price)
    assert amount is not None
    with st.session() as session:
        view = store.record_deposit(session, clock=st.clock, promise_id=promise_id, amount=amount)
    _show(st, fmt, as_json, "deposit", view)
