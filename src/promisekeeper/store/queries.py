"""The reads behind ``due``, ``check``, ``promise list`` and ``find``: SQL on indexed columns, judged into
views; the text search is a scan in Python of the rows the other filters leave (see ``list_promises``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from promisekeeper.errors import BadInput, NotFound
from promisekeeper.models import Customer, Event, Promise, SupplyLink, SupplyOrder, Tag, needs_remedy
from promisekeeper.store.base import chunks, views
from promisekeeper.store.customers import find_customer
from promisekeeper.store.stats import status_clause
from promisekeeper.text import check_text
from promisekeeper.views import DueReport, EventKind, Handover, Kind, PromiseView, RiskKind, State, Status
from promisekeeper.when import Clock, Due, earlier_by, end_of_day, later_by


def _staff_is(staff: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(col(Promise.staff)) == staff.strip().lower()


#: Combining marks (accents, umlauts, cedillas, …) of the Latin, Greek and Cyrillic scripts, as NFKD
#: leaves them after their letter.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _plain(text: str) -> str:
    """``text`` case-folded with its accents dropped (``Müller`` → ``müller`` → ``muller``)."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.casefold()


def fold(text: str) -> str:
    """Text as a search compares it: accents dropped, case folded, runs of white space as one space
    (``Müller`` → ``muller``, ``STRAẞE`` → ``strasse``). The same on every engine, since Python does it."""
    return " ".join(_plain(text).split())


#: More customers than this matching a partial ``--customer`` are filtered in Python, not in an SQL
#: ``IN`` list (SQLite allows 32,766 parameters in one statement).
_IN_LIMIT = 500


def _customers_matching(session: Session, name: str) -> set[int]:
    """``--customer NAME``: the customer of exactly that name (any case and spacing), else every customer
    whose name holds NAME (accents and case ignored); none at all is not found (exit 3)."""
    name = check_text(name, "--customer")
    exact = find_customer(session, name)
    if exact is not None and exact.id is not None:
        return {exact.id}
    part = fold(name)
    found = set()
    if part:
        rows = session.execute(
            sa.select(col(Customer.id), col(Customer.name)).where(col(Customer.name).is_not(None))
        )
        found = {cid for cid, full in rows if part in fold(full)}
    if not found:
        raise NotFound(
            f"There is no customer named {name!r} nor one whose name holds it; `pk customer list` shows them."
        )
    return found


def search_words(text: str) -> tuple[str, ...]:
    """The words of ``--search TEXT`` as compared (``fold``); no words is bad input."""
    words = tuple(fold(check_text(text, "The search")).split())
    if not words:
        raise BadInput("The search is empty; say what to look for, e.g. pk find boots.")
    return words


