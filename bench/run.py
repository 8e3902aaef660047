"""Measure issue 17's targets on books of 1k to 1M promises and print each with its ratio and a verdict.

Every command runs as a user runs it: a new process each time, stdout to a pipe, ``NO_COLOR=1``, 100
columns, the clock pinned to the morning the books end at. The machine is shared, so nothing is judged on
a time alone: in each round every command runs once, interleaved with the floors (``python -c "import
typer, rich"``, ``python -c "import typer, rich, sqlmodel"``), and a command's ratio is the median over
the rounds of its time divided by its floor's time *in the same round* (a busy moment slows both). Round
0 warms the caches (and pk's help cache) and is not counted. The bulk paths (export, import) are timed
whole, a few times, and given as promises or rows a second of wall-clock time, with their peak memory.

    python bench/run.py                         # 1k, 10k, 100k and 1M: about half an hour
    python bench/run.py --quick                 # 1k, 10k and 100k, fewer rounds: a few minutes
    python bench/run.py 1000 100000 --rounds 7
    python bench/run.py --pg 'postgresql+psycopg://root@/pktest?host=/var/run/postgresql' 100000

Books are made by ``bench/generate.py`` when missing (bench/data/, git-ignored); the raw timings go to
bench/data/results.json. If Taskwarrior's ``task`` is installed, ``task overdue`` runs on a task list of
the same promises (up to 100k).
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
TASK_UP_TO = 100_000  # Taskwarrior reads every task it ever had on every run: a 1M list takes minutes
REGULAR = "Anna Smith"

TYPER_RICH = "import typer, rich"
FULL = "import typer, rich, sqlmodel"
FLOORS = {"python -c pass": "pass", TYPER_RICH: TYPER_RICH, FULL: FULL}
LIGHT = ("--help", "completion")  # compared with `import typer, rich`
EVERYDAY = ("due", "check", "promise add", "deliver", "done", "promise list", "customer show")
STATS = ("stats", "stats --by customer")
EVERYDAY_LIMIT, LIGHT_LIMIT, GROWTH_LIMIT = 1.15, 1.5, 1.5
RATE_TARGET, MEMORY_LIMIT_MB = 100_000, 200


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
    assert proc.stderr is not None
    err = proc.stderr.read()  # read before waiting: a chatty stderr must not fill its pipe
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.decode(errors='replace').strip()}")
    return took, usage.ru_maxrss


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    env.update(
        PK_NOW=NOW,
        PK_TZ="Europe/Berlin",
        PK_CONFIG=str(DATA / "none.toml"),
        NO_COLOR="1",
        COLUMNS="100",
        XDG_CACHE_HOME=str(DATA / "cache"),  # pk's help and completion caches, made in round 0
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # pk runs as installed: from its compiled modules
    return env


def ensure_book(n: int) -> Path:
    book = DATA / f"book-{n}.db"
    if not book.exists():
        subprocess.run([PY, str(HERE / "generate.py"), str(n)], check=True)
    subprocess.run(
        [PK, "db", "upgrade"], env={**base_env(), "PK_DB": str(book)}, check=True, capture_output=True
    )
    return book


def open_ids(db: Path, count: int, *, deliveries: bool) -> list[int]:
    """Open promises due later than today: each round delivers (or closes with done) another one."""
    kind = "kind = 'delivery'" if deliveries else "kind != 'delivery'"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            f"SELECT id FROM promise WHERE state = 'active' AND {kind} AND due > ? ORDER BY id DESC LIMIT ?",
            (datetime.fromisoformat(NOW).astimezone(UTC).replace(tzinfo=None).isoformat(" "), count),
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"{db} has only {len(rows)} open promises of that kind; use fewer rounds.")
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


# --- the commands, round by round ------------------------------------------------------------------


def measure(n: int, rounds: int, *, target: str | None = None) -> dict[str, Sample]:
    """Every command once a round, interleaved with the floors; writes go to a copy of the book (or to the
    database ``target`` the book was copied into)."""
    book = ensure_book(n)
    work = DATA / f"work-{n}.db"
    shutil.copyfile(book, work)
    env = base_env()
    data_env = {**env, "PK_DB": target or str(work)}
    deliverable = open_ids(work, rounds + 1, deliveries=True)
    closable = open_ids(work, rounds + 1, deliveries=False)
    pk = [PK]
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        **{name: ([PY, "-c", code], env) for name, code in FLOORS.items()},
        "--help": ([*pk, "--help"], env),
        "completion": (
            pk,
            {**env, "_PK_COMPLETE": "complete_bash", "COMP_WORDS": "pk promise a", "COMP_CWORD": "2"},
        ),
        "due": ([*pk, "due"], data_env),
        "check": ([*pk, "check"], data_env),
        "promise list": ([*pk, "promise", "list", "--status", "open", "--status", "overdue"], data_env),
        "customer show": ([*pk, "customer", "show", REGULAR], data_env),
        "stats": ([*pk, "stats"], data_env),
        "stats --by customer": ([*pk, "stats", "--by", "customer"], data_env),
    }
    if target is not None:
        cases[FULL + ", psycopg"] = ([PY, "-c", FULL + ", psycopg"], env)
    if TASK and n <= TASK_UP_TO and target is None:
        folder = task_book(n, book)
        cases["task overdue"] = ([TASK, "overdue"], {**env, "TASKRC": str(folder / "taskrc")})
    samples = {name: Sample() for name in [*cases, "promise add", "deliver", "done"]}
    for r in range(rounds + 1):
        writes = {
            "promise add": [
                *pk,
                "promise",
                "add",
                f"Boots round {r}",
                "-c",
                REGULAR,
                "-p",
                "240",
                "-d",
                "tue",
            ],
            "deliver": [*pk, "deliver", str(deliverable[r])],
            "done": [*pk, "done", str(closable[r])],
        }
        order = [*((name, argv, e) for name, (argv, e) in cases.items())]
        order += [(name, argv, data_env) for name, argv in writes.items()]
        for name, argv, e in order:
            took, peak = run(argv, e)
            if r:
                samples[name].seconds.append(took)
                samples[name].peak_kb.append(peak)
        print(f"\r{n:>9,} promises: round {r}/{rounds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    return samples


def ratio(samples: dict[str, Sample], name: str, floor: str) -> float:
    """The median over the rounds of the command's time over its floor's time in the same round."""
    pairs = zip(samples[name].seconds, samples[floor].seconds, strict=True)
    return statistics.median(t / f for t, f in pairs)


# --- the bulk paths ----------------------------------------------------------------------------------


@dataclass
class Bulk:
    what: str
    items: int  # promises or rows it holds
    unit: str
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.items / statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kb) / 1024


def book_rows(db: Path) -> int:
    """How many records a JSON export of the book holds (every table's rows, tags in their promises)."""
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] not in ("pk_meta", "promise_tag", "alembic_version") and not r[0].startswith("tally")
        ]
        return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def till_csv(n: int) -> Path:
    """A till's CSV of ``n`` promises (bench/import_csv.py: three years of a shop, 60 % delivered)."""
    path = DATA / f"till-{n}.csv"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import import_csv

        import_csv.write_csv(path, n)
    return path


