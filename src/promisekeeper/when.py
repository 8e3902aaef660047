"""WHEN and DURATION grammar (SPEC.md, "WHEN: dates and times") and the clock.

Plain Python over plain values: no Typer, Rich or SQLModel. Every parser takes the ``Clock``
(now, the shop's zone, date order, holiday country) explicitly; nothing here reads the real
time except ``clock_now``, which honours ``PK_NOW``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Due:
    """When a promise falls due. ``moment`` is aware; a date-only due ends at 23:59:59.999999 local."""

    moment: datetime
    date_only: bool


@dataclass(frozen=True, slots=True)
class Clock:
    """What relative dates are relative to: ``now`` (aware) in the shop's zone ``tz``."""

    now: datetime
    tz: ZoneInfo
    date_order: str = "DMY"
    country: str | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()


def clock_now(pk_now: str | None) -> datetime:
    """The current moment, aware: ``PK_NOW`` (ISO 8601 moment) when given, else the real clock."""
    raise NotImplementedError


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59.999999 local time on ``day``, aware in ``tz``."""
    raise NotImplementedError


def parse_when(text: str, clock: Clock) -> Due:
    """Parse a WHEN; raise ``BadInput`` (showing the accepted forms) for anything else."""
    raise NotImplementedError


def parse_within(text: str, clock: Clock) -> datetime:
    """Parse a DURATION for ``due --within``: the end of the window (a date-only result: end of that day)."""
    raise NotImplementedError


def describe_due(due: Due, tz: ZoneInfo) -> str:
    """Short human form in the shop's zone: ``Tue 24 Nov (end of day)``, ``Tue 24 Nov 17:00``."""
    raise NotImplementedError


def describe_span(seconds: float) -> str:
    """A length of time the way a person says it: ``2 days 3 hours``, ``45 minutes``."""
    raise NotImplementedError
