"""``store.corrections`` below the CLI: the did-you-mean of a new customer name (a real book each time)."""

from __future__ import annotations

import pytest

from promisekeeper import store
from promisekeeper.db import Database
from promisekeeper.when import Clock

KNOWN = ("Anna Smith", "Bo Li", "Jürgen Müller", "Zoë Ødegård", "Customer 13")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Anna Smtih", "Anna Smith"),  # two letters swapped
        ("Ana Smith", "Anna Smith"),  # one letter missing
        ("Anna Smiths", "Anna Smith"),  # one letter too many
        ("Jurgen Muller", "Jürgen Müller"),  # accents
        ("JÜRGEN  MÜLER", "Jürgen Müller"),  # case, spacing and a letter
        ("Zoe Odegard", "Zoë Ødegård"),
        ("Anne Smithers", None),  # another person
        ("Jo Li", None),  # short names: one letter is a different name
        ("Ben Okafor", None),
        ("Anna Smith 2", None),  # a number tells people apart
        ("Customer 12", None),
        ("anna smith", None),  # the same customer, not a new one
        ("Anna   Smith", None),
    ],
)
def test_a_new_name_close_to_a_known_one_is_a_near_miss(
    db: Database, clock: Clock, typed: str, meant: str | None
) -> None:
    with db.session() as session:
        for name in KNOWN:
            store.add_customer(session, clock=clock, name=name)
    with db.session(write=False) as session:
        assert store.near_miss(session, typed) == meant


def test_no_customers_no_near_miss(db: Database) -> None:
    with db.session(write=False) as session:
        assert store.near_miss(session, "Anna Smith") is None
        assert store.near_miss(session, None) is None