def _like(value: Any, word: str, *, sqlite: bool) -> sa.ColumnElement[bool]:
    """``value`` holds ``word`` ignoring the case of ASCII letters (SQLite's LIKE; PostgreSQL's ILIKE)."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    column: sa.ColumnElement[str] = value
    return column.like(pattern, escape="\\") if sqlite else column.ilike(pattern, escape="\\")


def _not_ascii(value: Any, *, sqlite: bool) -> sa.ColumnElement[bool]:
    """``value`` holds a character beyond ASCII (more bytes than characters in UTF-8)."""
    size = sa.func.length(sa.cast(value, sa.LargeBinary)) if sqlite else sa.func.octet_length(value)
    return size != sa.func.length(value)


def _may_hold(words: Sequence[str], *, sqlite: bool) -> sa.ColumnElement[bool]:
    """A filter the database applies before Python folds anything: every promise whose texts, customer
    or tags may hold every word, and a few more. Plain ASCII text holds a word exactly when LIKE says so
    (folding ASCII is lower-casing); a promise with any other character in its what, staff or note is
    left for Python to decide. Column by column, since joining them costs the database more than this."""
    texts = (col(Promise.what), col(Promise.staff), col(Promise.note))

    def somewhere(word: str) -> sa.ColumnElement[bool]:
        names = sa.select(col(Customer.id)).where(
            sa.or_(
                _like(col(Customer.name), word, sqlite=sqlite), _not_ascii(col(Customer.name), sqlite=sqlite)
            )
        )
        tagged = sa.select(col(Tag.promise_id)).where(
            sa.or_(_like(col(Tag.tag), word, sqlite=sqlite), _not_ascii(col(Tag.tag), sqlite=sqlite))
        )
        return sa.or_(
            *(_like(t, word, sqlite=sqlite) for t in texts),
            col(Promise.customer_id).in_(names),
            col(Promise.id).in_(tagged),
        )

    return sa.or_(*(_not_ascii(t, sqlite=sqlite) for t in texts), sa.and_(*(somewhere(w) for w in words)))


def _scan(
    session: Session,
    where: Sequence[sa.ColumnElement[bool]],
    *,
    words: Sequence[str],
    customers: set[int] | None,
) -> list[int]:
    """The ids of the promises matching ``where`` whose folded what, customer, staff, note and tags hold
    every word. A bounded scan: only the rows the SQL filters (and ``_may_hold``) leave, only their text
    columns, streamed; each customer's name and each tag is folded once."""
    names: dict[int, str] = {}
    tags: dict[int, str] = {}
    if words:
        rows = session.execute(
            sa.select(col(Customer.id), col(Customer.name)).where(col(Customer.name).is_not(None))
        )
        names = {row[0]: _plain(row[1]) for row in rows}
        for pid, tag in session.execute(sa.select(col(Tag.promise_id), col(Tag.tag))):
            tags[pid] = f"{tags.get(pid, '')}\n{_plain(tag)}"
    sqlite = session.get_bind().dialect.name == "sqlite"
    narrow = sa.select(
        col(Promise.id), col(Promise.customer_id), col(Promise.what), col(Promise.staff), col(Promise.note)
    ).where(*where, *([_may_hold(words, sqlite=sqlite)] if words else []))
    found = []
    for pid, cid, what, staff, note in session.connection().execute(narrow.execution_options(yield_per=5000)):
        if customers is not None and cid not in customers:
            continue
        if words:
            haystack = _plain(f"{what}\n{staff or ''}\n{note or ''}")
            if cid in names:
                haystack += "\n" + names[cid]
            if pid in tags:
                haystack += tags[pid]
            if not all(w in haystack for w in words):
                continue
        found.append(pid)
    return found


def list_promises(
    session: Session,
    *,
    clock: Clock,
    statuses: Sequence[Status] = (),
    customer: str | None = None,
    staff: str | None = None,
    kind: Kind | None = None,
    tag: str | None = None,
    search: str | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    newest_first: bool = False,
) -> list[PromiseView]:
    """Promises matching every filter given, in order of their due moment (``newest_first``: as made).

    ``customer`` is a name, or part of one when no customer has that name; ``search`` holds words that
    must each appear (case and accents ignored) in the what, customer, staff, note or tags; ``due_before``
    and ``due_after`` are exclusive bounds. SQL filters on indexed columns first; the text is matched in
    Python over what is left (SQLite's and PostgreSQL's own folding differ and neither drops accents
    without an extension), reading only the columns it compares.
    """
    words = search_words(search) if search is not None else ()
    where: list[sa.ColumnElement[bool]] = [col(Promise.state) != State.voided]  # undone: in no list
    if statuses:
        where.append(sa.or_(*(status_clause(Status(s), clock.now) for s in statuses)))
    customers = _customers_matching(session, customer) if customer is not None else None
    if customers is not None and len(customers) <= _IN_LIMIT:
        where.append(col(Promise.customer_id).in_(sorted(customers)))
        customers = None
    if staff is not None:
        where.append(_staff_is(staff))
    if kind is not None:
        where.append(col(Promise.kind) == Kind(kind))
    if tag is not None:
        where.append(col(Promise.id).in_(select(Tag.promise_id).where(Tag.tag == tag.strip())))
    if due_before is not None:
        where.append(col(Promise.due) < due_before)
    if due_after is not None:
        where.append(col(Promise.due) > due_after)
    order = (
        (col(Promise.created).desc(), col(Promise.id).desc())
        if newest_first
        else (col(Promise.due), col(Promise.id))
    )
    if not words and customers is None:
        return views(session, session.exec(select(Promise).where(*where).order_by(*order)).all(), clock)
    found = _scan(session, where, words=words, customers=customers)
    keys: list[tuple[datetime, int]] = []
    for part in chunks(found):
        by = col(Promise.created) if newest_first else col(Promise.due)
        keys.extend(
            (when, pid)
            for pid, when in session.execute(sa.select(col(Promise.id), by).where(col(Promise.id).in_(part)))
        )
    keys.sort(reverse=newest_first)
    ids = [pid for _, pid in keys]
    out: list[PromiseView] = []
    for part in chunks(ids):
        loaded = {p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(part)))}
        out.extend(views(session, [loaded[i] for i in part], clock))
    return out


