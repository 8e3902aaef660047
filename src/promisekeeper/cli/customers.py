"""``pk customer add/list/show/forget``: the people promises are made to, and their track record."""

from __future__ import annotations

from typing import Annotated

import typer

from promisekeeper.cli import app
from promisekeeper.cli.common import FormatOpt, JsonOpt, state
from promisekeeper.views import Format

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
) -> None:
    """Add a customer, or fill in the contact details of one already known.

    Example: pk customer add "Anna Smith" --email anna@example.com --phone "+49 30 1234567"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        shown, created = store.add_customer(
            session, clock=st.clock, name=name, email=email, phone=phone, note=note
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
    st.renderer(fmt, as_json).customers(customers)


@customer_app.command("show")
def show(ctx: typer.Context, name: NameArg, fmt: FormatOpt = Format.table, as_json: JsonOpt = False) -> None:
    """Show a customer's details, track record and every promise made to them.

    Example: pk customer show "anna smith"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session(write=False) as session:
        customer = store.customer_detail(session, clock=st.clock, name=name)
    st.renderer(fmt, as_json).customer(customer)


@customer_app.command("forget")
def forget(ctx: typer.Context, name: NameArg) -> None:
    """Erase a customer's name and contact details (right to erasure); their promises stay, anonymised.

    The name is also removed from the history and notes of their promises. This cannot be undone.

    Example: pk customer forget "Anna Smith"
    """
    from promisekeeper import store

    st = state(ctx)
    with st.session() as session:
        count = store.forget_customer(session, clock=st.clock, name=name)
    st.console.print(f"Forgot {name}: name and contact details erased; {count} promises kept anonymised.")
