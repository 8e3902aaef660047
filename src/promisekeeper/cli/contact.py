"""``pk contact``: a customer called, wrote or came in; log it and promise the reply by the policy."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, state
from promisekeeper.cli.policy import policy_due
from promisekeeper.views import Format

if TYPE_CHECKING:
    from promisekeeper.when import Due


class Via(StrEnum):
    phone = "phone"
    email = "email"
    visit = "visit"
    other = "other"


@app.command("contact")
def contact(
    ctx: typer.Context,
    customer: Annotated[
        str, typer.Argument(help="Who got in touch (created on first use).", show_default=False)
    ],
    about: Annotated[
        str,
        typer.Option("--about", "-a", help="What it is about, e.g. 'the tent repair'.", show_default=False),
    ],
    via: Annotated[Via, typer.Option("--via", help="How they got in touch.")] = Via.phone,
    reply_by: Annotated[
        str | None,
        typer.Option(
            "--reply-by",
            metavar="WHEN",
            help="By when we reply (default: reply in \\[policy], e.g. 24bh). WHEN as for promise add.",
            show_default=False,
        ),
    ] = None,
    no_reply: Annotated[
        bool, typer.Option("--no-reply", help="Log the contact only: no reply is owed.")
    ] = False,
    staff: Annotated[str | None, typer.Option("--staff", "-s", help="Who took it.")] = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Log an inbound call, mail or visit, and promise the reply by the policy (or --reply-by).

    The contact is kept in the customer's history and the reply is a promise of kind reply, listed by
    pk due like any other. Without --reply-by, [policy] reply in the config sets its due.

    Example: pk contact "Anna Smith" --about "the tent repair"

    Example: pk contact Ben --via email --about "invoice question" --reply-by "tomorrow 12:00"

    Example: pk contact Ben --via visit --about "asked for opening hours" --no-reply
    """
    from promisekeeper import store, words
    from promisekeeper.errors import BadInput
    from promisekeeper.when import parse_when

    st = state(ctx)
    if no_reply and reply_by is not None:
        raise BadInput("--no-reply and --reply-by contradict each other; give one of them.")
    due: Due | None = None
    if not no_reply:
        text = reply_by if reply_by is not None else policy_due(st, "reply")
        if text is None:
            raise BadInput(words.no_policy_for("reply", "--reply-by") + " Or give --no-reply.")
        due = parse_when(text, st.clock)
    with st.session() as session:
        near = store.near_miss(session, customer)
        reply = store.log_contact(
            session, clock=st.clock, customer=customer, about=about, via=via.value, reply_due=due, staff=staff
        )
        view = store.view(session, reply, st.clock) if reply is not None else None
    if near is not None and reply is not None:
        st.warn(words.did_you_mean(" ".join(customer.split()), near, reply))
    out = st.renderer(fmt, as_json)
    if fmt == Format.table and not as_json:
        from promisekeeper.text import visible

        st.console.print(
            words.contact_logged(visible(" ".join(customer.split())), via.value, visible(about), reply),
            soft_wrap=True,
        )
    if view is not None:
        if view.due.moment < st.clock.now:
            st.warn(words.due_already_past(view, st.settings.tz))
        out.promise("add", view)
    elif as_json or fmt == Format.json:
        typer.echo("null")
    elif fmt == Format.csv:
        out.promises([], empty="")
