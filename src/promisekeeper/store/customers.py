"""Customers: found by name (any case, any spacing), created on the spot, their track record, erasure."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import Customer, Delivery, Event, Promise, Remedy
from promisekeeper.rules import normalise
from promisekeeper.store.base import (
    FORGOTTEN,
    append_event,
    chunks,
    clean_text,
    optional_text,
    views,
)
from promisekeeper.store.stats import tally, tally_columns
from promisekeeper.views import CustomerView, EventKind, Tally
from promisekeeper.when import Clock


def customer_key(name: str) -> str:
    return normalise(name)


def find_customer(session: Session, name: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.name_key == customer_key(name))).first()


def get_customer(session: Session, name: str) -> Customer:
    customer = find_customer(session, name)
    if customer is None:
        raise NotFound(f"There is no customer named {name!r}; `pk customer list` shows them.")
    return customer


def customer_for(session: Session, name: str | None, *, clock: Clock) -> Customer | None:
    """The customer of that name (matched case-insensitively), created on the spot the first time."""
    name = optional_text(name, "The customer's name")
    if name is None:
        return None
    name = " ".join(name.split())
    customer = find_customer(session, name)
    if customer is None:
        customer = Customer(name=name, name_key=customer_key(name), created=clock.now)
        session.add(customer)
        session.flush()
    return customer


def _contact(value: str | None, kind: str) -> str | None:
    """Light validation of an email address or phone number: catch typos, not police formats."""
    value = optional_text(value, "The email address" if kind == "email" else "The phone number")
    if value is None:
        return None
    if kind == "email":
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value or domain.startswith(".") or domain.endswith("."):
            raise BadInput(f"{value!r} does not look like an email address; use e.g. anna@example.com.")
    elif sum(c.isdigit() for c in value) < 3 or any(not (c.isdigit() or c in " +-()./") for c in value):
        raise BadInput(f"{value!r} does not look like a phone number; use digits, spaces and + - ( ) only.")
    return value


def add_customer(
    session: Session,
    *,
    clock: Clock,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    note: str | None = None,
) -> tuple[str, bool]:
    """Create a customer, or fill in the details of one already known; return the name and if it is new."""
    name = " ".join(
        clean_text(name, "The customer's name", 'give it as people say it, e.g. "Anna Smith"').split()
    )
    customer = find_customer(session, name)
    created = customer is None
    if customer is None:
        customer = Customer(name=name, name_key=customer_key(name), created=clock.now)
    if email is not None:
        customer.email = _contact(email, "email")
    if phone is not None:
        customer.phone = _contact(phone, "phone")
    if note is not None:
        customer.note = optional_text(note, "The note", multiline=True)
    session.add(customer)
    session.flush()
    return customer.name or name, created


def _scrub_value(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(FORGOTTEN, value)
    if isinstance(value, list):
        return [_scrub_value(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, pattern) for k, v in value.items()}
    return value


def forget_customer(session: Session, *, clock: Clock, name: str) -> int:
    """Erase a customer's name and contact details everywhere, keeping their promises anonymised.

    The name is also scrubbed from every text that mentions it (event fields, notes, deliveries,
    remedies) of that customer's promises. Returns how many promises were anonymised.
    """
    customer = get_customer(session, name)
    pattern = re.compile(re.escape(customer.name or name), re.IGNORECASE)
    ids = [i for i in session.exec(select(Promise.id).where(Promise.customer_id == customer.id)).all() if i]

    def scrub(text: str | None) -> str | None:
        return pattern.sub(FORGOTTEN, text) if text else text

    for chunk in chunks(ids):
        for promise in session.exec(select(Promise).where(col(Promise.id).in_(chunk))):
            promise.what, promise.note = scrub(promise.what) or promise.what, scrub(promise.note)
            session.add(promise)
        for event in session.exec(select(Event).where(col(Event.promise_id).in_(chunk))):
            event.data = _scrub_value(event.data, pattern)
            session.add(event)
        for delivery in session.exec(select(Delivery).where(col(Delivery.promise_id).in_(chunk))):
            delivery.what, delivery.note = scrub(delivery.what) or delivery.what, scrub(delivery.note)
            session.add(delivery)
        for fix in session.exec(select(Remedy).where(col(Remedy.promise_id).in_(chunk))):
            fix.action, fix.prevent = scrub(fix.action) or fix.action, scrub(fix.prevent)
            session.add(fix)
        for pid in chunk:
            append_event(session, EventKind.forgotten, clock.now, promise_id=pid, customer_id=customer.id)
    customer.name = None
    customer.name_key = None
    customer.email = customer.phone = customer.note = None
    customer.forgotten_at = clock.now
    session.add(customer)
    session.flush()
    return len(ids)


def customer_list(session: Session, *, clock: Clock) -> list[CustomerView]:
    """Every customer (forgotten ones excluded) with their track record, by name."""
    counts = {
        row.customer_id: tally(row)
        for row in session.execute(
            sa.select(col(Promise.customer_id), *tally_columns(clock.now))
            .where(col(Promise.customer_id).is_not(None))
            .group_by(col(Promise.customer_id))
        )
    }
    customers = session.exec(
        select(Customer).where(col(Customer.name).is_not(None)).order_by(col(Customer.name_key))
    ).all()
    return [CustomerView(c.name, c.email, c.phone, c.note, counts.get(c.id, Tally())) for c in customers]


def customer_detail(session: Session, *, clock: Clock, name: str) -> CustomerView:
    """One customer's contact details, track record and every promise made to them."""
    customer = get_customer(session, name)
    row = session.execute(
        sa.select(*tally_columns(clock.now)).where(col(Promise.customer_id) == customer.id)
    ).one()
    promises = session.exec(
        select(Promise).where(Promise.customer_id == customer.id).order_by(col(Promise.due), col(Promise.id))
    ).all()
    return CustomerView(
        customer.name,
        customer.email,
        customer.phone,
        customer.note,
        tally(row),
        tuple(views(session, promises, clock)),
    )
