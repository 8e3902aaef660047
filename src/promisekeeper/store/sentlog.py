"""The sent-log of the morning report: what was told to whom, per recipient, for ``pk notify --only-new``
and for the escalation that an escalation address gets once per promise.

A recipient is a key: a mail address in lower case, or ``url:`` and a digest of an apprise URL (see
``models.SentTo``). ``None`` as the recipient asks about any recipient at all (the sent-log before it
was kept per recipient).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.models import Promise, SentItem, SentReport, SentTo
from promisekeeper.store.base import append_event, views
from promisekeeper.store.queries import at_risk_promises, ready_pickup, risk_appeared
from promisekeeper.views import DueReport, EventKind, PromiseView, State
from promisekeeper.when import Clock, end_of_day, later_by

#: The sections of a sent report (``sent_item.section``, at most 8 letters).
OVERDUE, DUE_SOON, DUE, ESCALATE = "overdue", "due_soon", "due", "escalate"
AT_RISK, READY = "at_risk", "ready"


def recipient_key(address: str) -> str:
    """How the sent-log names a mail recipient: the address in lower case."""
    return address.strip().lower()


def _to(recipient: str | None) -> list[sa.ColumnElement[bool]]:
    if recipient is None:
        return []
    sent_to = sa.select(col(SentTo.report_id)).where(col(SentTo.recipient) == recipient)
    return [col(SentReport.id).in_(sent_to)]


def last_sent_at(session: Session, recipient: str | None = None) -> datetime | None:
    """When a report was last sent successfully (to ``recipient``); ``None`` before the first."""
    query = select(sa.func.max(col(SentReport.at))).where(*_to(recipient))
    latest: datetime | None = session.exec(query).one()
    return latest


def _told(section: str, recipient: str | None, *, same_due: bool) -> sa.Exists:
    """``recipient`` was sent the promise in ``section``: after it last fell due (``same_due=False``:
    told when it was already past its present due), or with its present due (a due-soon warning)."""
    when = col(SentItem.due) == col(Promise.due) if same_due else col(SentReport.at) > col(Promise.due)
    return sa.exists(
        select(SentItem.promise_id)
        .join(SentReport, col(SentReport.id) == col(SentItem.report_id))
        .where(
            col(SentItem.promise_id) == col(Promise.id),
            col(SentItem.section) == section,
            when,
            *_to(recipient),
        )
    )


def newly_overdue_report(
    session: Session, *, clock: Clock, recipient: str | None = None, soon_until: datetime | None = None
) -> DueReport:
    """What ``recipient`` has not been told yet (``--only-new``): the overdue promises no report to them
    listed as overdue since they last fell due; the promises at risk that no report to them listed as
    at risk since the risk appeared (``queries.risk_appeared``); and, with ``soon_until``, the promises
    due soon that no report to them listed as due soon with the due they have now.

    Judged per promise rather than by "due after the last mail": a promise entered late with a past due
    is new too, and one renegotiated to a later date that slips again is new again.
    """
    active = sa.and_(col(Promise.state) == State.active, sa.not_(ready_pickup()))  # a ready pickup waits
    order = (col(Promise.due), col(Promise.id))
    overdue = session.exec(
        select(Promise)
        .where(active, col(Promise.due) < clock.now, sa.not_(_told(OVERDUE, recipient, same_due=False)))
        .order_by(*order)
    ).all()
    soon: Sequence[Promise] = ()
    if soon_until is not None:
        soon = session.exec(
            select(Promise)
            .where(
                active,
                col(Promise.due) >= clock.now,
                col(Promise.due) <= soon_until,
                sa.not_(_told(DUE_SOON, recipient, same_due=True)),
            )
            .order_by(*order)
        ).all()
    at_risk = _not_told_at_risk(session, at_risk_promises(session, clock=clock), clock, recipient)
    risky = {p.id for p in at_risk}
    return DueReport(
        clock.now,
        end_of_day(clock.today, clock.tz),
        views(session, overdue, clock),
        [],
        due_soon=views(session, [p for p in soon if p.id not in risky], clock),
        soon_until=soon_until,
        at_risk=at_risk,
    )


def _not_told_at_risk(
    session: Session, promises: Sequence[PromiseView], clock: Clock, recipient: str | None
) -> list[PromiseView]:
    """The at-risk promises that no report to ``recipient`` listed as at risk since the risk appeared."""
    appeared = risk_appeared(session, promises, clock)
    told: set[int] = set()
    if appeared:
        query = (
            sa.select(col(SentItem.promise_id), col(SentReport.at))
            .join(SentReport, col(SentReport.id) == col(SentItem.report_id))
            .where(
                col(SentItem.section) == AT_RISK,
                col(SentItem.promise_id).in_(sorted(appeared)),
                *_to(recipient),
            )
        )
        told = {pid for pid, at in session.execute(query) if at >= appeared[pid]}
    return [p for p in promises if p.id not in told]


def escalation_report(
    session: Session, *, clock: Clock, after: str, recipient: str | None = None, only_new: bool = False
) -> DueReport:
    """The promises overdue longer than ``after`` (``[policy] escalate_after``, e.g. ``1bd``), most
    overdue first; ``only_new``: those not yet escalated to ``recipient`` since they last fell due."""
    where = [col(Promise.state) == State.active, col(Promise.due) < clock.now, sa.not_(ready_pickup())]
    if only_new:
        where.append(sa.not_(_told(ESCALATE, recipient, same_due=False)))
    overdue = session.exec(select(Promise).where(*where).order_by(col(Promise.due), col(Promise.id))).all()
    late = [p for p in overdue if later_by(after, p.due, clock) < clock.now]
    return DueReport(clock.now, clock.now, views(session, late, clock), [])


def record_sent(
    session: Session,
    *,
    at: datetime,
    recipients: Sequence[str],
    subject: str,
    overdue: Sequence[int | PromiseView],
    due: Sequence[int | PromiseView],
    due_soon: Sequence[PromiseView] = (),
    escalate: Sequence[PromiseView] = (),
    keys: Sequence[str] | None = None,
    at_risk: Sequence[PromiseView] = (),
    ready: Sequence[PromiseView] = (),
) -> int:
    """Log a report that was delivered, and note in each listed promise's history that it was told
    (``pk promise show``); call only after the send succeeded. ``recipients`` are shown; ``keys`` (default:
    the recipients in lower case) are who ``--only-new`` counts as told. Returns the report's id."""
    report = SentReport(
        at=at,
        recipients=", ".join(recipients),
        subject=subject,
        overdue=len(overdue) + len(escalate),
        due=len(due) + len(due_soon),
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    for key in dict.fromkeys(keys if keys is not None else [recipient_key(r) for r in recipients]):
        session.add(SentTo(report_id=report.id, recipient=key))
    seen: set[int] = set()
    sections: tuple[tuple[str, Sequence[int | PromiseView]], ...] = (
        (ESCALATE, escalate),
        (OVERDUE, overdue),
        (AT_RISK, at_risk),
        (DUE_SOON, due_soon),
        (DUE, due),
        (READY, ready),
    )
    for section, items in sections:
        for item in items:
            promise_id = item if isinstance(item, int) else item.id
            if promise_id in seen:
                continue
            seen.add(promise_id)
            told_due = None if isinstance(item, int) else item.due.moment
            session.add(SentItem(report_id=report.id, promise_id=promise_id, section=section, due=told_due))
            append_event(
                session,
                EventKind.notified,
                at,
                promise_id=promise_id,
                report_id=report.id,
                recipients=list(recipients),
                section=section,
            )
    return report.id
