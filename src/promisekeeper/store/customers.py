"""Customers: found by name (any case, any spacing), created on the spot, their track record, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.config import check_language
from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import Customer, Event, Promise
from promisekeeper.rules import normalise
from promisekeeper.store.base import append_event, clean_text, load_promise, optional_text, views
from promisekeeper.store.erasure import Backup, backups_before, scrub_mentions, secure_delete, traces
from promisekeeper.store.stats import tally, tally_columns
from promisekeeper.views import Consent, CustomerView, EventKind, State, Tally
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
        append_event(session, EventKind.customer_added, clock.now, customer_id=customer.id)
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
    language: str | None = None,
    consent: Consent | None = None,
) -> tuple[str, bool]:
    """Create a customer, or fill in the details of one already known; return the name and if it is new.

    ``language`` (a BCP 47 tag, ``de``) is the language messages to them are written in (``None`` on a
    new customer: the shop's); ``consent`` what they agreed to be sent messages by. A change of consent
    is a ``consent`` event of its own (old and new): the book can show when a customer agreed or objected.
    """
    name = " ".join(
        clean_text(name, "The customer's name", 'give it as people say it, e.g. "Anna Smith"').split()
    )
    customer = find_customer(session, name)
    created = customer is None
    if customer is None:
        customer = Customer(name=name, name_key=customer_key(name), created=clock.now)
    before = {"email": customer.email, "phone": customer.phone, "note": customer.note}
    language_before = customer.language
    if email is not None:
        customer.email = _contact(email, "email")
    if phone is not None:
        customer.phone = _contact(phone, "phone")
    if note is not None:
        customer.note = optional_text(note, "The note", multiline=True)
    if language is not None:
        customer.language = check_language(language, "--language")
    agreed = Consent(customer.consent or Consent.none)
    if consent is not None:
        customer.consent = consent.value
    session.add(customer)
    session.flush()
    if created:
        append_event(session, EventKind.customer_added, clock.now, customer_id=customer.id)
    else:
        before["language"] = language_before
        after = {
            "email": customer.email,
            "phone": customer.phone,
            "note": customer.note,
            "language": customer.language,
        }
        changed = {k: {"old": before[k], "new": after[k]} for k in before if before[k] != after[k]}
        if changed:
            append_event(
                session, EventKind.customer_updated, clock.now, customer_id=customer.id, changes=changed
            )
    if consent is not None and consent != agreed:
        append_event(
            session,
            EventKind.consent,
            clock.now,
            customer_id=customer.id,
            old=agreed.value,
            new=consent.value,
        )
    return customer.name or name, created


@dataclass(frozen=True, slots=True)
class Addressee:
    """Whom a message about a promise goes to: their contact details, language and consent."""

    name: str | None
    email: str | None
    phone: str | None
    language: str | None
    consent: Consent


def addressee(session: Session, *, promise_id: int) -> Addressee | None:
    """The customer of promise ``promise_id`` as a message's addressee; ``None`` for a promise made to
    nobody by name. A forgotten customer has no details and agreed to nothing any more."""
    promise = load_promise(session, promise_id)
    customer = session.get(Customer, promise.customer_id) if promise.customer_id is not None else None
    if customer is None:
        return None
    if customer.forgotten_at is not None:
        return Addressee(None, None, None, None, Consent.none)
    consent = Consent(customer.consent or Consent.none)
    return Addressee(customer.name, customer.email, customer.phone, customer.language, consent)


def forget_preview(session: Session, *, name: str) -> tuple[str, int]:
    """The customer ``forget`` would erase, as stored, and how many promises were made to them."""
    customer = get_customer(session, name)
    count = session.execute(
        sa.select(sa.func.count()).select_from(Promise).where(col(Promise.customer_id) == customer.id)
    ).scalar_one()
    return customer.name or name, int(count)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What ``forget_customer`` did: whom (the name as it was), promises anonymised, texts scrubbed, and
    the backups made before now that may still hold the person."""

    name: str
    promises: int
    mentions: int
    backups: tuple[Backup, ...]


_OWN_KINDS = (EventKind.customer_renamed, EventKind.customers_merged, EventKind.customer_updated)


def _former_details(session: Session, customer_id: int) -> tuple[list[Event], dict[str, list[str]]]:
    """The customer's own history of details (renames, merges, changed contacts) and every name, email and
    phone they went by: forgetting them forgets those too, wherever the book mentions them."""
    events = list(
        session.exec(select(Event).where(Event.customer_id == customer_id, col(Event.kind).in_(_OWN_KINDS)))
    )
    found: dict[str, list[str]] = {"name": [], "email": [], "phone": []}

    def collect(value: object, key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                collect(v, k if k in found else key if k in ("old", "new") else None)
        elif isinstance(value, str) and key in found and value.strip():
            found[key].append(value)

    for event in events:
        data = dict(event.data or {})
        if event.kind == EventKind.customer_renamed:
            data = {"name": {"old": data.get("old"), "new": data.get("new")}}
        collect(data)
    return events, found


def _without_notes(value: Any, *, in_note: bool = False) -> Any:
    """An event's data with every note of the customer erased (a note is not found elsewhere: it goes)."""
    if isinstance(value, dict):
        return {k: _without_notes(v, in_note=in_note or k == "note") for k, v in value.items()}
    return None if in_note else value


def forget_customer(session: Session, *, clock: Clock, name: str) -> Forgotten:
    """Erase a customer's name, email, phone and note, and every mention of them anywhere in the book.

    Their promises stay, anonymised (statistics do not change); a mention (the name in any case and
    spacing, the email, the phone) in any text of the book becomes ``[forgotten customer]``. On SQLite
    what the transaction replaces is overwritten with zeros; ``erasure.clear_free_space`` does the rest
    after the commit. Records ``forgotten`` (without the name) on each of their promises.
    """
    secure_delete(session)
    customer = get_customer(session, name)
    shown = customer.name or name
    own, former = _former_details(session, customer.id or 0)
    found = traces(
        [shown, name, *former["name"]],
        emails=[e for e in (customer.email, *former["email"]) if e],
        phones=[p for p in (customer.phone, *former["phone"]) if p],
    )
    for event in own:
        event.data = _without_notes(event.data or {})
        session.add(event)
    ids = [i for i in session.exec(select(Promise.id).where(Promise.customer_id == customer.id)).all() if i]
    customer.name = customer.name_key = customer.email = customer.phone = customer.note = None
    customer.forgotten_at = clock.now
    session.add(customer)
    session.flush()
    mentions = scrub_mentions(session, found, skip_customer=customer.id)
    for pid in ids:
        append_event(session, EventKind.forgotten, clock.now, promise_id=pid, customer_id=customer.id)
    if not ids:
        append_event(session, EventKind.forgotten, clock.now, customer_id=customer.id)
    session.flush()
    return Forgotten(shown, len(ids), mentions, tuple(backups_before(session, clock.now)))


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
    return [
        CustomerView(
            c.name,
            c.email,
            c.phone,
            c.note,
            counts.get(c.id, Tally()),
            language=c.language,
            consent=Consent(c.consent or Consent.none),
        )
        for c in customers
    ]


def customer_detail(session: Session, *, clock: Clock, name: str) -> CustomerView:
    """One customer's contact details, track record and every promise made to them."""
    customer = get_customer(session, name)
    row = session.execute(
        sa.select(*tally_columns(clock.now)).where(col(Promise.customer_id) == customer.id)
    ).one()
    promises = session.exec(
        select(Promise)
        .where(Promise.customer_id == customer.id, col(Promise.state) != State.voided)
        .order_by(col(Promise.due), col(Promise.id))
    ).all()
    return CustomerView(
        customer.name,
        customer.email,
        customer.phone,
        customer.note,
        tally(row),
        tuple(views(session, promises, clock)),
        language=customer.language,
        consent=Consent(customer.consent or Consent.none),
    )
