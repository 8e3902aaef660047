"""WHEN and DURATION grammar (docs/reference.md, "WHEN") and the clock.

Plain Python over plain values: no Typer, Rich or SQLModel. Every parser takes the ``Clock``
(now, the shop's zone, date order, holiday country) explicitly; nothing here reads the real
time: the command line reads the clock once and passes it in.

Rules beyond the table of forms, chosen once and tested:

- Input is case-insensitive; surrounding and repeated whitespace is ignored.
- A date without a year (``24 Nov``, ``3/4``) is its first occurrence on or after 91 days ago:
  up to 13 weeks in the past it stays put (recording a promise made last week), otherwise it
  is the coming one (``5 Jan`` typed in December is next January). Two-digit years are 20YY.
- Wall-clock arithmetic: ``tomorrow 10:00`` is 10:00 on the shop's clock whatever the DST
  change in between; ``3d``/``2w``/``2bd`` count calendar or working days; ``24h``/``90min``
  are elapsed time from now.
- A local time that does not exist (the spring-forward gap) moves forward by the gap
  (02:30 becomes 03:30 in Europe/Berlin); a repeated one (the autumn fold) is its first
  occurrence (``fold=0``). A date-only due ends at 23:59:59.999999 local, the last such instant.
- ``eow`` is the coming Sunday, today when today is Sunday; ``eom`` the month's last day.
  Weekday names mean the next such day strictly after today.
- Dates must fall in the years 1900..9998 and relative forms at most about 100 years ahead,
  so every result converts to UTC without overflow.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from promisekeeper.errors import BadInput, quote


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
    hours: OpeningHours | None = None
    """The shop's opening hours (``[shop.hours]``); ``None``: Mon–Fri 09:00–17:00."""
    supply_margin: str = "1bd"
    """``[supply] margin``: an order's ETA later than a promise's due less this puts it at risk."""
    no_eta_warn: str = "3bd"
    """``[supply] no_eta_warn``: an order with no ETA this close to a promise's due puts it at risk."""

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def opening(self) -> OpeningHours:
        return self.hours if self.hours is not None else DEFAULT_HOURS


WHEN_EXAMPLES = "2026-11-24, 24 Nov 5pm, today, tomorrow, tue 10:00, 3d, 24h, 2bd"
DURATION_EXAMPLES = "2d, 1w, 24h, 90min, 2bd, in 3 days"

_MIN_YEAR = 1900
_MAX_YEAR = 9998
_MAX_DAYS_AHEAD = 36525  # about 100 years
_PAST_GRACE = timedelta(days=91)

_WEEKDAYS: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_MONTHS: dict[str, int] = {
    "jan": 1,
    "january": 1,
    "feb": 2,
    "february": 2,
    "mar": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "may": 5,
    "jun": 6,
    "june": 6,
    "jul": 7,
    "july": 7,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "november": 11,
    "dec": 12,
    "december": 12,
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_FULL = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Relative units, each with the most of it allowed (about 100 years).
_UNITS: dict[str, str] = {
    "d": "d",
    "day": "d",
    "days": "d",
    "w": "w",
    "wk": "w",
    "wks": "w",
    "week": "w",
    "weeks": "w",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "m": "min",
    "min": "min",
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "bd": "bd",
    "business day": "bd",
    "business days": "bd",
    "working day": "bd",
    "working days": "bd",
    "workday": "bd",
    "workdays": "bd",
    "bh": "bh",
    "business hour": "bh",
    "business hours": "bh",
    "working hour": "bh",
    "working hours": "bh",
}
_UNIT_MAX: dict[str, int] = {
    "d": _MAX_DAYS_AHEAD,
    "w": _MAX_DAYS_AHEAD // 7,
    "h": _MAX_DAYS_AHEAD * 24,
    "min": _MAX_DAYS_AHEAD * 24 * 60,
    "bd": _MAX_DAYS_AHEAD * 5 // 7,
    "bh": 9999,  # each is walked through the opening hours: about five years of a 40-hour week
}

_F = re.ASCII | re.IGNORECASE
_RELATIVE = re.compile(r"(?:(?P<in>in)\s+|\+)?(?P<n>\d+|an?)\s*(?P<unit>[a-z]+(?: (?:days?|hours?))?)", _F)
_ISO_MOMENT = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[t ]"
    r"(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?P<off>z|[+-]\d{2}(?::?\d{2})?)?",
    _F,
)
_TIME = (
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ap>[ap])\.?m\.?)?"
    r"|(?P<h2>\d{1,2})\s*(?P<ap2>[ap])\.?m\.?"
    r"|(?P<noon>noon|midday)"
)
_WITH_TIME = re.compile(r"(?P<date>.+?),?\s+(?:at\s+|@\s*)?(?:" + _TIME + ")", _F)
_ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})", _F)
_DAY_MONTH = re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\.?\s*(?P<mon>[a-z]+)\.?(?:,?\s*(?P<y>\d{4}))?", _F)
_MONTH_DAY = re.compile(r"(?P<mon>[a-z]+)\.?\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?", _F)
_NUMERIC = re.compile(r"(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?:(?P=sep)(?P<c>\d{1,4}))?", _F)
_WEEKDAY_PREFIX = re.compile(r"(?P<wd>[a-z]+)\.?,?\s+(?P<rest>.+)", _F)


