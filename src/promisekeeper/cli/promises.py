"""``pk promise add/list/show/amend/cancel`` and the daily short forms ``deliver``, ``done``, ``remedy``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, State, state
from promisekeeper.views import Format, Handover, Kind, Status

if TYPE_CHECKING:
    from datetime import datetime

    from promisekeeper.money import Money
    from promisekeeper.views import PromiseView
    from promisekeeper.when import Due

WHEN_HELP = (
    "WHEN: 2026-11-24, 24 Nov, '24 Nov 5pm', '2026-11-24 17:00', today, tomorrow, eod, eow, eom, "
    "tue, 'tue 10:00', 3d, 2w, 24h, 90min, 2bd (business days). A date alone means the end of that day."
)
PRICE_HELP = (
    "PRICE: 240, 240.00, €240, '240 EUR', 'EUR 240.50', 1,234.50, $19.99 (the total for the quantity)."
)

promise_app = typer.Typer(
    name="promise", help="Make, list, show, amend and cancel promises.", no_args_is_help=True
)
app.add_typer(promise_app)


def promise_number(text: str) -> int:
    """An ID argument: a promise number, or one plain sentence (not a type-conversion message)."""
    from promisekeeper.errors import BadInput, NotFound, quote

    digits = text.strip().removeprefix("#")
    if not digits.isascii() or not digits.isdigit() or int(digits) < 1:
        raise BadInput(f"ID must be a promise number such as 12, not '{quote(text)[1:-1]}'.")
    if len(digits) > 18:  # beyond any row id either engine can store
        raise NotFound(f"There is no promise #{quote(digits)[1:-1]}; `pk promise list` shows the ids.")
    return int(digits)


IdArg = Annotated[
    int,
    typer.Argument(
        metavar="ID",
        help="The promise's number, as shown by pk promise list.",
        show_default=False,
        parser=promise_number,
    ),
]


def order_number(text: str) -> int:
    """An ORDER argument: ``S3``, ``s3`` or ``3`` (``words.parse_order_id``)."""
    from promisekeeper.words import parse_order_id

    return parse_order_id(text)


OrderArg = Annotated[
    int,
    typer.Argument(
        metavar="ORDER",
        help="The supply order, as shown by pk supplier list: S3 (or 3).",
        show_default=False,
        parser=order_number,
    ),
]


def _money(st: State, text: str | None, currency: str | None = None) -> Money | None:
    from promisekeeper.errors import BadInput
    from promisekeeper.money import currency_code, parse_price

    if text is None:
        return None
    code = currency_code(currency) if currency else None
    money = parse_price(text, default_currency=code or st.settings.currency)
    if code and money.currency != code:
        raise BadInput(
            f"The price {text!r} is in {money.currency} but --currency says {code}; give one currency."
        )
    return money


def _when(st: State, text: str) -> Due:
    from promisekeeper.when import parse_when

    return parse_when(text, st.clock)


def _maybe_when(st: State, text: str | None) -> Due | None:
    return None if text is None else _when(st, text)


def _show(st: State, fmt: Format, as_json: bool, verb: str, view: PromiseView) -> None:
    st.renderer(fmt, as_json).promise(verb, view)


@promise_app.command("add")
def add(
    ctx: typer.Context,
    what: Annotated[
        str | None,
        typer.Argument(
            help="What was promised, e.g. 'Hiking boots size 38' (on a terminal, asked for when left out).",
            show_default=False,
        ),
    ] = None,
    due: Annotated[
        str | None,
        typer.Option(
            "--due",
            "-d",
            help="By when (required; asked for on a terminal). " + WHEN_HELP,
            show_default=False,
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", "-c", help="To whom (created on first use).")
    ] = None,
    qty: Annotated[int, typer.Option("--qty", "-q", help="How many.")] = 1,
    price: Annotated[str | None, typer.Option("--price", "-p", help=PRICE_HELP)] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO 4217 code (default: the config's).")
    ] = None,
    kind: Annotated[Kind, typer.Option("--kind", help="What kind of promise.")] = Kind.delivery,
    staff: Annotated[str | None, typer.Option("--staff", "-s", help="Who made the promise.")] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Anything worth remembering.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")] = None,
    deposit: Annotated[
        str | None,
        typer.Option("--deposit", help="A deposit taken now, in the price's currency. " + PRICE_HELP),
    ] = None,
    handover: Annotated[
        Handover | None,
        typer.Option(
            "--handover",
            help="How the goods reach the customer: pickup (on time when ready by the due, pk ready) or "
            "delivery (default: the config's [shop] handover, pickup).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Record a promise made to a customer.

    Example: pk promise add "Hiking boots" -c "Anna Smith" -q 2 -p 240 -d tue -s Jo

    Example: pk promise add "Call back about the repair" --kind callback -c Ben -d "today 16:00"

    Example: pk promise add "Trail shoes" -c Ben -p 180 --deposit 50 -d "next fri"

    Example: pk promise add    (on a terminal: asks for what, customer, price and due)
    """
    from promisekeeper import store

    st = state(ctx)
    if due is None and kind in (Kind.reply, Kind.callback):
        from promisekeeper.cli.policy import policy_due

        due = policy_due(st, kind)  # a reply or callback without --due: the [policy]'s time, if set
    if what is None or due is None:
        from promisekeeper.cli.ask import ask_for_promise

        what, customer, price, due = ask_for_promise(st, what=what, customer=customer, price=price, due=due)
    when = _when(st, due)
    with st.session() as session:
        near = store.near_miss(session, customer)
        pid = store.add_promise(
            session,
            clock=st.clock,
            what=what,
            due=when,
            kind=kind,
            quantity=qty,
            price=_money(st, price, currency),
            customer=customer,
            staff=staff,
            note=note,
            tags=tag or [],
            deposit=_money(st, deposit, currency),
            handover=handover or (Handover(st.settings.handover) if kind == Kind.delivery else None),
        )
        view = store.view(session, pid, st.clock)
    _warn_if_past(st, view)
    if near is not None and view.customer is not None:
        from promisekeeper import words

        st.warn(words.did_you_mean(view.customer, near, pid))
    _show(st, fmt, as_json, "add", view)


