"""CSV output that a spreadsheet program cannot mistake for a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

# A cell starting with one of these is a formula (or becomes one) in common
# spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """UTF-8 CSV with a byte-order mark (spreadsheet programs need it to read UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()
