"""Putting mistakes right: ``promise fix``, ``delivery void``, ``customer rename``/``merge``, the
did-you-mean of a new name, and ``undo`` (docs/reference.md, "Putting mistakes right").

Nothing here deletes history. A fix or a void appends its own event; ``undo`` appends ``undone`` and
marks the reversed change with the undoing one (``Change.undone_by``); the rows that change created
are voided (a promise's state ``voided``) or, for the projections of events (deliveries, remedies),
removed, and the promise's state is worked out again from the events still standing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput
from promisekeeper.models import Change, Customer, Delivery, Event, Promise, Remedy, Tag
from promisekeeper.money import Money
from promisekeeper.rules import closes, moment_data, moment_of
from promisekeeper.store.base import (
    append_event,
    change_id,
    chunks,
    clean_quantity,
    clean_tags,
    clean_text,
    deliveries_of,
    fulfilment_of,
    load_promise,
    optional_text,
    sync,
    terms_of,
    view,
)
from promisekeeper.store.customers import customer_for, customer_key, find_customer, get_customer
from promisekeeper.store.queries import fold
from promisekeeper.store.supply import SUPPLY_EVENTS, reverse_supply
from promisekeeper.views import IRREVERSIBLE, ChangeView, EventKind, Kind, PromiseView, State
from promisekeeper.when import Clock, Due

# --- promise fix --------------------------------------------------------------------------------------


def fix_promise(
    session: Session,
    *,
    clock: Clock,
    promise_id: int,
    what: str | None = None,
    quantity: int | None = None,
    price: Money | None = None,
    due: Due | None = None,
    customer: str | None = None,
    staff: str | None = None,
    kind: Kind | None = None,
    note: str | None = None,
    tags: Sequence[str] = (),
    untags: Sequence[str] = (),
    reason: str | None = None,
) -> PromiseView:
    """Correct what was typed wrongly: not a renegotiation (``renegotiated``/``original_due`` stay and
    statistics do not count it); works on any promise, fulfilled ones included, which are judged again."""
    promise = load_promise(session, promise_id)
    changes: dict[str, dict[str, Any]] = {}

    def change(field: str, old: Any, new: Any) -> None:
        if old != new:
            changes[field] = {"old": old, "new": new}

    if what is not None:
        change("what", promise.what, clean_text(what, "WHAT"))
    if quantity is not None:
        change("quantity", promise.quantity, clean_quantity(quantity))
    if price is not None:
        old_price = [promise.price_minor, promise.currency]
        if old_price != [price.minor, price.currency]:
            changes["price"] = {"old": old_price, "new": [price.minor, price.currency]}
    if due is not None and (due.moment, due.date_only) != (promise.due, promise.date_only):
        changes["due"] = {
            "old": [moment_data(promise.due), promise.date_only],
            "new": [moment_data(due.moment), due.date_only],
        }
    if customer is not None:
        who = customer_for(session, customer, clock=clock)
        change("customer_id", promise.customer_id, who.id if who else None)
    if staff is not None:
        change("staff", promise.staff, optional_text(staff, "The staff name"))
    if kind is not None:
        change("kind", promise.kind, str(Kind(kind)))
    if note is not None:
        change("note", promise.note, optional_text(note, "The note", multiline=True))
    current = set(session.exec(select(Tag.tag).where(Tag.promise_id == promise_id)).all())
    added = sorted(set(clean_tags(tags)) - current)
    removed = sorted({t.strip() for t in untags if t.strip()} & current)
    if added or removed:
        changes["tags"] = {"added": added, "removed": removed}
    if not changes:
        raise BadInput(f"Nothing to change: promise #{promise_id} already reads like that.")
    _apply(session, promise, changes, forward=True)
    append_event(
        session,
        EventKind.corrected,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        changes=changes,
        reason=optional_text(reason, "The reason"),
    )
    session.flush()
    _restate(session, promise, clock)
    return view(session, promise_id, clock)


def _apply(session: Session, promise: Promise, changes: dict[str, dict[str, Any]], *, forward: bool) -> None:
    """Set the fields of a ``corrected`` event's ``changes`` (``forward``) or put back the old ones."""
    side = "new" if forward else "old"
    for field, values in changes.items():
        if field == "tags":
            add, drop = (
                (values["added"], values["removed"]) if forward else (values["removed"], values["added"])
            )
            for tag in drop:
                found = session.get(Tag, (promise.id, tag))
                if found is not None:
                    session.delete(found)
            for tag in add:
                if session.get(Tag, (promise.id, tag)) is None:
                    session.add(Tag(promise_id=promise.id or 0, tag=tag))
        elif field == "price":
            promise.price_minor, promise.currency = values[side]
        elif field == "due":
            moment, date_only = values[side]
            promise.due, promise.date_only = moment_of(moment), bool(date_only)
        else:
            setattr(promise, field, values[side])
    session.add(promise)
    session.flush()


