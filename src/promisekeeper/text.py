"""Hostile text, in one place: what may come in, and how stored text is made harmless going out.

Text typed by a customer, a clerk or a file may not carry control characters (C0, C1, DEL) or Unicode
bidirectional overrides and isolates; a note alone may keep newlines and tabs (docs/reference.md,
"Hostile text"). Text stored before that rule, or by another program, is still shown *visibly* by every
output (tables, confirmations, CSV, ICS, both mail parts) through :func:`visible`, and a CSV cell that a
spreadsheet would run as a formula is prefixed with ``'`` by :func:`csv_safe` (undone by
:func:`csv_unprefix` on import, so an export round-trips).

Plain standard library: every layer may use it.
"""

from __future__ import annotations

import re

from promisekeeper.errors import BadInput

#: Bidirectional embeddings, overrides and isolates: they make text read differently from what it is.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_NOTE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """How the first control character or bidi override in ``value`` is named (``the control character
    U+001B``), or ``None`` when there is none; ``multiline`` allows newlines and tabs. For a caller that
    words its own refusal (an import names the file, the line and the cell)."""
    found = (_UNSAFE_IN_NOTE if multiline else _UNSAFE).search(value)
    if found is None:
        return None
    ch = found.group()
    return f"the {'bidirectional override' if ch in BIDI else 'control character'} {_name(ch)}"


def check_text(value: str, field: str, *, multiline: bool = False, line: int | None = None) -> str:
    """``value`` unchanged if it holds no control character or bidi override, else bad input naming
    ``field`` (and the import ``line``). ``multiline`` (notes) allows newlines and tabs."""
    found = unsafe_character(value, multiline=multiline)
    if found is None:
        return value
    where = f" on line {line}" if line is not None else ""
    allowed = ""
    if not multiline and found.endswith(("U+000A", "U+0009")):
        allowed = " (only a note may hold line breaks and tabs)"
    advice = "type it again without it" if line is None else "remove it and import the file again"
    raise BadInput(f"{field}{where} contains {found}{allowed}; {advice}.")


def _shown(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ESC as ␛, NUL as ␀
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<{_name(ch)}>"  # C1 controls and bidi overrides have no picture


def visible(value: str, *, keep_lines: bool = False) -> str:
    """``value`` with every control character and bidi override replaced by a visible stand-in
    (``\\x1b`` as ``␛``, U+202E as ``<U+202E>``), so it can reach a terminal, a file or a mail safely.
    ``keep_lines`` keeps newlines and tabs (a note in a table or a multi-line CSV cell)."""
    if _UNSAFE.search(value) is None:
        return value
    if keep_lines:
        return _UNSAFE_IN_NOTE.sub(lambda m: _shown(m.group()), value.replace("\r\n", "\n"))
    return _UNSAFE.sub(lambda m: _shown(m.group()), value)


def _formula_like(value: str) -> bool:
    """Whether a spreadsheet would run the cell, or :func:`csv_unprefix` would take a ``'`` off it."""
    return value.lstrip("'").startswith(FORMULA_STARTS)


def csv_safe(value: str) -> str:
    """A text cell for CSV: visible, and prefixed with ``'`` when a spreadsheet would run it as a
    formula (it starts with ``= + - @``, TAB or CR), or when it already starts with ``'`` before one
    (so that :func:`csv_unprefix` gives back exactly ``value``)."""
    if _formula_like(value):
        value = "'" + value
    return visible(value, keep_lines=True)


def csv_unprefix(value: str) -> str:
    """Exactly the ``'`` that :func:`csv_safe` put before a formula-like cell, removed; anything else
    unchanged (a cell that merely starts with ``'`` keeps it)."""
    if value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value
