"""Write a real promise book with the first release of pk (3670dc2), for the migration tests.

The committed files beside this script (``book.sql``, ``judged.json``, ``history.json``) are its output,
so the tests of the history-as-data migration run against what release 1 really wrote, not against
what we think it wrote. It was run once, against release 1's own code, with:

    git -C /work/main worktree add /work/release1 3670dc2
    PYTHONPATH=/work/release1/src /work/main/.venv/bin/python tests/data/release1/make_book.py

Every command runs through release 1's CLI (or, for the sent-log, its ``store.record_sent``) with a
pinned clock (``PK_NOW``), in a shop in Europe/Berlin, during the week of Mon 23 to Sun 29 Nov 2026;
``judged.json`` is how release 1 judges each promise at Sun 29 Nov 2026 20:00 Berlin. Running it
again gives the same files. Release 1's modules are reached through ``importlib`` (typed ``Any``) so
that this script still type-checks once the package it sits beside has moved on.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TZ = "Europe/Berlin"
JUDGED_AT = "2026-11-29T20:00:00+01:00"

TILL_CSV = """\
customer,what,quantity,price,due,kind,staff,tags,delivered_at,delivered_what,delivered_quantity,charged
Femi Adeyemi,Trail running shoes size 44,1,139,2026-11-20,,Jo,shoes,2026-11-21 11:15,,,
anna smith,Gaiters,2,50,2026-11-21,,Sam,,,,,
Femi Adeyemi,Call back about the insoles,,,2026-11-30 16:00,callback,Jo,,,,,
"""


class Shop:
    """Release 1's ``pk``, run in-process with a pinned clock on one book."""

    def __init__(self, folder: Path) -> None:
        from typer.testing import CliRunner

        self.folder = folder
        self.book = folder / "book.db"
        config = folder / "config.toml"
        config.write_text(
            f'[shop]\nname = "Alpine Outfitters"\ntimezone = "{TZ}"\ncurrency = "EUR"\n'
            '[followup]\nafter = ["2d", "30d"]\n',
            encoding="utf-8",
        )
        self.env = {"PK_DB": str(self.book), "PK_CONFIG": str(config), "PK_TZ": TZ, "COLUMNS": "200"}
        self.runner = CliRunner()
        self.app: Any = importlib.import_module("promisekeeper.cli").app

    def pk(self, now: str, line: str) -> str:
        """Run ``pk LINE`` (split as a shell would) at ``now``, Berlin wall clock; its output."""
        args = shlex.split(line)
        env = {**self.env, "PK_NOW": f"{now.replace(' ', 'T')}:00+01:00"}
        result = self.runner.invoke(self.app, args, env=env)
        if result.exit_code != 0:
            raise SystemExit(f"pk {line} at {now} failed ({result.exit_code}): {result.output}")
        return str(result.output)

    def add(self, now: str, line: str) -> int:
        """``pk promise add LINE``; the new promise's id."""
        return int(json.loads(self.pk(now, f"promise add {line} --json"))["id"])


