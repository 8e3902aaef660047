"""``pk customer add/list/show/forget``: the people promises are made to, and their track record."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, State, state
from promisekeeper.views import Consent, Format

if TYPE_CHECKING:
    from promisekeeper.views import CustomerView

customer_app = typer.Typer(
    name="customer", help="Customers: contact details and each one's track record.", no_args_is_help=True
)
app.add_typer(customer_app)

NameArg = Annotated[
    str, typer.Argument(metavar="NAME", help="The customer's name (any case).", show_default=False)
]


@customer_app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    email: Annotated[str | None, typer.Option("--email", "-e", help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Anything worth remembering.")] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            metavar="LANG",
            help="The language messages to them are written in: en, de, de-AT… (default: language in "
            "\\[shop]).",
        ),
    ] = None,
    consent: Annotated[
        Consent | None,
        typer.Option(
            "--consent",
            help="What they agreed to be sent messages by: email, sms or none (default for a new "
            "customer: none, so nothing is sent).",
        ),
    ] = None,
) -> None:
    """Add a customer, or fill in the details of one already known (also their language and consent).

    A change of consent is kept in the customer's history (when they agreed, when they objected).

    Example: pk customer add "Anna Smith" --email anna@example.com --phone "+49 30 1234567"

    Example: pk customer add "Jörg Müller" --email joerg@example.de --language de --consent email
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        shown, created = store.add_customer(
            session,
            clock=st.clock,
            name=name,
            email=email,
            phone=phone,
            note=note,
            language=language,
            consent=consent,
        )
    st.console.print(f"{'Added' if created else 'Updated'} customer {shown}.")


@customer_app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = Format.table, as_json: JsonOpt = False) -> None:
    """List customers with their track record (promises, kept, deviated, overdue, kept rate).

    Example: pk customer list --format csv > customers.csv
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session(write=False) as session:
        customers = store.customer_list(session, clock=st.clock)
    st.renderer(fmt, as_json).customers([_speaking(st, c) for c in customers])


@customer_app.command("show")
def show(ctx: typer.Context, name: NameArg, fmt: FormatOpt = Format.table, as_json: JsonOpt = False) -> None:
    """Show a customer's details, track record and every promise made to them.

    Example: pk customer show "anna smith"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session(write=False) as session:
        customer = store.customer_detail(session, clock=st.clock, name=name)
    st.renderer(fmt, as_json).customer(_speaking(st, customer))


def _speaking(st: State, customer: CustomerView) -> CustomerView:
    """The customer with the language messages to them are written in: theirs, else the shop's."""
    return replace(customer, language=customer.language or st.settings.language)


@customer_app.command("forget")
def forget(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer for good (right to erasure): name, email, phone, note, and every mention of them.

    Their promises stay, anonymised, so statistics do not change. The name (in any case and spacing),
    email and phone become [forgotten customer] in every note, reason, action and history entry of the
    book, and no copy is left in the database file or its log. Asks first on a terminal (--yes skips);
    without a terminal --yes is required. Says how many backups made before may still hold them.
    This cannot be undone.

    Example: pk customer forget "Anna Smith" --yes
    """
    from promisekeeper import store, words
    from promisekeeper.text import visible

    st = state(ctx)
    with st.session(write=False) as session:
        shown, promises = store.forget_preview(session, name=name)
    question = words.forget_question(visible(shown), promises)
    if not yes and not st.confirm(question, words.forget_needs_yes(visible(shown))):
        typer.echo(words.forget_declined(visible(shown)))
        return
    with st.session() as session:
        done = store.forget_customer(session, clock=st.clock, name=name)
    typer.echo(words.forgot(visible(done.name), done.promises, done.mentions))
    typer.echo(words.backups_may_hold([visible(b.path) for b in done.backups]))
    store.clear_free_space(st.db)
