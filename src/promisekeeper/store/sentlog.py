"""The sent-log of the morning mail: what was reported to whom, for ``pk notify --only-new``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.models import Promise, SentItem, SentReport
from promisekeeper.store.base import append_event, views
from promisekeeper.views import DueReport, EventKind, State
from promisekeeper.when import Clock, end_of_day


def last_sent_at(session: Session) -> datetime | None:
    """When a report was last mailed successfully; ``None`` before the first."""
    latest: datetime | None = session.exec(select(sa.func.max(col(SentReport.at)))).one()
    return latest


def newly_overdue_report(session: Session, *, clock: Clock) -> DueReport:
    """The overdue promises no sent report has listed as overdue since they last fell due (``--only-new``).

    Judged per promise rather than by "due after the last mail": a promise entered late with a past due
    is new too, and one renegotiated to a later date that slips again is new again.
    """
    told = (
        select(SentItem.promise_id)
        .join(SentReport, col(SentReport.id) == col(SentItem.report_id))
        .where(
            col(SentItem.promise_id) == col(Promise.id),
            col(SentItem.section) == "overdue",
            col(SentReport.at) > col(Promise.due),
        )
    )
    query = select(Promise).where(
        col(Promise.state) == State.active, col(Promise.due) < clock.now, sa.not_(sa.exists(told))
    )
    promises = session.exec(query.order_by(col(Promise.due), col(Promise.id))).all()
    return DueReport(clock.now, end_of_day(clock.today, clock.tz), views(session, promises, clock), [])


def record_sent(
    session: Session,
    *,
    at: datetime,
    recipients: Sequence[str],
    subject: str,
    overdue: Sequence[int],
    due: Sequence[int],
) -> int:
    """Log a report the mail server accepted, and note in each listed promise's history that the owner
    was told (``pk promise show``); call only after the send succeeded. Returns the report's id."""
    report = SentReport(
        at=at, recipients=", ".join(recipients), subject=subject, overdue=len(overdue), due=len(due)
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    for section, ids in (("overdue", overdue), ("due", due)):
        for promise_id in dict.fromkeys(ids):
            session.add(SentItem(report_id=report.id, promise_id=promise_id, section=section))
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
