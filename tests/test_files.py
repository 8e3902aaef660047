"""files: an output target is written, never swapped for another file (docs/reference.md, "Files pk writes").

Real files, symlinks and FIFOs in ``tmp_path`` (never a device node); a killed writer is a real process
killed with SIGKILL.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from promisekeeper import files
from promisekeeper.errors import BadInput, StorageError


def write(path: Path, text: str) -> None:
    with files.text_output(path) as out:
        out.write(text)


def fail_halfway(path: Path) -> None:
    with files.text_output(path) as out:
        out.write("half")
        raise ZeroDivisionError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_regular_file_is_replaced_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o644)
    write(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_failure_while_writing_leaves_the_target_as_it_was_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(ZeroDivisionError):
        fail_halfway(target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_symlink_is_written_through_and_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real" / "promises.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write(link, "new")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert mode(real) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == [
        "promises.json"
    ]  # the temporary file was beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.json", "real"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "made.json")
    write(link, "new")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text() == "new"


def test_what_was_written_into_the_fifo_arrives_whole(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(path.read_bytes()), daemon=True)
    reader.start()
    write(path, "x" * 300_000)  # more than a pipe holds: it is streamed while the reader reads
    reader.join(timeout=30)
    assert got == [b"x" * 300_000]
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_a_symlink_to_a_fifo_streams_into_the_fifo(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    link = tmp_path / "link"
    link.symlink_to(path)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(path.read_bytes()), daemon=True)
    reader.start()
    write(link, "through")
    reader.join(timeout=30)
    assert got == [b"through"]
    assert link.is_symlink()
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_resolve_tells_files_from_streams(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    os.mkfifo(tmp_path / "p")
    assert files.resolve(tmp_path / "f") == files.Target(
        tmp_path / "f", tmp_path / "f", stream=False, exists=True
    )
    assert files.resolve(tmp_path / "new").exists is False
    assert files.resolve(tmp_path / "p").stream is True
    assert files.resolve(Path("-")).stream is True
    with pytest.raises(BadInput, match="is a folder"):
        files.resolve(tmp_path)


def test_a_temporary_file_left_by_a_killed_writer_is_taken_over_and_removed(tmp_path: Path) -> None:
    """A real process is killed (SIGKILL) in the middle of writing customer data under the temporary
    name; the next write to the same target leaves no copy of it anywhere."""
    target = tmp_path / "out.csv"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from promisekeeper import files\n"
        "with files.text_output(Path(sys.argv[1])) as out:\n"
        "    out.write('Anna Smith, +49 170 1234567\\n' * 1000)\n"
        "    out.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(target)], check=False, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    (part,) = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert b"Anna Smith" in part.read_bytes()
    write(target, "id,what\n")
    assert target.read_text() == "id,what\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_stale_temporary_file_is_removed_even_when_the_next_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    part = files.part_name(target)
    part.write_text("Anna Smith, +49 170 1234567\n")
    with pytest.raises(ZeroDivisionError):
        fail_halfway(target)
    assert list(tmp_path.iterdir()) == []


def test_a_second_writer_of_the_same_target_is_exit_4_and_harms_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    part = files.part_name(target)
    fd = os.open(part, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, b"the first writer's data")
    fcntl.flock(fd, fcntl.LOCK_EX)  # the first writer is alive and holds it
    try:
        with pytest.raises(StorageError, match="Another pk is writing"):
            write(target, "second")
        assert part.read_bytes() == b"the first writer's data"
    finally:
        os.close(fd)
    assert not target.exists()


def test_the_temporary_name_fits_however_long_the_target_name(tmp_path: Path) -> None:
    for n in (1, 200, 248, 249, 250, 255):
        target = tmp_path / ("é" * (n // 2) if n % 2 == 0 and n < 250 else "x" * n)
        part = files.part_name(target)
        assert len(os.fsencode(part.name)) <= 255, n
        assert part.parent == tmp_path
        assert part.name.startswith(".")
        assert part.name.endswith(".part")
        assert files.part_name(target) == part  # the same every time: a stale one is found
        write(target, "ok")
        assert target.read_text() == "ok"
        assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
        target.unlink()


@pytest.mark.parametrize(
    ("name", "kind", "start"),
    [
        ("x" * 300, BadInput, "The file name "),
        ("afile/x.json", BadInput, "A part of the path "),
        ("nowhere/x.json", BadInput, "The folder "),
    ],
    ids=["300-character name", "a file as a folder", "no such folder"],
)
def test_a_path_that_cannot_be_is_one_sentence(
    tmp_path: Path, name: str, kind: type[Exception], start: str
) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(kind) as caught:
        write(tmp_path / name, "x")
    assert str(caught.value).startswith(start)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (errno.ENOSPC, StorageError, "is full"),
        (errno.EDQUOT, StorageError, "is full"),
        (errno.EACCES, StorageError, "permission denied"),
        (errno.EROFS, StorageError, "read-only"),
        (errno.EIO, StorageError, "check the disk"),
        (errno.EPIPE, StorageError, "stopped before the end"),
        (errno.ENAMETOOLONG, BadInput, "too long"),
        (errno.ENOTDIR, BadInput, "not a folder"),
        (errno.EISDIR, BadInput, "is a folder"),
        (errno.ELOOP, BadInput, "loop"),
    ],
)
def test_each_failure_is_one_sentence_with_its_code(code: int, kind: type[Exception], words: str) -> None:
    error = files.write_error(OSError(code, os.strerror(code)), Path("/some/where/out.json"))
    assert type(error) is kind
    assert words in str(error)
    assert "/some/where" in str(error)


def test_a_path_with_control_characters_is_shown_on_one_visible_line() -> None:
    shown = files.shown(Path("/tmp/a\nb\x1b[2J.json"))
    assert "\n" not in shown
    assert "\x1b" not in shown
    assert "\\xff" in files.shown(Path(os.fsdecode(b"/tmp/\xff.json")))


def test_a_read_only_folder_is_exit_4_and_leaves_nothing(tmp_path: Path) -> None:
    if os.geteuid() == 0 and not hasattr(os, "setresuid"):  # pragma: no cover
        pytest.skip("root ignores file modes")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip(
                "this user (root) writes into a 0555 folder; tests/cli/test_crash.py drops those powers"
            )
        with pytest.raises(StorageError, match="permission denied"):
            write(folder / "out.json", "x")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)
