"""Random input through the command layer: any text, price, date or id gives an answer or one sentence
with an exit code from the reference's table, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from tests.cli.conftest import Pk, env_in, pk_with

pytestmark = pytest.mark.sqlite_only

# Each example gets a shop of its own (``fresh_shop``: a new folder and a new database file), so nothing
# one example writes can be seen by the next, and a failure replays alone exactly as it was found.
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

texts = st.text(max_size=40)
words = st.sampled_from(
    ["", " ", "-", "--", "--help", "0", "Boots", "x" * 300, "\x00", "a\nb", "ünï ✓", "'\""]
)
anything = st.one_of(texts, words)
whens = st.one_of(
    anything,
    st.sampled_from(
        (
            *(
                "today",
                "tue 10:00",
                "3d",
                "24h",
                "2bd",
                "2026-11-24",
                "31/2/2026",
                "9999-12-31",
                "1899-01-01",
            ),
            *("in 99999999 days", "24 Nov 5pm", "2026-11-24T17:00+25:00", "eom", "+30m", "13/13/13", "0:61"),
        )
    ),
)
prices = st.one_of(
    anything,
    st.sampled_from(
        ["240", "€19.99", "1,234.50", "-5", "1e5", "EUR 240.50", "¥1200", "240.001", "nan", "$5 CAD"]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
numbers = st.one_of(
    anything,
    st.integers(min_value=-2, max_value=5).map(str),
    st.sampled_from([str(2**31), str(2**63 - 1), str(2**63), str(2**70), "1e3", "٣"]),
)


def commands() -> st.SearchStrategy[list[str]]:
    opt = st.tuples
    return st.one_of(
        opt(anything, whens, prices, numbers, anything, anything).map(
            lambda a: ["promise", "add", a[0], "-d", a[1], "-p", a[2], "-q", a[3], "-c", a[4], "-t", a[5]]
        ),
        opt(numbers, anything, prices, whens, numbers).map(
            lambda a: ["deliver", a[0], "--what", a[1], "--price", a[2], "--at", a[3], "--qty", a[4]]
        ),
        opt(numbers, whens, anything, prices, numbers).map(
            lambda a: ["promise", "amend", a[0], "--due", a[1], "--reason", a[2], "--price", a[3], "-q", a[4]]
        ),
        opt(numbers, anything).map(lambda a: ["promise", "cancel", a[0], "--reason", a[1]]),
        opt(numbers, anything).map(lambda a: ["done", a[0], "--note", a[1]]),
        opt(numbers, anything).map(lambda a: ["remedy", a[0], "--action", a[1]]),
        numbers.map(lambda n: ["promise", "show", n, "--json"]),
        opt(anything, anything).map(lambda a: ["promise", "list", "--status", a[0], "--customer", a[1]]),
        whens.map(lambda w: ["due", "--within", w]),
        whens.map(lambda w: ["check", "--since", w]),
    )


def assert_answered(result: Result, args: list[str]) -> None:
    out = result.stdout + result.stderr
    assert result.exit_code in (0, 2, 3, 4), (args, result.exit_code, out)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert "Traceback" not in out, args
    assert "Internal error" not in out, args
    if result.exit_code != 0:
        assert result.stderr.startswith("pk: "), (args, result.stderr)
        assert result.stderr.count("\n") == 1, (args, result.stderr)


def open_shop(pk: Pk) -> Pk:
    """Three promises, one of them partly delivered: something for every command to find."""
    for args in (
        ("promise", "add", "Boots", "-c", "Anna", "-p", "240", "-q", "2", "-d", "tue"),
        ("promise", "add", "Call Ben", "--kind", "callback", "-d", "today 16:00"),
        ("promise", "add", "Old", "-d", "2026-11-01"),
    ):
        assert pk(*args).exit_code == 0
    assert pk("deliver", "1", "--qty", "1").exit_code == 0
    return pk


@pytest.fixture(scope="module")
def stocked_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The opened shop's database, made once through ``pk``; examples only ever copy it."""
    folder = tmp_path_factory.mktemp("fuzz-stock")
    open_shop(pk_with(env_in(folder, str(folder / "p.db"))))
    return folder / "p.db"


