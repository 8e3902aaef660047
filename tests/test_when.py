"""WHEN / DURATION grammar: every form in docs/reference.md, the calendar's edges, DST, and any text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promisekeeper.errors import BadInput
from promisekeeper.when import (
    Clock,
    Due,
    end_of_day,
    is_working_day,
    on_a_working_day,
    parse_since,
    parse_when,
    parse_within,
    pinned_clock,
)
from promisekeeper.words import describe_due, describe_span

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"
SYDNEY = "Australia/Sydney"
# Sunday 22 Nov 2026, 09:00 in Berlin.
SUNDAY = "2026-11-22T09:00+01:00"
THURSDAY = "2026-11-26T15:30+01:00"


def make_clock(now: str = SUNDAY, tz: str = BERLIN, order: str = "DMY", country: str | None = None) -> Clock:
    return Clock(datetime.fromisoformat(now), ZoneInfo(tz), order, country)


def when(text: str, now: str = SUNDAY, tz: str = BERLIN, **kw: str | None) -> Due:
    due = parse_when(text, make_clock(now, tz, **kw))  # type: ignore[arg-type]
    assert due.moment.tzinfo is ZoneInfo(tz), "moments come back in the shop's zone"
    return due


# --- date-only forms -------------------------------------------------------------------------

DATE_ONLY = [
    # (text, now, zone, the due date)
    ("2026-11-24", SUNDAY, BERLIN, "2026-11-24"),
    ("24 Nov", SUNDAY, BERLIN, "2026-11-24"),
    ("24 nov 2027", SUNDAY, BERLIN, "2027-11-24"),
    ("24th November", SUNDAY, BERLIN, "2026-11-24"),
    ("Nov 24 2026", SUNDAY, BERLIN, "2026-11-24"),
    ("Nov 24, 2026", SUNDAY, BERLIN, "2026-11-24"),
    ("november 24", SUNDAY, BERLIN, "2026-11-24"),
    ("Tue 24 Nov", SUNDAY, BERLIN, "2026-11-24"),
    ("tue, 24 nov 2026", SUNDAY, BERLIN, "2026-11-24"),
    ("  TODAY  ", SUNDAY, BERLIN, "2026-11-22"),
    ("today", SUNDAY, BERLIN, "2026-11-22"),
    ("eod", SUNDAY, BERLIN, "2026-11-22"),
    ("tomorrow", SUNDAY, BERLIN, "2026-11-23"),
    ("yesterday", SUNDAY, BERLIN, "2026-11-21"),
    ("yesterday", "2027-03-01T12:00+01:00", BERLIN, "2027-02-28"),
    ("Tomorrow", "2026-12-31T22:00+01:00", BERLIN, "2027-01-01"),
    ("tomorrow", "2028-02-28T12:00+01:00", BERLIN, "2028-02-29"),
    ("tomorrow", "2027-02-28T12:00+01:00", BERLIN, "2027-03-01"),
    # "today" is the shop's date, not UTC's: 23:30 UTC is already tomorrow in Tokyo.
    ("today", "2026-11-22T23:30+00:00", TOKYO, "2026-11-23"),
    ("today", "2026-11-22T23:30+00:00", NEW_YORK, "2026-11-22"),
    ("today", "2026-11-22T14:00+00:00", SYDNEY, "2026-11-23"),
    # eow: the coming Sunday, today on a Sunday.
    ("eow", SUNDAY, BERLIN, "2026-11-22"),
    ("eow", THURSDAY, BERLIN, "2026-11-29"),
    ("eow", "2026-11-23T09:00+01:00", BERLIN, "2026-11-29"),
    ("eow", "2026-12-30T09:00+01:00", BERLIN, "2027-01-03"),
    # eom: the last day of this month.
    ("eom", SUNDAY, BERLIN, "2026-11-30"),
    ("eom", "2026-12-31T09:00+01:00", BERLIN, "2026-12-31"),
    ("eom", "2028-02-03T09:00+01:00", BERLIN, "2028-02-29"),
    ("eom", "2027-02-03T09:00+01:00", BERLIN, "2027-02-28"),
    ("eom", "2026-04-30T09:00+02:00", BERLIN, "2026-04-30"),
    # Weekdays: strictly after today.
    ("sun", SUNDAY, BERLIN, "2026-11-29"),
    ("sunday", SUNDAY, BERLIN, "2026-11-29"),
    ("mon", SUNDAY, BERLIN, "2026-11-23"),
    ("Monday", SUNDAY, BERLIN, "2026-11-23"),
    ("tue", SUNDAY, BERLIN, "2026-11-24"),
    ("wed", SUNDAY, BERLIN, "2026-11-25"),
    ("thu", SUNDAY, BERLIN, "2026-11-26"),
    ("thursday", THURSDAY, BERLIN, "2026-12-03"),
    ("fri", THURSDAY, BERLIN, "2026-11-27"),
    ("sat", SUNDAY, BERLIN, "2026-11-28"),
    ("saturday", "2026-12-30T09:00+01:00", BERLIN, "2027-01-02"),
    # Today + N days / weeks.
    ("3d", SUNDAY, BERLIN, "2026-11-25"),
    ("+3d", SUNDAY, BERLIN, "2026-11-25"),
    ("in 3 days", SUNDAY, BERLIN, "2026-11-25"),
    ("3 days", SUNDAY, BERLIN, "2026-11-25"),
    ("in 1 day", SUNDAY, BERLIN, "2026-11-23"),
    ("in a day", SUNDAY, BERLIN, "2026-11-23"),
    ("0d", SUNDAY, BERLIN, "2026-11-22"),
    ("10d", "2026-12-25T09:00+01:00", BERLIN, "2027-01-04"),
    ("1d", "2028-02-28T09:00+01:00", BERLIN, "2028-02-29"),
    ("2w", SUNDAY, BERLIN, "2026-12-06"),
    ("in 2 weeks", SUNDAY, BERLIN, "2026-12-06"),
    ("in a week", SUNDAY, BERLIN, "2026-11-29"),
    ("1w", "2026-03-25T09:00+01:00", BERLIN, "2026-04-01"),
    ("3d", "2026-03-27T09:00+01:00", BERLIN, "2026-03-30"),  # across spring-forward
    ("3d", "2026-10-24T09:00+02:00", BERLIN, "2026-10-27"),  # across fall-back
    # Business days over a weekend (no holidays configured).
    ("2bd", SUNDAY, BERLIN, "2026-11-24"),
    ("1bd", "2026-11-27T09:00+01:00", BERLIN, "2026-11-30"),
    ("in 2 business days", "2026-11-27T09:00+01:00", BERLIN, "2026-12-01"),
    ("1bd", "2026-11-28T09:00+01:00", BERLIN, "2026-11-30"),
    ("5bd", "2026-11-23T09:00+01:00", BERLIN, "2026-11-30"),
    ("in 3 working days", THURSDAY, BERLIN, "2026-12-01"),
    # Slash dates: DMY is the default order; YYYY/MM/DD is never ambiguous.
    ("3/4/2026", SUNDAY, BERLIN, "2026-04-03"),
    ("24/11/2026", SUNDAY, BERLIN, "2026-11-24"),
    ("24.11.2026", SUNDAY, BERLIN, "2026-11-24"),
    ("24/11/26", SUNDAY, BERLIN, "2026-11-24"),
    ("2026/11/24", SUNDAY, BERLIN, "2026-11-24"),
    ("29/2/2028", SUNDAY, BERLIN, "2028-02-29"),
]


@pytest.mark.parametrize(("text", "now", "tz", "day"), DATE_ONLY)
def test_date_only_forms_end_at_the_last_instant_of_that_local_day(
    text: str, now: str, tz: str, day: str
) -> None:
    due = when(text, now, tz)
    assert due.date_only
    assert due.moment == end_of_day(date.fromisoformat(day), ZoneInfo(tz))
    local = due.moment.astimezone(ZoneInfo(tz))
    assert (local.date().isoformat(), local.time().isoformat()) == (day, "23:59:59.999999")


@pytest.mark.parametrize(
    ("text", "order", "day"),
    [
        ("3/4/2026", "DMY", "2026-04-03"),
        ("3/4/2026", "MDY", "2026-03-04"),
        ("11/24/2026", "MDY", "2026-11-24"),
        ("11/24/26", "MDY", "2026-11-24"),
        ("26/11/24", "YMD", "2026-11-24"),
        ("2026/11/24", "MDY", "2026-11-24"),
        ("2026-11-24", "MDY", "2026-11-24"),
        ("24/11", "DMY", "2026-11-24"),
        ("11/24", "MDY", "2026-11-24"),
        ("11/24", "YMD", "2026-11-24"),
    ],
)
def test_slash_dates_follow_the_configured_date_order(text: str, order: str, day: str) -> None:
    due = when(text, order=order)
    assert due.date_only
    assert due.moment.date() == date.fromisoformat(day)


@pytest.mark.parametrize(("text", "order"), [("24/11/2026", "MDY"), ("11/24/2026", "DMY"), ("13/13", "DMY")])
def test_slash_dates_impossible_in_the_configured_order_are_refused(text: str, order: str) -> None:
    with pytest.raises(BadInput, match="not a date"):
        when(text, order=order)


@pytest.mark.parametrize(
    ("text", "now", "day"),
    [
        # Up to 91 days ago stays in this year; otherwise it is the next occurrence.
        ("24 Nov", SUNDAY, "2026-11-24"),
        ("22 Nov", SUNDAY, "2026-11-22"),
        ("20 Nov", SUNDAY, "2026-11-20"),
        ("1 Sep", SUNDAY, "2026-09-01"),
        ("23 aug", SUNDAY, "2026-08-23"),  # 91 days ago
        ("22 aug", SUNDAY, "2027-08-22"),  # 92 days ago: next year
        ("5 Jan", "2026-12-22T10:00+01:00", "2027-01-05"),
        ("Dec 20", "2027-01-03T10:00+01:00", "2026-12-20"),
        ("1 Mar", SUNDAY, "2027-03-01"),
        ("29 Feb", SUNDAY, "2028-02-29"),
        ("29 Feb", "2028-04-01T10:00+02:00", "2028-02-29"),
        ("29 Feb", "2028-06-01T10:00+02:00", "2032-02-29"),
        ("29 Feb", "2097-01-01T10:00+01:00", "2104-02-29"),
        ("3/1", "2026-12-22T10:00+01:00", "2027-01-03"),
    ],
)
def test_dates_without_a_year_allow_13_weeks_back_then_roll_forward(text: str, now: str, day: str) -> None:
    assert when(text, now).moment.date() == date.fromisoformat(day)


# --- moments ---------------------------------------------------------------------------------

MOMENTS = [
    # (text, now, zone, the moment as ISO in the zone)
    ("2026-11-24 17:00", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24T17:00", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24 17:00:30", SUNDAY, BERLIN, "2026-11-24T17:00:30+01:00"),
    ("2026-11-24T17:00+01:00", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24T17:00:00.5+01:00", SUNDAY, BERLIN, "2026-11-24T17:00:00.500000+01:00"),
    ("2026-11-24T16:00Z", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24T11:00-05:00", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24T17:00+0100", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("2026-11-24 5pm", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("24 Nov 5pm", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("24 nov 5 PM", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("24 Nov at 5:30pm", SUNDAY, BERLIN, "2026-11-24T17:30:00+01:00"),
    ("24 Nov, 17:30", SUNDAY, BERLIN, "2026-11-24T17:30:00+01:00"),
    ("Nov 24 2026 9am", SUNDAY, BERLIN, "2026-11-24T09:00:00+01:00"),
    ("24 Nov 12am", SUNDAY, BERLIN, "2026-11-24T00:00:00+01:00"),
    ("24 Nov 12pm", SUNDAY, BERLIN, "2026-11-24T12:00:00+01:00"),
    ("24 Nov noon", SUNDAY, BERLIN, "2026-11-24T12:00:00+01:00"),
    ("24/11/2026 17:00", SUNDAY, BERLIN, "2026-11-24T17:00:00+01:00"),
    ("today 17:00", SUNDAY, BERLIN, "2026-11-22T17:00:00+01:00"),
    ("today 8:00", SUNDAY, BERLIN, "2026-11-22T08:00:00+01:00"),  # in the past: still today
    ("tomorrow 10:00", SUNDAY, BERLIN, "2026-11-23T10:00:00+01:00"),
    ("tomorrow at 10am", SUNDAY, BERLIN, "2026-11-23T10:00:00+01:00"),
    ("tue 10:00", SUNDAY, BERLIN, "2026-11-24T10:00:00+01:00"),
    ("Tuesday 10:00", SUNDAY, BERLIN, "2026-11-24T10:00:00+01:00"),
    ("sun 9:00", SUNDAY, BERLIN, "2026-11-29T09:00:00+01:00"),
    ("3d 10:00", SUNDAY, BERLIN, "2026-11-25T10:00:00+01:00"),
    ("in 2 days at 10:00", SUNDAY, BERLIN, "2026-11-24T10:00:00+01:00"),
    ("tomorrow 10:00", "2026-12-31T22:00+01:00", BERLIN, "2027-01-01T10:00:00+01:00"),
    # now + elapsed time
    ("24h", SUNDAY, BERLIN, "2026-11-23T09:00:00+01:00"),
    ("in 24 hours", SUNDAY, BERLIN, "2026-11-23T09:00:00+01:00"),
    ("in an hour", SUNDAY, BERLIN, "2026-11-22T10:00:00+01:00"),
    ("2 hrs", SUNDAY, BERLIN, "2026-11-22T11:00:00+01:00"),
    ("90min", SUNDAY, BERLIN, "2026-11-22T10:30:00+01:00"),
    ("90 minutes", SUNDAY, BERLIN, "2026-11-22T10:30:00+01:00"),
    ("+30m", SUNDAY, BERLIN, "2026-11-22T09:30:00+01:00"),
    ("+30 mins", SUNDAY, BERLIN, "2026-11-22T09:30:00+01:00"),
    ("16h", "2026-12-31T20:00+01:00", BERLIN, "2027-01-01T12:00:00+01:00"),
    # Other zones.
    ("tomorrow 10:00", "2026-11-22T09:00+09:00", TOKYO, "2026-11-23T10:00:00+09:00"),
    ("2026-11-24T17:00+01:00", SUNDAY, TOKYO, "2026-11-25T01:00:00+09:00"),
    ("tomorrow 10:00", "2026-11-22T09:00+11:00", SYDNEY, "2026-11-23T10:00:00+11:00"),
    ("tomorrow 10:00", "2026-11-22T09:00-05:00", NEW_YORK, "2026-11-23T10:00:00-05:00"),
]


@pytest.mark.parametrize(("text", "now", "tz", "moment"), MOMENTS)
def test_moment_forms(text: str, now: str, tz: str, moment: str) -> None:
    due = when(text, now, tz)
    assert not due.date_only
    assert due.moment.isoformat() == moment


# --- daylight saving -------------------------------------------------------------------------

DST = [
    # Wall-clock forms keep the clock time across the change; elapsed forms keep the hours.
    # Berlin springs forward on Sun 29 Mar 2026 (02:00 -> 03:00), falls back on Sun 25 Oct 2026.
    ("tomorrow 10:00", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T10:00:00+02:00"),
    ("24h", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T11:00:00+02:00"),
    ("tomorrow 10:00", "2026-10-24T10:00+02:00", BERLIN, "2026-10-25T10:00:00+01:00"),
    ("24h", "2026-10-24T10:00+02:00", BERLIN, "2026-10-25T09:00:00+01:00"),
    ("mon 9:00", "2026-03-27T10:00+01:00", BERLIN, "2026-03-30T09:00:00+02:00"),
    # The spring gap moves forward by the gap; the autumn repeat takes its first occurrence.
    ("2026-03-29 02:30", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T03:30:00+02:00"),
    ("tomorrow 2:30", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T03:30:00+02:00"),
    ("2026-03-29 01:59", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T01:59:00+01:00"),
    ("2026-03-29 03:00", "2026-03-28T10:00+01:00", BERLIN, "2026-03-29T03:00:00+02:00"),
    ("2026-10-25 02:30", "2026-10-24T10:00+02:00", BERLIN, "2026-10-25T02:30:00+02:00"),
    ("tomorrow 2:30am", "2026-10-24T10:00+02:00", BERLIN, "2026-10-25T02:30:00+02:00"),
    ("2026-10-25T02:30+01:00", "2026-10-24T10:00+02:00", BERLIN, "2026-10-25T02:30:00+01:00"),
    # New York springs forward on Sun 8 Mar 2026, falls back on Sun 1 Nov 2026.
    ("tomorrow 10:00", "2026-03-07T10:00-05:00", NEW_YORK, "2026-03-08T10:00:00-04:00"),
    ("24h", "2026-03-07T10:00-05:00", NEW_YORK, "2026-03-08T11:00:00-04:00"),
    ("2026-03-08 02:30", "2026-03-07T10:00-05:00", NEW_YORK, "2026-03-08T03:30:00-04:00"),
    ("tomorrow 10:00", "2026-10-31T10:00-04:00", NEW_YORK, "2026-11-01T10:00:00-05:00"),
    ("2026-11-01 01:30", "2026-10-31T10:00-04:00", NEW_YORK, "2026-11-01T01:30:00-04:00"),
    ("90min", "2026-11-01T00:45-04:00", NEW_YORK, "2026-11-01T01:15:00-05:00"),
    # Sydney springs forward on Sun 4 Oct 2026, falls back on Sun 5 Apr 2026.
    ("tomorrow 10:00", "2026-10-03T10:00+10:00", SYDNEY, "2026-10-04T10:00:00+11:00"),
    ("2026-10-04 02:30", "2026-10-03T10:00+10:00", SYDNEY, "2026-10-04T03:30:00+11:00"),
    ("2026-04-05 02:30", "2026-04-04T10:00+11:00", SYDNEY, "2026-04-05T02:30:00+11:00"),
    # Tokyo has no DST: 24h and tomorrow agree.
    ("24h", "2026-03-28T10:00+09:00", TOKYO, "2026-03-29T10:00:00+09:00"),
]


@pytest.mark.parametrize(("text", "now", "tz", "moment"), DST)
def test_daylight_saving_changes(text: str, now: str, tz: str, moment: str) -> None:
    assert when(text, now, tz).moment.isoformat() == moment


@pytest.mark.parametrize(
    ("day", "tz", "utc"),
    [
        ("2026-03-29", BERLIN, "2026-03-29T21:59:59.999999+00:00"),  # spring-forward day: 23 hours
        ("2026-10-25", BERLIN, "2026-10-25T22:59:59.999999+00:00"),  # fall-back day: 25 hours
        ("2026-03-08", NEW_YORK, "2026-03-09T03:59:59.999999+00:00"),
        ("2026-11-24", TOKYO, "2026-11-24T14:59:59.999999+00:00"),
        ("2026-11-24", SYDNEY, "2026-11-24T12:59:59.999999+00:00"),
    ],
)
def test_end_of_day_is_the_last_local_instant(day: str, tz: str, utc: str) -> None:
    moment = end_of_day(date.fromisoformat(day), ZoneInfo(tz))
    assert moment.astimezone(UTC).isoformat() == utc
    assert (moment + timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).time().isoformat() == "00:00:00"


# --- business days and holidays --------------------------------------------------------------

BUSINESS_DAYS = [
    # (text, now, country, the due date)
    ("1bd", "2026-12-23T09:00+01:00", "DE", "2026-12-24"),  # Christmas Eve is a working day
    ("2bd", "2026-12-23T09:00+01:00", "DE", "2026-12-28"),  # Fri 25 (holiday), Sat 26, Sun 27
    ("1bd", "2026-12-24T09:00+01:00", "DE", "2026-12-28"),
    ("1bd", "2026-12-24T09:00+01:00", None, "2026-12-25"),
    ("1bd", "2025-12-24T09:00+01:00", "DE", "2025-12-29"),  # Thu 25 and Fri 26 both holidays
    ("3bd", "2025-12-24T09:00+01:00", "DE", "2025-12-31"),
    ("4bd", "2025-12-24T09:00+01:00", "DE", "2026-01-02"),  # New Year's Day skipped
    ("1bd", "2025-10-02T09:00+02:00", "DE", "2025-10-06"),  # Fri 3 Oct, German Unity Day
    ("1bd", "2025-10-02T09:00+02:00", None, "2025-10-03"),
    ("in 1 business day", "2025-10-02T09:00+02:00", "de", "2025-10-06"),
    ("1bd", "2026-11-25T09:00+01:00", "US", "2026-11-27"),  # Thanksgiving
    ("1bd", "2026-11-25T09:00+01:00", "DE", "2026-11-26"),
    ("1bd", "2026-10-30T09:00+01:00", "DE-BY", "2026-11-02"),
    ("1bd", "2026-10-30T09:00+01:00", "DE-BE", "2026-11-02"),
    ("1bd", "2025-10-30T09:00+01:00", "DE-BY", "2025-10-31"),  # Reformation Day is not Bavarian
    ("1bd", "2025-10-30T09:00+01:00", "DE-SN", "2025-11-03"),  # but is in Saxony
]


@pytest.mark.parametrize(("text", "now", "country", "day"), BUSINESS_DAYS)
def test_business_days_skip_weekends_and_the_countrys_public_holidays(
    text: str, now: str, country: str | None, day: str
) -> None:
    due = when(text, now, country=country)
    assert due.date_only
    assert due.moment.date() == date.fromisoformat(day)


def test_business_days_with_an_unknown_holiday_country_are_bad_input() -> None:
    with pytest.raises(BadInput, match='Unknown holiday country "XX"'):
        when("2bd", country="XX")
    assert when("2d", country="XX").date_only, "only business-day forms need the holidays"


# --- bad input -------------------------------------------------------------------------------

BAD = [
    # (text, part of the message)
    ("someday", 'Cannot read "someday" as a date or time; use e.g. 2026-11-24, 24 Nov 5pm'),
    ("", "No date or time given; use e.g."),
    ("   ", "No date or time given"),
    ("2026-02-30", '"2026-02-30" is not a date: February 2026 has 28 days.'),
    ("2027-02-29", "February 2027 has 28 days"),
    ("2026-13-01", "there is no month 13"),
    ("2026-04-31", "April 2026 has 30 days"),
    ("31 Apr", "is not a date"),
    ("32 Dec", "is not a date"),
    ("0 Dec", "is not a date"),
    ("25:00", "Cannot read"),
    ("today 25:00", "impossible time"),
    ("2026-11-24 24:00", "impossible time"),
    ("2026-11-24 17:60", "impossible time"),
    ("24 Nov 13pm", "impossible time"),
    ("24 Nov 0am", "impossible time"),
    ("2026-11-24T17:00+25:00", "impossible UTC offset"),
    ("99999999d", '"99999999d" is too far ahead'),
    ("999999999999999999999999999h", "too far ahead"),
    ("40000d", "too far ahead"),
    ("99999bd", "too far ahead"),
    ("in 99999999 minutes", "too far ahead"),
    ("10000-01-01", "Cannot read"),
    ("9999-12-31", "out of range"),
    ("1899-12-31", "out of range"),
    ("Wed 24 Nov", "24 Nov 2026 is a Tuesday, not a Wednesday"),
    ("-3d", "Cannot read"),
    ("3x", "Cannot read"),
    ("3 months", "Cannot read"),
    ("next week", "Cannot read"),
    ("5pm", "Cannot read"),
    ("24h 10:00", "Cannot read"),
    ("an hour", "Cannot read"),
    ("2026-11-24+01:00", "Cannot read"),
    ("24 Smarch", "Cannot read"),
    ("x" * 500, "…"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_input_names_what_was_wrong_in_one_sentence(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        when(text)
    said = str(caught.value)
    assert message in said
    assert "\n" not in said
    assert said.endswith(".")
    assert len(said) < 200


def test_the_generic_message_shows_the_accepted_forms() -> None:
    with pytest.raises(BadInput) as caught:
        when("someday")
    assert str(caught.value) == (
        'Cannot read "someday" as a date or time; '
        "use e.g. 2026-11-24, 24 Nov 5pm, today, tomorrow, tue 10:00, 3d, 24h, 2bd."
    )


def test_control_characters_are_escaped_in_messages() -> None:
    with pytest.raises(BadInput) as caught:
        when("to\x00day")
    assert "\x00" not in str(caught.value)
    assert "\\x00" in str(caught.value)


def test_an_unknown_date_order_is_bad_input() -> None:
    with pytest.raises(BadInput, match="date_order"):
        when("3/4/2026", order="DDD")


# --- parse_within ----------------------------------------------------------------------------

WITHIN = [
    ("2d", SUNDAY, "2026-11-24T23:59:59.999999+01:00"),
    ("1w", SUNDAY, "2026-11-29T23:59:59.999999+01:00"),
    ("in 2 days", SUNDAY, "2026-11-24T23:59:59.999999+01:00"),
    ("0d", SUNDAY, "2026-11-22T23:59:59.999999+01:00"),
    ("24h", SUNDAY, "2026-11-23T09:00:00+01:00"),
    ("90min", SUNDAY, "2026-11-22T10:30:00+01:00"),
    ("2bd", "2026-11-27T09:00+01:00", "2026-12-01T23:59:59.999999+01:00"),
    ("tomorrow", SUNDAY, "2026-11-23T23:59:59.999999+01:00"),
    ("2026-11-30", SUNDAY, "2026-11-30T23:59:59.999999+01:00"),
    ("24h", "2026-03-28T10:00+01:00", "2026-03-29T11:00:00+02:00"),
]


@pytest.mark.parametrize(("text", "now", "end"), WITHIN)
def test_within_gives_the_end_of_the_window(text: str, now: str, end: str) -> None:
    assert parse_within(text, make_clock(now)).isoformat() == end


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", 'Cannot read "soon" as a duration; use e.g. 2d, 1w, 24h, 90min, 2bd, in 3 days'),
        ("", "No duration given"),
        ("99999999d", "too far ahead"),
        ("-2d", "Cannot read"),
    ],
)
def test_within_bad_input(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_within(text, make_clock())


# --- pinned_clock -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pk_now", "expected"),
    [
        ("2026-11-22T09:00+01:00", "2026-11-22T09:00:00+01:00"),
        (" 2026-11-22T09:00:00+01:00 ", "2026-11-22T09:00:00+01:00"),
        ("2026-11-22T08:00Z", "2026-11-22T08:00:00+00:00"),
        ("2026-11-22 09:00:00.123456-05:00", "2026-11-22T09:00:00.123456-05:00"),
    ],
)
def test_pk_now_pins_the_clock(pk_now: str, expected: str) -> None:
    pinned = pinned_clock(pk_now)
    assert pinned is not None
    assert pinned.isoformat() == expected


@pytest.mark.parametrize(
    ("pk_now", "message"),
    [
        (
            "2026-11-22T09:00",
            'PK_NOW="2026-11-22T09:00" needs a UTC offset; use e.g. 2026-11-22T09:00+01:00.',
        ),
        ("2026-11-22", "needs a UTC offset"),
        ("yesterday", 'Cannot read PK_NOW="yesterday" as an ISO 8601 moment'),
        ("2026-02-30T09:00+01:00", "Cannot read"),
        ("0001-01-01T00:00+01:00", "out of range"),
    ],
)
def test_pk_now_without_an_offset_or_unreadable_is_bad_input(pk_now: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        pinned_clock(pk_now)
    assert message in str(caught.value)


@pytest.mark.parametrize("pk_now", [None, "", "  "])
def test_without_pk_now_nothing_is_pinned(pk_now: str | None) -> None:
    assert pinned_clock(pk_now) is None


# --- describing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "now", "shown"),
    [
        ("2026-11-24", BERLIN, None, "Tue 24 Nov (end of day)"),
        ("2026-11-24 17:00", BERLIN, None, "Tue 24 Nov 17:00"),
        ("2026-12-05 08:05", BERLIN, None, "Sat 5 Dec 08:05"),
        ("2026-11-24", BERLIN, SUNDAY, "Tue 24 Nov (end of day)"),
        ("2027-01-05", BERLIN, SUNDAY, "Tue 5 Jan 2027 (end of day)"),
        ("2027-01-05 09:00", BERLIN, SUNDAY, "Tue 5 Jan 2027 09:00"),
        ("2026-11-24T17:00+01:00", TOKYO, None, "Wed 25 Nov 01:00"),
    ],
)
def test_describe_due(text: str, tz: str, now: str | None, shown: str) -> None:
    due = when(text, tz=tz)
    assert describe_due(due, ZoneInfo(tz), now=None if now is None else datetime.fromisoformat(now)) == shown


def test_describe_due_shows_the_shops_zone_not_the_stored_one() -> None:
    due = Due(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), date_only=False)
    assert describe_due(due, ZoneInfo(BERLIN)) == "Tue 24 Nov 17:00"
    assert describe_due(due, ZoneInfo(NEW_YORK)) == "Tue 24 Nov 11:00"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "less than a minute"),
        (59.9, "less than a minute"),
        (60, "1 minute"),
        (61, "1 minute"),
        (45 * 60, "45 minutes"),
        (3600, "1 hour"),
        (3660, "1 hour 1 minute"),
        (5 * 3600 + 10 * 60, "5 hours 10 minutes"),
        (86400, "1 day"),
        (86400 + 60, "1 day"),  # two largest units: day and hour
        (2 * 86400 + 3 * 3600, "2 days 3 hours"),
        (2 * 86400 + 3 * 3600 + 59 * 60, "2 days 3 hours"),
        (2 * 86400 + 3600, "2 days 1 hour"),
        (400 * 86400, "400 days"),
        (-3 * 3600, "3 hours"),
        (float("inf"), "forever"),
    ],
)
def test_describe_span(seconds: float, shown: str) -> None:
    assert describe_span(seconds) == shown


# --- properties ------------------------------------------------------------------------------

ZONES = st.sampled_from([BERLIN, NEW_YORK, TOKYO, SYDNEY, "UTC"])
NOWS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))
PIECES = st.sampled_from(
    [
        "today", "tomorrow", "eod", "eow", "eom", "tue", "sunday", "in", "a", "an", "+", "-", "3", "24",
        "2026", "99999999", "d", "h", "w", "bd", "min", "m", "days", "business days", "nov", "feb",
        "29", "30", "31", "10:00", "25:00", "5pm", "13pm", "noon", "at", ",", "/", ".", "-", "t", "z",
        "+01:00", ":", "2026-11-24", "2026-02-29", "9998-12-31", "0", "00", " ",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=st.text(), tz=ZONES, now=NOWS, order=st.sampled_from(["DMY", "MDY", "YMD"]))
def test_any_text_is_a_due_or_bad_input(text: str, tz: str, now: datetime, order: str) -> None:
    clock = Clock(now, ZoneInfo(tz), order, "DE")
    for parse in (parse_when, parse_within):
        message = ""
        try:
            parse(text, clock)
        except BadInput as e:
            message = str(e)
        assert "\n" not in message


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PIECES, max_size=6), tz=ZONES, now=NOWS, order=st.sampled_from(["DMY", "MDY", "YMD"]))
def test_grammar_like_text_is_a_due_or_bad_input(
    pieces: list[str], tz: str, now: datetime, order: str
) -> None:
    clock = Clock(now, ZoneInfo(tz), order, "DE")
    text = " ".join(pieces)
    try:
        due = parse_when(text, clock)
    except BadInput:
        return
    assert due.moment.tzinfo is ZoneInfo(tz)
    due.moment.astimezone(UTC)  # every result can be stored


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_any_pk_now_is_a_moment_or_bad_input(text: str) -> None:
    try:
        now = pinned_clock(text)
    except BadInput:
        return
    assert now is None or now.utcoffset() is not None


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    minute=st.integers(0, 24 * 60 - 1) | st.none(),
    tz=ZONES,
)
def test_describe_due_with_the_year_reads_back_as_the_same_due(
    day: date, minute: int | None, tz: str
) -> None:
    clock = make_clock("2200-01-01T00:00+00:00", tz)
    text = day.isoformat() if minute is None else f"{day.isoformat()} {minute // 60:02}:{minute % 60:02}"
    due = parse_when(text, clock)
    shown = describe_due(due, clock.tz, now=clock.now).removesuffix(" (end of day)")
    assert parse_when(shown, clock) == due


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, allow_nan=False))
def test_describe_span_never_crashes(seconds: float) -> None:
    shown = describe_span(seconds)
    assert shown
    assert len(shown.split()) <= 4


@pytest.mark.parametrize("text", ["36000d", "5000w", "24h", "2bd", "tomorrow", "eom", "sat", "1 Jan"])
def test_relative_forms_near_the_end_of_the_calendar_are_bad_input_not_overflow(text: str) -> None:
    with pytest.raises(BadInput, match="out of range"):
        when(text, now="9998-12-31T23:00-12:00", tz=NEW_YORK)


@pytest.mark.parametrize(
    ("day", "country", "moved_to"),
    [
        (date(2026, 11, 24), None, date(2026, 11, 24)),  # a Tuesday stays
        (date(2026, 11, 21), None, date(2026, 11, 23)),  # Saturday → Monday
        (date(2026, 11, 22), None, date(2026, 11, 23)),  # Sunday → Monday
        (date(2026, 12, 25), None, date(2026, 12, 25)),  # without a country only weekends are closed
        (date(2026, 12, 25), "DE", date(2026, 12, 28)),  # Christmas, Boxing Day (Sat), Sunday
        (date(2026, 10, 3), "DE", date(2026, 10, 5)),  # German Unity Day is a Saturday in 2026
    ],
)
def test_a_date_on_a_closed_day_moves_to_the_next_working_day(
    day: date, country: str | None, moved_to: date
) -> None:
    tz = ZoneInfo(BERLIN)
    date_only = Due(end_of_day(day, tz), date_only=True)
    assert on_a_working_day(date_only, tz, country) == Due(end_of_day(moved_to, tz), date_only=True)
    timed = Due(datetime.combine(day, datetime.min.time().replace(hour=15), tzinfo=tz), date_only=False)
    moved = on_a_working_day(timed, tz, country).moment.astimezone(tz)
    assert (moved.date(), moved.hour) == (moved_to, 15)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
@settings(max_examples=200, deadline=None)
def test_a_moved_date_is_a_working_day_and_never_earlier(day: date) -> None:
    tz = ZoneInfo(BERLIN)
    moved = on_a_working_day(Due(end_of_day(day, tz), date_only=True), tz, "DE").moment.astimezone(tz).date()
    assert moved >= day
    assert is_working_day(moved, "DE")
    assert all(not is_working_day(day + timedelta(days=n), "DE") for n in range((moved - day).days))


@pytest.mark.parametrize("text", ["tue", "tomorrow", "3d", "2026-12-01"])
def test_a_since_in_the_future_is_bad_input(text: str) -> None:
    clock = Clock(now=datetime.fromisoformat("2026-11-23T10:00+01:00"), tz=ZoneInfo(BERLIN))
    with pytest.raises(BadInput, match="in the future"):
        parse_since(text, clock)


def test_a_since_of_today_starts_the_day() -> None:
    clock = Clock(now=datetime.fromisoformat("2026-11-23T10:00+01:00"), tz=ZoneInfo(BERLIN))
    assert parse_since("today", clock) == datetime.fromisoformat("2026-11-23T00:00+01:00")