class _Unreadable(Exception):
    """Internal: the text matched no form; the caller words the message for its context."""


def pinned_clock(pk_now: str | None) -> datetime | None:
    """The moment ``PK_NOW`` (ISO 8601) pins the clock to, or ``None`` when it is unset.

    An empty ``PK_NOW`` counts as unset; a value without a UTC offset is refused rather than
    guessed, since the whole point of pinning the clock is to be exact. The real clock is read
    by the command line, once per run: nothing in the core reads it.
    """
    if pk_now is None or not pk_now.strip():
        return None
    text = pk_now.strip()
    example = "e.g. 2026-11-22T09:00+01:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"Cannot read PK_NOW={quote(text)} as an ISO 8601 moment; use {example}.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadInput(f"PK_NOW={quote(text)} needs a UTC offset; use {example}.")
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        raise BadInput(f"PK_NOW={quote(text)} is out of range; use a year from {_MIN_YEAR} to {_MAX_YEAR}.")
    return moment


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59.999999 local time on ``day``, aware in ``tz``.

    Uses ``fold=1`` so that, in the rare zone whose clocks repeat the day's last hour, it is
    the day's true last instant.
    """
    return _wall(day, time.max, tz, fold=1)


def parse_when(text: str, clock: Clock) -> Due:
    """Parse a WHEN; raise ``BadInput`` (showing the accepted forms) for anything else."""
    return _parse_or_explain(
        text,
        clock,
        empty=f"No date or time given; use e.g. {WHEN_EXAMPLES}.",
        unreadable=f"as a date or time; use e.g. {WHEN_EXAMPLES}.",
    )


def parse_since(text: str, clock: Clock) -> datetime:
    """Parse a WHEN as the start of a period (``--since``): a date alone means that day's first moment.

    A start after now is bad input (a weekday name means the coming one, which is never what a period
    that ends now wants).
    """
    due = parse_when(text, clock)
    start = (
        due.moment if not due.date_only else _wall(due.moment.astimezone(clock.tz).date(), time.min, clock.tz)
    )
    if start > clock.now:
        day = _describe_date(start.astimezone(clock.tz).date())
        raise BadInput(
            f"--since {quote(text)} is {day}, in the future; give the first day of the period, "
            f"e.g. {_describe_date(clock.today - timedelta(days=7))}."
        )
    return start


def parse_within(text: str, clock: Clock) -> datetime:
    """Parse a DURATION for ``due --within``: the end of the window (a date-only result: end of that day).

    Relative forms count from the clock like WHEN; an absolute date or moment is also accepted.
    """
    due = _parse_or_explain(
        text,
        clock,
        empty=f"No duration given; use e.g. {DURATION_EXAMPLES}.",
        unreadable=f"as a duration; use e.g. {DURATION_EXAMPLES} or a date such as 2026-11-24.",
    )
    return due.moment


# --- parsing ------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """Whitespace collapsed; case is kept for messages and ignored by every match."""
    return " ".join(text.split())


def _parse_or_explain(text: str, clock: Clock, *, empty: str, unreadable: str) -> Due:
    """Parse, turning "matched no form" and "beyond the calendar" into one-sentence ``BadInput``."""
    s = _normalise(text)
    if not s:
        raise BadInput(empty)
    try:
        due = _parse(s, clock)
    except _Unreadable:
        raise BadInput(f"Cannot read {quote(text)} {unreadable}") from None
    except OverflowError:
        due = None
    if due is None or not _MIN_YEAR <= due.moment.year <= _MAX_YEAR:
        raise BadInput(f"{quote(text)} is out of range; use a year from {_MIN_YEAR} to {_MAX_YEAR}.")
    return due


def _parse(s: str, clock: Clock) -> Due:
    if len(s) > 60:
        raise _Unreadable
    iso = _ISO_MOMENT.fullmatch(s)
    if iso is not None:
        return _parse_iso_moment(iso, s, clock)
    relative = _parse_relative(s, clock)
    if relative is not None:
        return relative
    with_time = _WITH_TIME.fullmatch(s)
    if with_time is not None:
        day = _parse_day(with_time["date"], clock)
        if day is None:
            raise _Unreadable
        at = _parse_time(with_time, s)
        return Due(_wall(day, at, clock.tz), date_only=False)
    day = _parse_day(s, clock)
    if day is None:
        raise _Unreadable
    return Due(end_of_day(day, clock.tz), date_only=True)


def _parse_iso_moment(m: re.Match[str], s: str, clock: Clock) -> Due:
    day = _make_date(int(m["y"]), int(m["mo"]), int(m["d"]), s)
    hour, minute = int(m["h"]), int(m["mi"])
    second = int(m["s"] or 0)
    micro = int((m["f"] or "0").ljust(6, "0"))
    at = _make_time(hour, minute, second, s)
    at = at.replace(microsecond=micro)
    off = m["off"]
    if off is None:
        return Due(_wall(day, at, clock.tz), date_only=False)
    offset = _parse_offset(off, s)
    moment = datetime.combine(day, at, tzinfo=offset)
    return Due(moment.astimezone(clock.tz), date_only=False)


def _parse_offset(off: str, s: str) -> tzinfo:
    if off in ("z", "Z"):
        return UTC
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise BadInput(f"{quote(s)} has an impossible UTC offset; use e.g. +01:00 or -05:00.")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_relative(s: str, clock: Clock) -> Due | None:
    m = _RELATIVE.fullmatch(s)
    if m is None:
        return None
    unit = _UNITS.get(m["unit"].lower())
    if unit is None:
        return None
    raw = m["n"].lower()
    if raw in ("a", "an"):
        if m["in"] is None or len(m["unit"]) < 3:
            return None
        n = 1
    else:
        n = int(raw) if len(raw) <= 12 else _UNIT_MAX[unit] + 1
    if n > _UNIT_MAX[unit]:
        if unit == "bh":
            raise BadInput(f"{quote(s)} is too far ahead; use at most {_UNIT_MAX['bh']} business hours.")
        raise BadInput(f"{quote(s)} is too far ahead; use at most about 100 years, e.g. 3650d.")
    today = clock.today
    if unit == "d":
        return Due(end_of_day(today + timedelta(days=n), clock.tz), date_only=True)
    if unit == "w":
        return Due(end_of_day(today + timedelta(weeks=n), clock.tz), date_only=True)
    if unit == "bd":
        day = _add_business_days(today, n, clock.country)
        return Due(end_of_day(day, clock.tz), date_only=True)
    if unit == "bh":
        at = add_business_hours(clock.now, timedelta(hours=n), clock.opening, clock.tz, clock.country)
        return Due(at, date_only=False)
    delta = timedelta(hours=n) if unit == "h" else timedelta(minutes=n)
    return Due((clock.now.astimezone(UTC) + delta).astimezone(clock.tz), date_only=False)


def _relative_day(s: str, clock: Clock) -> date | None:
    """A date-only relative form (``3d``, ``2w``, ``2bd``) as a day, so it can take a time."""
    m = _RELATIVE.fullmatch(s)
    if m is None or _UNITS.get(m["unit"].lower()) not in ("d", "w", "bd"):
        return None
    due = _parse_relative(s, clock)
    return None if due is None else due.moment.astimezone(clock.tz).date()


def _parse_day(s: str, clock: Clock) -> date | None:
    """A date-only form, or ``None`` when it is none of them."""
    today = clock.today
    key = s.lower()
    if key in ("today", "eod"):
        return today
    if key == "tomorrow":
        return today + timedelta(days=1)
    if key == "yesterday":  # for recording after the fact: pk deliver 12 --at "yesterday 17:30"
        return today - timedelta(days=1)
    if key == "eow":
        return today + timedelta(days=(6 - today.weekday()) % 7)
    if key == "eom":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if key in _WEEKDAYS:
        ahead = (_WEEKDAYS[key] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    relative = _relative_day(s, clock)
    if relative is not None:
        return relative
    day = _parse_calendar_date(s, clock)
    if day is not None:
        return day
    prefixed = _WEEKDAY_PREFIX.fullmatch(s)
    if prefixed is not None and prefixed["wd"].lower() in _WEEKDAYS:
        day = _parse_calendar_date(prefixed["rest"], clock)
        if day is None:
            return None
        named = _WEEKDAYS[prefixed["wd"].lower()]
        if day.weekday() != named:
            raise BadInput(
                f"{quote(s)} does not add up: {_describe_date(day)} is a "
                f"{_DAY_FULL[day.weekday()]}, not a {_DAY_FULL[named]}."
            )
        return day
    return None


def _parse_calendar_date(s: str, clock: Clock) -> date | None:
    m = _ISO_DATE.fullmatch(s)
    if m is not None:
        return _make_date(int(m["y"]), int(m["mo"]), int(m["d"]), s)
    m = _DAY_MONTH.fullmatch(s) or _MONTH_DAY.fullmatch(s)
    if m is not None:
        month = _MONTHS.get(m["mon"].lower())
        if month is None:
            return None
        return _dated(m["y"], month, int(m["d"]), s, clock)
    m = _NUMERIC.fullmatch(s)
    if m is not None:
        return _parse_numeric(m, s, clock)
    return None


def _parse_numeric(m: re.Match[str], s: str, clock: Clock) -> date | None:
    a, b, c = m["a"], m["b"], m["c"]
    if len(a) == 4:
        if c is None:
            return None
        return _make_date(int(a), int(b), int(c), s)
    order = clock.date_order.upper()
    if order not in ("DMY", "MDY", "YMD"):
        raise BadInput(f'Unknown date_order "{clock.date_order}"; use DMY, MDY or YMD.')
    if len(a) == 3:
        return None
    if c is None:
        if order == "DMY":
            return _dated(None, int(b), int(a), s, clock)
        return _dated(None, int(a), int(b), s, clock)
    if order == "DMY":
        return _dated(c, int(b), int(a), s, clock)
    if order == "MDY":
        return _dated(c, int(a), int(b), s, clock)
    if len(c) > 2:
        return None
    return _dated(a, int(b), int(c), s, clock)


def _dated(year: str | None, month: int, day: int, s: str, clock: Clock) -> date | None:
    """A calendar date whose year may be missing (see the module docstring) or two digits."""
    if year is not None:
        if len(year) == 2:
            return _make_date(2000 + int(year), month, day, s)
        if len(year) == 4:
            return _make_date(int(year), month, day, s)
        return None
    if not 1 <= month <= 12:
        raise BadInput(f"{quote(s)} is not a date: there is no month {month}.")
    longest = calendar.monthrange(2000, month)[1]
    if not 1 <= day <= longest:
        raise BadInput(f"{quote(s)} is not a date: {_MONTH_FULL[month - 1]} has at most {longest} days.")
    earliest = clock.today - _PAST_GRACE
    for year_n in range(earliest.year, earliest.year + 9):  # 29 Feb: 2100 is no leap year
        if day <= calendar.monthrange(year_n, month)[1]:
            candidate = date(year_n, month, day)
            if candidate >= earliest:
                return _make_date(year_n, month, day, s)
    raise BadInput(f"{quote(s)} is out of range; use a year from {_MIN_YEAR} to {_MAX_YEAR}.")


def _make_date(year: int, month: int, day: int, s: str) -> date:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise BadInput(f"{quote(s)} is out of range; use a year from {_MIN_YEAR} to {_MAX_YEAR}.")
    if not 1 <= month <= 12:
        raise BadInput(f"{quote(s)} is not a date: there is no month {month}.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise BadInput(f"{quote(s)} is not a date: {_MONTH_FULL[month - 1]} {year} has {last} days.")
    return date(year, month, day)


def _parse_time(m: re.Match[str], s: str) -> time:
    if m["noon"]:
        return time(12, 0)
    if m["h"] is not None:
        hour, minute, second, ap = int(m["h"]), int(m["mi"]), int(m["s"] or 0), m["ap"]
    else:
        hour, minute, second, ap = int(m["h2"]), 0, 0, m["ap2"]
    if ap is not None:
        if not 1 <= hour <= 12:
            raise BadInput(f"{quote(s)} has an impossible time; use 1am to 12pm or 00:00 to 23:59.")
        hour = hour % 12 + (12 if ap in ("p", "P") else 0)
    return _make_time(hour, minute, second, s)


def _make_time(hour: int, minute: int, second: int, s: str) -> time:
    if hour > 23 or minute > 59 or second > 59:
        raise BadInput(f"{quote(s)} has an impossible time; use 00:00 to 23:59 or e.g. 5pm.")
    return time(hour, minute, second)


def _wall(day: date, at: time, tz: ZoneInfo, *, fold: int = 0) -> datetime:
    """The instant the shop's clock shows ``at`` on ``day``.

    Going through UTC normalises a time in the spring-forward gap (forward by the gap);
    ``fold=0`` picks the first of two repeated autumn times.
    """
    naive = datetime.combine(day, at).replace(fold=fold)
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


class _Holidays(Protocol):
    def __contains__(self, key: object) -> bool: ...


@lru_cache(maxsize=16)
def _holidays(country: str) -> _Holidays:
    """The public holidays of ``country`` (``DE`` or with a subdivision, ``DE-BY``)."""
    # Imported here: holidays costs ~60 ms at startup and only business-day forms need it.
    import holidays

    code, _, subdiv = country.strip().upper().partition("-")
    try:
        found: _Holidays = holidays.country_holidays(code, subdiv=subdiv or None)
    except NotImplementedError:
        raise BadInput(
            f'Unknown holiday country "{country}"; use an ISO 3166 code such as DE, US or GB.'
        ) from None
    return found


def _add_business_days(start: date, n: int, country: str | None) -> date:
    """The ``n``-th working day after ``start``: not a Saturday, Sunday or public holiday."""
    closed = _holidays(country) if country else None
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and (closed is None or day not in closed):
            n -= 1
    return day


def is_working_day(day: date, country: str | None) -> bool:
    """Not a Saturday, Sunday or public holiday of ``country`` (weekends only without one)."""
    return day.weekday() < 5 and (country is None or day not in _holidays(country))


def on_a_working_day(due: Due, tz: ZoneInfo, country: str | None) -> Due:
    """``due`` moved forward, day by day at the same local time, until it falls on a working day."""
    local = due.moment.astimezone(tz)
    day = local.date()
    while not is_working_day(day, country):
        day += timedelta(days=1)
    if day == local.date():
        return due
    moment = end_of_day(day, tz) if due.date_only else _wall(day, local.timetz().replace(tzinfo=None), tz)
    return Due(moment, due.date_only)


def _describe_date(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


# --- opening hours (business hours) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """When the shop is open: for each weekday (Monday first) its opening spans in minutes after
    midnight, ``(540, 1020)`` for 09:00–17:00; an end of 1440 is midnight at the end of the day. A day
    without spans is closed; so is every public holiday of the clock's country."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7 or not any(self.days):
            raise ValueError("opening hours need seven days and at least one opening")


