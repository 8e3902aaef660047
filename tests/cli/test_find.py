"""``pk promise list --search/--due-before/--due-after``, a partial ``--customer`` and ``pk find``, through
the command line on each engine (docs/reference.md, "promise list" and "find")."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Pk


@pytest.fixture
def shop(pk: Pk) -> Pk:
    for args in (
        ("Hiking boots", "-c", "Jürgen Müller", "-d", "tue"),  # Tue 24 Nov
        ("Tent", "-c", "Anna Smith", "-d", "2026-11-27", "-n", "Ask Mr MÜLLER first"),
        ("Call about the stove", "--kind", "callback", "-c", "Ben", "-d", "mon", "-s", "Zoë"),  # Mon 23 Nov
        ("Crème brûlée set", "-c", "Anna Schmidt", "-d", "2026-12-01", "-t", "gift"),
    ):
        result = pk("promise", "add", *args)
        assert result.exit_code == 0, result.stderr
    return pk


def ids(pk: Pk, *args: str) -> list[int]:
    result = pk(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return [p["id"] for p in json.loads(result.stdout)]


def test_search_finds_muller_by_muller_in_any_case(shop: Pk) -> None:
    assert ids(shop, "promise", "list", "--search", "muller") == [1, 2]
    assert ids(shop, "promise", "list", "--search", "MULLER") == [1, 2]
    assert ids(shop, "promise", "list", "--search", "zoe") == [3]
    assert ids(shop, "promise", "list", "--search", "GIFT") == [4]
    table = shop("promise", "list", "--search", "muller")
    assert "Jürgen Müller" in table.stdout
    assert "Ask Mr" not in table.stdout  # the note matched; the table shows the promise as ever


def test_find_is_list_search_newest_first(shop: Pk) -> None:
    assert ids(shop, "find", "muller") == [2, 1]
    assert ids(shop, "find", "e") == [4, 3, 2, 1]
    assert ids(shop, "find", "anna", "--status", "open") == [4, 2]
    csv = shop("find", "tent", "--format", "csv")
    assert csv.exit_code == 0
    assert csv.stdout.splitlines()[1].startswith("2,")


def test_find_nothing_says_so(shop: Pk) -> None:
    result = shop("find", "kayak")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No promises match."
    assert ids(shop, "find", "kayak") == []


def test_an_empty_search_is_bad_input(shop: Pk) -> None:
    result = shop("find", " ")
    assert result.exit_code == 2
    assert result.stderr == "pk: The search is empty; say what to look for, e.g. pk find boots.\n"


def test_due_before_and_after(shop: Pk) -> None:
    assert ids(shop, "promise", "list", "--due-before", "tue") == [3]  # before Tuesday: Monday's
    assert ids(shop, "promise", "list", "--due-after", "tue") == [2, 4]  # after Tuesday
    assert ids(shop, "promise", "list", "--due-after", "mon", "--due-before", "2026-11-28") == [1, 2]
    assert ids(shop, "promise", "list", "--due-before", "2026-11-24 12:00") == [3]
    bad = shop("promise", "list", "--due-before", "someday")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("pk: ")


def test_customer_matches_part_of_a_name_when_nobody_has_it(shop: Pk) -> None:
    assert ids(shop, "promise", "list", "--customer", "anna smith") == [2]
    assert ids(shop, "promise", "list", "--customer", "anna") == [2, 4]
    assert ids(shop, "promise", "list", "-c", "müll") == [1]
    missing = shop("promise", "list", "--customer", "nobody")
    assert missing.exit_code == 3
    assert missing.stderr.count("\n") == 1
    assert "nobody" in missing.stderr
