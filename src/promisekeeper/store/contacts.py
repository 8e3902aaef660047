"""Inbound contacts (``pk contact``): a customer called, wrote or came in; the reply we owe them.

The contact is an event on the customer (and on the reply promise, when one is made); the customer is
created on the spot, as ``promise add`` does.
"""

from __future__ import annotations

from sqlmodel import Session

from promisekeeper.errors import BadInput
from promisekeeper.store.base import append_event, clean_text, optional_text
from promisekeeper.store.customers import customer_for
from promisekeeper.store.promises import add_promise
from promisekeeper.views import EventKind, Kind
from promisekeeper.when import Clock, Due

VIAS = ("phone", "email", "visit", "other")


def log_contact(
    session: Session,
    *,
    clock: Clock,
    customer: str,
    about: str,
    via: str = "phone",
    reply_due: Due | None,
    staff: str | None = None,
) -> int | None:
    """Log that ``customer`` got in touch ``via`` a channel ``about`` something, and promise the reply
    by ``reply_due`` (``None``: no reply owed). Returns the reply promise's id, or ``None``."""
    if via not in VIAS:
        raise BadInput(f"Unknown --via {via!r}; use one of {', '.join(VIAS)}.")
    about = clean_text(about, "--about")
    staff = optional_text(staff, "The staff name")
    who = customer_for(session, clean_text(customer, "The customer's name"), clock=clock)
    assert who is not None
    assert who.id is not None
    reply = None
    if reply_due is not None:
        reply = add_promise(
            session, clock=clock, what=about, due=reply_due, kind=Kind.reply, customer=who.name, staff=staff
        )
    append_event(
        session,
        EventKind.contact,
        clock.now,
        promise_id=reply,
        customer_id=who.id,
        via=via,
        about=about,
        reply_id=reply,
        staff=staff,
    )
    return reply
