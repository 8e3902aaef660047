"""``text``: what hostile text may come in (``check_text``), how stored text goes out (``visible``), and the
formula prefix of a CSV cell (``csv_safe`` / ``csv_unprefix``) — table-driven and property-based."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promisekeeper.errors import BadInput
from promisekeeper.text import BIDI, FORMULA_STARTS, check_text, csv_safe, csv_unprefix, visible

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
UNSAFE = [*C0, "\x7f", *C1, *sorted(BIDI)]
UNSAFE_IN_NOTE = [c for c in UNSAFE if c not in "\n\t"]


def is_safe(value: str, *, multiline: bool = False) -> bool:
    try:
        check_text(value, "X", multiline=multiline)
    except BadInput:
        return False
    return True


@pytest.mark.parametrize("ch", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
def test_every_control_character_and_bidi_override_is_refused_in_a_field(ch: str) -> None:
    with pytest.raises(BadInput, match=rf"^WHAT contains the .* U\+{ord(ch):04X}\b"):
        check_text(f"Boots{ch}size 38", "WHAT")


@pytest.mark.parametrize("ch", UNSAFE_IN_NOTE, ids=[f"U+{ord(c):04X}" for c in UNSAFE_IN_NOTE])
def test_a_note_refuses_them_too_but_for_newline_and_tab(ch: str) -> None:
    with pytest.raises(BadInput, match=r"^The note contains"):
        check_text(f"size{ch}38", "The note", multiline=True)


@pytest.mark.parametrize(
    ("value", "field", "multiline", "line", "message"),
    [
        (
            "a\x1b[31mb",
            "WHAT",
            False,
            None,
            "WHAT contains the control character U+001B; type it again without it.",
        ),
        (
            "Anna\u202e",
            "The customer's name",
            False,
            None,
            "The customer's name contains the bidirectional override U+202E; type it again without it.",
        ),
        (
            "two\nlines",
            "The reason",
            False,
            None,
            "The reason contains the control character U+000A (only a note may hold line breaks and tabs); "
            "type it again without it.",
        ),
        (
            "x\x00",
            '"what"',
            False,
            7,
            '"what" on line 7 contains the control character U+0000; remove it and import the file again.',
        ),
        (
            "ok\r\n",
            "The note",
            True,
            None,
            "The note contains the control character U+000D; type it again without it.",
        ),
    ],
)
def test_the_refusal_names_the_field_the_character_and_the_line(
    value: str, field: str, multiline: bool, line: int | None, message: str
) -> None:
    with pytest.raises(BadInput) as caught:
        check_text(value, field, multiline=multiline, line=line)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "multiline"),
    [
        ("Hiking boots size 38", False),
        ("Größe 38 – €240 ✓ 日本", False),
        ("Anna O'Brien", False),
        ('=HYPERLINK("http://evil","x")', False),  # a formula is refused in CSV output, not on input
        ("line one\nline two\tand a tab", True),
        ("\u00a0non-breaking\u200bzero-width", False),  # not controls, not overrides
    ],
)
def test_ordinary_text_passes_unchanged(value: str, multiline: bool) -> None:
    assert check_text(value, "X", multiline=multiline) is value


@pytest.mark.parametrize(
    ("value", "keep_lines", "shown"),
    [
        ("\x1b]0;TITLE\x07\x1b[2J", False, "␛]0;TITLE␇␛[2J"),
        ("a\x00b\x7fc", False, "a␀b␡c"),
        ("evil\u202etxt.exe", False, "evil<U+202E>txt.exe"),
        ("\x85next", False, "<U+0085>next"),
        ("two\nlines\tand tab", False, "two␊lines␉and tab"),
        ("two\nlines\tand tab", True, "two\nlines\tand tab"),
        ("windows\r\nline", True, "windows\nline"),
        ("lone\rreturn", True, "lone␍return"),
        ("plain", False, "plain"),
    ],
)
def test_visible_shows_every_unsafe_character(value: str, keep_lines: bool, shown: str) -> None:
    assert visible(value, keep_lines=keep_lines) == shown


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tindented", "'\tindented"),
        ("'=already quoted", "''=already quoted"),
        ("'quoted", "'quoted"),
        ("Boots", "Boots"),
        ("a=b", "a=b"),
        ("=\x1b[31m", "'=␛[31m"),
    ],
)
def test_csv_safe_prefixes_what_a_spreadsheet_would_run(value: str, cell: str) -> None:
    assert csv_safe(value) == cell


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("'=1+1", "=1+1"),
        ("'-2", "-2"),
        ("''=x", "'=x"),
        ("'quoted", "'quoted"),
        ("'", "'"),
        ("=1+1", "=1+1"),  # a file from elsewhere: unchanged (and harmless once stored)
        ("", ""),
    ],
)
def test_csv_unprefix_removes_exactly_the_prefix(cell: str, value: str) -> None:
    assert csv_unprefix(cell) == value


unsafe_heavy = st.text(
    alphabet=st.one_of(st.sampled_from([*UNSAFE, "=", "'", "-"]), st.characters()), max_size=40
)


@given(unsafe_heavy, st.booleans())
def test_visible_never_returns_an_unsafe_character(value: str, keep_lines: bool) -> None:
    shown = visible(value, keep_lines=keep_lines)
    assert not set(shown) & set(UNSAFE_IN_NOTE if keep_lines else UNSAFE)
    assert is_safe(shown, multiline=keep_lines)
    if is_safe(value, multiline=keep_lines):
        assert shown == value


@given(unsafe_heavy)
def test_a_csv_cell_is_never_unsafe_nor_formula_like(value: str) -> None:
    cell = csv_safe(value)
    assert is_safe(cell, multiline=True)
    assert not cell.startswith(FORMULA_STARTS)


safe_text = st.text(
    alphabet=st.one_of(st.sampled_from(["=", "+", "-", "@", "'", "\t", "\n", " "]), st.characters()),
    max_size=40,
).filter(lambda s: is_safe(s, multiline=True))


@given(safe_text)
def test_csv_unprefix_undoes_csv_safe_for_safe_text(value: str) -> None:
    assert csv_unprefix(csv_safe(value)) == value


@given(st.text(max_size=40), st.booleans())
def test_check_text_returns_the_value_or_refuses_it(value: str, multiline: bool) -> None:
    if is_safe(value, multiline=multiline):
        assert check_text(value, "X", multiline=multiline) == value
    else:
        pattern = r"^X contains the (control character|bidirectional override) U\+[0-9A-F]{4}"
        with pytest.raises(BadInput, match=pattern):
            check_text(value, "X", multiline=multiline)
