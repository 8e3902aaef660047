"""The README is part of the contract: every WHEN, DURATION and PRICE form it documents parses."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promisekeeper.money import parse_price
from promisekeeper.when import Clock, parse_when, parse_within

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
BERLIN = ZoneInfo("Europe/Berlin")
CLOCK = Clock(now=datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN), tz=BERLIN, country="DE")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.index("\n## ", start + 1)
    return README[start:end]


def _table_forms(section: str) -> list[str]:
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [form for row in rows for form in re.findall(r"`([^`]+)`", row.split("|")[1])]


WHEN_FORMS = _table_forms(_section("WHEN: dates and times"))
DURATION_FORMS = re.findall(
    r"`([^`]+)`", _section("WHEN: dates and times").split("takes the relative forms:")[1].split(";")[0]
)
PRICE_FORMS = re.findall(r"`([^`]+)`", _section("PRICE: money").splitlines()[2])


def test_the_readme_documents_the_forms() -> None:
    assert len(WHEN_FORMS) >= 30
    assert {"2bd", "eow", "tue 10:00", "3/4/2026", "+30m"} <= set(WHEN_FORMS)
    assert len(DURATION_FORMS) >= 5
    assert {"240", "€240", "EUR 240.50", "1,234.50", "$19.99"} <= set(PRICE_FORMS)


@pytest.mark.parametrize("form", WHEN_FORMS)
def test_every_documented_when_form_parses(form: str) -> None:
    due = parse_when(form, CLOCK)
    assert due.moment.tzinfo is not None


@pytest.mark.parametrize("form", DURATION_FORMS)
def test_every_documented_duration_form_parses(form: str) -> None:
    assert parse_within(form, CLOCK) > CLOCK.now


@pytest.mark.parametrize("form", PRICE_FORMS)
def test_every_documented_price_form_parses(form: str) -> None:
    assert parse_price(form, default_currency="EUR").amount > 0