_NINE_TO_FIVE: tuple[tuple[int, int], ...] = ((540, 1020),)
DEFAULT_HOURS = OpeningHours((_NINE_TO_FIVE,) * 5 + ((), ()))
"""Without ``[shop.hours]``: Monday to Friday, 09:00 to 17:00."""

_SPAN = re.compile(r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})", _F)
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_hours(table: Mapping[str, object], where: str = "[shop.hours]") -> OpeningHours:
    """``[shop.hours]`` of the config: ``mon = "09:00-18:00"``, several spans joined by commas
    (``"09:00-12:30, 13:30-18:00"``), ``"closed"``; days not named are closed. ``BadInput`` names the key."""
    days: list[tuple[tuple[int, int], ...]] = [()] * 7
    example = 'e.g. mon = "09:00-18:00" or sat = "10:00-13:00, 14:00-16:00"'
    for key, value in table.items():
        day = _WEEKDAYS.get(str(key).strip().lower())
        if day is None:
            raise BadInput(f"{where} names {key!r}, which is not a day; use mon, tue, … sun ({example}).")
        if not isinstance(value, str):
            raise BadInput(f"{where} {key} must be a string of opening times ({example}), not {value!r}.")
        days[day] = (
            () if value.strip().lower() in ("closed", "") else _spans(value, f"{where} {key}", example)
        )
    if not any(days):
        raise BadInput(f"{where} names no opening time on any day; give at least one ({example}).")
    return OpeningHours(tuple(days))


