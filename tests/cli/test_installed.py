"""The installed ``pk`` run as a subprocess, exactly as a user or cron runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PK = Path(sys.executable).parent / "pk"
pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("PK_") and k not in ("NO_COLOR", "COLUMNS")
    }
    base.update(
        PK_DB=str(tmp_path / "p.db"),
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW="2026-11-22T10:00:00+01:00",
        XDG_DATA_HOME=str(tmp_path / "data"),
        FORCE_COLOR="",
        TERM="xterm-256color",
    )
    base.update(env)
    return subprocess.run([str(PK), *args], capture_output=True, text=True, env=base, timeout=60, check=False)


def test_piped_output_has_no_escape_codes(tmp_path: Path) -> None:
    assert (
        run(tmp_path, "promise", "add", "Boots", "-c", "Anna", "-p", "240", "-d", "2026-11-20").returncode
        == 0
    )
    run(tmp_path, "promise", "add", "Call Ben", "--kind", "callback", "-d", "today 16:00")
    for args in (("due",), ("promise", "list"), ("promise", "show", "1"), ("check",)):
        result = run(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        assert "\x1b[" not in result.stdout, args
        assert result.stdout.strip()


def test_errors_are_one_line_with_the_exit_code(tmp_path: Path) -> None:
    result = run(tmp_path, "promise", "add", "Boots", "-d", "someday")
    assert result.returncode == 2
    assert result.stderr.startswith("pk: ")
    assert result.stderr.count("\n") == 1
    run(tmp_path, "promise", "add", "Boots", "-d", "tue")  # a book, so that #42 is what is missing
    missing = run(tmp_path, "deliver", "42")
    assert missing.returncode == 3
    assert missing.stderr == "pk: There is no promise #42; `pk promise list` shows the ids.\n"


def test_fail_on_overdue_for_monitoring(tmp_path: Path) -> None:
    run(tmp_path, "promise", "add", "Boots", "-d", "2026-11-01")
    assert run(tmp_path, "due", "--fail-on-overdue").returncode == 1


def test_new_database_file_is_private(tmp_path: Path) -> None:
    run(tmp_path, "promise", "add", "Boots", "-d", "today")
    assert (tmp_path / "p.db").stat().st_mode & 0o777 == 0o600


def test_unwritable_folder_is_exit_4(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; the permission check cannot fail")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = run(tmp_path, "due", PK_DB=str(locked / "sub" / "p.db"))
    assert result.returncode == 4
    assert result.stderr.count("\n") == 1


def test_python_m_and_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "promisekeeper", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("pk ")


def test_demo_uses_its_own_database(tmp_path: Path) -> None:
    result = run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert "Overdue" in result.stdout
    assert not (tmp_path / "p.db").exists()
    assert (tmp_path / "data" / "promisekeeper" / "demo.db").exists()