def iter_promises(
    session: Session, *, clock: Clock, statuses: Sequence[Status] = ()
) -> Iterator[PromiseView]:
    """Like ``list_promises`` (same order), judged a few hundred at a time: exports of a book of any size
    in flat memory."""
    query = select(Promise.id).where(col(Promise.state) != State.voided)
    if statuses:
        query = query.where(sa.or_(*(status_clause(Status(s), clock.now) for s in statuses)))
    ids = [i for i in session.exec(query.order_by(col(Promise.due), col(Promise.id))) if i is not None]
    for part in chunks(ids):
        found = {p.id: p for p in session.exec(select(Promise).where(col(Promise.id).in_(part)))}
        yield from views(session, [found[i] for i in part], clock)


def ready_pickup() -> sa.ColumnElement[bool]:
    """A pickup marked ready (``pk ready``, ``supplier receive``) and not yet collected: the shop has done
    its part, so it is waiting for the customer, never overdue (``base.handover_of``: no handover stored
    is a pickup)."""
    return sa.and_(
        col(Promise.kind) == Kind.delivery,
        col(Promise.ready_at).is_not(None),
        sa.or_(col(Promise.handover).is_(None), col(Promise.handover) == Handover.pickup),
    )


def _awaits_supply() -> sa.ColumnElement[bool]:
    """Linked to a supply order that is not undone and has not all arrived: the only promises that can
    be at risk (``base.risk_of`` judges which are)."""
    orders = (
        sa.select(col(SupplyLink.promise_id))
        .join(SupplyOrder, col(SupplyOrder.id) == col(SupplyLink.order_id))
        .where(
            col(SupplyOrder.state) != State.voided,
            col(SupplyOrder.received_quantity) < col(SupplyOrder.quantity),
        )
    )
    return sa.and_(col(Promise.ready_at).is_(None), col(Promise.id).in_(orders))


def at_risk_promises(
    session: Session, *, clock: Clock, staff: str | None = None, since: datetime | None = None
) -> list[PromiseView]:
    """The open promises not yet due that ``rules.risk`` finds at risk, soonest due first (``staff``:
    made by that person; ``since``: due since then). An overdue promise is overdue, not at risk."""
    query = select(Promise).where(
        col(Promise.state) == State.active, col(Promise.due) >= clock.now, _awaits_supply()
    )
    if staff is not None:
        query = query.where(_staff_is(staff))
    if since is not None:
        query = query.where(col(Promise.due) >= since)
    found = session.exec(query.order_by(col(Promise.due), col(Promise.id))).all()
    return [v for v in views(session, found, clock) if v.at_risk]


