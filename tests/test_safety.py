"""Nothing lost: real processes on a real SQLite file, racing, killed, locked out, or handed bad files.

These run the installed ``pk`` (and, where 120 process starts would take too long, the same entry point
in-process inside several real processes) exactly as tills and cron jobs do.
"""

from __future__ import annotations

import csv
import os
import pty
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PK = Path(sys.executable).parent / "pk"
pytestmark = [
    pytest.mark.skipif(not PK.exists(), reason="the pk console script is not installed in this environment"),
    pytest.mark.slow,  # every test here starts the installed pk as a process
]
NOW = "2026-11-22T10:00:00+01:00"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PK_") and k not in ("NO_COLOR", "COLUMNS", "FORCE_COLOR")
    }
    env.update(
        PK_DB=str(tmp_path / "p.db"),
        PK_CONFIG=str(tmp_path / "none.toml"),
        PK_TZ="Europe/Berlin",
        PK_NOW=NOW,
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    env.update(extra)
    return env


def pk(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PK), *args],
        capture_output=True,
        text=True,
        env=environment(tmp_path, **extra),
        timeout=120,
        check=False,
    )


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def big_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "what", "quantity", "price", "due", "staff", "delivered_at"])
        for i in range(n):
            delivered = f"2026-10-{1 + i % 28:02d}" if i % 2 else ""
            out.writerow(
                [
                    f"Customer {i % 500}",
                    f"Item {i}",
                    1 + i % 3,
                    f"{i % 400}.50",
                    f"2026-10-{1 + i % 28:02d}",
                    "Jo",
                    delivered,
                ]
            )
    return path


# --- concurrency -----------------------------------------------------------------------------------

