"""The plain data that flows between the layers: the kinds, states and statuses as ``StrEnum``s, the
judgement of a promise (``Terms``, ``Fulfilment``, ``Deviation``, ``Outcome``), and what the store
returns (``PromiseView``, ``DueReport``, ``Tally``, ``CustomerView``, ``StatsResult``) and the history
events (a kind and its typed fields; the sentence is made by ``words`` when shown).

Nothing here imports a library beyond the standard one, so the command line can name the enums as
option types without paying for the core at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from promisekeeper.money import Money
    from promisekeeper.when import Due


class Format(StrEnum):
    """The output formats of every printing command (``--format``)."""

    table = "table"
    json = "json"
    csv = "csv"


class Kind(StrEnum):
    delivery = "delivery"
    callback = "callback"
    reply = "reply"
    followup = "followup"
    other = "other"


class State(StrEnum):
    """What is stored of a promise's life; the status is computed from it and ``now``."""

    active = "active"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    voided = "voided"
    """Recorded by mistake and undone (``pk undo``): kept for its history, out of every list and figure."""


class Status(StrEnum):
    open = "open"
    overdue = "overdue"
    kept = "kept"
    deviated = "deviated"
    cancelled = "cancelled"


class DeviationKind(StrEnum):
    late = "late"
    substituted = "substituted"
    price = "price"
    short = "short"
    excess = "excess"


class Handover(StrEnum):
    """How goods reach the customer: a ``pickup`` is on time when ready by its due (``pk ready``)."""

    pickup = "pickup"
    delivery = "delivery"


class Consent(StrEnum):
    """What a customer agreed to be sent messages by."""

    email = "email"
    sms = "sms"
    none = "none"


class RiskKind(StrEnum):
    """Why an open promise is at risk (``rules.risk``); ``words.risk_text`` says it."""

    eta_late = "eta_late"
    """A linked order's ETA is later than the due less ``[supply] margin``."""
    no_eta = "no_eta"
    """A linked order has no ETA, and the due is within ``[supply] no_eta_warn``."""
    order_overdue = "order_overdue"
    """A linked order's ETA has passed and it has not all arrived."""


class StatsBy(StrEnum):
    week = "week"
    month = "month"
    staff = "staff"
    kind = "kind"
    customer = "customer"


class EventKind(StrEnum):
    """The kinds of history event; each carries typed fields (``words.event_text`` says them)."""

    promised = "promised"
    delivered = "delivered"
    fulfilled = "fulfilled"
    done = "done"
    amended = "amended"
    corrected = "corrected"
    cancelled = "cancelled"
    remedied = "remedied"
    followup = "followup"
    unhappy = "unhappy"
    notice_drafted = "notice_drafted"
    notice_sent = "notice_sent"
    notified = "notified"
    delivery_voided = "delivery_voided"
    undone = "undone"
    imported = "imported"
    forgotten = "forgotten"
    note = "note"
    message_sent = "message_sent"
    customer_added = "customer_added"
    customer_updated = "customer_updated"
    customer_renamed = "customer_renamed"
    customers_merged = "customers_merged"
    contact = "contact"
    ordered = "ordered"
    """A supply order was placed (``pk supplier order``); on the order, and on each promise it is for."""
    linked = "linked"
    eta_changed = "eta_changed"
    received = "received"
    ready = "ready"
    deposit = "deposit"
    consent = "consent"


#: What ``pk undo`` refuses to reverse: an erasure is for good, and a message once sent cannot be unsent.
IRREVERSIBLE = frozenset(
    {EventKind.forgotten, EventKind.notified, EventKind.notice_sent, EventKind.message_sent}
)


KINDS = tuple(Kind)
STATUSES = tuple(Status)