def due_report(
    session: Session,
    *,
    clock: Clock,
    until: datetime | None = None,
    staff: str | None = None,
    soon_until: datetime | None = None,
) -> DueReport:
    """The morning list: overdue (most overdue first); at risk (any due still ahead: the warning is
    worth most early); due soon (up to ``soon_until``, the end of ``[policy] warn_before``; none without
    it); the rest due up to ``until`` (default: end of today); and the pickups ready and not yet
    collected (longest waiting first). Each promise is in one section only: an overdue one stays in
    Overdue, an at-risk one is not also due, a ready pickup is only waiting."""
    until = until or end_of_day(clock.today, clock.tz)
    base = select(Promise).where(Promise.state == State.active)
    if staff is not None:
        base = base.where(_staff_is(staff))
    waiting = base.where(sa.not_(ready_pickup()))
    order = (col(Promise.due), col(Promise.id))
    overdue = session.exec(waiting.where(col(Promise.due) < clock.now).order_by(*order)).all()
    at_risk = at_risk_promises(session, clock=clock, staff=staff)
    risky = {p.id for p in at_risk}
    soon = (
        session.exec(
            waiting.where(col(Promise.due) >= clock.now, col(Promise.due) <= soon_until).order_by(*order)
        ).all()
        if soon_until is not None
        else []
    )
    after = soon_until if soon_until is not None and soon_until >= clock.now else None
    due = session.exec(
        waiting.where(
            col(Promise.due) > after if after is not None else col(Promise.due) >= clock.now,
            col(Promise.due) <= until,
        ).order_by(*order)
    ).all()
    ready = session.exec(base.where(ready_pickup()).order_by(col(Promise.ready_at), col(Promise.id))).all()
    return DueReport(
        clock.now,
        until,
        views(session, overdue, clock),
        views(session, [p for p in due if p.id not in risky], clock),
        due_soon=views(session, [p for p in soon if p.id not in risky], clock),
        soon_until=soon_until,
        at_risk=at_risk,
        ready=views(session, ready, clock),
    )


#: The events after which a risk is news to the customer again: the order placed or its ETA moved,
#: the promise linked to it, the promise's due moved.
_RISK_BASIS = (EventKind.ordered, EventKind.eta_changed, EventKind.linked)
_DUE_SET = (EventKind.promised, EventKind.amended, EventKind.corrected)
_TOLD = (EventKind.notice_drafted, EventKind.notice_sent)


def _moves_due(kind: str, data: dict[str, Any]) -> bool:
    if kind == EventKind.amended:
        return bool((data.get("before") or {}).get("due") != (data.get("after") or {}).get("due"))
    if kind == EventKind.corrected:
        return "due" in (data.get("changes") or {})
    return True


Mark = tuple[datetime, int]
"""A moment in the history, in UTC, and the id of the event at it (0: a moment no event marks), so
that two events at the same moment are still in the order they were written."""


def _mark(at: datetime, event_id: int | None = 0) -> Mark:
    return at.astimezone(UTC), event_id or 0


