"""The output formats of every printing command.

Apart from ``render`` so that building the command line (``pk --version``, ``--help``, shell
completion on every Tab) does not import Rich's tables or the core modules that render needs.
"""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