TILL = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from promisekeeper.cli import app

    till, go = sys.argv[1], Path(sys.argv[2])
    Path(f"{go}.{till}").touch()  # imported and ready
    while not go.exists():
        time.sleep(0.002)
    failures = 0
    for i in range(15):
        try:
            app(["promise", "add", f"till {till} item {i}", "-d", "tomorrow", "-c", f"Customer {i % 4}"],
                prog_name="pk")
        except SystemExit as exc:
            failures += exc.code != 0
    sys.exit(1 if failures else 0)
    """
)


def test_eight_tills_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    """8 processes × 15 commands on one new file, started together: every promise recorded, no error."""
    go = tmp_path / "go"
    tills = [
        subprocess.Popen(
            [sys.executable, "-c", TILL, str(n), str(go)],
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{n}").exists() for n in range(8)):  # every till at the line
        assert time.monotonic() < deadline
        time.sleep(0.01)
    go.touch()
    results = [(p.wait(timeout=120), *p.communicate()) for p in tills]
    for code, out, err in results:
        assert (code, err) == (0, "")
        assert out.count("Promised #") == 15
    db = tmp_path / "p.db"
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM promise ORDER BY id")]
        whats = {r[0] for r in conn.execute("SELECT what FROM promise")}
        customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM event WHERE kind = 'promised'").fetchone()[0]
    assert ids == list(range(1, 121))
    assert whats == {f"till {t} item {i}" for t in range(8) for i in range(15)}
    assert customers == 4
    assert events == 120


def test_the_installed_pk_started_four_times_at_once_on_a_new_file(tmp_path: Path) -> None:
    env = environment(tmp_path)
    procs = [
        subprocess.Popen(
            [str(PK), "promise", "add", f"Item {n}", "-d", "tomorrow", "-c", "Anna"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert (p.returncode, err) == (0, "")
        assert out.startswith("Promised #")
    assert rows(tmp_path / "p.db", "promise") == 4
    assert rows(tmp_path / "p.db", "customer") == 1


# --- crashes ---------------------------------------------------------------------------------------


def test_sigkill_in_the_middle_of_an_import_leaves_it_wholly_absent(tmp_path: Path) -> None:
    assert pk(tmp_path, "promise", "add", "Before", "-d", "tomorrow").returncode == 0
    db = tmp_path / "p.db"
    wal = tmp_path / "p.db-wal"
    data = big_csv(tmp_path / "big.csv", 30_000)
    proc = subprocess.Popen(
        [str(PK), "import", str(data)],
        env=environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while not (wal.exists() and wal.stat().st_size > 1_000_000):
        assert proc.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT what FROM promise").fetchall() == [("Before",)]
        assert conn.execute("SELECT count(*) FROM customer").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM event").fetchone()[0] == 1
    again = pk(tmp_path, "import", str(big_csv(tmp_path / "small.csv", 10)))  # no lock or debris left
    assert again.returncode == 0, again.stderr
    assert rows(db, "promise") == 11


# --- locks and bad files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hold", "args"),
    [
        (("BEGIN IMMEDIATE",), ("promise", "add", "Boots", "-d", "tomorrow")),
        (("PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE", "DELETE FROM promise_tag"), ("due",)),
    ],
    ids=["writers", "readers"],
)
def test_a_database_locked_beyond_the_wait_is_exit_4(
    tmp_path: Path, hold: tuple[str, ...], args: tuple[str, ...]
) -> None:
    assert pk(tmp_path, "promise", "add", "Before", "-d", "tomorrow").returncode == 0
    db = tmp_path / "p.db"
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in hold:
            holder.execute(statement)
        began = time.monotonic()
        result = pk(tmp_path, *args, PK_BUSY_TIMEOUT_MS="300")
        took = time.monotonic() - began
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 4
    assert result.stderr == (
        f"pk: The database {db} is locked by another program beyond the 300 ms wait; try again.\n"
    )
    assert took < 10
    assert rows(db, "promise") == 1


def test_a_bad_busy_timeout_is_bad_input(tmp_path: Path) -> None:
    result = pk(tmp_path, "due", PK_BUSY_TIMEOUT_MS="soon")
    assert result.returncode == 2
    assert result.stderr == "pk: PK_BUSY_TIMEOUT_MS='soon' must be a number of milliseconds, e.g. 15000.\n"


def damage_pages(db: Path) -> None:
    with db.open("r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(4096 * 6))


@pytest.mark.parametrize(
    ("prepare", "args", "code", "start"),
    [
        ("garbage", ("due",), 4, "pk: The database"),
        ("damaged", ("promise", "list"), 4, "pk: The database"),
        ("latin-1", ("import", "kasse.csv"), 2, "pk: kasse.csv is not UTF-8 text"),
        ("folder", ("due",), 4, "pk: The database path"),
        ("import folder", ("import", "."), 2, "pk: . is a folder"),
    ],
)
def test_bad_files_are_one_sentence_and_the_right_code(
    tmp_path: Path, prepare: str, args: tuple[str, ...], code: int, start: str
) -> None:
    db = tmp_path / "p.db"
    if prepare == "garbage":
        db.write_bytes(b"not a database, just a file with the wrong name\n" * 200)
    elif prepare == "damaged":
        assert pk(tmp_path, "promise", "add", "Boots", "-d", "tomorrow").returncode == 0
        assert not (tmp_path / "p.db-wal").exists()  # checkpointed: every page is in the file
        damage_pages(db)
    elif prepare == "latin-1":
        (tmp_path / "kasse.csv").write_bytes("what,due\nSchnürsenkel,tomorrow\n".encode("latin-1"))
    elif prepare == "folder":
        db.mkdir()
    result = subprocess.run(
        [str(PK), *args],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(start)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def without_root_powers(args: list[str]) -> list[str]:
    """The command as a user the file modes apply to: as root, run it without the capabilities that
    override them (root still owns the folders, which is what makes their modes bite)."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to apply")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable", "--", *args]


