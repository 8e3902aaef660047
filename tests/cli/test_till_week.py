"""The defects a week at the till found (issue 12, SPEC "The week at the till"), each through ``pk``.

The clock is moved day by day with ``now=`` as the shop lived it: 48 promises in a Berlin shop.
Numbers in the test names are the items of the issue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Pk, PkJson

FRIDAY = "2026-11-20T10:00:00+01:00"
THURSDAY_AFTER = "2026-11-26T10:00:00+01:00"


def _ok(pk: Pk, *args: str, now: str | None = None) -> str:
    result = pk(*args, now=now)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result.stdout


def _error(pk: Pk, *args: str, now: str | None = None) -> tuple[int, str]:
    result = pk(*args, now=now)
    assert result.stdout == ""
    assert result.stderr.startswith("pk: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.exit_code, result.stderr


# --- 4: follow-ups in working days, announced, not in check --------------------------------------------


def test_4_follow_ups_fall_on_working_days_and_are_announced(pk: Pk, pkj: PkJson) -> None:
    _ok(pk, "promise", "add", "Sleeping bag", "-c", "Anna Smith", "-d", "today", now=FRIDAY)
    out = _ok(pk, "deliver", "1", now=FRIDAY)
    # 2 working days after Friday 20 Nov is Tuesday 24 Nov; 30 days is Sunday 20 Dec, moved to Monday.
    assert out.strip() == "Delivered #1: kept; follow-ups #2 Tue 24 Nov, #3 Mon 21 Dec"
    dues = [p["due"][:10] for p in pkj("promise", "list", "--kind", "followup", now=FRIDAY)]
    assert dues == ["2026-11-24", "2026-12-21"]


def test_4_a_follow_up_on_a_public_holiday_moves_to_the_next_working_day(
    pk: Pk, pkj: PkJson, cli_env: dict[str, str]
) -> None:
    Path(cli_env["PK_CONFIG"]).write_text('[shop]\ncountry = "DE"\n[followup]\nafter = ["32d"]\n')
    _ok(pk, "promise", "add", "Tent", "-c", "Ben", "-d", "today", now="2026-11-23T10:00:00+01:00")
    out = _ok(pk, "deliver", "1", now="2026-11-23T10:00:00+01:00")
    # 32 days after Monday 23 Nov is Friday 25 Dec: Christmas, Boxing Day, then a Sunday.
    assert out.strip() == "Delivered #1: kept; follow-up #2 Mon 28 Dec"


def test_4_a_late_follow_up_counts_in_stats_but_is_not_in_check(pk: Pk, pkj: PkJson) -> None:
    _ok(pk, "promise", "add", "Sleeping bag", "-c", "Anna Smith", "-d", "today", now=FRIDAY)
    _ok(pk, "deliver", "1", now=FRIDAY)
    _ok(pk, "done", "2", now=THURSDAY_AFTER)  # two days after its due
    assert pkj("check", now=THURSDAY_AFTER) == []
    figures = pkj("stats", now=THURSDAY_AFTER)
    assert (figures["fulfilled"], figures["deviated"]) == (2, 1)
    code, err = _error(pk, "remedy", "2", "--action", "Called again", now=THURSDAY_AFTER)
    assert code == 2
    assert "follow-up of #1" in err
    assert "pk remedy 1" in err


# --- 5: unhappy follow-ups ------------------------------------------------------------------------------


def test_5_an_unhappy_follow_up_puts_its_parent_in_check_until_it_has_a_remedy(pk: Pk, pkj: PkJson) -> None:
    _ok(pk, "promise", "add", "Sleeping bag", "-c", "Anna Smith", "-d", "today", now=FRIDAY)
    _ok(pk, "deliver", "1", now=FRIDAY)
    out = _ok(pk, "done", "2", "--unhappy", now="2026-11-24T10:00:00+01:00")
    assert out.strip() == "Done #2: kept; the customer is unhappy: #1 is in pk check until it has a remedy"
    listed = pkj("check", now=THURSDAY_AFTER)
    assert [(p["id"], p["status"], p["unhappy"]) for p in listed] == [(1, "kept", True)]
    table = _ok(pk, "check", now=THURSDAY_AFTER)
    assert "unhappy" in table
    assert "Follow up" not in table
    _ok(pk, "remedy", "1", "--action", "Replaced the bag", now=THURSDAY_AFTER)
    assert pkj("check", now=THURSDAY_AFTER) == []
    assert pkj("promise", "show", "1", now=THURSDAY_AFTER)["remedied"] is True


def test_5_a_remedy_on_a_kept_promise_is_refused(pk: Pk) -> None:
    _ok(pk, "promise", "add", "Rope", "-d", "today", "--kind", "other")
    _ok(pk, "done", "1")
    code, err = _error(pk, "remedy", "1", "--action", "Nothing")
    assert code == 2
    assert "nothing to remedy" in err


def test_5_every_promise_in_json_says_whether_the_customer_is_unhappy(pkj: PkJson) -> None:
    p = pkj("promise", "add", "Rope", "-d", "today")
    assert p["unhappy"] is False


# --- 6: notices ----------------------------------------------------------------------------------------


def test_6_a_notice_states_the_original_terms_and_only_what_changed(pk: Pk) -> None:
    _ok(
        pk,
        "promise",
        "add",
        "Bike bell",
        "-c",
        "Ben",
        "-p",
        "5",
        "-d",
        "1 dec",
        now="2026-11-23T10:00:00+01:00",
    )
    _ok(pk, "promise", "amend", "1", "--qty", "2", "--reason", "wants two", now="2026-11-23T11:00:00+01:00")
    text = _ok(pk, "notice", "1", now="2026-11-23T12:00:00+01:00")
    assert "we promised you Bike bell for €5.00 by Tue 1 Dec (end of day)." in text
    assert "As agreed with you, we changed the quantity from 1 to 2." in text
    assert "new date" not in text
    assert "date from" not in text


def test_6_a_notice_names_every_change_old_to_new(pk: Pk) -> None:
    _ok(
        pk,
        "promise",
        "add",
        "Boots 38",
        "-c",
        "Ann",
        "-p",
        "240",
        "-d",
        "1 dec",
        now="2026-11-23T10:00:00+01:00",
    )
    _ok(
        pk,
        *(
            "promise",
            "amend",
            "1",
            "--what",
            "Boots 39",
            "--price",
            "250",
            "--due",
            "4 dec",
            "--reason",
            "size",
        ),
        now="2026-11-23T11:00:00+01:00",
    )
    text = _ok(pk, "notice", "1", now="2026-11-23T12:00:00+01:00")
    assert (
        "As agreed with you, we changed the item from Boots 38 to Boots 39, the price from €240.00 to "
        "€250.00 and the date from Tue 1 Dec (end of day) to Fri 4 Dec (end of day)."
    ) in text


def test_6_every_sentence_of_a_notice_ends_with_a_full_stop(pk: Pk) -> None:
    _ok(pk, "promise", "add", "Lamp", "-c", "Cy", "-p", "20", "-d", "today", now=FRIDAY)
    _ok(pk, "deliver", "1", "--price", "25", "--no-followup", now=FRIDAY)
    _ok(pk, "remedy", "1", "--action", "Refunded €5", "--prevent", "Check the price tag", now=FRIDAY)
    text = _ok(pk, "notice", "1", now=FRIDAY)
    assert "To put it right: Refunded €5. So it does not happen again: Check the price tag." in text


def test_6_a_notice_for_a_follow_up_is_refused_naming_the_parent(pk: Pk) -> None:
    _ok(pk, "promise", "add", "Sleeping bag", "-c", "Anna", "-d", "today", now=FRIDAY)
    _ok(pk, "deliver", "1", now=FRIDAY)
    code, err = _error(pk, "notice", "2", now=THURSDAY_AFTER)
    assert code == 2
    assert "follow-up of #1" in err
    assert "pk notice 1" in err


# --- 7, 8, 9, 11: input the till gets wrong ------------------------------------------------------------


def test_7_a_since_in_the_future_is_bad_input(pk: Pk) -> None:
    _ok(pk, "promise", "add", "Rope", "-d", "today", now=FRIDAY)
    for command in ("check", "stats"):
        code, err = _error(pk, command, "--since", "tue", now="2026-11-23T10:00:00+01:00")  # a Monday
        assert code == 2
        assert "in the future" in err
        assert "24 Nov 2026" in err


def test_8_an_amend_that_changes_nothing_is_refused_and_records_nothing(pk: Pk, pkj: PkJson) -> None:
    _ok(pk, "promise", "add", "Bike bell", "-q", "2", "-p", "5", "-d", "1 dec")
    before = pkj("promise", "show", "1")
    for same in (["--qty", "2"], ["--due", "1 dec"], ["--price", "5"], ["--what", "Bike  bell"]):
        code, err = _error(pk, "promise", "amend", "1", *same, "--reason", "again")
        assert code == 2
        assert "Nothing to change" in err
    after = pkj("promise", "show", "1")
    assert after == before
    assert after["renegotiated"] is False


def test_9_a_due_already_past_is_recorded_with_a_warning_naming_the_date(pk: Pk) -> None:
    result = pk("promise", "add", "Rope", "-d", "3/4/2026", now="2026-11-23T10:00:00+01:00")
    assert result.exit_code == 0
    assert result.stdout.startswith("Promised #1: Rope, due Fri 3 Apr (end of day)")
    assert result.stderr.count("\n") == 1
    assert "Fri 3 Apr 2026" in result.stderr
    assert "already past" in result.stderr


def test_9_a_confirmation_shows_the_year_of_a_due_in_another_year(pk: Pk) -> None:
    result = pk("promise", "add", "Rope", "-d", "3/4/2027", now="2026-11-23T10:00:00+01:00")
    assert result.stdout.strip() == "Promised #1: Rope, due Sat 3 Apr 2027 (end of day)"
    assert result.stderr == ""


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", "١"])
def test_11_a_non_numeric_id_is_one_plain_sentence(pk: Pk, bad: str) -> None:
    code, err = _error(pk, "deliver", "--", bad)
    assert code == 2
    assert err == f"pk: ID must be a promise number such as 12, not '{bad}'.\n"


def test_11_an_id_beyond_any_row_is_not_found(pk: Pk) -> None:
    code, err = _error(pk, "promise", "show", "99999999999999999999999")
    assert code == 3
    assert "There is no promise" in err


# --- 10: stats buckets in the shop's zone --------------------------------------------------------------


def test_10_stats_by_week_and_month_bucket_in_the_shops_zone(pkj: PkJson, pk: Pk) -> None:
    _ok(pk, "promise", "add", "Rope", "-d", "29 nov", now="2026-11-27T10:00:00+01:00")  # Sunday, end of day
    _ok(pk, "promise", "add", "Tent", "-d", "30 nov", now="2026-11-27T10:00:00+01:00")  # Monday
    weeks = pkj("stats", "--by", "week", now="2026-12-01T10:00:00+01:00")["by"]
    assert [(w["key"], w["promises"]) for w in weeks] == [("2026-W48", 1), ("2026-W49", 1)]
    months = pkj("stats", "--by", "month", now="2026-12-01T10:00:00+01:00")["by"]
    assert [(m["key"], m["promises"]) for m in months] == [("2026-11", 2)]


# --- 12: the status cell never says "overdue 0m" -------------------------------------------------------


def test_12_a_promise_overdue_for_seconds_says_so(pk: Pk) -> None:
    _ok(
        pk,
        "promise",
        "add",
        "Call Ben",
        "--kind",
        "callback",
        "-d",
        "today 10:00",
        now="2026-11-23T09:00:00+01:00",
    )
    out = _ok(pk, "due", now="2026-11-23T10:00:48+01:00")
    assert "overdue 48s" in out
    assert "0m" not in out
    assert json.loads(_ok(pk, "due", "--json", now="2026-11-23T10:00:48+01:00"))["overdue"][0]["id"] == 1


def test_12_the_renegotiated_mark_is_explained_under_the_table(pk: Pk) -> None:
    _ok(pk, "promise", "add", "Bike bell", "-d", "1 dec")
    _ok(pk, "promise", "add", "Rope", "-d", "2 dec")
    assert "↻" not in _ok(pk, "promise", "list")
    _ok(pk, "promise", "amend", "1", "--due", "3 dec", "--reason", "Supplier")
    listed = _ok(pk, "promise", "list")
    assert "↻ renegotiated: new terms agreed with the customer" in listed
    due = _ok(pk, "due", "--within", "2w")
    assert "↻ renegotiated:" in due
