"""Time pk's commands as whole processes on books of 1k, 100k and 1M promises (run by hand).

Every command runs as a user runs it, a new process each time, against the floors measured in the
same run: ``python -c pass``, ``python -c "import typer, rich"`` and ``python -c "import typer, rich,
sqlmodel"``. The commands are interleaved round by round (so a busy moment of the machine hits them
all alike) and the median of the rounds is reported, with each process's peak memory. Writes
(``promise add``, ``deliver``) go to a copy of the book, each round delivering another open promise.
If Taskwarrior's ``task`` is installed, ``task overdue`` is timed on a task list of the same size.

    python bench/generate.py 1000; python bench/generate.py 100000; python bench/generate.py 1000000
    python bench/run.py                      # all three sizes, 15 rounds; prints the table
    python bench/run.py 1000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
NOW = "2026-11-23T09:00:00+01:00"  # the morning the generated books end at (generate.NOW)
PY = sys.executable
PK = str(Path(sys.executable).parent / "pk")
TASK = shutil.which("task")
REGULAR = "Anna Smith"

# name, what it is compared with ("full" floor, "light" floor, or None), and whether it writes.
DATA_COMMANDS = ("due", "promise add", "deliver", "check", "stats", "customer show")
LIGHT_COMMANDS = ("--version", "--help", "completion")
FLOORS = ("python -c pass", "import typer, rich", "import typer, rich, sqlmodel")


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """One process: its wall time and peak resident memory (KiB); a failure stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return took, usage.ru_maxrss


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    env.update(
        PK_NOW=NOW,
        PK_TZ="Europe/Berlin",
        PK_CONFIG=str(DATA / "none.toml"),
        NO_COLOR="1",
        COLUMNS="100",
        PYTHONDONTWRITEBYTECODE="",
    )
    return env


def ensure_book(n: int) -> Path:
    book = DATA / f"book-{n}.db"
    if not book.exists():
        subprocess.run([PY, str(HERE / "generate.py"), str(n)], check=True)
    return book