# --- the judgement -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    """What was promised. ``price`` is the total for the whole quantity (``None``: no price promised)."""

    what: str
    quantity: int
    price: Money | None
    due: datetime


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """One act of fulfilment: what was handed over, how many, what was charged (``None``: nothing)."""

    at: datetime
    what: str
    quantity: int
    price: Money | None


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way the fulfilment differed from the promise, with its size."""

    kind: DeviationKind
    late_seconds: int | None = None
    promised_what: str | None = None
    delivered_what: str | None = None
    promised_price: Money | None = None
    charged: Money | None = None
    promised_quantity: int | None = None
    delivered_quantity: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The judgement of a promise at ``now``: status, deviations and the delivered totals."""

    status: Status
    deviations: tuple[Deviation, ...]
    delivered_quantity: int
    charged: Money | None
    fulfilled_at: datetime | None
    late_by_seconds: int | None

    @property
    def deviation_kinds(self) -> tuple[DeviationKind, ...]:
        return tuple(d.kind for d in self.deviations)


# --- what the store returns --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Supply:
    """What the rules need of a supply order a promise waits for."""

    id: int
    supplier: str
    eta: datetime | None
    quantity: int
    received_quantity: int


@dataclass(frozen=True, slots=True)
class Risk:
    """Why an open promise is at risk: the kind, the order and what it says (``words.risk_text``)."""

    kind: RiskKind
    order_id: int
    supplier: str
    eta: datetime | None
    due: datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    at: datetime
    what: str
    quantity: int
    price: Money | None
    note: str | None


@dataclass(frozen=True, slots=True)
class EventView:
    """One history event as stored: its kind and typed fields; ``words.event_text`` says it."""

    at: datetime
    kind: str
    data: dict[str, Any]
    change_id: int | None = None


@dataclass(frozen=True, slots=True)
class PromiseView:
    """A promise as the user sees it: its terms, who, and its judgement at ``now``."""

    id: int
    kind: Kind
    customer: str | None
    what: str
    quantity: int
    price: Money | None
    due: Due
    original_due: Due | None
    renegotiated: bool
    staff: str | None
    tags: tuple[str, ...]
    note: str | None
    parent_id: int | None
    created: datetime
    outcome: Outcome
    remedied: bool
    unhappy: bool
    deliveries: tuple[DeliveryView, ...] = ()
    history: tuple[EventView, ...] = ()
    followups: tuple[tuple[int, Due], ...] = ()
    """The follow-ups the command that returned this view created (``deliver``/``done`` announce them)."""
    handover: Handover | None = None
    """``None`` for a promise that hands over no goods (a reply, a callback)."""
    ready_at: datetime | None = None
    deposit: Money | None = None
    balance: Money | None = None
    """What the customer still owes: price − deposit − charged (``None`` without a price or deposit)."""
    orders: tuple[int, ...] = ()
    """The supply orders this promise waits for."""
    risk: Risk | None = None
    customer_language: str | None = None
    customer_consent: Consent = Consent.none

    @property
    def status(self) -> Status:
        return self.outcome.status

    @property
    def at_risk(self) -> bool:
        return self.risk is not None


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One command's writes, as ``pk undo`` shows and reverses them: each event's kind and ids."""

    id: int
    at: datetime
    command: str
    undone: bool
    items: tuple[tuple[str, int | None, int | None], ...]
    """(event kind, promise id, customer id) of each event the change wrote, in order."""
    blocked: str | None = None
    """The event kind that makes it irreversible (an erasure, a sent message), if any."""


@dataclass(frozen=True, slots=True)
class SupplyOrderView:
    """A supply order as shown: its terms, the ETA now, what arrived, and the promises waiting for it."""

    id: int
    supplier: str
    what: str
    quantity: int
    eta: Due | None
    ref: str | None
    created: datetime
    state: str
    received_quantity: int
    received_at: datetime | None
    promises: tuple[int, ...] = ()
    overdue: bool = False
    history: tuple[EventView, ...] = ()


SUPPLY_FIELDS = (
    "id",
    "supplier",
    "what",
    "quantity",
    "eta",
    "ref",
    "created",
    "state",
    "received_quantity",
    "received_at",
    "overdue",
    "promises",
)
"""The keys of a supply order in JSON and the columns of its CSV row (``id`` is ``S1``…)."""


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach a customer waiting for goods (``supplier receive`` prints it)."""

    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What ``supplier receive`` did: the order as it is now, the promises it made ready (earliest due
    first) and the ones still waiting for it, with how to reach each promise's customer."""

    order: SupplyOrderView
    quantity: int
    ready: tuple[PromiseView, ...] = ()
    waiting: tuple[PromiseView, ...] = ()
    contacts: dict[int, Contact] = field(default_factory=dict)
    """By promise id."""


