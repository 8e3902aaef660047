"""Shell completion through Click's protocol, run as the shell runs it: the installed ``pk`` with
``_PK_COMPLETE`` (docs/reference.md, "Shell completion"). Commands, options, the values of ``--kind``,
``--status``, ``--by`` and ``--format``, open promise ids with what they are, customer and staff names; on
SQLite without SQLAlchemy, on PostgreSQL through the store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promisekeeper.completion import _fingerprint, split_arg_string
from tests.cli.conftest import Pk

PK = Path(sys.executable).parent / "pk"
pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]


def tab(
    env: dict[str, str], line: str, *, shell: str = "bash", **extra: str
) -> subprocess.CompletedProcess[str]:
    """Press Tab at the end of ``line`` (``pk deliver `` completes a new word; ``pk deliver 1`` that word)."""
    words = split_arg_string(line)
    cword = len(words) if line.endswith(" ") else len(words) - 1
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_", "_TYPER"))}
    run_env = {
        **base,
        **env,
        "_PK_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(cword),
        **extra,
    }
    proc = subprocess.run([str(PK)], capture_output=True, text=True, env=run_env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc


def bash(env: dict[str, str], line: str) -> list[str]:
    """The values offered (Click's bash protocol: one ``type,value`` a line)."""
    out = tab(env, line).stdout
    return [row.partition(",")[2] for row in out.splitlines()]


def zsh(env: dict[str, str], line: str) -> dict[str, str]:
    """The values offered with their help (Click's zsh protocol: type, value, help; ``_`` for none)."""
    rows = tab(env, line, shell="zsh").stdout.split("\n")
    return {rows[i + 1].replace("\\:", ":"): rows[i + 2] for i in range(0, len(rows) - 2, 3)}


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**cli_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def shop(pk: Pk, env: dict[str, str]) -> dict[str, str]:
    """#1 open boots for Anna Smith by Jo, #2 delivered (closed), #3 cancelled, #4 an open call by Zoë."""
    for args in (
        ("promise", "add", "Hiking boots", "-c", "Anna Smith", "-s", "Jo", "-d", "tue"),
        ("promise", "add", "Tent", "-c", "Anna Schmidt", "-d", "tue", "--price", "90"),
        ("promise", "add", "Stove", "-c", "Ben Okafor", "-d", "tue"),
        (
            "promise",
            "add",
            "Call: about the stove",
            "--kind",
            "callback",
            "-c",
            "Jürgen Müller",
            "-s",
            "Zoë",
            "-d",
            "mon",
        ),
        ("deliver", "2", "--no-followup"),
        ("promise", "cancel", "3", "--reason", "Bought elsewhere"),
    ):
        result = pk(*args)
        assert result.exit_code == 0, result.stderr
    return env


def test_open_promise_ids_with_what_they_are(shop: dict[str, str]) -> None:
    assert bash(shop, "pk deliver ") == ["4", "1"]  # open ones only, soonest due first
    assert bash(shop, "pk deliver 1") == ["1"]
    assert bash(shop, "pk promise show ") == ["4", "1"]
    assert zsh(shop, "pk done ") == {"4": "Call: about the stove", "1": "Hiking boots"}


def test_customer_and_staff_names(shop: dict[str, str]) -> None:
    assert bash(shop, "pk promise list --customer ann") == ["Anna Schmidt", "Anna Smith"]
    assert bash(shop, 'pk promise add Boots -c "AnNa Sm') == ["Anna Smith"]  # an unfinished quote
    assert set(bash(shop, "pk customer show ")) == {
        "Anna Smith",
        "Anna Schmidt",
        "Ben Okafor",
        "Jürgen Müller",
    }
    assert bash(shop, "pk customer show jü") == ["Jürgen Müller"]
    assert bash(shop, "pk due --staff ") == ["Jo", "Zoë"]
    assert bash(shop, "pk promise list -s z") == ["Zoë"]


def test_choices_of_kind_status_by_and_format(env: dict[str, str]) -> None:
    assert bash(env, "pk promise add Boots --kind ") == ["delivery", "callback", "reply", "followup", "other"]
    assert bash(env, "pk promise list --status o") == ["open", "overdue"]
    assert bash(env, "pk stats --by ") == ["week", "month", "staff", "kind", "customer"]
    assert bash(env, "pk due --format ") == ["table", "json", "csv"]
    assert bash(env, "pk find boots -f j") == ["json"]


def test_commands_and_options(env: dict[str, str]) -> None:
    assert bash(env, "pk prom") == ["promise"]
    assert "find" in bash(env, "pk ")
    assert bash(env, "pk promise ")[:2] == ["add", "list"]
    assert bash(env, "pk promise list --s") == ["--status", "--staff", "--search"]
    assert bash(env, "pk promise list --status open --s") == ["--status", "--staff", "--search"]  # repeatable
    assert bash(env, "pk due --staff Jo --s") == []  # given once already
    helps = zsh(env, "pk d")
    assert helps["deliver"].startswith("Record a delivery")
    assert zsh(env, "pk promise list --sea") == {"--search": zsh(env, "pk promise list --sea")["--search"]}


def test_a_missing_book_offers_nothing_and_stays_missing(env: dict[str, str], tmp_path: Path) -> None:
    missing = {**env, "PK_DB": str(tmp_path / "not-yet" / "p.db")}
    assert bash(missing, "pk deliver ") == []
    assert bash(missing, "pk promise list -c ") == []
    assert not (tmp_path / "not-yet").exists()


def test_the_db_option_on_the_line_is_the_book_read(shop: dict[str, str], tmp_path: Path) -> None:
    elsewhere = {**shop, "PK_DB": str(tmp_path / "other.db")}
    assert bash(elsewhere, "pk deliver ") == []
    assert bash(elsewhere, f"pk --db {shop['PK_DB']} deliver ") == ["4", "1"]


def imports(env: dict[str, str], line: str) -> tuple[list[str], set[str]]:
    """A Tab (Click's bash protocol) under ``-X importtime``: what it offered, every module imported."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    words = split_arg_string(line)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(PK)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **base,
            **env,
            "_PK_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words)),
        },
    )
    assert proc.returncode == 0, proc.stderr
    modules = {
        row.split("|")[-1].strip() for row in proc.stderr.splitlines() if row.startswith("import time:")
    }
    return proc.stdout.splitlines(), modules


@pytest.mark.sqlite_only
def test_a_tab_imports_no_sqlalchemy_and_once_warm_no_typer(shop: dict[str, str]) -> None:
    """The first Tab learns the commands (Typer, no SQLAlchemy); the next ones read the cached tree and
    the book with sqlite3 alone."""
    offered, first = imports(shop, "pk deliver ")
    assert offered == ["plain,4", "plain,1"]
    assert "typer" in first  # the probe sees imports
    assert not {m for m in first if m.split(".")[0] in ("sqlalchemy", "sqlmodel")}
    offered, warm = imports(shop, "pk deliver ")
    assert offered == ["plain,4", "plain,1"]
    assert "sqlite3" in warm
    assert not {m for m in warm if m.split(".")[0] in ("sqlalchemy", "sqlmodel", "typer", "pydantic", "rich")}
    assert len(list((Path(shop["XDG_CACHE_HOME"]) / "promisekeeper").glob("completion-*.json"))) == 1


def test_the_scripts_pk_install_completion_writes_are_answered_too(shop: dict[str, str]) -> None:
    """Typer's protocol: ``complete_bash`` (plain values), ``complete_zsh`` and ``complete_fish``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_", "_TYPER"))}

    def typer(instruction: str, **extra: str) -> subprocess.CompletedProcess[str]:
        run_env = {**base, **shop, "_PK_COMPLETE": instruction, **extra}
        return subprocess.run([str(PK)], capture_output=True, text=True, env=run_env, timeout=60, check=False)

    assert typer("complete_bash", COMP_WORDS="pk deliver ", COMP_CWORD="2").stdout.split("\n") == ["4", "1"]
    zsh_out = typer("complete_zsh", _TYPER_COMPLETE_ARGS="pk deliver ").stdout
    assert zsh_out == """_arguments '*: :(("4":"Call\\\\: about the stove"\n"1":"Hiking boots"))'"""
    fish = typer(
        "complete_fish", _TYPER_COMPLETE_ARGS="pk stats --by m", _TYPER_COMPLETE_FISH_ACTION="get-args"
    )
    assert fish.stdout == "month"


def test_stored_text_is_shown_harmlessly(pk: Pk, env: dict[str, str], db_sql: object) -> None:
    assert pk("promise", "add", "Boots", "-d", "tue").exit_code == 0
    from tests.conftest import SQL

    assert isinstance(db_sql, SQL)
    db_sql.rows("UPDATE promise SET what = 'Boots\x1b[31m red' WHERE id = 1")
    assert zsh(env, "pk deliver ") == {"1": "Boots␛[31m red"}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_click_scripts(env: dict[str, str], shell: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    script = subprocess.run(
        [str(PK)], capture_output=True, text=True, env={**base, "_PK_COMPLETE": f"{shell}_source"}, timeout=60
    ).stdout
    assert f"_PK_COMPLETE={shell}_complete" in script
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed here to check the script's syntax")
    check = [program, "-n"] if shell != "fish" else [program, "--no-execute"]
    assert subprocess.run([*check], input=script, text=True, capture_output=True, timeout=60).returncode == 0


def test_the_cache_changes_with_the_code(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    before = _fingerprint(package, "1.0")
    assert _fingerprint(package, "1.0") == before
    assert _fingerprint(package, "1.1") != before
    (package / "a.py").write_text("x = 12\n")
    assert _fingerprint(package, "1.0") != before
