"""Time ``pk find`` / ``promise list --search`` and a Tab of shell completion on a big book (run by hand).

Every command runs as a user runs it, a new process each time, stdout to a pipe, interleaved round by
round with the floors ``python -c pass`` and ``python -c "import typer, rich"`` (a Tab's target is 1.5×
the latter) and ``python -c "import typer, rich, sqlmodel"`` (the floor of a data command). Medians of
the rounds after a warm-up round (which also fills the completion cache).

    python bench/generate.py 1000000
    python bench/search.py                         # bench/data/book-1000000.db, 9 rounds
    python bench/search.py bench/data/book-100000.db --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = "2026-11-23T09:00:00+01:00"  # the morning the generated books end at (generate.NOW)
PY = sys.executable
PK = str(Path(sys.executable).parent / "pk")


def tab(line: str) -> tuple[list[str], dict[str, str]]:
    """``pk`` as bash runs it on a Tab at the end of ``line`` (Click's protocol)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return [PK], {"_PK_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(cword)}


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    return {
        "floor: python -c pass": ([PY, "-c", "pass"], {}),
        "floor: import typer, rich": ([PY, "-c", "import typer, rich"], {}),
        "floor: import typer, rich, sqlmodel": ([PY, "-c", "import typer, rich, sqlmodel"], {}),
        "Tab: pk deliver <Tab> (open ids)": tab("pk deliver "),
        "Tab: pk promise list -c Ann<Tab>": tab("pk promise list -c Ann"),
        "Tab: pk due --staff <Tab>": tab("pk due --staff "),
        "Tab: pk promise list --st<Tab>": tab("pk promise list --st"),
        "pk find muller (nothing found: the scan alone)": ([PK, "find", "muller"], {}),
        "pk find 'anna smith' --status open": ([PK, "find", "anna smith", "--status", "open"], {}),
        "pk find 'boots 38' --status open": ([PK, "find", "boots 38", "--status", "open"], {}),
        "pk find 10°c --due-after today": ([PK, "find", "10°c", "--due-after", "today"], {}),
        "pk promise list -c anna --status open": (
            [PK, "promise", "list", "-c", "anna", "--status", "open"],
            {},
        ),
        "pk due (for comparison)": ([PK, "due"], {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", nargs="?", default=str(HERE / "data" / "book-1000000.db"))
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    if not Path(args.book).is_file():
        raise SystemExit(f"{args.book} is not there; make it with python bench/generate.py 1000000")
    cache = tempfile.mkdtemp(prefix="pk-bench-cache-")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PK_", "_PK_", "COMP_"))}
    base.update(
        PK_DB=args.book,
        PK_NOW=NOW,
        PK_TZ="Europe/Berlin",
        PK_CONFIG=str(HERE / "data" / "none.toml"),
        NO_COLOR="1",
        COLUMNS="100",
        XDG_CACHE_HOME=cache,
    )
    todo = commands()
    times: dict[str, list[float]] = {name: [] for name in todo}
    rows: dict[str, int] = {}
    for n in range(args.rounds + 1):
        for name, (argv, extra) in todo.items():
            start = time.perf_counter()
            proc = subprocess.run(argv, env={**base, **extra}, capture_output=True, check=False)
            took = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed ({proc.returncode}): {proc.stderr.decode().strip()}")
            rows[name] = len(proc.stdout.splitlines())
            if n:
                times[name].append(took)
        print(f"round {n} done", file=sys.stderr)
    light = statistics.median(times["floor: import typer, rich"])
    full = statistics.median(times["floor: import typer, rich, sqlmodel"])
    print(f"Book: {args.book}; {args.rounds} rounds, medians.\n")
    print("| command | ms | ÷ floor | lines out |")
    print("| --- | ---: | ---: | ---: |")
    for name, taken in times.items():
        ms = statistics.median(taken)
        floor = light if name.startswith("Tab") else full if name.startswith("pk") else None
        ratio = f"{ms / floor:.2f}×" if floor else ""
        print(
            f"| {name} | {ms * 1000:.0f} | {ratio} | {rows[name] if not name.startswith('floor') else ''} |"
        )


if __name__ == "__main__":
    main()