@dataclass(frozen=True, slots=True)
class DueReport:
    """The morning list: overdue, at risk, due soon (within ``[policy] warn_before``, up to
    ``soon_until``), due up to ``until``, and ready for pickup; a promise is in one section only."""

    as_of: datetime
    until: datetime
    overdue: list[PromiseView]
    due: list[PromiseView]
    due_soon: list[PromiseView] = field(default_factory=list)
    soon_until: datetime | None = None
    at_risk: list[PromiseView] = field(default_factory=list)
    ready: list[PromiseView] = field(default_factory=list)


PROMISE_FIELDS = (
    "id",
    "kind",
    "customer",
    "what",
    "quantity",
    "price",
    "currency",
    "due",
    "due_date",
    "date_only",
    "original_due",
    "renegotiated",
    "status",
    "deviations",
    "delivered_quantity",
    "charged",
    "charged_currency",
    "fulfilled_at",
    "late_by_seconds",
    "staff",
    "tags",
    "note",
    "parent_id",
    "remedied",
    "unhappy",
    "created",
    "handover",
    "ready_at",
    "deposit",
    "balance",
    "orders",
    "at_risk",
    "risk",
)
"""The keys of a promise in JSON and the columns of its CSV row, in order (stable: scripts use them)."""


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts over a set of promises, as SQL aggregated them."""

    promises: int = 0
    kept: int = 0
    deviated: int = 0
    overdue: int = 0
    open: int = 0
    cancelled: int = 0
    on_time: int = 0
    in_full: int = 0
    at_price: int = 0
    late: int = 0
    late_seconds: int = 0
    renegotiated: int = 0
    collected_late: int = 0
    """Pickups ready by their due but collected after it: on time, judged by their readiness."""
    late_supplier: int = 0
    """Of the ``late``, those waiting for a supply order that arrived after their due."""

    @property
    def fulfilled(self) -> int:
        return self.kept + self.deviated

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f) + getattr(other, f) for f in TALLY_FIELDS))


TALLY_FIELDS = tuple(Tally.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class CustomerView:
    name: str | None
    email: str | None
    phone: str | None
    note: str | None
    tally: Tally
    history: tuple[PromiseView, ...] = ()
    language: str | None = None
    consent: Consent = Consent.none


CUSTOMER_FIELDS = (
    "name",
    "email",
    "phone",
    "note",
    "language",
    "consent",
    "promises",
    "kept",
    "deviated",
    "overdue",
    "open",
    "cancelled",
    "kept_rate",
)


@dataclass(frozen=True, slots=True)
class StatsResult:
    since: datetime | None
    until: datetime
    total: Tally
    by: Iterable[tuple[str, Tally]]
    """A list, or (``store.stats(stream=True)``) rows read as they are consumed."""
    more: int = 0
    """The rows left out by a ``limit``."""


@dataclass(frozen=True, slots=True)
class Figures:
    """The track record of a set of promises: counts and the rates over the fulfilled ones."""

    key: str | None
    promises: int
    fulfilled: int
    kept: int
    deviated: int
    overdue: int
    open: int
    cancelled: int
    renegotiated: int
    kept_rate: float | None
    on_time_rate: float | None
    in_full_rate: float | None
    at_price_rate: float | None
    avg_late_seconds: int | None
    late: int = 0
    """Fulfilled late (a pickup: made ready after its due)."""
    late_supplier: int = 0
    """Of those, late because a supply order they waited for arrived after their due."""
    late_ours: int = 0
    """The rest of the late: late on the shop's side."""
    collected_late: int = 0
    """Pickups ready by their due but collected after it (on time)."""


FIGURE_FIELDS = tuple(name for name in Figures.__dataclass_fields__ if name != "key")


@dataclass(frozen=True, slots=True)
class StatsReport:
    since: datetime | None
    until: datetime
    by: StatsBy | None
    total: Figures
    rows: Iterable[Figures]
    more: int = 0
    """The rows left out by ``--limit``."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    format: str
    promises: int
    deliveries: int
    customers: int  # CSV: customers created by the import; JSON: all customers in the file
    written: bool
