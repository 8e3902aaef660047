"""Benchmark: ``pk import`` of a till/spreadsheet CSV, timed as a whole process (start-up included).

Usage: python bench/import_csv.py [ROWS]   (default 200000)

Writes a realistic CSV (3 years of a shop: 5,000 customers, 60 % delivered, some late, substituted,
short or at another price) into a temporary folder, then runs the installed ``pk import`` on a new
database and prints the wall-clock time.

Results (2 cores shared with other work, SQLite 3.40, Python 3.11): 20,000 rows (1.4 MB) in 2.6 s;
200,000 rows (14.2 MB) in 17.8-20 s, of which about 8 s writing under the write lock; peak memory 445 MB.
The file is read and checked in full before the database is touched; then every row is written in one
transaction with bulk inserts.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ITEMS = [
    "Hiking boots size 38",
    "Rain jacket size M",
    "Merino socks",
    "Ski service",
    "Tent repair",
    "Headlamp",
]
STAFF = ["Jo", "Sam", "Alex", "Mia"]


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    start = date(2023, 11, 1)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "customer",
                "what",
                "quantity",
                "price",
                "due",
                "staff",
                "tags",
                "delivered_at",
                "delivered_what",
                "delivered_quantity",
                "charged",
            ]
        )
        for _ in range(rows):
            due = start + timedelta(days=rnd.randrange(0, 1090))
            qty = rnd.choice([1, 1, 1, 2, 3])
            what = rnd.choice(ITEMS)
            price = f"{rnd.randrange(5, 400)}.{rnd.choice(['00', '50', '99'])}"
            delivered = ["", "", "", ""]
            if rnd.random() < 0.6:
                at = due + timedelta(days=rnd.choice([-2, -1, 0, 0, 0, 1, 3]))
                delivered[0] = at.isoformat()
                if rnd.random() < 0.05:
                    delivered[1] = what + " (other colour)"
                if rnd.random() < 0.05 and qty > 1:
                    delivered[2] = str(qty - 1)
                if rnd.random() < 0.05:
                    delivered[3] = price.replace(".", "").rstrip("0") or "1"
            out.writerow(
                [
                    f"Customer {rnd.randrange(5000)}",
                    what,
                    qty,
                    price,
                    due.isoformat(),
                    rnd.choice(STAFF),
                    rnd.choice(["", "boots", "repair;urgent"]),
                    *delivered,
                ]
            )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    pk = Path(sys.executable).parent / "pk"
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "till.csv"
        write_csv(data, rows)
        env = {
            **os.environ,
            "PK_DB": str(Path(tmp) / "p.db"),
            "PK_CONFIG": str(Path(tmp) / "none.toml"),
            "PK_TZ": "Europe/Berlin",
            "PK_NOW": "2026-11-22T10:00:00+01:00",
        }
        began = time.perf_counter()
        done = subprocess.run(
            [str(pk), "import", str(data)], env=env, capture_output=True, text=True, check=False
        )
        took = time.perf_counter() - began
        print(done.stdout.strip() or done.stderr.strip())
        print(f"{rows} rows ({data.stat().st_size / 1e6:.1f} MB) imported in {took:.1f} s (whole process)")


if __name__ == "__main__":
    main()