def _spans(text: str, where: str, example: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for part in text.split(","):
        m = _SPAN.fullmatch(part.strip())
        if m is None:
            raise BadInput(f"{where} = {text!r} is not opening times; use {example}.")
        start = int(m["h1"]) * 60 + int(m["m1"])
        end = int(m["h2"]) * 60 + int(m["m2"])
        if int(m["m1"]) > 59 or int(m["m2"]) > 59 or start >= 1440 or end > 1440 or start >= end:
            raise BadInput(f"{where} = {text!r} has an impossible span; each runs from 00:00 up to 24:00.")
        if spans and start < spans[-1][1]:
            raise BadInput(f"{where} = {text!r}: its spans overlap or are out of order; list them in order.")
        spans.append((start, end))
    return tuple(spans)


def _at_minute(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant (UTC) the clock shows ``minute`` after midnight on ``day`` (1440: the next 00:00)."""
    if minute >= 1440:
        return _wall(day + timedelta(days=1), time.min, tz).astimezone(UTC)
    return _wall(day, time(minute // 60, minute % 60), tz).astimezone(UTC)


def _openings(
    start: datetime, hours: OpeningHours, tz: ZoneInfo, country: str | None
) -> Iterator[tuple[datetime, datetime]]:
    """The shop's open spans (UTC instants) that end after ``start``, in order, for ever (until the
    calendar's end: ``OverflowError``). Public holidays of ``country`` are closed."""
    closed = _holidays(country) if country else None
    day = start.astimezone(tz).date()
    while True:
        spans = hours.days[day.weekday()]
        if spans and (closed is None or day not in closed):
            for open_at, close_at in spans:
                a, b = _at_minute(day, open_at, tz), _at_minute(day, close_at, tz)
                if b > start and b > a:
                    yield max(a, start), b
        if day.year >= _MAX_YEAR:
            raise OverflowError("beyond the calendar")
        day += timedelta(days=1)


def add_business_hours(
    start: datetime,
    span: timedelta,
    hours: OpeningHours,
    tz: ZoneInfo,
    country: str | None = None,
    *,
    latest: bool = False,
) -> datetime:
    """``span`` of opening time after ``start``, in the shop's zone: time counts only while the shop is
    open (from the next opening when it is closed); hours are elapsed time, so a DST change inside an
    opening counts as the clock really ran.

    The earliest such moment (a span that ends exactly at closing time ends at the closing), or with
    ``latest`` the last moment with no more opening time behind it than ``span`` (the next opening,
    when the span ends at a closing). Adding in two steps equals adding at once:
    ``add(add(s, a), b) == add(s, a + b)``.
    """
    left = span
    begin = start.astimezone(UTC)
    if left <= timedelta(0) and not latest:
        return start.astimezone(tz)
    for a, b in _openings(begin, hours, tz, country):
        if left < b - a or (left == b - a and not latest) or (left <= timedelta(0)):
            return (a + max(left, timedelta(0))).astimezone(tz)
        left -= b - a
    raise AssertionError("unreachable: the openings go on until the calendar ends")  # pragma: no cover


def business_time_between(
    start: datetime, end: datetime, hours: OpeningHours, tz: ZoneInfo, country: str | None = None
) -> timedelta:
    """The opening time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
    total = timedelta(0)
    if end <= start:
        return total
    last = end.astimezone(UTC)
    for a, b in _openings(start.astimezone(UTC), hours, tz, country):
        if a >= last:
            break
        total += min(b, last) - a
    return total


def relative_parts(text: str) -> tuple[int, str] | None:
    """``("1bd")`` → ``(1, "bd")``: a relative DURATION's count and unit (d, w, h, min, bd, bh), for
    saying it in words; ``None`` for any other form."""
    m = _RELATIVE.fullmatch(_normalise(text))
    if m is None:
        return None
    unit = _UNITS.get(m["unit"].lower())
    raw = m["n"].lower()
    if unit is None or (not raw.isdigit() and m["in"] is None):
        return None
    return (1 if raw in ("a", "an") else int(raw[:12])), unit


def warn_until(text: str, clock: Clock) -> datetime:
    """The end of the "due soon" window ``text`` (``[policy] warn_before``) from now: a promise due up to
    this moment is due soon. In business hours (``2bh``), the window runs to the next opening when it
    ends at a closing: a promise due this evening then has as little opening time left as one due at
    closing."""
    parts = relative_parts(text)
    if parts is not None and parts[1] == "bh":
        if parts[0] > _UNIT_MAX["bh"]:
            raise BadInput(f"{quote(text)} is too far ahead; use at most {_UNIT_MAX['bh']} business hours.")
        try:
            return add_business_hours(
                clock.now, timedelta(hours=parts[0]), clock.opening, clock.tz, clock.country, latest=True
            )
        except OverflowError:
            raise BadInput(f"{quote(text)} is out of range.") from None
    return parse_within(text, clock)


def later_by(text: str, moment: datetime, clock: Clock) -> datetime:
    """``moment`` plus the DURATION ``text`` (``[policy] escalate_after``), counted as WHEN counts from
    now: ``1bd`` after a due is the end of the next working day."""
    return parse_within(text, replace(clock, now=moment))


def earlier_by(text: str, moment: datetime, clock: Clock, setting: str) -> datetime:
    """``moment`` less the DURATION ``text`` (``[supply] margin``): ``1bd`` before a Friday due is the
    same local time on Thursday, working days skipping weekends and holidays; ``d``/``w`` count
    calendar days in the shop's zone, ``h``/``min`` elapsed time. ``setting`` names it in an error."""
    parts = relative_parts(text)
    if parts is None or parts[1] == "bh" or parts[0] > _UNIT_MAX[parts[1]]:
        raise BadInput(f"{setting} {quote(text)} is not a duration; use one like 1bd, 2d or 12h.")
    n, unit = parts
    if unit in ("h", "min"):
        return moment - timedelta(hours=n) if unit == "h" else moment - timedelta(minutes=n)
    local = moment.astimezone(clock.tz)
    day = local.date()
    if unit == "bd":
        closed = _holidays(clock.country) if clock.country else None
        while n > 0:
            day -= timedelta(days=1)
            if day.weekday() < 5 and (closed is None or day not in closed):
                n -= 1
    else:
        day -= timedelta(days=n * 7 if unit == "w" else n)
    return _wall(day, local.timetz().replace(tzinfo=None), clock.tz)
