"""What pk sent to customers: each message recorded after it was sent, and never sent twice.

A message is a ``notice_sent`` (the notice about a late, changed, deviated or at-risk promise) or a
``message_sent`` (ready for pickup, the follow-up check-in) event on the promise it is about, with its
channel, message id and key. The key names the message's content (``messages.Letter.key``): a message
whose key the promise's history already holds was sent, and is not sent again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from promisekeeper.models import Event, Promise
from promisekeeper.store.base import append_event, chunks, load_promise, views
from promisekeeper.views import EventKind, Kind, PromiseView, State
from promisekeeper.when import Clock, end_of_day

SENT_KINDS = (EventKind.notice_sent, EventKind.message_sent)


def sent_keys(session: Session, promise_ids: Sequence[int]) -> dict[int, dict[str, datetime]]:
    """For each promise, the keys of the messages sent about it and when each was sent (the first time)."""
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in chunks(sorted(set(promise_ids))):
        query = (
            select(Event.promise_id, Event.at, Event.data)
            .where(col(Event.promise_id).in_(chunk), col(Event.kind).in_(SENT_KINDS))
            .order_by(col(Event.at), col(Event.id))
        )
        for pid, at, data in session.exec(query):
            key = (data or {}).get("key")
            if pid is not None and isinstance(key, str):
                found[pid].setdefault(key, at)
    return found


def sent_at(session: Session, *, promise_id: int, key: str) -> datetime | None:
    """When the message ``key`` about promise ``promise_id`` was sent, or ``None``: not yet."""
    return sent_keys(session, [promise_id]).get(promise_id, {}).get(key)


def record_message(
    session: Session,
    *,
    clock: Clock,
    promise_id: int,
    message: str,
    channel: str,
    message_id: str,
    key: str,
    language: str,
) -> None:
    """Note in the promise's history that ``message`` (notice, ready, followup) was sent: by which
    ``channel`` (email, sms), its ``message_id``, its ``key`` and the ``language`` it was written in.
    Called only after the server accepted it: the book never claims a message that was not sent."""
    promise = load_promise(session, promise_id)
    append_event(
        session,
        EventKind.notice_sent if message == "notice" else EventKind.message_sent,
        clock.now,
        promise_id=promise_id,
        customer_id=promise.customer_id,
        message=message,
        channel=channel,
        message_id=message_id,
        key=key,
        language=language,
    )


def followups_due(session: Session, *, clock: Clock) -> list[tuple[PromiseView, PromiseView]]:
    """Today's open follow-ups (due on today's date, in the shop's zone) with the promise each follows
    up, oldest due first. A follow-up from an earlier day that was not sent is not sent late: a check-in
    weeks after the day it was meant for is a stranger's mail."""
    today = end_of_day(clock.today, clock.tz)
    yesterday = end_of_day(clock.today - timedelta(days=1), clock.tz)
    query = (
        select(Promise)
        .where(
            Promise.kind == Kind.followup,
            Promise.state == State.active,
            col(Promise.parent_id).is_not(None),
            col(Promise.due) > yesterday,
            col(Promise.due) <= today,
        )
        .order_by(col(Promise.due), col(Promise.id))
    )
    followups = views(session, session.exec(query).all(), clock)
    parent_ids = sorted({f.parent_id for f in followups if f.parent_id is not None})
    parents: dict[int, PromiseView] = {}
    for chunk in chunks(parent_ids):
        rows = session.exec(select(Promise).where(col(Promise.id).in_(chunk), Promise.state != State.voided))
        parents.update((p.id, p) for p in views(session, rows.all(), clock))
    return [(f, parents[f.parent_id]) for f in followups if f.parent_id in parents]