@contextmanager
def fresh_shop(stock: Path) -> Iterator[tuple[Pk, Path]]:
    """A new folder for one example, with its own copy of ``stock`` and its own config and data paths.

    Copying the stocked database (SQLite's backup API) gives the same shop as opening it again through
    ``pk`` at a fifth of the cost; the folder and everything in it is removed after the example.
    """
    with tempfile.TemporaryDirectory(prefix="pk-fuzz-") as name:
        folder = Path(name)
        db = folder / "p.db"
        with closing(sqlite3.connect(stock)) as source, closing(sqlite3.connect(db)) as copy:
            source.backup(copy)
        yield pk_with(env_in(folder, str(db))), folder


@pytest.fixture
def shop(pk: Pk) -> Pk:
    return open_shop(pk)


@pytest.mark.slow
@FUZZ
@given(args=commands())
def test_random_input_gets_an_answer_or_one_sentence(stocked_db: Path, args: list[str]) -> None:
    with fresh_shop(stocked_db) as (shop, _):
        assert_answered(shop(*args), args)


@pytest.mark.slow
@settings(FUZZ, max_examples=60)
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode())))
def test_random_import_files_get_an_answer_or_one_sentence(stocked_db: Path, content: bytes) -> None:
    with fresh_shop(stocked_db) as (shop, folder):
        for header in (b"", b"what,due,price,quantity,delivered_at,charged\n"):
            path = folder / "random.csv"
            path.write_bytes(header + content)
            result = shop("import", str(path), "--dry-run")
            assert_answered(result, ["import", repr(header + content)])
            assert result.exit_code in (0, 2)


def test_an_id_beyond_64_bits_is_not_found(shop: Pk) -> None:
    """Found by the fuzzing above: such an id reached SQLite and came back as an internal error."""
    for args in (
        ("promise", "show", str(2**63)),
        ("deliver", str(2**70)),
        ("promise", "cancel", str(2**63), "-r", "x"),
    ):
        result = shop(*args)
        assert result.exit_code == 3, result.stderr
        assert result.stderr.startswith("pk: There is no promise #")


# --- what a shell or a file system can hand pk (issue 11) ---------------------------------------------

# ``PK_FUZZ_EXAMPLES`` raises the number of examples for a longer run outside the suite, e.g.
# ``PK_FUZZ_EXAMPLES=2000 PK_FUZZ_LOG=codes.txt pytest tests/cli/test_fuzz.py -k hostile``.
HOSTILE = settings(FUZZ, max_examples=int(os.environ.get("PK_FUZZ_EXAMPLES", "150")))
LOG = os.environ.get("PK_FUZZ_LOG")  # a file that gets each invocation's exit code

