"""Writing a file the user named (``pk export -o FILE``, ``pk db backup FILE``) without harming what is there.

- A regular file (or a name not yet taken) is replaced atomically: the output is written under a
  temporary name beside it (``.NAME.part``), synced, and renamed over it only when complete. On any
  failure the temporary file is removed; one left by a killed run is taken over, emptied and reused by
  the next write to the same target, so no copy of customer data lingers there.
- A symlink is written through: its target is replaced (atomically, at the target's real path), the
  link itself stays.
- A device or FIFO is written directly, as a stream: ``/dev/null`` stays a device, and the program
  reading a FIFO gets the data.
- Whatever pk creates is readable by its owner only (0600).

Every ``OSError`` on the way is one sentence (``BadInput``, exit 2: the path the user typed cannot be;
``StorageError``, exit 4: the disk or the medium cannot take it). Plain standard library.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from promisekeeper.errors import BadInput, PkError, StorageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; a second writer there is simply not detected
    fcntl = None  # type: ignore[assignment]

MODE = 0o600
NAME_MAX = 255  # bytes in one file name on every file system pk is used on
PART = ".part"


@dataclass(frozen=True, slots=True)
class Target:
    """Where an output goes: ``named`` as the user typed it, ``real`` after every symlink."""

    named: Path
    real: Path
    stream: bool  # a device or FIFO: written directly, never replaced
    exists: bool  # a regular file is there already: writing replaces it


def shown(path: Path) -> str:
    """A path for a sentence: one line, every control character visible, not endless."""
    from promisekeeper.text import visible

    text = visible(os.fsencode(path).decode("utf-8", "backslashreplace"))
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def write_error(exc: OSError, path: Path) -> PkError:
    """One sentence for a failed write of ``path``: exit 2 for a path that cannot be, 4 for the medium."""
    where = shown(path)
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return StorageError(
            f"The disk holding {where} is full; nothing was written. Free some space or choose another disk."
        )
    if code == errno.ENAMETOOLONG:
        return BadInput(f"The file name {where} is too long for the file system; choose a shorter one.")
    if code == errno.ENOENT:
        return BadInput(f"The folder {shown(path.parent)} does not exist; create it first or choose another.")
    if code == errno.ENOTDIR:
        return BadInput(f"A part of the path {where} is a file, not a folder; choose another path.")
    if code == errno.EISDIR:
        return BadInput(f"{where} is a folder; give a file name.")
    if code == errno.ELOOP:
        return BadInput(f"{where} is a loop of symbolic links; choose another path.")
    if code in (errno.ENXIO, errno.EOPNOTSUPP):
        return BadInput(f"{where} cannot be written to (a socket, or a device without a reader).")
    if code in (errno.EACCES, errno.EPERM):
        return StorageError(f"Cannot write {where}: permission denied; choose a folder you can write to.")
    if code == errno.EROFS:
        return StorageError(f"Cannot write {where}: the disk is read-only; choose another one.")
    if code == errno.EPIPE:
        return StorageError(f"The program reading {where} stopped before the end; the output is incomplete.")
    reason = exc.strerror or type(exc).__name__
    return StorageError(f"Cannot write {where} ({reason}); check the disk.")


def is_stdout(path: Path) -> bool:
    return str(path) == "-"


def resolve(path: Path) -> Target:
    """What writing to ``path`` means: the real file behind any symlinks, and whether it is a stream
    (``-`` is standard output)."""
    if is_stdout(path):
        return Target(path, path, stream=True, exists=False)
    named = path.expanduser()
    real = Path(os.path.realpath(named))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return Target(named, real, stream=False, exists=False)
    except OSError as exc:
        raise write_error(exc, named) from exc
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{shown(named)} is a folder; give a file name.")
    if stat.S_ISREG(st.st_mode):
        return Target(named, real, stream=False, exists=True)
    return Target(named, real, stream=True, exists=False)


def backup_name(dest: Path, source: Path, now: datetime) -> Path:
    """``dest`` itself, or inside a folder a dated file named after ``source``."""
    dest = dest.expanduser()
    try:
        folder = dest.is_dir()
    except OSError as exc:
        raise write_error(exc, dest) from exc
    if folder:
        return dest / f"{source.stem}-{now:%Y%m%d-%H%M%S}{source.suffix or '.db'}"
    return dest


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through any symlinks); a path that cannot be looked at is not."""
    try:
        return os.path.samefile(a, b) if a.exists() else a.resolve() == b.resolve()
    except OSError:
        return False


