"""CSV output that a spreadsheet program cannot mistake for a formula."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from typing import Any

# A cell starting with one of these is a formula (or becomes one) in common
# spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value, behind a leading apostrophe if a spreadsheet program could read it as a formula.

    Some programs trim leading whitespace (" =1+1", "\\n=cmd") and fold full-width
    and other compatibility forms ("＝1+1") before they look, so the check does too.
    """
    text = "" if value is None else str(value)
    folded = unicodedata.normalize("NFKC", text).lstrip()
    if text.startswith(FORMULA_STARTS) or folded.startswith(FORMULA_STARTS):
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
