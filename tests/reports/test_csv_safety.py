"""CSV exports cannot start a spreadsheet formula, whatever text goes into them."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rebuttal.csvsafe import csv_text, safe_cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TRICKY = [
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\n",
    " ",
    "\u3000",
    "\xa0",
    "＝",
    "＋",
    "－",
    "＠",
    '"',
    "'",
    ",",
    "1",
]

# Arbitrary text, with the characters that start formulas (and their look-alikes) made common.
hostile_text = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(max_size=4)),
    max_size=8,
).map("".join)
cell_values = st.one_of(hostile_text, st.integers(), st.floats(allow_nan=False), st.none())


def parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def starts_a_formula(cell: str) -> bool:
    """What a cautious spreadsheet program might do: look as is, trimmed, and with wide forms folded."""
    folded = unicodedata.normalize("NFKC", cell)
    return any(form.startswith(FORMULA_STARTS) for form in (cell, cell.lstrip(), folded.lstrip()))


@settings(max_examples=500, deadline=None)
@given(
    header=st.lists(hostile_text, min_size=1, max_size=4),
    rows=st.lists(st.lists(cell_values, min_size=1, max_size=4), max_size=5),
)
@example(header=[" =1+1"], rows=[["\n=cmd|' /C calc'!A0"], ["＝1+1"], ["\t@SUM(A1)"], ["\u3000+1"]])
def test_no_exported_cell_can_start_a_formula(header, rows):
    text = csv_text(header, rows)

    parsed = parse(text)
    assert len(parsed) == 1 + len(rows)
    for cell in (c for row in parsed for c in row):
        assert not starts_a_formula(cell), repr(cell)
    # Nothing is lost: each cell reads back as the value, or the value behind one apostrophe.
    for written, read in zip([header, *rows], parsed, strict=True):
        originals = ["" if v is None else str(v) for v in written]
        assert [
            c.removeprefix("'") if c != o else c for c, o in zip(read, originals, strict=True)
        ] == originals


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("-5", "'-5"),
        ("+41 22 917 1234", "'+41 22 917 1234"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        (" =1+1", "' =1+1"),
        ("\n=cmd", "'\n=cmd"),
        ("＝1+1", "'＝1+1"),
        ("@user", "'@user"),
    ],
)
def test_formula_like_values_are_neutralised_but_readable(value, shown):
    assert safe_cell(value) == shown


@pytest.mark.parametrize("value", ["Geneva", "5", "3.5", "O'Brien", "a-b", "x=1", "", "Ñandú", " padded"])
def test_ordinary_values_are_unchanged(value):
    assert safe_cell(value) == value


def test_numbers_and_none_are_written_as_text():
    assert safe_cell(None) == ""
    assert safe_cell(-3) == "'-3"
    assert safe_cell(7) == "7"
