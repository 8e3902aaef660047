"""The engine as commands use it: each command opens the book once (the schema version is read on the
connection its transaction then runs on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from promisekeeper.cli import app


@pytest.fixture
def connections() -> Iterator[list[Any]]:
    """Every DB-API connection any engine opens while the test runs."""
    opened: list[Any] = []

    def count(dbapi_conn: Any, _record: Any) -> None:
        opened.append(dbapi_conn)

    sa.event.listen(sa.engine.Engine, "connect", count)
    yield opened
    sa.event.remove(sa.engine.Engine, "connect", count)


@pytest.mark.parametrize(
    "args",
    [
        ("due",),
        ("check",),
        ("promise", "add", "Boots", "-c", "Anna", "-d", "tue"),
        ("deliver", "1"),
        ("done", "2"),
        ("promise", "list"),
        ("customer", "show", "Anna"),
    ],
)
def test_an_everyday_command_opens_the_book_once(
    tmp_path: Path, connections: list[Any], args: tuple[str, ...]
) -> None:
    env = {"PK_DB": str(tmp_path / "p.db"), "PK_CONFIG": str(tmp_path / "none.toml"), "PK_TZ": "UTC"}
    runner = CliRunner()
    for what in ("Boots", "Call back"):
        assert runner.invoke(app, ["promise", "add", what, "-c", "Anna", "-d", "tue"], env=env).exit_code == 0
    connections.clear()
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    assert len(connections) == 1


def test_one_process_may_run_several_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``main`` builds only the command it is asked for, and gives the app back whole afterwards: a till
    that runs pk's ``main`` for one command after another (tests/test_postgres.py) gets each of them."""
    from promisekeeper.cli import main

    monkeypatch.setenv("PK_DB", str(tmp_path / "p.db"))
    monkeypatch.setenv("PK_CONFIG", str(tmp_path / "none.toml"))
    for args in (["promise", "add", "Boots", "-d", "tue"], ["deliver", "1"], ["due", "--json"]):
        monkeypatch.setattr("sys.argv", ["pk", *args])
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 0, capsys.readouterr().err
