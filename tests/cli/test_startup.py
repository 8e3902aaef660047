"""What ``pk`` loads before it needs the database: nothing of SQLAlchemy for ``--version``, ``--help``
and shell completion (which runs on every Tab), so they start as fast as Typer and Rich allow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts pk in a fresh interpreter

# Runs pk's entry point in a fresh interpreter, then reports which database modules were imported.
PROBE = """
import json, sys
from promisekeeper.cli import main
sys.argv = ["pk", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "sqlmodel", "psycopg", "pydantic"})
sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")
"""


def loaded(*args: str, **env: str) -> tuple[str, list[str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**base, "PK_DB": "/nonexistent/never-opened.db", **env},
        timeout=60,
        check=False,
    )
    marker = [line for line in proc.stderr.splitlines() if line.startswith("LOADED ")]
    assert marker, proc.stderr
    return proc.stdout, json.loads(marker[-1].removeprefix("LOADED "))


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["promise", "--help"], ["due", "--help"]])
def test_version_and_help_import_no_database_library(args: list[str]) -> None:
    out, modules = loaded(*args)
    assert out.strip()
    assert "sqlalchemy" not in modules
    assert "sqlmodel" not in modules


def test_shell_completion_imports_no_database_library() -> None:
    out, modules = loaded(_PK_COMPLETE="complete_bash", COMP_WORDS="pk prom", COMP_CWORD="1")
    assert out.split() == ["promise"]
    assert "sqlalchemy" not in modules
    assert "sqlmodel" not in modules


def test_a_data_command_does_load_it(tmp_path: Path) -> None:
    """The probe does see an import: ``pk due`` opens the database."""
    _, modules = loaded("due", PK_DB=str(tmp_path / "p.db"), PK_CONFIG=str(tmp_path / "none.toml"))
    assert "sqlalchemy" in modules