def open_ids(db: Path, count: int) -> list[int]:
    """Promises due later than today and still open: each round delivers another one."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id FROM promise WHERE state = 'active' AND kind = 'delivery' AND due > ? "
            "ORDER BY id DESC LIMIT ?",
            (datetime.fromisoformat(NOW).astimezone(UTC).replace(tzinfo=None).isoformat(" "), count),
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"{db} has only {len(rows)} open promises to deliver; use fewer rounds.")
    return [r[0] for r in rows]


def task_book(n: int, book: Path) -> Path:
    """A Taskwarrior data folder holding the same promises: the open ones pending, the rest done."""
    folder = DATA / f"task-{n}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "taskrc").write_text(f"data.location={folder}\nconfirmation=off\nnews.version=2.6.2\n")

    def stamp(text: str | None) -> str:
        return str(int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())) if text else ""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', "&dquot;")

    with (
        sqlite3.connect(book) as conn,
        (folder / "pending.data").open("w") as pending,
        (folder / "completed.data").open("w") as completed,
    ):
        rows = conn.execute("SELECT id, what, due, created, state, closed_at FROM promise ORDER BY id")
        for pid, what, due, created, state, closed in rows:
            fields = [f'description:"{esc(what)}"', f'due:"{stamp(due)}"', f'entry:"{stamp(created)}"']
            if state == "active":
                fields += ['status:"pending"', f'uuid:"{uuid.UUID(int=pid)}"']
                pending.write("[" + " ".join(fields) + "]\n")
            else:
                status = "completed" if state == "fulfilled" else "deleted"
                fields += [f'end:"{stamp(closed)}"', f'status:"{status}"', f'uuid:"{uuid.UUID(int=pid)}"']
                completed.write("[" + " ".join(fields) + "]\n")
    (folder / "done").write_text("")
    return folder


def measure(n: int, rounds: int) -> dict[str, Sample]:
    book = ensure_book(n)
    work = DATA / f"work-{n}.db"
    shutil.copyfile(book, work)
    env = base_env()
    data_env = {**env, "PK_DB": str(work)}
    deliverable = open_ids(work, rounds + 1)
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([PY, "-c", "pass"], env),
        "import typer, rich": ([PY, "-c", "import typer, rich"], env),
        "import typer, rich, sqlmodel": ([PY, "-c", "import typer, rich, sqlmodel"], env),
        "--version": ([PK, "--version"], env),
        "--help": ([PK, "--help"], env),
        "completion": (
            [PK],
            {**env, "_PK_COMPLETE": "complete_bash", "COMP_WORDS": "pk promise a", "COMP_CWORD": "2"},
        ),
        "due": ([PK, "due"], data_env),
        "check": ([PK, "check"], data_env),
        "stats": ([PK, "stats"], data_env),
        "customer show": ([PK, "customer", "show", REGULAR], data_env),
    }
    if TASK:
        folder = task_book(n, book)
        cases["task overdue"] = ([TASK, "overdue"], {**env, "TASKRC": str(folder / "taskrc")})
    samples = {name: Sample() for name in [*cases, "promise add", "deliver"]}
    for r in range(rounds + 1):  # round 0 warms the caches and is not counted
        for name, (argv, e) in cases.items():
            took, peak = run(argv, e)
            if r:
                samples[name].seconds.append(took)
                samples[name].peak_kb.append(peak)
        add = [PK, "promise", "add", f"Boots round {r}", "-c", REGULAR, "-p", "240", "-d", "tue", "-s", "Jo"]
        for name, argv in (("promise add", add), ("deliver", [PK, "deliver", str(deliverable[r])])):
            took, peak = run(argv, data_env)
            if r:
                samples[name].seconds.append(took)
                samples[name].peak_kb.append(peak)
        print(f"\r{n:>9,} promises: round {r}/{rounds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    work.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    return samples


def imports_sqlalchemy(argv: list[str], env: dict[str, str]) -> bool:
    proc = subprocess.run(
        [PY, "-X", "importtime", *argv], env=env, capture_output=True, text=True, check=False
    )
    return any(line.split("|")[-1].strip() == "sqlalchemy" for line in proc.stderr.splitlines())


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def report(results: dict[int, dict[str, Sample]], light_sqlalchemy: dict[str, bool]) -> str:
    sizes = sorted(results)
    small, big = sizes[0], sizes[-1]
    lines = []
    head = [
        "command",
        *(f"{size_label(n)} ms" for n in sizes),
        f"{size_label(big)}/{size_label(small)}",
        f"÷ floor ({size_label(big)})",
        f"peak MB ({size_label(big)})",
    ]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(head))) + "|")
    names = [*FLOORS, *LIGHT_COMMANDS, *DATA_COMMANDS]
    if "task overdue" in results[big]:
        names.append("task overdue")
    for name in names:
        row = [f"`{name}`" if name not in FLOORS else f"floor: `{name}`"]
        row += [f"{results[n][name].median_ms:.0f}" for n in sizes]
        row.append(f"{results[big][name].median_ms / results[small][name].median_ms:.2f}×")
        floor = {**dict.fromkeys(LIGHT_COMMANDS, FLOORS[1]), **dict.fromkeys(DATA_COMMANDS, FLOORS[2])}.get(
            name, FLOORS[2] if name == "task overdue" else None
        )
        row.append(f"{results[big][name].median_ms / results[big][floor].median_ms:.2f}×" if floor else "")
        row.append(f"{results[big][name].peak_mb:.0f}")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("Targets:")

    def ratio(name: str, floor: str, n: int) -> float:
        return results[n][name].median_ms / results[n][floor].median_ms

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    for name in ("due", "promise add"):
        r = results[big][name].median_ms / results[small][name].median_ms
        lines.append(
            f"- `pk {name}` {size_label(big)} ÷ {size_label(small)}: {r:.2f}× (≤ 1.3×) — {verdict(r <= 1.3)}"
        )
    for n in sizes:
        worst = max(DATA_COMMANDS, key=lambda c: ratio(c, FLOORS[2], n))
        r = ratio(worst, FLOORS[2], n)
        lines.append(
            f"- data commands at {size_label(n)} ÷ `import typer, rich, sqlmodel`: worst `{worst}` {r:.2f}× "
            f"(≤ 1.5×) — {verdict(r <= 1.5)}"
        )
    for name in LIGHT_COMMANDS:
        r = ratio(name, FLOORS[1], big)
        sa = light_sqlalchemy[name]
        lines.append(
            f"- `pk {name}` ÷ `import typer, rich`: {r:.2f}× (≤ 1.5×) — {verdict(r <= 1.5)}; "
            f"imports SQLAlchemy: {'yes — MISSED' if sa else 'no — met'}"
        )
    stats_s = results[big]["stats"].median_ms / 1000
    lines.append(f"- `pk stats` at {size_label(big)}: {stats_s:.2f} s (< 2 s) — {verdict(stats_s < 2)}")
    peak = results[big]["due"].peak_mb
    lines.append(
        f"- peak memory of `pk due` at {size_label(big)}: {peak:.0f} MB (< 100 MB) — {verdict(peak < 100)}"
    )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    sqlite_version = sqlite3.sqlite_version
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    task = subprocess.run([TASK, "--version"], capture_output=True, text=True).stdout.strip() if TASK else "—"
    return (
        f"{cpu}, {os.cpu_count()} cores (nproc), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite_version}, Taskwarrior {task}; "
        f"load average before the run {load}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    about = machine()
    results = {n: measure(n, args.rounds) for n in sorted(args.sizes)}
    env = base_env()
    light_sqlalchemy = {
        "--version": imports_sqlalchemy([PK, "--version"], env),
        "--help": imports_sqlalchemy([PK, "--help"], env),
        "completion": imports_sqlalchemy(
            [PK], {**env, "_PK_COMPLETE": "complete_bash", "COMP_WORDS": "pk promise a", "COMP_CWORD": "2"}
        ),
    }
    text = report(results, light_sqlalchemy)
    print(f"Machine: {about}; {args.rounds} rounds, medians.\n")
    print(text)
    raw = {
        "machine": about,
        "rounds": args.rounds,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "results": {
            str(n): {k: {"seconds": s.seconds, "peak_kb": s.peak_kb} for k, s in r.items()}
            for n, r in results.items()
        },
    }
    (DATA / "results.json").write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
