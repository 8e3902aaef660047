"""CLI fixtures: each test gets its own database, config path, data dir and a pinned clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.testing import CliRunner, Result

from promisekeeper.cli import app

NOW = "2026-11-22T10:00:00+01:00"  # a Sunday morning in Berlin


def env_in(folder: Path, db_target: str) -> dict[str, str]:
    """The environment of one isolated ``pk``: its database, and config and data paths under ``folder``."""
    return {
        "PK_DB": db_target,
        "PK_CONFIG": str(folder / "config.toml"),
        "PK_TZ": "Europe/Berlin",
        "PK_NOW": NOW,
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "PK_DEBUG": "",
    }


@pytest.fixture
def cli_env(tmp_path: Path, db_target: str) -> dict[str, str]:
    """``PK_DB`` is a new SQLite file, or a PostgreSQL schema of its own (see tests/conftest.py)."""
    return env_in(tmp_path, db_target)


class Pk(Protocol):
    """The ``pk`` fixture: run ``pk ARGS`` in-process and return Typer's result."""

    def __call__(self, *args: str, now: str | None = None, env: dict[str, str] | None = None) -> Result: ...


class PkJson(Protocol):
    """The ``pkj`` fixture: run ``pk ARGS --json`` and return the parsed JSON document."""

    def __call__(self, *args: str, now: str | None = None) -> Any: ...


def pk_with(cli_env: dict[str, str]) -> Pk:
    """A ``pk`` that runs in-process in ``cli_env``; ``now=`` moves the clock for that one call."""
    runner = CliRunner()

    def run(*args: str, now: str | None = None, env: dict[str, str] | None = None) -> Result:
        e = {**cli_env, **(env or {})}
        if now is not None:
            e["PK_NOW"] = now
        return runner.invoke(app, list(args), env=e)

    return run


@pytest.fixture
def pk(cli_env: dict[str, str]) -> Pk:
    """Run ``pk ARGS`` in-process; ``now=`` moves the clock for that one call."""
    return pk_with(cli_env)


@pytest.fixture
def pkj(pk: Pk) -> PkJson:
    """Run ``pk ARGS --json``, assert success and return the parsed JSON."""

    def run(*args: str, now: str | None = None) -> Any:
        result = pk(*args, "--json", now=now)
        assert result.exit_code == 0, result.stderr + result.stdout
        return json.loads(result.stdout)

    return run