def part_name(real: Path) -> Path:
    """The temporary file beside ``real``: the same name every time (a stale one is found and reused),
    hidden, and short enough for the file system however long ``real``'s name is."""
    name = f".{real.name}{PART}"
    if len(os.fsencode(name)) <= NAME_MAX:
        return real.with_name(name)
    digest = hashlib.sha256(os.fsencode(real.name)).hexdigest()[:16]
    stem = real.name
    while len(os.fsencode(f".{stem}~{digest}{PART}")) > NAME_MAX:
        stem = stem[: len(stem) // 2 if len(stem) > 64 else len(stem) - 1]
    return real.with_name(f".{stem}~{digest}{PART}")


def _lock(fd: int, tmp: Path, named: Path) -> None:
    """Hold ``tmp`` for this run: another pk writing the same target is exit 4, a dead one's file is ours."""
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise StorageError(
            f"Another pk is writing {shown(named)} right now; wait for it, then try again."
        ) from exc


def _open_part(tmp: Path, named: Path) -> int:
    """The temporary file, new or left by a killed run, locked, emptied and private (0600)."""
    for _ in range(5):
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, MODE)
        try:
            _lock(fd, tmp, named)
            # The file we locked must still be the one at ``tmp``: the run before may have just renamed it.
            if os.path.samestat(os.fstat(fd), os.stat(tmp, follow_symlinks=False)):
                os.ftruncate(fd, 0)
                os.fchmod(fd, MODE)
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise StorageError(f"Cannot claim a temporary file beside {shown(named)}; try again.")


def _remove(tmp: Path) -> None:
    """Remove the temporary file; a failure to remove it never hides the failure that came first."""
    with suppress(OSError):
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Part:
    """The temporary file being written: its path (for SQLite) and its open descriptor (for a stream)."""

    path: Path
    fd: int


@contextmanager
def replacing(target: Target) -> Iterator[Part]:
    """A temporary file beside the target to write in full; it takes the target's place on success.

    On any failure (an error, Ctrl-C) the temporary file is removed and the target is as it was.
    """
    tmp = part_name(target.real)
    try:
        fd = _open_part(tmp, target.named)
    except OSError as exc:
        raise write_error(exc, target.named) from exc
    try:
        try:
            yield Part(tmp, fd)
            os.fsync(fd)
            os.replace(tmp, target.real)
        except OSError as exc:
            raise write_error(exc, target.named) from exc
    except BaseException:
        _remove(tmp)
        raise
    finally:
        os.close(fd)


@contextmanager
def streaming(target: Target) -> Iterator[IO[bytes]]:
    """The device or FIFO opened for writing as it is (a FIFO waits here for its reader)."""
    if is_stdout(target.real):
        sys.stdout.flush()
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except OSError as exc:
            raise write_error(exc, target.named) from exc
        return
    try:
        fd = os.open(target.real, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise write_error(exc, target.named) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
    except OSError as exc:
        raise write_error(exc, target.named) from exc


@contextmanager
def text_output(path: Path) -> Iterator[IO[str]]:
    """``path`` opened for UTF-8 text as this module writes any output: atomically, through symlinks,
    or streamed into a device or FIFO."""
    target = resolve(path)
    if target.stream:
        with streaming(target) as raw, _text(raw) as out:
            yield out
        return
    with (
        replacing(target) as part,
        os.fdopen(part.fd, "w", encoding="utf-8", newline="", closefd=False) as out,
    ):
        yield out


@contextmanager
def _text(raw: IO[bytes]) -> Iterator[IO[str]]:
    import io

    out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield out
        out.flush()
    finally:
        out.detach()