def _warn_if_past(st: State, view: PromiseView) -> None:
    """A due already past is recorded (a promise noted after the fact), with one line saying so."""
    from promisekeeper import words

    if view.due.moment < st.clock.now:
        st.warn(words.due_already_past(view, st.settings.tz))


StatusOpt = Annotated[
    list[Status] | None, typer.Option("--status", help="Only promises in this status; repeat for several.")
]
CustomerFilterOpt = Annotated[
    str | None,
    typer.Option("--customer", "-c", help="Only this customer's (or, if no one has that name, part of one)."),
]
StaffFilterOpt = Annotated[
    str | None, typer.Option("--staff", "-s", help="Only promises made by this person.")
]
KindFilterOpt = Annotated[Kind | None, typer.Option("--kind", help="Only this kind.")]
TagFilterOpt = Annotated[str | None, typer.Option("--tag", "-t", help="Only promises with this tag.")]
SearchOpt = Annotated[
    str | None,
    typer.Option(
        "--search",
        help="Only promises whose what, customer, staff, note or tags hold every word (case and accents "
        "ignored: muller finds Müller).",
    ),
]
DueBeforeOpt = Annotated[
    str | None,
    typer.Option("--due-before", help="Only promises due before WHEN (a date alone: before that day)."),
]
DueAfterOpt = Annotated[
    str | None,
    typer.Option("--due-after", help="Only promises due after WHEN (a date alone: after that day)."),
]


def _before(st: State, text: str | None) -> datetime | None:
    """``--due-before``: a moment as given; a date alone is the first moment of that day (excluded)."""
    if text is None:
        return None
    from datetime import timedelta

    from promisekeeper.when import end_of_day

    when = _when(st, text)
    if not when.date_only:
        return when.moment
    day = when.moment.astimezone(st.clock.tz).date()
    return end_of_day(day - timedelta(days=1), st.clock.tz) + timedelta(microseconds=1)


def _after(st: State, text: str | None) -> datetime | None:
    """``--due-after``: a moment as given; a date alone is the last moment of that day (excluded)."""
    return None if text is None else _when(st, text).moment