def _risk_marks(session: Session, promises: Sequence[PromiseView], clock: Clock) -> dict[int, Mark]:
    """``risk_appeared``, each moment with the id of the event that marks it."""
    risky = {p.id: p for p in promises if p.risk is not None}
    found: dict[int, list[Mark]] = {pid: [] for pid in risky}
    order_set: dict[int, Mark] = {}
    for part in chunks(sorted({p.risk.order_id for p in risky.values() if p.risk is not None})):
        rows = session.execute(
            sa.select(col(Event.order_id), col(Event.at), col(Event.id)).where(
                col(Event.order_id).in_(part),
                col(Event.promise_id).is_(None),
                col(Event.kind).in_(_RISK_BASIS),
            )
        )
        for oid, at, eid in rows:
            order_set[oid] = max(_mark(at, eid), order_set.get(oid, _mark(at, eid)))
    for part in chunks(sorted(risky)):
        rows = session.execute(
            sa.select(
                col(Event.promise_id),
                col(Event.order_id),
                col(Event.kind),
                col(Event.at),
                col(Event.id),
                col(Event.data),
            ).where(col(Event.promise_id).in_(part), col(Event.kind).in_((*_RISK_BASIS, *_DUE_SET)))
        )
        for pid, oid, kind, at, eid, data in rows:
            risk = risky[pid].risk
            assert risk is not None
            if kind in _RISK_BASIS and oid != risk.order_id:
                continue
            if kind in _DUE_SET and not _moves_due(kind, data or {}):
                continue
            found[pid].append(_mark(at, eid))
    out: dict[int, Mark] = {}
    for pid, p in risky.items():
        risk = p.risk
        assert risk is not None
        marks = found[pid]
        if risk.order_id in order_set:
            marks.append(order_set[risk.order_id])
        if risk.kind == RiskKind.order_overdue and risk.eta is not None:
            marks.append(_mark(risk.eta))
        elif risk.kind == RiskKind.no_eta:
            marks.append(_mark(earlier_by(clock.no_eta_warn, risk.due, clock, "[supply] no_eta_warn")))
        out[pid] = max(marks, default=_mark(p.created))
    return out


def risk_appeared(session: Session, promises: Sequence[PromiseView], clock: Clock) -> dict[int, datetime]:
    """When the present risk of each at-risk promise appeared: the latest of the moment its order was
    placed or its ETA last changed (``ordered``, ``eta_changed``), the moment the promise was linked to
    that order (``linked``), the moment the promise's due was last set (``promised``, an ``amended`` or
    ``corrected`` that moved it) and — for a risk that time alone brings — the moment a threshold
    passed: the order's ETA for an overdue order, the due less ``[supply] no_eta_warn`` for no ETA.

    So a new ETA, even a later one after a warning, is news to tell the customer again; a risk that
    only grew graver with time (an ETA that was late and has now passed) is news too."""
    return {pid: at for pid, (at, _) in _risk_marks(session, promises, clock).items()}


def untold(session: Session, promises: Sequence[PromiseView], clock: Clock) -> list[PromiseView]:
    """The at-risk promises whose customer has not been warned since the risk appeared
    (``risk_appeared``): no ``notice_drafted`` or ``notice_sent`` written after it (at a later moment,
    or at the same moment by a later event)."""
    appeared = _risk_marks(session, promises, clock)
    told: set[int] = set()
    for part in chunks(sorted(appeared)):
        rows = session.execute(
            sa.select(col(Event.promise_id), col(Event.at), col(Event.id)).where(
                col(Event.promise_id).in_(part), col(Event.kind).in_(_TOLD)
            )
        )
        told.update(pid for pid, at, eid in rows if _mark(at, eid) > appeared[pid])
    return [p for p in promises if p.id in appeared and p.id not in told]


def proposed_due(p: PromiseView, clock: Clock) -> Due | None:
    """The date the shop can promise instead of a due a supplier's ETA puts at risk: the ETA plus
    ``[supply] margin`` (a whole day when it ends with one). ``None`` when the supplier gave no date
    still ahead (no ETA yet, or one already passed) or the promise is not at risk."""
    risk = p.risk
    if risk is None or risk.kind != RiskKind.eta_late or risk.eta is None or risk.eta < clock.now:
        return None
    moment = later_by(clock.supply_margin, risk.eta, clock)
    return Due(moment, moment == end_of_day(moment.astimezone(clock.tz).date(), clock.tz))


