"""Every crash path a shell or a file can reach is one sentence with exit 2 or 4, and leaves no litter.

Each case here was an internal error (exit 1, a Python exception's text) before: run through the
installed ``pk`` as a real process, with the bytes, names, folders and disks that a user or cron has.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_safety import PK, environment, without_root_powers

pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]


def run(
    tmp_path: Path, *args: str, prefix: list[str] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``pk ARGS`` as a process in ``tmp_path`` (``prefix``: e.g. setpriv, to drop root's powers)."""
    return subprocess.run(
        [*(prefix or []), str(PK), *args],
        capture_output=True,
        text=True,
        errors="backslashreplace",
        env=environment(tmp_path, **env),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def one_sentence(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The error line, after checking that it is one line with ``code`` and no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stderr.startswith("pk: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Internal error" not in result.stderr
    return result.stderr


def shop(tmp_path: Path) -> Path:
    """A book with one customer's promise in it (what a leaked temporary file would give away)."""
    assert run(tmp_path, "promise", "add", "Boots", "-c", "Zelda Quixote", "-d", "tue").returncode == 0
    return tmp_path / "p.db"


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- what a shell can pass -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (b"customer", b"add", b"\xff\xfe"),
        (b"promise", b"add", b"Boots \xc3", b"-d", b"tue"),
        (b"promise", b"list", b"--customer", b"\xe9t\xe9"),
        (b"export", b"-o", b"\xff.json"),
    ],
    ids=["customer add", "promise add", "list --customer", "export -o"],
)
def test_an_argument_that_is_not_utf8_is_exit_2(tmp_path: Path, args: tuple[bytes, ...]) -> None:
    result = subprocess.run(
        [os.fsencode(PK), *args],
        capture_output=True,
        env=environment(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    stderr = result.stderr.decode("utf-8")  # pk's own sentence is UTF-8, whatever it was given
    assert result.returncode == 2, stderr
    assert stderr.startswith("pk: Argument ")
    assert "is not valid UTF-8" in stderr
    assert stderr.count("\n") == 1
    assert names(tmp_path) == []  # nothing created: no book, no file


def test_a_database_path_that_is_not_utf8_is_exit_2(tmp_path: Path) -> None:
    env = {k.encode(): v.encode() for k, v in environment(tmp_path).items()}
    env[b"PK_DB"] = os.fsencode(tmp_path) + b"/\xff.db"
    result = subprocess.run(
        [os.fsencode(PK), b"promise", b"add", b"Boots", b"-d", b"tue"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 2), result.stderr
    assert b"Traceback" not in result.stderr
    if result.returncode == 2:
        assert result.stderr.count(b"\n") == 1


# --- files pk is asked to write --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["backup", "export"])
def test_a_file_as_a_folder_is_exit_2(tmp_path: Path, command: str) -> None:
    shop(tmp_path)
    (tmp_path / "afile").write_text("")
    args = ("db", "backup", "afile/x.db") if command == "backup" else ("export", "-o", "afile/x.json")
    assert one_sentence(run(tmp_path, *args), 2) == (
        "pk: A part of the path afile/x.db is a file, not a folder; choose another path.\n"
        if command == "backup"
        else "pk: A part of the path afile/x.json is a file, not a folder; choose another path.\n"
    )
    assert names(tmp_path) == ["afile", "p.db"]


@pytest.mark.parametrize("command", ["backup", "export"])
def test_a_300_character_file_name_is_exit_2(tmp_path: Path, command: str) -> None:
    shop(tmp_path)
    name = "x" * 300
    args = ("db", "backup", name) if command == "backup" else ("export", "-o", name)
    assert "is too long for the file system" in one_sentence(run(tmp_path, *args), 2)
    assert names(tmp_path) == ["p.db"]


def test_a_250_character_file_name_is_written(tmp_path: Path) -> None:
    """The temporary name beside it is longer than the file system allows: it is shortened, not fatal."""
    shop(tmp_path)
    exported, backed_up = "y" * 250, "z" * 250
    for args in (("export", "-o", exported), ("db", "backup", backed_up)):
        result = run(tmp_path, *args)
        assert result.returncode == 0, result.stderr
    assert names(tmp_path) == ["p.db", exported, backed_up]


@pytest.mark.parametrize("command", ["backup", "export"])
def test_a_folder_that_cannot_be_written_is_exit_4_and_leaves_nothing(tmp_path: Path, command: str) -> None:
    """The temporary file cannot be made; its cleanup must not fail in turn (it raised before)."""
    shop(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    folder.chmod(0o555)
    args = ("db", "backup", "backups/copy.db") if command == "backup" else ("export", "-o", "backups/x.json")
    try:
        result = run(tmp_path, *args, prefix=without_root_powers([]))
    finally:
        folder.chmod(0o755)
    assert "permission denied" in one_sentence(result, 4)
    assert names(folder) == []


# --- a damaged book, a malformed URL ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["abc", "0", "-1", ""])
def test_a_damaged_schema_version_is_exit_4_and_leaves_no_copy(tmp_path: Path, version: str) -> None:
    db = shop(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE pk_meta SET value = ? WHERE key = 'schema_version'", (version,))
    conn.close()
    for args in (("due",), ("promise", "add", "Socks", "-d", "tue"), ("db", "upgrade")):
        message = one_sentence(run(tmp_path, *args), 4)
        assert message.startswith(
            f"pk: The database {db} has a damaged schema version ({version!r} in pk_meta"
        )
    assert names(tmp_path) == ["p.db"]  # no p.db.v0-….bak left by each run
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM promise").fetchone()[0] == 1
    conn.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:secret@127.0.0.1:abc/db",
        "postgresql+psycopg://u:secret@[::1/db",
        "postgresql+psycopg://u:secret@127.0.0.1:99999999/db",
    ],
    ids=["port abc", "unclosed bracket", "port out of range"],
)
def test_a_malformed_database_url_is_one_sentence_naming_it(tmp_path: Path, url: str) -> None:
    """No server is needed: the URL is refused before any connection (psycopg may be absent, too)."""
    result = run(tmp_path, "due", PK_DB=url, PGCONNECT_TIMEOUT="2")
    message = one_sentence(result, result.returncode if result.returncode in (2, 4) else 2)
    assert "secret" not in message
    assert "u:***@" in message or "u@" in message or "psycopg" in message


# --- a full disk ----------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs for this test (a new book and its WAL fit, little more); root only, unmounted after."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1024k,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Fill the disk up to its last block."""
    with (folder / "filler").open("wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"x" * size)
            except OSError:
                pass
    assert os.statvfs(folder).f_bavail == 0


def test_an_export_onto_a_full_disk_says_so_and_leaves_the_old_file(tmp_path: Path, small_disk: Path) -> None:
    shop(tmp_path)
    with sqlite3.connect(tmp_path / "p.db") as conn:  # an export (and a backup) larger than the disk
        conn.execute("UPDATE promise SET note = ?", ("n" * 2_000_000,))
    conn.close()
    old = small_disk / "out.json"
    old.write_text("yesterday's export")
    message = one_sentence(run(tmp_path, "export", "-o", str(old)), 4)
    assert message == (
        f"pk: The disk holding {old} is full; nothing was written. Free some space or choose another disk.\n"
    )
    assert old.read_text() == "yesterday's export"
    assert names(small_disk) == ["out.json"]
    backup = one_sentence(run(tmp_path, "db", "backup", str(small_disk / "b.db")), 4)
    assert "is full" in backup
    assert names(small_disk) == ["out.json"]


def test_a_book_on_a_full_disk_says_the_disk_is_full(tmp_path: Path, small_disk: Path) -> None:
    db = small_disk / "p.db"
    assert run(tmp_path, "promise", "add", "Boots", "-d", "tue", PK_DB=str(db)).returncode == 0
    fill(small_disk)
    result = run(tmp_path, "promise", "add", "Socks", "-d", "tue", "--note", "n" * 5000, PK_DB=str(db))
    assert one_sentence(result, 4) == (
        f"pk: The disk holding the database {db} is full; nothing was written. Free some space first.\n"
    )
    (small_disk / "filler").unlink()
    listed = run(tmp_path, "promise", "list", PK_DB=str(db))
    assert listed.returncode == 0, listed.stderr
    assert "Boots" in listed.stdout
    assert "Socks" not in listed.stdout
