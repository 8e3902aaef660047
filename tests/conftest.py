"""Shared fixtures: the shop's zone, a pinned clock and a fresh SQLite file per test."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promisekeeper.db import Database
from promisekeeper.when import Clock

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def tz() -> ZoneInfo:
    return BERLIN


@pytest.fixture
def clock(tz: ZoneInfo) -> Clock:
    """Sunday 22 Nov 2026, 10:00 in Berlin."""
    return Clock(now=datetime(2026, 11, 22, 10, 0, tzinfo=tz), tz=tz)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    """A new database file in ``tmp_path``: never shared between tests, never mocked."""
    return Database(str(tmp_path / "p.db"))