def week(shop: Shop) -> None:
    """A week at the till: every kind of history event release 1 writes."""
    pk, add = shop.pk, shop.add
    # Monday: promises made.
    boots = add(
        "2026-11-23 09:05", '"Hiking boots size 38" -c "Anna Smith" -q 2 -p 240 -d "24 Nov" -s Jo -t boots'
    )
    tent = add("2026-11-23 09:40", '"Tent repair (zip)" -c "Ben Okafor" -p 45 -d "24 Nov 17:00" -s Sam')
    jacket = add("2026-11-23 10:15", '"Rain jacket size M" -c "Carla Mendes" -p 180 -d "25 Nov" -s Jo')
    wax = add("2026-11-23 11:00", '"Ski wax" -q 3 -p 36 -d "26 Nov"')
    socks = add("2026-11-23 11:30", '"Merino socks" -c "Carla Mendes" -q 4 -p 60 -d "27 Nov" -s Jo')
    chalk = add("2026-11-23 12:00", '"Climbing chalk" -c "Dara Quinn" -q 5 -p 25 -d "26 Nov" -s Sam')
    service = add("2026-11-23 14:00", '"Bike service" -c "Emma Novak" -p 89 -d "25 Nov 12:00" -s Sam')
    chains = add("2026-11-23 15:00", '"Snow chains" -c "Ben Okafor" -p 65 -d "28 Nov" -s Jo')
    kayak = add(
        "2026-11-23 16:00",
        '"Kayak rental" -c "Dara Quinn" -p 60 -d "28 Nov 09:00" -s Jo -n "Dara Quinn prefers the red one"',
    )
    bars = add("2026-11-23 16:30", '"Energy bars" -c "Emma Novak" -q 10 -p 25 -d "24 Nov"')
    headlamp = add("2026-11-23 17:00", 'Headlamp -p "$19.99" -d "25 Nov" -s Sam')
    callback = add(
        "2026-11-23 17:30",
        '"Call back about the bindings" --kind callback -c "Emma Novak" -d "26 Nov 16:00" -s Sam',
    )
    fitting = add("2026-11-23 18:00", '"Ski boots fitting" -c "Ben Okafor" -d "27 Nov 10:00" -s Jo')
    add("2026-11-23 18:10", '"Ice axe" -c "Anna Smith" -p "€95.50" -d "3 Dec" -s Jo')
    # Sam, who works the till, buys a harness for himself; he will leave and ask to be forgotten.
    harness = add("2026-11-23 18:20", '"Climbing harness" -c Sam -p 70 -d "26 Nov" -s Sam')
    pegs = add("2026-11-23 18:30", '"Tent pegs" -c "Ben Okafor" -q 2 -p 8 -d "27 Nov"')

    # Tuesday: kept with follow-ups (2d, 30d), and an excess.
    pk("2026-11-24 15:10", f"deliver {boots}")
    pk("2026-11-24 16:00", f"deliver {bars} -q 12 --no-followup")
    # Wednesday: amendments (the due and the quantity; the item, the price and the due into next year),
    # then late, substituted, partial.
    pk(
        "2026-11-25 09:30",
        f'promise amend {service} --due "27 Nov 17:00" -q 2 -r "Second bike came in; Emma agreed"',
    )
    pk(
        "2026-11-25 10:00",
        f'promise amend {chains} --what "Snow chains (size 9)" -p 79 --due "5 Jan" '
        '-r "Supplier delay → January; size 9 instead"',
    )
    pk("2026-11-25 11:20", f"deliver {tent} --no-followup")
    pk("2026-11-25 12:00", f'deliver {jacket} --what "Rain jacket size L" -n "M sold out" --no-followup')
    pk("2026-11-25 13:00", f"deliver {chalk} -q 2 --no-followup")
    pk("2026-11-25 17:45", f"deliver {headlamp} --no-followup")
    # Thursday: price deviation, the rest of a partial, a callback done late, remedies, a notice;
    # the till's CSV.
    pk("2026-11-26 10:00", f"deliver {wax} -p 39.50 --no-followup")
    pk("2026-11-26 11:00", f"deliver {chalk} --no-followup")
    pk("2026-11-26 12:00", f'deliver {socks} -q 2 -n "two now (rest on order)" --no-followup')
    pk("2026-11-26 16:30", f"deliver {harness} --no-followup")
    pk("2026-11-26 17:10", f'done {callback} -n "Left a voicemail; she called back"')
    pk(
        "2026-11-26 17:30",
        f'remedy {tent} -a "Refunded €10" --prevent "Check the repair queue every morning"',
    )
    pk("2026-11-26 17:35", f'remedy {wax} -a "Refunded €3.50"')
    pk("2026-11-26 17:40", f"notice {tent}")
    till = shop.folder / "till-2026-11.csv"
    till.write_text(TILL_CSV, encoding="utf-8")
    pk("2026-11-26 18:00", f"import {shlex.quote(str(till))}")
    # Friday: the follow-ups of the boots, one unhappy; the service delivered; a short close.
    followups = sorted(
        p["id"] for p in json.loads(pk("2026-11-27 09:00", "promise list --kind followup --json"))
    )
    pk("2026-11-27 09:15", f'done {followups[0]} --unhappy -n "Boots pinch at the toes"')
    pk(
        "2026-11-27 10:30",
        f'remedy {boots} -a "Stretched the boots for free" --prevent "Offer a fitting with every boot order"',
    )
    pk("2026-11-27 16:00", f"deliver {service} --no-followup")
    pk("2026-11-27 18:00", f'done {socks} -n "Customer took the two"')
    pk("2026-11-27 18:05", f"notice {fitting}")
    # Catching up in the evening: two identical partial deliveries made earlier in the day.
    pk("2026-11-27 19:00", f'deliver {pegs} -q 1 --at "today 10:00" --no-followup')
    pk("2026-11-27 19:01", f'deliver {pegs} -q 1 --at "today 15:00" --no-followup')
    # Saturday: the morning mail; a cancellation; Dara Quinn and Sam are forgotten.
    mail_at = datetime.fromisoformat("2026-11-28T07:00:00+01:00")
    store: Any = importlib.import_module("promisekeeper.store")
    db: Any = importlib.import_module("promisekeeper.db").Database(str(shop.book))
    with db.session() as session:
        store.record_sent(
            session,
            at=mail_at,
            recipients=["owner@alpine.example", "jo@alpine.example"],
            subject="pk: 1 overdue, 0 due today",
            overdue=[fitting],
            due=[],
        )
    pk("2026-11-28 08:00", f'promise cancel {kayak} -r "Dara Quinn cancelled the trip"')
    pk("2026-11-28 10:00", 'customer forget "Dara Quinn"')
    pk("2026-11-28 10:05", "customer forget Sam")