# --- delivery void ------------------------------------------------------------------------------------


def void_delivery(session: Session, *, clock: Clock, promise_id: int, n: int, reason: str) -> PromiseView:
    """Take the ``n``-th delivery (1 = the first, in order of time) out of the judgement; the promise is
    judged again and may be open or overdue again. The history keeps it, marked voided."""
    promise = load_promise(session, promise_id)
    reason = clean_text(reason, "The reason", 'say why, e.g. "Recorded on the wrong promise"')
    rows = deliveries_of(session, promise_id)
    if not rows:
        raise BadInput(f"Promise #{promise_id} has no delivery to void.")
    if not 1 <= n <= len(rows):
        raise BadInput(
            f"Promise #{promise_id} has {len(rows)} deliveries; N must be 1 to {len(rows)}, not {n}."
        )
    row = rows[n - 1]
    append_event(
        session,
        EventKind.delivery_voided,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        n=n,
        reason=reason,
        **_delivery_data(row),
    )
    session.delete(row)
    session.flush()
    _restate(session, promise, clock)
    return view(session, promise_id, clock)


def _delivery_data(row: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": row.id,
        "what": row.what,
        "quantity": row.quantity,
        "price_minor": row.price_minor,
        "currency": row.currency,
        "at": moment_data(row.at),
        "note": row.note,
    }


# --- customers: rename, merge, near misses ----------------------------------------------------------


def rename_customer(session: Session, *, clock: Clock, name: str, new_name: str) -> tuple[str, str]:
    """Correct a customer's name; their promises and history stay theirs. Return (old, new)."""
    customer = get_customer(session, name)
    new = " ".join(clean_text(new_name, "The new name", 'e.g. "Anna Smith"').split())
    other = find_customer(session, new)
    if other is not None and other.id != customer.id:
        raise BadInput(
            f'There is already a customer named "{other.name}"; to make them one, '
            f'use pk customer merge "{customer.name}" "{other.name}".'
        )
    old = customer.name or name
    if old == new:
        raise BadInput(f'Nothing to change: the customer is already named "{new}".')
    customer.name, customer.name_key = new, customer_key(new)
    session.add(customer)
    append_event(session, EventKind.customer_renamed, clock.now, customer_id=customer.id, old=old, new=new)
    return old, new


_CONTACTS = ("email", "phone", "note")


def merge_customers(session: Session, *, clock: Clock, name: str, into: str) -> tuple[str, str, int]:
    """Move ``name``'s promises and history to ``into`` and combine their contacts (``into``'s win; a
    different one of ``name``'s is kept in the note). Return (from, into, promises moved)."""
    source, target = get_customer(session, name), get_customer(session, into)
    if source.id == target.id:
        raise BadInput(f'"{name}" and "{into}" are the same customer; there is nothing to merge.')
    promise_ids = list(session.exec(select(Promise.id).where(Promise.customer_id == source.id)).all())
    event_ids = list(session.exec(select(Event.id).where(Event.customer_id == source.id)).all())
    before = {field: getattr(target, field) for field in _CONTACTS}
    extra = []
    for field in ("email", "phone"):
        theirs = getattr(source, field)
        if theirs and not getattr(target, field):
            setattr(target, field, theirs)
        elif theirs and theirs != getattr(target, field):
            extra.append(f"also {field} {theirs}")
    if source.note and source.note != target.note:
        extra.append(source.note)
    if extra:
        target.note = "; ".join([target.note, *extra] if target.note else extra)
    session.execute(
        sa.update(Promise).where(col(Promise.customer_id) == source.id).values(customer_id=target.id)
    )
    session.execute(sa.update(Event).where(col(Event.customer_id) == source.id).values(customer_id=target.id))
    append_event(
        session,
        EventKind.customers_merged,
        clock.now,
        customer_id=target.id,
        source={
            "id": source.id,
            "name": source.name,
            "email": source.email,
            "phone": source.phone,
            "note": source.note,
            "created": moment_data(source.created),
        },
        target_before=before,
        promise_ids=promise_ids,
        event_ids=event_ids,
    )
    session.add(target)
    session.delete(source)
    session.flush()
    return source.name or name, target.name or into, len(promise_ids)


