"""What ``pk`` loads before it needs the database: nothing of SQLAlchemy for ``--version``, ``--help``
and shell completion (which runs on every Tab), so they start as fast as Typer and Rich allow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promisekeeper import __version__

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


# The same through the console script's entry point (``pk`` runs ``promisekeeper.completion:main``).
ENTRY = PROBE.replace("from promisekeeper.cli import main", "from promisekeeper.completion import main")


def entry(*args: str, **env: str) -> tuple[str, list[str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            ENTRY.replace('"sqlalchemy", "sqlmodel"', '"sqlalchemy", "sqlmodel", "typer", "rich"'),
            *args,
        ],
        capture_output=True,
        text=True,
        env={**base, "PK_DB": "/nonexistent/never-opened.db", **env},
        timeout=60,
        check=False,
    )
    marker = [line for line in proc.stderr.splitlines() if line.startswith("LOADED ")]
    assert marker, proc.stderr
    return proc.stdout, json.loads(marker[-1].removeprefix("LOADED "))


def test_version_is_answered_before_the_command_line_is_built() -> None:
    out, modules = entry("--version")
    assert out == f"pk {__version__}\n"
    assert modules == []


@pytest.mark.parametrize("words", [[], ["promise"], ["promise", "add"]])
def test_a_help_seen_before_is_printed_from_the_cache(tmp_path: Path, words: list[str]) -> None:
    """The first ``--help`` is Typer's; the same one again comes from the cache, with nothing of Typer or
    Rich imported; another width is another help, Typer's again."""
    cache = {"XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "100", "NO_COLOR": "1"}
    first, modules = entry(*words, "--help", **cache)
    assert "typer" in modules
    assert "Usage: pk" in first
    again, modules = entry(*words, "--help", **cache)
    assert again == first
    assert modules == []
    narrow, modules = entry(*words, "--help", **{**cache, "COLUMNS": "60"})
    assert "typer" in modules
    assert narrow != first
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert len(list((tmp_path / "promisekeeper").glob("help-*.txt"))) == 2


def test_a_help_after_the_code_changed_is_made_again(tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path), "COLUMNS": "100", "NO_COLOR": "1"}
    first, _ = entry("--help", **cache)
    (kept,) = (tmp_path / "promisekeeper").glob("help-*.txt")
    kept.write_text("a help of older code\n")
    stale = kept.with_name(kept.name.replace(kept.name.split("-")[1], "0" * 16))
    kept.rename(stale)
    again, modules = entry("--help", **cache)
    assert again == first
    assert "typer" in modules
    assert not stale.exists()  # the help of other code is dropped