def judged(shop: Shop) -> list[dict[str, Any]]:
    """Every promise as release 1 judges it at ``JUDGED_AT``."""
    store: Any = importlib.import_module("promisekeeper.store")
    render: Any = importlib.import_module("promisekeeper.render")
    when: Any = importlib.import_module("promisekeeper.when")
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ)
    clock = when.Clock(now=datetime.fromisoformat(JUDGED_AT), tz=tz)
    db: Any = importlib.import_module("promisekeeper.db").Database(str(shop.book))
    keys = (
        *("id", "status", "deviations", "delivered_quantity", "charged", "currency", "late_by_seconds"),
        *("fulfilled_at", "remedied", "renegotiated", "due", "original_due"),
    )
    out = []
    with db.session(write=False) as session:
        for view in sorted(store.list_promises(session, clock=clock), key=lambda v: v.id):
            full = render.promise_dict(view, tz)
            row = {k: full[k] for k in keys}
            row["unhappy"] = view.unhappy
            out.append(row)
    return out


def history(book: Path) -> list[dict[str, Any]]:
    """Every event row as stored, its moment as ISO 8601 UTC."""
    with sqlite3.connect(book) as conn:
        rows = conn.execute("SELECT id, promise_id, at, event, detail FROM event ORDER BY id").fetchall()
    return [
        {
            "id": i,
            "promise_id": pid,
            "at": datetime.fromisoformat(at).replace(tzinfo=UTC).isoformat(),
            "event": event,
            "detail": detail,
        }
        for i, pid, at, event, detail in rows
    ]


def main() -> None:
    models: Any = importlib.import_module("promisekeeper.models")
    if getattr(models, "SCHEMA_VERSION", None) != 1 or not hasattr(models, "Event"):
        sys.exit("Run this against release 1's code: PYTHONPATH=/work/release1/src (see the docstring).")
    with tempfile.TemporaryDirectory() as tmp:
        shop = Shop(Path(tmp))
        week(shop)
        rows = judged(shop)
        events = history(shop.book)
        with sqlite3.connect(shop.book) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            statements = list(conn.iterdump())
    # Indexes in name order: SQLAlchemy creates them in an order that changes from run to run.
    indexes = sorted(s for s in statements if s.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")))
    rest = [s for s in statements if s not in indexes]
    dump = "\n".join([*rest[:-1], *indexes, rest[-1]]) + "\n"
    (HERE / "book.sql").write_text(dump, encoding="utf-8")
    for name, data in (("judged.json", rows), ("history.json", events)):
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        (HERE / name).write_text(text, encoding="utf-8")
    print(f"{len(rows)} promises, {len(events)} events written to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.pop("PK_NOW", None)
    main()
