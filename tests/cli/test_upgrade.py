"""A book written by the first release opens with this pk, is upgraded, and judges every promise the same."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Pk

DATA = Path(__file__).parents[1] / "data" / "release1"
JUDGED_AT = "2026-11-29T20:00:00+01:00"  # the moment judged.json was written by release 1


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_a_release1_book_is_upgraded_and_every_promise_judged_the_same(
    pk: Pk, cli_env: dict[str, str]
) -> None:
    with sqlite3.connect(cli_env["PK_DB"]) as conn:
        conn.executescript((DATA / "book.sql").read_text(encoding="utf-8"))
    before = {p["id"]: p for p in json.loads((DATA / "judged.json").read_text(encoding="utf-8"))}
    listed = pk("promise", "list", "--json", now=JUDGED_AT)
    assert listed.exit_code == 0, listed.stderr
    after = {p["id"]: p for p in json.loads(listed.stdout)}
    assert sorted(after) == sorted(before)
    for pid, old in before.items():
        new = after[pid]
        same = {key: new[key] for key in old if key in new}
        assert same == {key: old[key] for key in same}, f"promise #{pid} is judged differently"
    # Every event of the old history is still there, each now a kind and its fields.
    old_events = json.loads((DATA / "history.json").read_text(encoding="utf-8"))
    shown = [pk("promise", "show", str(pid), "--json", now=JUDGED_AT) for pid in before]
    history = [e for r in shown for e in json.loads(r.stdout)["history"]]
    assert len(history) == len(old_events)
    assert all(isinstance(e["data"], dict) and e["detail"] is not None for e in history)
    assert {e["event"] for e in history} >= {"promised", "delivered", "fulfilled", "amended", "cancelled"}