def test_a_folder_that_cannot_be_written_is_exit_4(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    db = locked / "p.db"
    result = subprocess.run(
        without_root_powers([str(PK), "promise", "add", "Boots", "-d", "tue"]),
        capture_output=True,
        text=True,
        env=environment(tmp_path, PK_DB=str(db)),
        timeout=60,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert result.stderr == f"pk: Cannot create the database {db}: Permission denied.\n"


def test_a_database_in_a_folder_that_cannot_be_written_is_exit_4(tmp_path: Path) -> None:
    """SQLite needs to create its -wal file beside the database: a read-only folder is a storage error."""
    folder = tmp_path / "shop"
    folder.mkdir()
    db = folder / "p.db"
    assert pk(tmp_path, "promise", "add", "Boots", "-d", "tomorrow", PK_DB=str(db)).returncode == 0
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            without_root_powers([str(PK), "promise", "add", "Socks", "-d", "tomorrow"]),
            capture_output=True,
            text=True,
            env=environment(tmp_path, PK_DB=str(db)),
            timeout=60,
            check=False,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith(f"pk: The database {db} is not writable")
    assert result.stderr.count("\n") == 1
    assert rows(db, "promise") == 1


# --- the progress bar ------------------------------------------------------------------------------


def test_a_large_import_shows_a_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    data = big_csv(tmp_path / "big.csv", 8000)
    assert data.stat().st_size > 256 * 1024
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(PK), "import", str(data)],
        env=environment(tmp_path, COLUMNS="100", TERM="xterm-256color"),
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert out.startswith("Imported 8000 promises")
    screen = shown.decode("utf-8", "replace")
    assert "Reading big.csv" in screen or "Writing" in screen
    piped = pk(tmp_path, "--db", str(tmp_path / "other.db"), "import", str(data))
    assert piped.returncode == 0
    assert piped.stderr == ""


# --- a book that is not there, a book that cannot be written ----------------------------------------


READS = [
    ("due",),
    ("check",),
    ("promise", "list"),
    ("customer", "list"),
    ("stats",),
    ("export", "--format", "csv"),
    ("due", "--json"),
]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a) for a in READS])
def test_a_read_on_a_missing_book_answers_empty_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A mistyped PK_DB: the answer of an empty book, one line naming the path, and no book made."""
    db = tmp_path / "typo" / "dir" / "p.db"
    result = pk(tmp_path, *args, PK_DB=str(db))
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"pk: There is no promise book at {db} yet, so this is what an empty one holds; "
        "start one with pk promise add (or check --db or PK_DB).\n"
    )
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("promise", "show", "3"), 3),
        (("customer", "show", "Anna"), 3),
        (("deliver", "3"), 3),
        (("done", "3"), 3),
        (("promise", "amend", "3", "--qty", "2", "--reason", "asked"), 3),
        (("promise", "cancel", "3", "--reason", "gone"), 3),
        (("remedy", "3", "--action", "refund"), 3),
        (("db", "backup", "copy.db"), 3),
        (("notify", "--to", "owner@example.com", "--from", "pk@example.com", "--dry-run"), 4),
    ],
    ids=lambda a: " ".join(a[:2]) if isinstance(a, tuple) else str(a),
)
def test_a_missing_book_is_not_found_and_is_never_created(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    db = tmp_path / "typo" / "p.db"
    result = pk(tmp_path, *args, PK_DB=str(db))
    assert result.returncode == code, result.stderr
    assert result.stderr == (
        f"pk: There is no promise book at {db} yet; check --db or PK_DB, or start one with pk promise add.\n"
    )
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize(
    "args",
    [("promise", "add", "Boots", "-d", "tue"), ("customer", "add", "Anna"), ("db", "upgrade")],
    ids=["promise add", "customer add", "db upgrade"],
)
def test_the_commands_that_record_something_start_a_book(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "new" / "p.db"
    result = pk(tmp_path, *args, PK_DB=str(db))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert db.stat().st_mode & 0o777 == 0o600


def test_an_import_starts_a_book_but_its_dry_run_does_not(tmp_path: Path) -> None:
    data = tmp_path / "till.csv"
    data.write_text("what,due\nBoots,2026-11-24\n")
    db = tmp_path / "new" / "p.db"
    dry = pk(tmp_path, "import", str(data), "--dry-run", PK_DB=str(db))
    assert dry.returncode == 0, dry.stderr
    assert not db.parent.exists()
    assert pk(tmp_path, "import", str(data), PK_DB=str(db)).returncode == 0
    assert rows(db, "promise") == 1


@pytest.fixture
def read_only_book(tmp_path: Path) -> Iterator[Path]:
    """A book with two promises on a read-only mount (a bind mount remounted ``ro``: root cannot write
    it either); skipped where mounting is not allowed."""
    source = tmp_path / "shop"
    source.mkdir()
    db = source / "p.db"
    assert pk(tmp_path, "promise", "add", "Boots", "-c", "Anna", "-d", "tue", PK_DB=str(db)).returncode == 0
    assert (
        pk(tmp_path, "promise", "add", "Socks", "-c", "Ben", "-d", "2026-11-20", PK_DB=str(db)).returncode
        == 0
    )
    medium = tmp_path / "medium"
    medium.mkdir()
    bound = subprocess.run(["mount", "--bind", str(source), str(medium)], capture_output=True, check=False)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode(errors='replace').strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(medium)], capture_output=True, check=False)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {ro.stderr.decode(errors='replace').strip()}")
        yield medium / "p.db"
    finally:
        subprocess.run(["umount", str(medium)], check=False)


READ_ONLY_READS = [
    ("due",),
    ("check",),
    ("promise", "list", "--json"),
    ("promise", "show", "1"),
    ("customer", "list"),
    ("customer", "show", "Anna"),
    ("stats",),
    ("export", "--format", "csv"),
    ("db", "upgrade"),
]


def test_a_book_on_a_read_only_medium_is_read_by_every_read_command(
    tmp_path: Path, read_only_book: Path
) -> None:
    for args in READ_ONLY_READS:
        result = pk(tmp_path, *args, PK_DB=str(read_only_book))
        assert result.returncode == 0, (args, result.stderr)
        assert result.stderr == "", args
    assert "Socks" in pk(tmp_path, "promise", "list", PK_DB=str(read_only_book)).stdout
    backup = pk(tmp_path, "db", "backup", str(tmp_path / "copy.db"), PK_DB=str(read_only_book))
    assert backup.returncode == 0, backup.stderr
    assert rows(tmp_path / "copy.db", "promise") == 2
    assert sorted(p.name for p in read_only_book.parent.iterdir()) == ["p.db"]


@pytest.mark.parametrize(
    "args",
    [
        ("promise", "add", "Laces", "-d", "tue"),
        ("deliver", "1"),
        ("promise", "cancel", "2", "--reason", "gone"),
        ("customer", "add", "Cleo"),
    ],
    ids=["promise add", "deliver", "cancel", "customer add"],
)
def test_a_write_to_a_read_only_book_is_exit_4_naming_it(
    tmp_path: Path, read_only_book: Path, args: tuple[str, ...]
) -> None:
    result = pk(tmp_path, *args, PK_DB=str(read_only_book))
    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"pk: The database {read_only_book} is not writable (a read-only file or folder); "
        "pk can read it but not change it.\n"
    )


def test_a_book_whose_file_and_folder_are_read_only_is_read(tmp_path: Path) -> None:
    """File modes rather than a mount: a 0400 book in a 0555 folder, as a user the modes apply to."""
    folder = tmp_path / "shop"
    folder.mkdir()
    db = folder / "p.db"
    assert pk(tmp_path, "promise", "add", "Boots", "-d", "tue", PK_DB=str(db)).returncode == 0
    db.chmod(0o400)
    folder.chmod(0o555)
    try:
        read = subprocess.run(
            without_root_powers([str(PK), "promise", "list"]),
            capture_output=True,
            text=True,
            env=environment(tmp_path, PK_DB=str(db)),
            timeout=60,
            check=False,
        )
        write = subprocess.run(
            without_root_powers([str(PK), "deliver", "1"]),
            capture_output=True,
            text=True,
            env=environment(tmp_path, PK_DB=str(db)),
            timeout=60,
            check=False,
        )
    finally:
        folder.chmod(0o755)
        db.chmod(0o600)
    assert read.returncode == 0, read.stderr
    assert "Boots" in read.stdout
    assert write.returncode == 4, write.stderr
    assert write.stderr.startswith(f"pk: The database {db} is not writable")
    assert sorted(p.name for p in folder.iterdir()) == ["p.db"]


@pytest.mark.parametrize(("answer", "replaced"), [(b"y\n", True), (b"n\n", False), (b"\n", False)])
def test_backup_onto_an_existing_file_asks_on_a_terminal(
    tmp_path: Path, answer: bytes, replaced: bool
) -> None:
    assert pk(tmp_path, "promise", "add", "Boots", "-d", "tue").returncode == 0
    dest = tmp_path / "copy.db"
    dest.write_text("last week's backup")
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(PK), "db", "backup", str(dest)],
        env=environment(tmp_path),
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while b"[y/N]" not in shown:
        chunk = os.read(controller, 1024)
        assert chunk, shown
        shown += chunk
    os.write(controller, answer)
    out, _ = proc.communicate(timeout=60)
    while True:
        try:
            chunk = os.read(controller, 1024)
        except OSError:  # the terminal's other end is closed: pk has finished
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    screen = shown.decode().replace("\r\n", "\n")
    assert f"{dest} exists already. Replace it with this backup? [y/N]" in screen
    if replaced:
        assert proc.returncode == 0, screen
        assert out.decode().startswith("Backed up ")
        assert rows(dest, "promise") == 1
    else:
        assert proc.returncode == 2, screen
        assert screen.endswith(
            f"pk: {dest} was kept; nothing was written (--force replaces it without asking).\n"
        )
        assert dest.read_text() == "last week's backup"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_killed_export_leaves_no_customer_data_the_next_export_does_not_remove(tmp_path: Path) -> None:
    """``pk export -o FILE`` killed with SIGKILL in the middle of writing: its ``.FILE.part`` (customer data)
    is taken over and removed by the next export to FILE, and FILE is never half-written."""
    assert pk(tmp_path, "import", str(big_csv(tmp_path / "big.csv", 20_000))).returncode == 0
    out = tmp_path / "out.json"
    out.write_text('{"yesterday": true}\n')
    part = tmp_path / ".out.json.part"
    proc = subprocess.Popen(
        [str(PK), "export", "-o", str(out)],
        env=environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while not (part.exists() and part.stat().st_size > 100_000):
        assert proc.poll() is None, "the export finished before it could be killed"
        assert time.monotonic() < deadline, "the export never started writing"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert b"Customer 1" in part.read_bytes()
    assert out.read_text() == '{"yesterday": true}\n'
    again = pk(tmp_path, "export", "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert not part.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert out.read_text().startswith('{\n"format": "promisekeeper"')


def test_notify_on_a_read_only_book_sends_nothing_it_could_not_record(
    tmp_path: Path, read_only_book: Path
) -> None:
    """pk notify records every mail it sends (the sent-log, --only-new); on a book it cannot write it
    would send and then fail to record, so a second run would mail the same again. It says so first."""
    from tests.cli.test_notify import _start

    controller, server = _start()
    try:
        result = pk(
            tmp_path,
            *("notify", "--to", "owner@example.com", "--from", "pk@example.com"),
            *("--smtp-host", "127.0.0.1", "--smtp-port", str(server.port), "--smtp-security", "none"),
            PK_DB=str(read_only_book),
        )
    finally:
        controller.stop()
    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"pk: The database {read_only_book} is not writable (a read-only file or folder); "
        "pk can read it but not change it.\n"
    )
    assert server.received == []