def near_miss(session: Session, name: str | None) -> str | None:
    """The existing customer a *new* name is probably a typo of (case, accents, spacing, one or two
    letters), or ``None`` (also when the name exists, or nothing is that close)."""
    if name is None or not name.strip() or find_customer(session, name) is not None:
        return None
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    wanted = fold(name)
    names = [n for n in session.exec(select(Customer.name).where(col(Customer.name).is_not(None))).all() if n]
    # Edits (a swap of two neighbours is one) allowed for the name's length: none below 6 letters ("Jo Li"
    # is not "Bo Li"), one up to 11 ("Ana Smith"), two beyond.
    allowed = min(2, len(wanted) // 6)
    if allowed == 0:
        return None
    digits = [c for c in wanted if c.isdigit()]
    for found, _, _ in process.extract(
        wanted, names, scorer=OSA.distance, processor=fold, score_cutoff=allowed, limit=5
    ):
        # Numbers tell people apart ("Customer 1", "Room 12"): a different number is no typo.
        if [c for c in fold(found) if c.isdigit()] == digits:
            return str(found)
    return None


# --- undo ---------------------------------------------------------------------------------------------

UNDO_COMMAND = "undo"


def _items(session: Session, change: Change) -> list[Event]:
    return list(session.exec(select(Event).where(Event.change_id == change.id).order_by(col(Event.id))).all())


def _change_view(change: Change, events: Sequence[Event]) -> ChangeView:
    blocked = next((e.kind for e in events if e.kind in IRREVERSIBLE), None)
    return ChangeView(
        id=change.id or 0,
        at=change.at,
        command=change.command,
        undone=change.undone_by is not None,
        items=tuple((e.kind, e.promise_id, e.customer_id) for e in events),
        blocked=blocked,
    )


def recent_changes(session: Session, *, limit: int = 10) -> list[ChangeView]:
    """The newest changes to the book (not the undos themselves), newest first."""
    query = (
        select(Change).where(col(Change.command) != UNDO_COMMAND).order_by(col(Change.id).desc()).limit(limit)
    )
    return [_change_view(c, _items(session, c)) for c in session.exec(query).all()]


def next_to_undo(session: Session) -> ChangeView | None:
    """What ``undo`` would reverse now: the newest change not yet undone (never an undo)."""
    query = (
        select(Change)
        .where(col(Change.undone_by).is_(None), col(Change.command) != UNDO_COMMAND)
        .order_by(col(Change.id).desc())
        .limit(1)
    )
    found = session.exec(query).first()
    return _change_view(found, _items(session, found)) if found is not None else None


def undo(session: Session, *, clock: Clock, expected: int | None = None) -> ChangeView:
    """Reverse the newest change: compensate each of its events, newest first, and record ``undone``.

    ``expected`` is the change the user was shown (and agreed to undo): if another till wrote a newer
    one meanwhile, nothing is undone.
    """
    shown = next_to_undo(session)
    if shown is None:
        raise BadInput("There is nothing to undo: the book has no change that can be reversed.")
    if expected is not None and shown.id != expected:
        raise BadInput("The book changed meanwhile (another till?); run pk undo --list and try again.")
    if shown.blocked is not None:
        raise BadInput(_refusal(shown))
    target = session.get(Change, shown.id)
    assert target is not None
    events = _items(session, target)
    me = change_id(session, clock.now)
    touched: dict[int, Promise] = {}
    customers: set[int] = set()
    orders: set[int] = set()
    for e in reversed(events):
        promise = session.get(Promise, e.promise_id) if e.promise_id is not None else None
        if promise is not None:
            touched[promise.id or 0] = promise
        if e.customer_id is not None:
            customers.add(e.customer_id)
        if e.order_id is not None and e.promise_id is None:
            orders.add(e.order_id)
        _reverse(session, e, promise)
    target.undone_by = me
    session.add(target)
    session.flush()
    for promise in touched.values():
        if promise.state != State.voided:
            _restate(session, promise, clock)
    for pid, promise in touched.items():
        append_event(
            session,
            EventKind.undone,
            clock.now,
            promise_id=pid,
            customer_id=promise.customer_id,
            change=shown.id,
            command=shown.command,
        )
    for oid in sorted(orders):
        append_event(
            session, EventKind.undone, clock.now, order_id=oid, change=shown.id, command=shown.command
        )
    for cid in customers - {p.customer_id for p in touched.values()}:
        if session.get(Customer, cid) is not None:
            append_event(
                session, EventKind.undone, clock.now, customer_id=cid, change=shown.id, command=shown.command
            )
    _drop_customers_made_by(session, target)
    return shown


def _refusal(shown: ChangeView) -> str:
    from promisekeeper import words

    return words.cannot_undo(shown)


def _reverse(session: Session, e: Event, promise: Promise | None) -> None:
    """Compensate one event of the change being undone."""
    d = e.data or {}
    kind = e.kind
    if kind in SUPPLY_EVENTS:
        reverse_supply(session, e, promise)
    elif kind in (EventKind.promised, EventKind.imported) and promise is not None:
        promise.state = State.voided
        session.add(promise)
    elif kind in (EventKind.delivered, EventKind.done) and promise is not None:
        _drop(
            session,
            Delivery,
            d.get("delivery_id"),
            promise.id,
            d.get("at") if kind == EventKind.delivered else None,
        )
    elif kind == EventKind.remedied and promise is not None:
        _drop(session, Remedy, d.get("remedy_id"), promise.id, None, action=d.get("action"))
    elif kind == EventKind.amended and promise is not None and isinstance(d.get("before"), dict):
        before = d["before"]
        promise.what, promise.quantity = str(before["what"]), int(before["quantity"])
        promise.price_minor, promise.currency = before.get("price_minor"), before.get("currency")
        promise.due, promise.date_only = moment_of(before["due"]), bool(before.get("date_only"))
        session.add(promise)
    elif kind == EventKind.corrected and promise is not None and isinstance(d.get("changes"), dict):
        _apply(session, promise, d["changes"], forward=False)
    elif kind == EventKind.delivery_voided and promise is not None:
        session.add(
            Delivery(
                promise_id=promise.id or 0,
                at=moment_of(d["at"]),
                what=str(d["what"]),
                quantity=int(d["quantity"]),
                price_minor=d.get("price_minor"),
                currency=d.get("currency"),
                note=d.get("note"),
            )
        )
    elif kind == EventKind.unhappy and promise is not None:
        promise.unhappy = False
        session.add(promise)
    elif kind == EventKind.customer_renamed and e.customer_id is not None:
        customer = session.get(Customer, e.customer_id)
        if customer is not None:
            customer.name, customer.name_key = str(d["old"]), customer_key(str(d["old"]))
            session.add(customer)
    elif kind == EventKind.customers_merged and e.customer_id is not None:
        _unmerge(session, e.customer_id, d)
    elif kind == EventKind.customer_updated and e.customer_id is not None:
        customer = session.get(Customer, e.customer_id)
        if customer is not None:
            for field, values in (d.get("changes") or {}).items():
                setattr(customer, field, values["old"])
            session.add(customer)
    elif kind == EventKind.consent and e.customer_id is not None:
        customer = session.get(Customer, e.customer_id)
        if customer is not None:
            customer.consent = str(d.get("old") or "none")
            session.add(customer)
    session.flush()


def _drop(
    session: Session,
    table: type[Delivery] | type[Remedy],
    row_id: Any,
    promise_id: int | None,
    at: Any,
    *,
    action: Any = None,
) -> None:
    """Remove the row an undone event made (by its id; in books older than ids in events, by its fields)."""
    row = session.get(table, int(row_id)) if row_id is not None else None
    if row is None and promise_id is not None and (at is not None or action is not None):
        query = select(table).where(table.promise_id == promise_id)
        if at is not None:
            query = query.where(col(table.at) == moment_of(str(at)))
        if action is not None and table is Remedy:
            query = query.where(col(Remedy.action) == action)
        row = session.exec(query.order_by(col(table.id).desc())).first()
    if row is not None and getattr(row, "promise_id", None) == promise_id:
        session.delete(row)


def _unmerge(session: Session, into_id: int, d: dict[str, Any]) -> None:
    source = d.get("source") or {}
    if source.get("name") is None:
        raise BadInput("This merge cannot be undone: the merged customer was erased since.")
    if find_customer(session, str(source["name"])) is not None:
        raise BadInput(f'This merge cannot be undone: there is a customer named "{source["name"]}" again.')
    restored = Customer(
        id=source["id"],
        name=source["name"],
        name_key=customer_key(str(source["name"])),
        email=source.get("email"),
        phone=source.get("phone"),
        note=source.get("note"),
        created=moment_of(str(source["created"])),
    )
    session.add(restored)
    session.flush()
    target = session.get(Customer, into_id)
    if target is not None:
        for field, value in (d.get("target_before") or {}).items():
            setattr(target, field, value)
        session.add(target)
    for ids, table in ((d.get("promise_ids") or [], Promise), (d.get("event_ids") or [], Event)):
        for part in chunks([int(i) for i in ids]):
            session.execute(sa.update(table).where(col(table.id).in_(part)).values(customer_id=restored.id))


def _drop_customers_made_by(session: Session, change: Change) -> None:
    """A customer the undone command created goes with it, unless a promise still standing is theirs
    (their promises keep them) — then they stay. Created: a ``customer_added`` event of the change, or
    (an import writes none) a customer of its events made at the change's very moment."""
    added = set(
        session.exec(
            select(Event.customer_id).where(
                Event.change_id == change.id, Event.kind == EventKind.customer_added
            )
        ).all()
    )
    added |= set(
        session.exec(
            select(Customer.id)
            .join(Event, col(Event.customer_id) == col(Customer.id))
            .where(Event.change_id == change.id, col(Customer.created) == change.at)
        ).all()
    )
    for cid in sorted(c for c in added if c is not None):
        customer = session.get(Customer, cid) if cid is not None else None
        if customer is None:
            continue
        standing = session.exec(
            select(Promise.id)
            .where(Promise.customer_id == customer.id, col(Promise.state) != State.voided)
            .limit(1)
        ).first()
        if standing is None:
            session.execute(
                sa.update(Promise).where(col(Promise.customer_id) == customer.id).values(customer_id=None)
            )
            session.execute(
                sa.update(Event).where(col(Event.customer_id) == customer.id).values(customer_id=None)
            )
            session.delete(customer)
    session.flush()


# --- the state of a promise, from the events still standing ------------------------------------------


def _standing(session: Session, promise_id: int) -> list[Event]:
    query = (
        select(Event)
        .join(Change, col(Change.id) == col(Event.change_id))
        .where(Event.promise_id == promise_id, col(Change.undone_by).is_(None))
        .order_by(col(Event.at), col(Event.id))
    )
    return list(session.exec(query).all())


def _restate(session: Session, promise: Promise, clock: Clock) -> None:
    """Work out state, closing moment, renegotiation, unhappiness and remedies again from the events
    still standing and the rows left, then judge the promise (``sync``)."""
    standing = _standing(session, promise.id or 0)
    kinds = [e.kind for e in standing]
    deliveries = [fulfilment_of(d) for d in deliveries_of(session, promise.id or 0)]
    cancelled = next((e for e in reversed(standing) if e.kind == EventKind.cancelled), None)
    done = next((e for e in reversed(standing) if e.kind == EventKind.done), None)
    if cancelled is not None:
        promise.state, promise.closed_at = State.cancelled, cancelled.at
    elif deliveries and closes(terms_of(promise), deliveries):
        promise.state = State.fulfilled
        promise.closed_at = done.at if done is not None else max(d.at for d in deliveries)
    elif done is not None and deliveries:
        promise.state, promise.closed_at = State.fulfilled, done.at
    else:
        promise.state, promise.closed_at = State.active, None
    promise.renegotiated = EventKind.amended in kinds
    if not promise.renegotiated:
        promise.original_due, promise.original_date_only = None, None
    promise.unhappy = EventKind.unhappy in kinds or any(
        e.kind == EventKind.done and (e.data or {}).get("unhappy") for e in standing
    )
    promise.remedied = (
        session.exec(select(Remedy.id).where(Remedy.promise_id == promise.id).limit(1)).first() is not None
    )
    session.add(promise)
    session.flush()
    sync(session, promise, clock)


__all__ = [
    "fix_promise",
    "merge_customers",
    "near_miss",
    "next_to_undo",
    "recent_changes",
    "rename_customer",
    "undo",
    "void_delivery",
]
