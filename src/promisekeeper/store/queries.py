"""The reads behind ``due``, ``check`` and ``promise list``: SQL on indexed columns, judged into views."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.models import Promise, Tag, needs_remedy
from promisekeeper.store.base import chunks, views
from promisekeeper.store.customers import get_customer
from promisekeeper.store.stats import status_clause
from promisekeeper.views import DueReport, Kind, PromiseView, State, Status
from promisekeeper.when import Clock, end_of_day


def _staff_is(staff: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(col(Promise.staff)) == staff.strip().lower()


def list_promises(
    session: Session,
    *,
    clock: Clock,
    statuses: Sequence[Status] = (),
    customer: str | None = None,
    staff: str | None = None,
    kind: Kind | None = None,
    tag: str | None = None,
) -> list[PromiseView]:
    """Promises matching every filter given, in order of their due moment."""
    query = select(Promise)
    if statuses:
        query = query.where(sa.or_(*(status_clause(Status(s), clock.now) for s in statuses)))
    if customer is not None:
        query = query.where(Promise.customer_id == get_customer(session, customer).id)
    if staff is not None:
        query = query.where(_staff_is(staff))
    if kind is not None:
        query = query.where(Promise.kind == Kind(kind))
    if tag is not None:
        query = query.where(col(Promise.id).in_(select(Tag.promise_id).where(Tag.tag == tag.strip())))
    promises = session.exec(query.order_by(col(Promise.due), col(Promise.id))).all()
    return views(session, promises, clock)


def iter_promises(
    session: Session, *, clock: Clock, statuses: Sequence[Status] = ()
) -> Iterator[PromiseView]:
    """Like ``list_promises`` (same order), judged a few hundred at a time: exports of a book of any size
    in flat memory."""
    query = select(Promise.id)
    if statuses:
        query = query.where(sa.or_(*(status_clause(Status(s), clock.now) for s in statuses)))
    ids = [i for i in session.exec(query.order_by(col(Promise.due), col(Promise.id))) if i is not None]
    for part in chunks(ids):
        found = {p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(part)))}
        yield from views(session, [found[i] for i in part], clock)


def due_report(
    session: Session, *, clock: Clock, until: datetime | None = None, staff: str | None = None
) -> DueReport:
    """The morning list: overdue (most overdue first), then due up to ``until`` (default: end of today)."""
    until = until or end_of_day(clock.today, clock.tz)
    base = select(Promise).where(Promise.state == State.active)
    if staff is not None:
        base = base.where(_staff_is(staff))
    order = (col(Promise.due), col(Promise.id))
    overdue = session.exec(base.where(col(Promise.due) < clock.now).order_by(*order)).all()
    due = session.exec(
        base.where(col(Promise.due) >= clock.now, col(Promise.due) <= until).order_by(*order)
    ).all()
    return DueReport(clock.now, until, views(session, overdue, clock), views(session, due, clock))


def check(
    session: Session, *, clock: Clock, since: datetime | None = None, include_remedied: bool = False
) -> list[PromiseView]:
    """Deviated, overdue and unhappy promises with no remedy yet (``include_remedied``: with the remedied)."""
    broken = sa.or_(
        status_clause(Status.deviated, clock.now),
        status_clause(Status.overdue, clock.now),
        col(Promise.unhappy),
    )
    # A follow-up is our reminder, not the customer's promise: late or not, it is never a thing to
    # remedy (an unhappy one puts its parent here instead).
    query = select(Promise).where(
        broken, col(Promise.state) != State.cancelled, col(Promise.kind) != Kind.followup
    )
    if since is not None:
        query = query.where(col(Promise.due) >= since)
    if include_remedied:
        promises = session.exec(
            query.order_by(col(Promise.remedied), col(Promise.due), col(Promise.id))
        ).all()
        return views(session, promises, clock)
    # Two indexed reads instead of a scan of the whole book: the overdue (ix_promise_state_due) and the
    # deviated or unhappy not yet remedied (the partial index ix_promise_needs_remedy).
    overdue = query.where(status_clause(Status.overdue, clock.now), sa.not_(col(Promise.remedied)))
    found = {p.id: p for q in (overdue, query.where(needs_remedy())) for p in session.exec(q)}
    return views(session, sorted(found.values(), key=lambda p: (p.due, p.id or 0)), clock)
