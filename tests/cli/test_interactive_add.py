"""``pk promise add`` without WHAT or ``--due``: asked for on a terminal (a real pseudo-terminal running the
installed ``pk``), refused with exit 2 through a pipe (docs/reference.md, "promise add")."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

PK = Path(sys.executable).parent / "pk"
pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]


def environment(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    base.update(
        PK_DB=str(tmp_path / "p.db"),
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW="2026-11-22T10:00:00+01:00",
        XDG_DATA_HOME=str(tmp_path / "data"),
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="120",
    )
    return base


def pk(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PK), *args], input=stdin, capture_output=True, text=True, env=environment(tmp_path), timeout=60
    )


class Terminal:
    """The installed ``pk`` on a pseudo-terminal: wait for a prompt, type an answer."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [str(PK), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment(tmp_path),
            close_fds=True,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        """Everything shown up to and including ``text``; fails naming what was shown instead."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}; the terminal showed {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"pk ended before {text!r}; the terminal showed {self.seen!r}"
                self.seen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        shown, _, self.seen = self.seen.partition(text)
        return shown + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self) -> tuple[int, str]:
        rest = ""
        while True:
            ready, _, _ = select.select([self.master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            rest += chunk.decode("utf-8", "replace")
        code = self.proc.wait(timeout=30)
        os.close(self.master)
        return code, self.seen + rest.replace("\r\n", "\n")


def test_a_terminal_is_asked_for_what_customer_price_and_due(tmp_path: Path) -> None:
    assert pk(tmp_path, "promise", "add", "Tent", "-c", "Anna Smith", "-d", "tue").returncode == 0
    assert pk(tmp_path, "promise", "add", "Stove", "-c", "Ben Okafor", "-d", "tue").returncode == 0
    term = Terminal(tmp_path, "promise", "add")
    term.expect("What was promised")
    term.type("Hiking boots size 38")
    offered = term.expect("Customer (a number, a name, or Enter for none)")
    assert "1) Ben Okafor" in offered  # the latest customer first
    assert "2) Anna Smith" in offered
    term.type("2")
    term.expect("Price (Enter for none)")
    term.type("twelve")  # not a price: said why, asked again
    term.expect("Price (Enter for none)")
    term.type("240")
    term.expect("Due (e.g.")
    term.type("tue")
    code, shown = term.finish()
    assert code == 0, shown
    assert "Promised #3: Hiking boots size 38 to Anna Smith for €240.00, due Tue 24 Nov" in shown
    stored = json.loads(pk(tmp_path, "promise", "show", "3", "--json").stdout)
    assert (stored["what"], stored["customer"], stored["price"]) == (
        "Hiking boots size 38",
        "Anna Smith",
        "240.00",
    )


def test_a_name_like_a_known_customer_offers_the_known_one(tmp_path: Path) -> None:
    assert pk(tmp_path, "promise", "add", "Tent", "-c", "Jürgen Müller", "-d", "tue").returncode == 0
    term = Terminal(tmp_path, "promise", "add", "Boots", "--price", "90")
    term.expect("Customer (a number, a name, or Enter for none)")
    term.type("muller")
    offered = term.expect('A number, or Enter for a new customer "muller"')
    assert "1) Jürgen Müller" in offered
    term.type("1")
    term.expect("Due (e.g.")  # what and price were given: not asked
    term.type("3d")
    code, shown = term.finish()
    assert code == 0, shown
    assert "Promised #2: Boots to Jürgen Müller" in shown


def test_without_a_terminal_nothing_is_asked(tmp_path: Path) -> None:
    both = pk(tmp_path, "promise", "add", stdin="Boots\ntue\n")
    assert both.returncode == 2
    assert both.stderr.startswith("pk: WHAT and --due are required")
    assert both.stderr.count("\n") == 1
    due = pk(tmp_path, "promise", "add", "Boots")
    assert due.returncode == 2
    assert due.stderr.startswith("pk: --due is required")
    assert not (tmp_path / "p.db").exists()  # refused before anything was written
