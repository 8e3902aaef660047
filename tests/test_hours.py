"""Opening hours and business hours (SPEC "Service levels"): ``[shop.hours]``, ``Nbh`` / ``in N business
hours``, the "due soon" window and ``escalate_after``, table-driven and property-based across DST
changes, public holidays and closed days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promisekeeper.errors import BadInput
from promisekeeper.when import (
    DEFAULT_HOURS,
    Clock,
    OpeningHours,
    add_business_hours,
    business_time_between,
    later_by,
    parse_hours,
    parse_when,
    parse_within,
    relative_parts,
    warn_until,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Mon 09:00-18:00, Tue-Fri 09:00-12:30 and 13:30-18:00, Sat 10:00-14:00; Sunday closed.
SHOP = parse_hours(
    {
        "mon": "09:00-18:00",
        "tue": "09:00-12:30, 13:30-18:00",
        "wed": "09:00-12:30, 13:30-18:00",
        "thu": "09:00-12:30, 13:30-18:00",
        "fri": "09:00-12:30, 13:30-18:00",
        "sat": "10:00-14:00",
    }
)


def clock(
    now: str, hours: OpeningHours | None = None, country: str | None = "DE", tz: ZoneInfo = BERLIN
) -> Clock:
    return Clock(datetime.fromisoformat(now), tz, "DMY", country, hours)


def at(text: str, now: str, hours: OpeningHours | None = None, country: str | None = "DE") -> str:
    due = parse_when(text, clock(now, hours, country))
    assert not due.date_only
    return due.moment.isoformat(timespec="minutes")


# --- the WHEN form -----------------------------------------------------------------------------------

BUSINESS_HOURS = [
    # (text, now, hours, due): default hours are Mon-Fri 09:00-17:00
    ("4bh", "2026-11-24T10:00+01:00", None, "2026-11-24T14:00+01:00"),  # Tue, all within the day
    ("in 4 business hours", "2026-11-24T10:00+01:00", None, "2026-11-24T14:00+01:00"),
    ("+4bh", "2026-11-24T10:00+01:00", None, "2026-11-24T14:00+01:00"),
    ("4 working hours", "2026-11-24T10:00+01:00", None, "2026-11-24T14:00+01:00"),
    ("in a business hour", "2026-11-24T10:00+01:00", None, "2026-11-24T11:00+01:00"),
    # A span that ends exactly at closing time ends at the closing, not the next morning.
    ("4bh", "2026-11-24T13:00+01:00", None, "2026-11-24T17:00+01:00"),
    # A Friday-evening callback: the next opening hour (Monday 09:00) plus the rest.
    ("4bh", "2026-11-27T18:30+01:00", None, "2026-11-30T13:00+01:00"),
    # Friday 16:00: one hour on Friday, three on Monday.
    ("4bh", "2026-11-27T16:00+01:00", None, "2026-11-30T12:00+01:00"),
    ("24bh", "2026-11-27T16:00+01:00", None, "2026-12-02T16:00+01:00"),
    # Before opening, on a Sunday, and at 00:00.
    ("2bh", "2026-11-24T07:00+01:00", None, "2026-11-24T11:00+01:00"),
    ("2bh", "2026-11-22T12:00+01:00", None, "2026-11-23T11:00+01:00"),
    ("0bh", "2026-11-22T12:00+01:00", None, "2026-11-22T12:00+01:00"),
    # Public holidays of the country are closed: 24-26 Dec 2026 (Thu, Fri; 25 and 26 in DE).
    ("4bh", "2026-12-24T15:00+01:00", None, "2026-12-28T11:00+01:00"),
    ("4bh", "2026-12-24T15:00+01:00", None, "2026-12-28T11:00+01:00"),
    # 3 Oct 2026 is a Saturday (no effect with default hours); 1 May 2026 is a Friday.
    ("2bh", "2026-04-30T16:00+02:00", None, "2026-05-04T10:00+02:00"),
    # The shop's own hours: the lunch break, Saturday, a closed Sunday.
    ("1bh", "2026-11-24T12:00+01:00", SHOP, "2026-11-24T14:00+01:00"),
    ("5bh", "2026-11-28T12:00+01:00", SHOP, "2026-11-30T12:00+01:00"),
    ("30 working hours", "2026-11-28T13:00+01:00", SHOP, "2026-12-03T14:00+01:00"),
]


@pytest.mark.parametrize(("text", "now", "hours", "due"), BUSINESS_HOURS)
def test_business_hours_count_only_opening_time(
    text: str, now: str, hours: OpeningHours | None, due: str
) -> None:
    assert at(text, now, hours) == due


def test_without_a_country_only_closed_days_count() -> None:
    # 25 Dec 2026 is a Friday: open without a holiday calendar.
    assert at("4bh", "2026-12-24T15:00+01:00", country=None) == "2026-12-25T11:00+01:00"


@pytest.mark.parametrize(
    ("now", "tz", "due"),
    [
        # Sunday 29 Mar 2026 Berlin springs forward at 02:00: a shop open around the clock on Sundays.
        ("2026-03-29T01:00+01:00", BERLIN, "2026-03-29T06:00+02:00"),
        # Sunday 25 Oct 2026 Berlin falls back at 03:00: 02:xx happens twice; four hours are four hours.
        ("2026-10-25T01:00+02:00", BERLIN, "2026-10-25T04:00+01:00"),
        ("2026-11-01T00:30-04:00", NEW_YORK, "2026-11-01T03:30-05:00"),
    ],
)
def test_business_hours_are_elapsed_time_across_a_dst_change(now: str, tz: ZoneInfo, due: str) -> None:
    always = parse_hours({"sun": "00:00-24:00"})
    found = parse_when("4bh", clock(now, always, None, tz))
    assert found.moment == datetime.fromisoformat(due)
    assert found.moment - datetime.fromisoformat(now) == timedelta(hours=4)


def test_a_day_whose_opening_falls_into_the_spring_gap_opens_after_it() -> None:
    night = parse_hours({"sun": "02:00-04:00"})
    # On 29 Mar 2026 02:00-03:00 does not exist in Berlin: the shop is open 03:00-04:00 (one hour).
    found = add_business_hours(
        datetime.fromisoformat("2026-03-29T00:00+01:00"), timedelta(hours=1), night, BERLIN
    )
    assert found == datetime.fromisoformat("2026-03-29T04:00+02:00")


# --- [shop.hours] ------------------------------------------------------------------------------------


def test_the_default_hours_are_monday_to_friday_nine_to_five() -> None:
    assert parse_hours(dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00")) == DEFAULT_HOURS
    assert Clock(datetime(2026, 1, 1, tzinfo=UTC), BERLIN).opening == DEFAULT_HOURS


def test_days_not_named_are_closed_and_closed_is_accepted() -> None:
    hours = parse_hours({"Monday": "9:00-12:00", "sat": "closed"})
    assert hours.days == (((540, 720),), (), (), (), (), (), ())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"mon": "9-5"}, "not opening times"),
        ({"mon": "17:00-09:00"}, "impossible span"),
        ({"mon": "09:00-24:30"}, "impossible span"),
        ({"mon": "09:60-10:00"}, "impossible span"),
        ({"mon": "09:00-13:00, 12:00-18:00"}, "overlap"),
        ({"mon": 9}, "must be a string"),
        ({"funday": "09:00-17:00"}, "not a day"),
        ({}, "no opening time"),
        ({"sun": "closed"}, "no opening time"),
    ],
)
def test_bad_opening_hours_are_one_sentence_naming_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        parse_hours(table)
    assert "[shop.hours]" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"), [("10000bh", "at most 9999 business hours"), ("bh", "Cannot read")]
)
def test_business_hours_bad_input(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_when(text, clock("2026-11-24T10:00+01:00"))


# --- due soon, escalation, words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "now", "end"),
    [
        ("2bh", "2026-11-24T10:00+01:00", "2026-11-24T12:00+01:00"),
        # Ending exactly at closing, the window runs to the next opening: tonight has no opening time left.
        ("2bh", "2026-11-27T15:00+01:00", "2026-11-30T09:00+01:00"),
        ("2bh", "2026-11-27T16:00+01:00", "2026-11-30T10:00+01:00"),
        ("2h", "2026-11-27T16:00+01:00", "2026-11-27T18:00+01:00"),
        ("1d", "2026-11-27T16:00+01:00", "2026-11-28T23:59:59.999999+01:00"),
    ],
)
def test_the_due_soon_window(text: str, now: str, end: str) -> None:
    assert warn_until(text, clock(now)) == datetime.fromisoformat(end)


@pytest.mark.parametrize(
    ("due", "after", "escalated_from"),
    [
        # A due on Friday evening, escalated after one working day: after the end of Monday.
        ("2026-11-27T23:59:59.999999+01:00", "1bd", "2026-11-30T23:59:59.999999+01:00"),
        ("2026-11-27T16:00+01:00", "8bh", "2026-11-30T16:00+01:00"),
        ("2026-11-27T16:00+01:00", "24h", "2026-11-28T16:00+01:00"),
    ],
)
def test_escalation_counts_from_the_due(due: str, after: str, escalated_from: str) -> None:
    found = later_by(after, datetime.fromisoformat(due), clock("2026-12-10T09:00+01:00"))
    assert found == datetime.fromisoformat(escalated_from)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("1bd", (1, "bd")), ("in 8 business hours", (8, "bh")), ("24h", (24, "h")), ("tomorrow", None)],
)
def test_relative_parts(text: str, parts: tuple[int, str] | None) -> None:
    assert relative_parts(text) == parts


def test_a_business_hours_duration_works_as_a_window() -> None:
    assert parse_within("2bh", clock("2026-11-24T16:00+01:00")) == datetime.fromisoformat(
        "2026-11-25T10:00+01:00"
    )


# --- properties ----------------------------------------------------------------------------------------

ZONES = st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")])
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
SPANS = st.integers(min_value=0, max_value=60 * 24 * 8).map(lambda m: timedelta(minutes=m))
HOURS = st.sampled_from([DEFAULT_HOURS, SHOP, parse_hours({"sun": "00:00-24:00", "wed": "01:30-03:15"})])
COUNTRIES = st.sampled_from([None, "DE", "US", "AU"])


@settings(max_examples=200, deadline=None)
@given(start=STARTS, a=SPANS, b=SPANS, tz=ZONES, hours=HOURS, country=COUNTRIES)
def test_adding_a_then_b_equals_adding_a_plus_b(
    start: datetime, a: timedelta, b: timedelta, tz: ZoneInfo, hours: OpeningHours, country: str | None
) -> None:
    once = add_business_hours(start, a + b, hours, tz, country)
    twice = add_business_hours(add_business_hours(start, a, hours, tz, country), b, hours, tz, country)
    assert once == twice
    assert once >= start
    assert business_time_between(start, once, hours, tz, country) == a + b


@settings(max_examples=200, deadline=None)
@given(start=STARTS, a=SPANS, tz=ZONES, hours=HOURS, country=COUNTRIES)
def test_the_latest_moment_has_the_same_opening_time_behind_it(
    start: datetime, a: timedelta, tz: ZoneInfo, hours: OpeningHours, country: str | None
) -> None:
    earliest = add_business_hours(start, a, hours, tz, country)
    latest = add_business_hours(start, a, hours, tz, country, latest=True)
    assert earliest <= latest
    assert business_time_between(start, latest, hours, tz, country) == a
    # Just after the latest moment the shop is open: any later moment has more opening time behind it.
    # (A minute later in elapsed time: aware arithmetic in the zone is wall-clock time and drops the
    # fold, so 01:00 of the second, repeated hour plus a minute would be 01:01 of the first one.)
    just_after = latest.astimezone(UTC) + timedelta(minutes=1)
    assert business_time_between(start, just_after, hours, tz, country) > a


def test_the_latest_moment_in_the_repeated_hour_of_a_dst_change() -> None:
    """Found by hypothesis: the latest moment is 01:00 of New York's repeated hour (fold=1); a minute of
    elapsed time later there is more opening time behind it, not less."""
    tz = ZoneInfo("America/New_York")
    hours = OpeningHours(((), (), ((90, 195),), (), (), (), ((0, 1440),)))
    start = datetime(2028, 11, 2, 0, 0, tzinfo=UTC)
    latest = add_business_hours(start, timedelta(hours=2), hours, tz, None, latest=True)
    assert (latest.astimezone(UTC), latest.fold) == (datetime(2028, 11, 5, 6, 0, tzinfo=UTC), 1)
    after = latest.astimezone(UTC) + timedelta(minutes=1)
    assert business_time_between(start, after, hours, tz, None) == timedelta(hours=2, minutes=1)
