"""The track record in SQL: counts per status and the rates' parts, over a period and broken down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from promisekeeper.models import Customer, Promise
from promisekeeper.store.base import FORGOTTEN
from promisekeeper.views import TALLY_FIELDS, State, StatsBy, StatsResult, Status, Tally
from promisekeeper.when import Clock

_BUCKET = 900  # seconds: every time zone's offset is a multiple of 15 minutes


def status_clause(status: Status, now: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition for a status at ``now``, on the stored outcome columns."""
    any_dev = sa.or_(
        col(Promise.dev_late),
        col(Promise.dev_substituted),
        col(Promise.dev_price),
        col(Promise.dev_short),
        col(Promise.dev_excess),
    )
    active = col(Promise.state) == State.active
    fulfilled = col(Promise.state) == State.fulfilled
    clauses: dict[Status, sa.ColumnElement[bool]] = {
        Status.open: sa.and_(active, col(Promise.due) >= now),
        Status.overdue: sa.and_(active, col(Promise.due) < now),
        Status.kept: sa.and_(fulfilled, sa.not_(any_dev)),
        Status.deviated: sa.and_(fulfilled, any_dev),
        Status.cancelled: col(Promise.state) == State.cancelled,
    }
    return clauses[status]


def tally_columns(now: datetime) -> list[sa.Label[int]]:
    def count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    fulfilled = col(Promise.state) == State.fulfilled
    return [
        count(col(Promise.state) != State.voided).label("promises"),
        count(status_clause(Status.kept, now)).label("kept"),
        count(status_clause(Status.deviated, now)).label("deviated"),
        count(status_clause(Status.overdue, now)).label("overdue"),
        count(status_clause(Status.open, now)).label("open"),
        count(status_clause(Status.cancelled, now)).label("cancelled"),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_late)))).label("on_time"),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_short)), sa.not_(col(Promise.dev_excess)))).label(
            "in_full"
        ),
        count(sa.and_(fulfilled, sa.not_(col(Promise.dev_price)))).label("at_price"),
        count(sa.and_(fulfilled, col(Promise.dev_late))).label("late"),
        sa.func.coalesce(
            sa.func.sum(
                sa.case((sa.and_(fulfilled, col(Promise.dev_late)), col(Promise.late_seconds)), else_=0)
            ),
            0,
        ).label("late_seconds"),
        count(sa.and_(col(Promise.renegotiated) == sa.true(), col(Promise.state) != State.voided)).label(
            "renegotiated"
        ),
    ]


def tally(row: Any) -> Tally:
    return Tally(*(int(getattr(row, f) or 0) for f in TALLY_FIELDS))


def _settled() -> sa.ColumnElement[datetime]:
    """When a promise's fate was decided: fulfilled, cancelled, or (still owed) its due moment."""
    return sa.case(
        (col(Promise.state) == State.fulfilled, col(Promise.fulfilled_at)),
        (col(Promise.state) == State.cancelled, col(Promise.closed_at)),
        else_=col(Promise.due),
    )


def _epoch_seconds(session: Session, moment: sa.ColumnElement[datetime]) -> sa.ColumnElement[int]:
    """Whole seconds since the epoch, rounded *down*: the end of a day (23:59:59.999999) stays in its day.

    SQLite's date functions round to the millisecond (and PostgreSQL's cast to an integer rounds), which
    put a promise due Sunday at the end of the day into Monday's week. SQLite stores UTC text, so it is
    cut at the minute (the buckets are whole quarter hours); PostgreSQL floors the epoch.
    """
    if session.get_bind().dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", sa.func.substr(moment, 1, 16)), sa.BigInteger)
    return sa.cast(sa.func.floor(sa.extract("epoch", moment)), sa.BigInteger)


def stats(
    session: Session, *, clock: Clock, since: datetime | None = None, by: StatsBy | None = None
) -> StatsResult:
    """The track record of the promises settled (or fallen due) between ``since`` and now, in SQL.

    ``by`` breaks it down per local week or month, staff, kind or customer; the week and month
    buckets are summed in 15-minute UTC steps in SQL and rolled up in the shop's zone here.
    """
    settled = _settled()
    period = [settled <= clock.now]
    if since is not None:
        period.append(settled >= since)
    columns = tally_columns(clock.now)
    total = tally(session.execute(sa.select(*columns).where(*period)).one())
    rows: list[tuple[str, Tally]] = []
    if by in (StatsBy.week, StatsBy.month):
        bucket = _epoch_seconds(session, settled) // _BUCKET
        merged: dict[str, Tally] = {}
        query = sa.select(bucket.label("k"), *columns).where(*period).group_by(bucket)
        for row in session.execute(query):
            local = datetime.fromtimestamp(int(row.k) * _BUCKET, tz=clock.tz)
            if by == StatsBy.week:
                year, week, _ = local.isocalendar()
                key = f"{year}-W{week:02d}"
            else:
                key = f"{local.year}-{local.month:02d}"
            merged[key] = merged.get(key, Tally()) + tally(row)
        rows = sorted(merged.items())
    elif by is not None:
        key_col = {
            StatsBy.staff: col(Promise.staff),
            StatsBy.kind: col(Promise.kind),
            StatsBy.customer: col(Promise.customer_id),
        }[by]
        found = [
            (row.k, tally(row))
            for row in session.execute(
                sa.select(key_col.label("k"), *columns).where(*period).group_by(key_col)
            )
        ]
        if by == StatsBy.customer:
            names = dict(session.execute(sa.select(col(Customer.id), col(Customer.name))).all())
            rows = [(names.get(k) or FORGOTTEN if k is not None else "(no customer)", t) for k, t in found]
        else:
            rows = [(str(k) if k else "(none)", t) for k, t in found]
        rows.sort(key=lambda kt: (-kt[1].promises, kt[0]))
    return StatsResult(since=since, until=clock.now, total=total, by=rows)
