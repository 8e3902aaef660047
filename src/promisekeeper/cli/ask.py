"""``pk promise add`` on a terminal without WHAT or ``--due``: ask for what, customer, price and due.

A clerk with a queue would rather be asked than read a usage error. Existing customers are offered by
number (the latest ones, then the ones like what was typed), so a known name is picked, not retyped.
Without a terminal nothing is asked: a script gets exit 2, as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import typer

from promisekeeper.cli.common import State
from promisekeeper.errors import BadInput

T = TypeVar("T")


def _on_a_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def ask_for_promise(
    st: State, *, what: str | None, customer: str | None, price: str | None, due: str | None
) -> tuple[str, str | None, str | None, str]:
    """What, customer, price and due: the ones given, and the others asked for on a terminal."""
    if not _on_a_terminal():
        missing = [n for n, v in (("WHAT", what), ("--due", due)) if v is None]
        raise BadInput(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required, e.g. "
            "pk promise add 'Hiking boots' --due tue (on a terminal pk asks for them)."
        )
    if what is None:
        what = _until_valid("What was promised", None, _what)
    if customer is None:
        customer = _ask_customer(st)
    if price is None:
        price = _until_valid("Price (Enter for none)", "", lambda text: _price(st, text)) or None
    if due is None:
        due = _until_valid("Due (e.g. today 17:00, tue, 3d, 24 Nov)", None, lambda text: _due(st, text))
    return what, customer, price, due


def _until_valid(question: str, default: str | None, check: Callable[[str], T]) -> str:
    """The answer to ``question``, asked again (with the reason) until ``check`` accepts it."""
    while True:
        answer: str = typer.prompt(question, default=default, show_default=False)
        try:
            check(answer)
        except BadInput as exc:
            typer.echo(f"pk: {exc}", err=True)
            continue
        return answer


def _what(text: str) -> str:
    from promisekeeper import store

    return store.clean_text(text, "WHAT")


def _price(st: State, text: str) -> object:
    from promisekeeper.money import parse_price

    return parse_price(text, default_currency=st.settings.currency) if text.strip() else None


def _due(st: State, text: str) -> object:
    from promisekeeper.when import parse_when

    return parse_when(text, st.clock)


def _names(st: State, near: str | None) -> list[str]:
    from promisekeeper import store

    with st.session(write=False) as session:
        return store.customer_names(session, near=near)


def _numbered(title: str, names: Sequence[str]) -> None:
    from promisekeeper.text import visible

    typer.echo(title)
    for n, name in enumerate(names, 1):
        typer.echo(f"  {n}) {visible(name)}")


def _pick(answer: str, names: Sequence[str]) -> str | None:
    """The name numbered ``answer`` in ``names``, if ``answer`` is such a number."""
    text = answer.strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return names[int(text) - 1]
    return None


def _ask_customer(st: State) -> str | None:
    """A customer by number from the latest ones, by name (a known one offered when it is close), or none."""
    from promisekeeper.rules import normalise

    latest = _names(st, None)
    if latest:
        _numbered("Latest customers:", latest)
    question = "Customer (a number, a name, or Enter for none)" if latest else "Customer (Enter for none)"
    answer: str = typer.prompt(question, default="", show_default=False)
    if not answer.strip():
        return None
    picked = _pick(answer, latest)
    if picked is not None:
        return picked
    like = _names(st, answer)
    if not like or any(normalise(n) == normalise(answer) for n in like):
        return answer
    _numbered("Customers like that:", like)
    again: str = typer.prompt(
        f'A number, or Enter for a new customer "{" ".join(answer.split())}"', default="", show_default=False
    )
    return _pick(again, like) or answer