def check(
    session: Session, *, clock: Clock, since: datetime | None = None, include_remedied: bool = False
) -> list[PromiseView]:
    """Deviated, overdue and unhappy promises with no remedy yet (``include_remedied``: with the remedied),
    most overdue first; then the open promises at risk whose customer was not warned since the risk
    appeared (``untold``; ``include_remedied``: every one at risk). A pickup ready and waiting for the
    customer is not overdue."""
    broken = sa.or_(
        status_clause(Status.deviated, clock.now),
        sa.and_(status_clause(Status.overdue, clock.now), sa.not_(ready_pickup())),
        col(Promise.unhappy),
    )
    # A follow-up is our reminder, not the customer's promise: late or not, it is never a thing to
    # remedy (an unhappy one puts its parent here instead).
    query = select(Promise).where(
        broken, col(Promise.state).notin_([State.cancelled, State.voided]), col(Promise.kind) != Kind.followup
    )
    if since is not None:
        query = query.where(col(Promise.due) >= since)
    at_risk = at_risk_promises(session, clock=clock, since=since)
    if include_remedied:
        promises = session.exec(
            query.order_by(col(Promise.remedied), col(Promise.due), col(Promise.id))
        ).all()
        listed = views(session, promises, clock)
        shown = {p.id for p in listed}
        return [*listed, *(p for p in at_risk if p.id not in shown)]
    # Two indexed reads instead of a scan of the whole book: the overdue (ix_promise_state_due) and the
    # deviated or unhappy not yet remedied (the partial index ix_promise_needs_remedy).
    overdue = query.where(
        status_clause(Status.overdue, clock.now), sa.not_(ready_pickup()), sa.not_(col(Promise.remedied))
    )
    found = {p.id: p for q in (overdue, query.where(needs_remedy())) for p in session.exec(q)}
    listed = views(session, sorted(found.values(), key=lambda p: (p.due, p.id or 0)), clock)
    return [*listed, *untold(session, [p for p in at_risk if p.id not in found], clock)]


def customer_names(session: Session, *, near: str | None = None, limit: int = 9) -> list[str]:
    """Names to offer when a customer is asked for: without ``near``, the customers of the latest
    promises (newest first); with it, the names that hold it (accents and case ignored), else the ones
    that look like it (a letter or two off), closest first."""
    if near is None or not fold(near):
        recent = session.execute(
            sa.select(col(Promise.customer_id))
            .where(col(Promise.customer_id).is_not(None))
            .order_by(col(Promise.id).desc())
            .limit(50 * limit)
        )
        ids = list(dict.fromkeys(cid for (cid,) in recent))[:limit]
        rows = session.execute(
            sa.select(col(Customer.id), col(Customer.name)).where(col(Customer.id).in_(ids))
        )
        named = {row[0]: row[1] for row in rows}
        return [named[i] for i in ids if named.get(i)]
    import difflib

    part = fold(near)
    rows = session.execute(sa.select(col(Customer.name)).where(col(Customer.name).is_not(None)))
    names = [(fold(name), name) for (name,) in rows]
    holding = sorted((n for k, n in names if part in k), key=lambda n: (not fold(n).startswith(part), n))
    if holding:
        return holding[:limit]
    close = difflib.get_close_matches(part, [k for k, _ in names], n=limit, cutoff=0.75)
    return list(dict.fromkeys(n for c in close for k, n in names if k == c))[:limit]


def open_promises(session: Session, *, prefix: str = "", limit: int = 200) -> list[tuple[int, str]]:
    """Open promises (id, what) whose number starts with ``prefix``, soonest due first."""
    query = sa.select(col(Promise.id), col(Promise.what)).where(col(Promise.state) == State.active)
    if prefix:
        query = query.where(sa.cast(col(Promise.id), sa.String).like(f"{prefix}%"))
    rows = session.execute(query.order_by(col(Promise.due), col(Promise.id)).limit(limit))
    return [(pid, what) for pid, what in rows]


def staff_names(session: Session, *, prefix: str = "") -> list[str]:
    """The staff names in the book that start with ``prefix`` (any case), each once."""
    rows = session.execute(sa.select(col(Promise.staff)).where(col(Promise.staff).is_not(None)).distinct())
    return sorted(n for (n,) in rows if fold(n).startswith(fold(prefix)))