def measure_bulk(n: int, times: int, *, target: str | None = None) -> dict[str, Bulk]:
    """``pk export`` (JSON and CSV) of the book, ``pk import`` of a till CSV of as many promises and of
    the book's JSON export into a new database: each ``times`` times (the best of warm caches is not the
    point; the median is)."""
    book = ensure_book(n)
    env = {**base_env(), "PK_DB": target or str(book)}
    exported = DATA / f"export-{n}.json"
    records = book_rows(book)
    out = {
        "export json": Bulk("export --format json", n, "promises"),
        "export csv": Bulk("export --format csv", n, "promises"),
        "import csv": Bulk("import of a till CSV", n, "rows"),
        "import json": Bulk("import of the JSON export", records, "rows"),
    }
    fresh = DATA / f"import-{n}.db"

    def new_book() -> dict[str, str]:
        if target is not None:
            reset_postgres(target)
            return {**base_env(), "PK_DB": target}
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        return {**base_env(), "PK_DB": str(fresh)}

    if target is not None:
        copy_to_postgres(book, target)
    for _ in range(times):
        for name, argv in (
            ("export json", [PK, "export", "--format", "json", "-o", str(exported)]),
            ("export csv", [PK, "export", "--format", "csv", "-o", str(DATA / f"export-{n}.csv")]),
        ):
            took, peak = run(argv, env)
            out[name].seconds.append(took)
            out[name].peak_kb.append(peak)
        for name, source in (("import csv", till_csv(n)), ("import json", exported)):
            took, peak = run([PK, "import", str(source)], new_book())
            out[name].seconds.append(took)
            out[name].peak_kb.append(peak)
        if target is not None:
            copy_to_postgres(book, target)  # the book again, for the next round's export
        print(f"\r{n:>9,} promises: bulk {len(out['export json'].seconds)}/{times}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return out


# --- PostgreSQL ---------------------------------------------------------------------------------------


def reset_postgres(url: str) -> None:
    """An empty database: the public schema dropped and made again."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


COPIES: dict[int, float] = {}


def copy_to_postgres(book: Path, url: str) -> None:
    reset_postgres(url)
    started = time.perf_counter()
    subprocess.run([PK, "db", "copy", str(book), url], env=base_env(), check=True, capture_output=True)
    COPIES[book_size(book)] = time.perf_counter() - started


def book_size(book: Path) -> int:
    return int(book.stem.split("-")[1])


# --- the report -----------------------------------------------------------------------------------


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def report(
    results: dict[int, dict[str, Sample]], bulk: dict[int, dict[str, Bulk]], *, floor: str = FULL
) -> str:
    sizes = sorted(results)
    small, big = sizes[0], sizes[-1]
    lines = ["| command | " + " | ".join(f"{size_label(n)} ms" for n in sizes) + " | "]
    lines[0] += " | ".join(f"÷ floor {size_label(n)}" for n in sizes)
    lines[0] += f" | {size_label(big)} ÷ {size_label(small)} | peak MB {size_label(big)} |"
    lines.append("| --- " + "| ---: " * (2 * len(sizes) + 2) + "|")
    names = [*FLOORS, *(f for f in results[big] if f not in FLOORS and f.startswith("import")), *LIGHT]
    names += [*EVERYDAY, *STATS, *(["task overdue"] if "task overdue" in results[small] else [])]
    for name in names:
        shown = [n for n in sizes if name in results[n]]
        if not shown:
            continue
        against = TYPER_RICH if name in LIGHT else floor if name not in FLOORS else None
        row = [f"floor: `{name}`" if name in FLOORS or name.startswith("import") else f"`{name}`"]
        row += [f"{results[n][name].median_ms:.0f}" if name in results[n] else "" for n in sizes]
        row += [
            f"{ratio(results[n], name, against):.2f}×" if against and name in results[n] else ""
            for n in sizes
        ]
        growth = results[big][name].median_ms / results[small][name].median_ms if big in shown else None
        row.append(f"{growth:.2f}×" if growth is not None and small in shown else "")
        row.append(f"{results[shown[-1]][name].peak_mb:.0f}")
        lines.append("| " + " | ".join(row) + " |")

    lines += ["", "| target | measured | verdict |", "| --- | --- | --- |"]
    for n in sizes:
        worst = max(EVERYDAY, key=lambda c: ratio(results[n], c, floor))
        each = ", ".join(f"{c} {ratio(results[n], c, floor):.2f}×" for c in EVERYDAY)
        r = ratio(results[n], worst, floor)
        lines.append(
            f"| everyday commands ≤ {EVERYDAY_LIMIT}× `{floor}` at {size_label(n)} | worst {worst} "
            f"{r:.2f}× ({each}) | {verdict(r <= EVERYDAY_LIMIT)} |"
        )
    for name in LIGHT:
        r = max(ratio(results[n], name, TYPER_RICH) for n in sizes)
        lines.append(
            f"| `pk {name}` ≤ {LIGHT_LIMIT}× `{TYPER_RICH}` | {r:.2f}× | {verdict(r <= LIGHT_LIMIT)} |"
        )
    if big != small:
        for name in (*EVERYDAY, *STATS):
            g = results[big][name].median_ms / results[small][name].median_ms
            lines.append(
                f"| `pk {name}` {size_label(big)} ÷ {size_label(small)} ≤ {GROWTH_LIMIT}× | {g:.2f}× | "
                f"{verdict(g <= GROWTH_LIMIT)} |"
            )
    for n in (small, big):
        for name in STATS:
            r = ratio(results[n], name, floor)
            lines.append(
                f"| `pk {name}` at {size_label(n)} (h5's; flat, ≤ {GROWTH_LIMIT}× from 1k to 1M) | "
                f"{results[n][name].median_ms:.0f} ms, {r:.2f}× | — |"
            )
    for n in sorted(bulk):
        for b in bulk[n].values():
            ok = b.rate >= RATE_TARGET
            lines.append(
                f"| `pk {b.what}` at {size_label(n)}: ≥ {RATE_TARGET:,} {b.unit}/s | "
                f"{b.rate:,.0f} {b.unit}/s "
                f"({statistics.median(b.seconds):.1f} s for {b.items:,}) | {verdict(ok)} |"
            )
            mem = b.peak_mb
            lines.append(
                f"| `pk {b.what}` at {size_label(n)}: ≤ {MEMORY_LIMIT_MB} MB | {mem:.0f} MB | "
                f"{verdict(mem <= MEMORY_LIMIT_MB)} |"
            )
    if "task overdue" in results[small]:
        for n in sizes:
            if "task overdue" in results[n]:
                t, d = results[n]["task overdue"].median_ms, results[n]["due"].median_ms
                lines.append(
                    f"| Taskwarrior `task overdue` at {size_label(n)} (for comparison) | {t:.0f} ms "
                    f"(`pk due` {d:.0f} ms, {d / t:.1f}×) | — |"
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    task = subprocess.run([TASK, "--version"], capture_output=True, text=True).stdout.strip() if TASK else "—"
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, Taskwarrior {task}; "
        f"load average {load}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int)
    parser.add_argument("--rounds", type=int, help="rounds of the commands (default 11; --quick 5)")
    parser.add_argument("--bulk", type=int, help="times each export and import runs (default 3; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="1k, 10k and 100k, fewer rounds")
    parser.add_argument("--pg", metavar="URL", help="measure on this PostgreSQL database (it is emptied)")
    parser.add_argument("--no-bulk", action="store_true", help="only the commands")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([1000, 10_000, 100_000] if args.quick else [1000, 10_000, 100_000, 1_000_000])
    rounds = args.rounds or (5 if args.quick else 11)
    times = args.bulk or (1 if args.quick else 3)
    DATA.mkdir(exist_ok=True)
    about = machine()
    results: dict[int, dict[str, Sample]] = {}
    bulk: dict[int, dict[str, Bulk]] = {}
    for n in sorted(sizes):
        if args.pg:
            copy_to_postgres(ensure_book(n), args.pg)
        results[n] = measure(n, rounds, target=args.pg)
    if not args.no_bulk:
        for n in sorted(sizes):
            if n >= 100_000 or n == max(sizes):
                bulk[n] = measure_bulk(n, times, target=args.pg)
    floor = FULL + ", psycopg" if args.pg else FULL
    print(f"Machine: {about}; {rounds} rounds, paired medians.\n")
    print(report(results, bulk, floor=floor))
    if COPIES:
        print(
            "\n" + "; ".join(f"pk db copy of {size_label(n)}: {s:.0f} s" for n, s in sorted(COPIES.items()))
        )
    raw = {
        "machine": about,
        "rounds": rounds,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": bool(args.pg),
        "results": {
            str(n): {k: {"seconds": s.seconds, "peak_kb": s.peak_kb} for k, s in r.items()}
            for n, r in results.items()
        },
        "bulk": {
            str(n): {k: {"items": b.items, "seconds": b.seconds, "peak_kb": b.peak_kb} for k, b in r.items()}
            for n, r in bulk.items()
        },
    }
    (DATA / ("results-pg.json" if args.pg else "results.json")).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
