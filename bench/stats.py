"""Time ``pk stats`` as whole processes on books of two sizes, against the floor (run by hand).

Each command runs as a user runs it (a new process, stdout to a pipe, ``NO_COLOR=1``, 100 columns),
interleaved round by round with the floor ``python -c "import typer, rich, sqlmodel"``, so a busy moment
of the machine hits them all alike (the books too, round by round); round 0 warms the caches and is not
counted. Prints the median and (in brackets) the peak resident memory of each, and the ratio of the last
book to the first.

    python bench/generate.py 1000; python bench/generate.py 1000000
    python bench/stats.py bench/data/book-1000.db bench/data/book-1000000.db --rounds 5

``--pythonpath DIR`` runs another tree of pk's source (e.g. the release before, unpacked with
``git archive``) with the same interpreter, for a before/after on the same machine; ``BOOK@DIR`` does it
for one book, so a before and an after run interleaved in one run:

    python bench/stats.py old-1000.db@/tmp/v1/src old-1000000.db@/tmp/v1/src book-1000.db book-1000000.db
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

NOW = "2026-11-23T09:00:00+01:00"  # the morning the generated books end at (generate.NOW)
COMMANDS: dict[str, list[str]] = {
    "stats": ["stats"],
    "stats --by customer": ["stats", "--by", "customer"],
    "stats --by customer --json": ["stats", "--by", "customer", "--json"],
    "stats --by staff": ["stats", "--by", "staff"],
    "stats --since 30d": ["stats", "--since", "2026-10-24"],
}
FLOOR = "import typer, rich, sqlmodel"


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Seconds, peak resident kB and bytes written to stdout of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    size = 0
    while chunk := proc.stdout.read(1 << 16):
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed")
    return seconds, usage.ru_maxrss, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("books", nargs="+", help="a book, or BOOK@DIR to run pk from the source in DIR")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pythonpath", help="run pk from this source tree instead")
    parser.add_argument("--only", action="append", help="only these commands (names above)")
    args = parser.parse_args()
    names = args.only or list(COMMANDS)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PK_NOW": NOW, "PK_CONFIG": os.devnull}
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    pk = [sys.executable, "-m", "promisekeeper"]
    table: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
    books = [Path(b.split("@")[0]) for b in args.books]
    trees = {Path(b.split("@")[0]): b.partition("@")[2] for b in args.books}
    for n in range(args.rounds + 1):
        for book in books:  # the books interleaved too: a busy minute hits every size alike
            book_env = {**env, "PK_DB": str(book)}
            if trees[book]:
                book_env["PYTHONPATH"] = trees[book]
            for name in [FLOOR, *names]:
                argv = [sys.executable, "-c", FLOOR] if name == FLOOR else [*pk, *COMMANDS[name]]
                sample = run(argv, book_env)
                if n:
                    table.setdefault((book.name, name), []).append(sample)
    sizes = " | ".join(f"{b.name} ms (MB)" for b in books)
    print(f"| command | {sizes} | last ÷ first | out kB (last) |")
    print(f"| --- |{' ---: |' * len(books)} ---: | ---: |")
    for name in [FLOOR, *names]:
        cells, medians = [], []
        for b in books:
            samples = table[(b.name, name)]
            medians.append(statistics.median(s for s, _, _ in samples) * 1000)
            cells.append(f"{medians[-1]:.0f} ({max(kb for _, kb, _ in samples) / 1024:.0f})")
        out = table[(books[-1].name, name)][-1][2] / 1024
        print(f"| {name} | {' | '.join(cells)} | {medians[-1] / medians[0]:.2f}× | {out:.0f} |")


if __name__ == "__main__":
    main()