def _list(
    ctx: typer.Context,
    *,
    status: list[Status] | None,
    customer: str | None,
    staff: str | None,
    kind: Kind | None,
    tag: str | None,
    search: str | None,
    due_before: str | None,
    due_after: str | None,
    fmt: Format,
    as_json: bool,
    newest_first: bool = False,
) -> None:
    from promisekeeper import store

    st = state(ctx)
    before, after = _before(st, due_before), _after(st, due_after)
    with st.session(write=False) as session:
        views = store.list_promises(
            session,
            clock=st.clock,
            statuses=status or [],
            customer=customer,
            staff=staff,
            kind=kind,
            tag=tag,
            search=search,
            due_before=before,
            due_after=after,
            newest_first=newest_first,
        )
    st.renderer(fmt, as_json).promises(views, empty="No promises match.")


@promise_app.command("list")
def list_(
    ctx: typer.Context,
    status: StatusOpt = None,
    customer: CustomerFilterOpt = None,
    staff: StaffFilterOpt = None,
    kind: KindFilterOpt = None,
    tag: TagFilterOpt = None,
    search: SearchOpt = None,
    due_before: DueBeforeOpt = None,
    due_after: DueAfterOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """List promises, in order of when they fall due.

    Example: pk promise list --status overdue --status open --staff Jo

    Example: pk promise list --search boots --due-after today --due-before eow
    """
    _list(
        ctx,
        status=status,
        customer=customer,
        staff=staff,
        kind=kind,
        tag=tag,
        search=search,
        due_before=due_before,
        due_after=due_after,
        fmt=fmt,
        as_json=as_json,
    )


@app.command("find")
def find(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help="Words to look for in what, customer, staff, note and tags (case and accents ignored).",
            show_default=False,
        ),
    ],
    status: StatusOpt = None,
    customer: CustomerFilterOpt = None,
    staff: StaffFilterOpt = None,
    kind: KindFilterOpt = None,
    tag: TagFilterOpt = None,
    due_before: DueBeforeOpt = None,
    due_after: DueAfterOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Find promises by what was said: pk promise list --search TEXT, newest first.

    Example: pk find muller

    Example: pk find "boots 38" --status open --json
    """
    _list(
        ctx,
        status=status,
        customer=customer,
        staff=staff,
        kind=kind,
        tag=tag,
        search=text,
        due_before=due_before,
        due_after=due_after,
        fmt=fmt,
        as_json=as_json,
        newest_first=True,
    )


@promise_app.command("show")
def show(
    ctx: typer.Context, promise_id: IdArg, fmt: FormatOpt = Format.table, as_json: JsonOpt = False
) -> None:
    """Show one promise: its terms, verdict, deliveries and whole history.

    Example: pk promise show 12 --json
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session(write=False) as session:
        view = store.view(session, promise_id, st.clock, detail=True)
    st.renderer(fmt, as_json).detail(view)


@promise_app.command("amend")
def amend(
    ctx: typer.Context,
    promise_id: IdArg,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why, as agreed with the customer (required).")
    ],
    due: Annotated[str | None, typer.Option("--due", "-d", help="The new due. " + WHEN_HELP)] = None,
    what: Annotated[str | None, typer.Option("--what", help="The new item.")] = None,
    qty: Annotated[int | None, typer.Option("--qty", "-q", help="The new quantity.")] = None,
    price: Annotated[str | None, typer.Option("--price", "-p", help="The new price. " + PRICE_HELP)] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Renegotiate a promise with the customer; the original terms stay in its history.

    Example: pk promise amend 12 --due fri --reason "Supplier delay; Anna agreed to Friday"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.amend(
            session,
            clock=st.clock,
            promise_id=promise_id,
            reason=reason,
            due=_maybe_when(st, due),
            what=what,
            quantity=qty,
            price=_money(st, price),
        )
    if due is not None:
        _warn_if_past(st, view)
    _show(st, fmt, as_json, "amend", view)