#: Arguments as Python sees bytes that are not UTF-8 (``surrogateescape``, as ``sys.argv`` holds them).
not_utf8 = (
    st.binary(min_size=1, max_size=8)
    .map(lambda b: os.fsdecode(b"\xff" + b))
    .filter(lambda s: s != s.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
)
controls = st.text(
    alphabet=st.characters(max_codepoint=0x9F) | st.sampled_from("\u202e\u2066\u200f"), max_size=12
)
long_names = st.integers(min_value=200, max_value=400).map(lambda n: "n" * n)
hostile_text = st.one_of(
    anything, not_utf8, controls, long_names, st.sampled_from(["\x1b[2J", "=1+1", "-", "--"])
)
#: File names inside the example's own folder, where ``afile`` is a file, ``ro`` a read-only folder,
#: ``link`` a symlink to ``afile`` and ``dangling`` a symlink to nothing (never a device or a FIFO).
names = st.one_of(
    st.sampled_from(
        [
            "out.json",
            "out.csv",
            "out.ics",
            "afile",
            "afile/x.db",
            "ro/x.json",
            "link",
            "dangling",
            "ro",
            "nowhere/x.db",
            ".",
            "..",
            "",
            "-",
            "x" * 300,
            "é" * 130,
            "p.db",
            "p.db-wal",
            "a\nb",
            "a\x00b",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_characters="/\x00"), min_size=1, max_size=20),
    not_utf8,
)


def hostile_commands(folder: Path) -> st.SearchStrategy[tuple[list[str], dict[str, str]]]:
    """A command, and the environment it runs in (``PK_DB`` may name a missing, odd or foreign book)."""

    def at(name: str) -> str:
        return name if name == "-" else str(folder / name)  # "-" is standard output

    paths = names.map(at)
    dbs: st.SearchStrategy[dict[str, str]] = st.one_of(
        st.just({}),
        st.sampled_from(["missing/p.db", "afile/p.db", "ro", "afile", "link", "x" * 300]).map(
            lambda n: {"PK_DB": str(folder / n)}
        ),
        st.sampled_from(
            [
                "postgresql+psycopg://u@127.0.0.1:abc/db",
                "postgresql+psycopg://u@[::1/db",
                "nosuch://x",
                "sqlite:///",
            ]
        ).map(lambda u: {"PK_DB": u}),
    )
    opt = st.tuples
    commands = st.one_of(
        opt(hostile_text, hostile_text, hostile_text).map(
            lambda a: ["promise", "add", a[0], "-c", a[1], "-d", "tue", "--note", a[2]]
        ),
        opt(hostile_text, hostile_text, hostile_text).map(
            lambda a: ["customer", "add", a[0], "--email", a[1], "--phone", a[2]]
        ),
        hostile_text.map(lambda a: ["customer", "show", a]),
        hostile_text.map(lambda a: ["promise", "list", "--customer", a]),
        opt(hostile_text, hostile_text).map(lambda a: ["deliver", "1", "--what", a[0], "--note", a[1]]),
        opt(st.sampled_from(["json", "csv", "ics"]), paths).map(lambda a: ["export", "-f", a[0], "-o", a[1]]),
        paths.map(lambda p: ["export", "-o", p]),
        opt(paths, st.booleans()).map(lambda a: ["db", "backup", a[0], *(["--force"] if a[1] else [])]),
        paths.map(lambda p: ["import", p, "--dry-run"]),
        names.map(lambda n: ["db", "copy", str(folder / "p.db"), str(folder / n)]),
        st.sampled_from(
            [["due"], ["check"], ["stats"], ["db", "upgrade"], ["db", "path"], ["promise", "show", "1"]]
        ),
    )
    return opt(commands, dbs).map(lambda a: (a[0], a[1]))


def furnish(folder: Path) -> None:
    """The odd things the generated paths name."""
    (folder / "afile").write_text("not a folder, not a book\n")
    (folder / "ro").mkdir()
    (folder / "link").symlink_to(folder / "afile")
    (folder / "dangling").symlink_to(folder / "nothing-here")
    (folder / "ro").chmod(0o555)


@pytest.mark.slow
@HOSTILE
@given(data=st.data())
def test_hostile_arguments_paths_and_books_get_an_answer_or_one_sentence(
    stocked_db: Path, data: st.DataObject
) -> None:
    with fresh_shop(stocked_db) as (shop, folder):
        furnish(folder)
        try:
            args, env = data.draw(hostile_commands(folder))
            here = set(os.listdir())
            result = shop(*args, env=env)
            assert set(os.listdir()) == here, args  # nothing written outside the example's folder
            if LOG:  # the longer run's tally: one exit code a line
                with open(LOG, "a", encoding="utf-8") as fh:
                    fh.write(f"{result.exit_code}\n")
            assert_answered(result, args)
            leftovers = [p.name for p in folder.rglob("*.part")]
            assert leftovers == [], (args, leftovers)
        finally:
            (folder / "ro").chmod(0o755)


@pytest.mark.parametrize("arg", ["\udcff\udcfe", "\ud800", "a\udc80b\n"])
def test_an_argument_that_is_not_text_is_one_sentence(pk: Pk, arg: str) -> None:
    """Found by the longer hostile run: a lone surrogate that ``surrogateescape`` never makes (U+D800)
    broke the sentence that names it, and pk ended with an internal error."""
    result = pk("import", arg, "--dry-run")
    assert_answered(result, ["import", arg])
    assert result.exit_code == 2
    assert "is not valid UTF-8" in result.stderr