@promise_app.command("link")
def link(
    ctx: typer.Context,
    promise_id: IdArg,
    order: OrderArg,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Note that a promise waits for a supply order: its ETA now tells whether the promise is at risk,
    and its receipt makes the promise ready.

    Example: pk promise link 12 S3
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.link(session, clock=st.clock, promise_id=promise_id, order_id=order)
    _show(st, fmt, as_json, "link", view)


@promise_app.command("cancel")
def cancel(
    ctx: typer.Context,
    promise_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is cancelled (required).")],
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a promise (it is kept, marked cancelled, with the reason in its history).

    Example: pk promise cancel 12 --reason "Customer bought elsewhere"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.cancel(session, clock=st.clock, promise_id=promise_id, reason=reason)
    _show(st, fmt, as_json, "cancel", view)


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    promise_id: IdArg,
    what: Annotated[
        str | None, typer.Option("--what", help="What was handed over, if not the promised item.")
    ] = None,
    qty: Annotated[
        int | None, typer.Option("--qty", "-q", help="How many (default: all still owed).")
    ] = None,
    price: Annotated[
        str | None, typer.Option("--price", "-p", help="What was charged. " + PRICE_HELP)
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When, if not now. " + WHEN_HELP)] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Anything worth remembering.")] = None,
    no_followup: Annotated[bool, typer.Option("--no-followup", help="Create no follow-up promises.")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Record a delivery and print the verdict: kept, or each deviation with its size.

    Without options: delivered as promised, now. A quantity below what is still owed is a partial delivery.

    Example: pk deliver 12

    Example: pk deliver 12 --what "boots size 39" --price 250 --at "yesterday 17:30"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.deliver(
            session,
            clock=st.clock,
            promise_id=promise_id,
            what=what,
            quantity=qty,
            price=_money(st, price),
            at=_maybe_when(st, at),
            note=note,
            followup_after=() if no_followup else st.settings.followup_after,
        )
    _show(st, fmt, as_json, "deliver", view)


@app.command("done")
def done(
    ctx: typer.Context,
    promise_id: IdArg,
    note: Annotated[str | None, typer.Option("--note", "-n", help="What was said or done.")] = None,
    unhappy: Annotated[
        bool, typer.Option("--unhappy", help="The customer is not satisfied: the promise goes to pk check.")
    ] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Mark a callback, reply, follow-up or other promise as done, now.

    Example: pk done 31 --note "Boots fit well, customer happy"

    Example: pk done 32 --unhappy --note "Sole squeaks"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.done(
            session,
            clock=st.clock,
            promise_id=promise_id,
            note=note,
            unhappy=unhappy,
            followup_after=st.settings.followup_after,
        )
    _show(st, fmt, as_json, "done", view)


@app.command("remedy")
def remedy(
    ctx: typer.Context,
    promise_id: IdArg,
    action: Annotated[str, typer.Option("--action", "-a", help="What was done to make it right (required).")],
    prevent: Annotated[
        str | None, typer.Option("--prevent", help="What will stop it happening again.")
    ] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Record how a deviated or broken promise was made right.

    Example: pk remedy 12 --action "Refunded €10" --prevent "Check the size before wrapping"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        view = store.remedy(session, clock=st.clock, promise_id=promise_id, action=action, prevent=prevent)
    _show(st, fmt, as_json, "remedy", view)


@app.command("notice")
def notice(
    ctx: typer.Context,
    promise_id: IdArg,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Send it to the customer in their language, by email or text message as they agreed "
            "(pk customer add NAME --consent email); never the same notice twice.",
        ),
    ] = False,
) -> None:
    """Draft the honest message to the customer for a late, changed, deviated or at-risk promise.

    What was promised, what happened, the new date or the remedy, plainly. For a promise a supplier puts
    at risk, the early warning: what the supplier now says and the date the shop can keep (the new ETA
    plus [supply] margin), before the customer finds out. The draft is printed to paste or send, and the
    history records that a notice was drafted (an at-risk promise then leaves pk check). It is written in
    the customer's language (pk customer add NAME --language de). With --send it goes to the customer
    instead, by email or text message as they agreed, and the history records notice_sent.

    Example: pk notice 12 | mail -s "Your boots" anna@example.com

    Example: pk notice 12 --send
    """
    from promisekeeper import store
    from promisekeeper.cli.messages import notice_letter, send_notice

    st = state(ctx)
    if send:
        send_notice(st, promise_id)
        return
    with st.session() as session:
        letter, view, new_due = notice_letter(st, session, promise_id)
        store.record_notice(session, clock=st.clock, promise_id=promise_id, risk=view.risk, new_due=new_due)
    st.console.file.write(letter.text)
