"""Small-cell suppression: no small count is shown, and none can be worked out from what is shown.

The brute-force check plays the reader: it knows every shown number, that a ``"<t"`` cell holds
1..t-1 (0..t-1 when zeros are hidden) and that an ``"x"`` cell holds t or more, and searches for
another table that fits all of it and gives the hidden entry another value.
"""

from __future__ import annotations

from math import inf

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import COMPLEMENTARY, SuppressedTable, suppress_counts, suppress_table

# The largest count the brute-force tables hold; hidden "x" cells may range a little above it.
SMALL_MAX = 8


@st.composite
def tables(draw, *, max_side: int, max_count: int) -> list[list[int]]:
    n_rows = draw(st.integers(1, max_side))
    n_cols = draw(st.integers(1, max_side))
    # Mostly small counts, so that suppression has work to do.
    count = st.one_of(st.integers(0, min(6, max_count)), st.integers(0, max_count))
    return draw(st.lists(st.lists(count, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows))


def with_margins(counts: list[list[int]]) -> list[list[int]]:
    """The table with a column of row totals and a row of column totals (grand total last)."""
    rows = [[*row, sum(row)] for row in counts]
    return [*rows, [sum(col) for col in zip(*rows, strict=True)]]


def shown_with_margins(table: SuppressedTable) -> list[list[int | str]]:
    rows = [[*cells, total] for cells, total in zip(table.cells, table.row_totals, strict=True)]
    return [*rows, [*table.col_totals, table.total]]


def lines(grid: list[list]) -> list[list]:
    """Every equation of the table: each row and column, margins included (the total is the last entry)."""
    return [list(row) for row in grid] + [list(col) for col in zip(*grid, strict=True)]


def reader_range(
    shown: int | str, *, threshold: int, suppress_zero: bool, cap: float, withheld: bool = False
) -> tuple[int, float]:
    """What the display says about one entry ("x" is at least t, unless the whole table is withheld)."""
    if shown == f"<{threshold}":
        return (0 if suppress_zero else 1), threshold - 1
    if shown == COMPLEMENTARY:
        return (0 if withheld else threshold), cap
    assert isinstance(shown, int)
    return shown, shown


def consistent_table_exists(
    cell_ranges: list[list[tuple[int, float]]],
    row_ranges: list[tuple[int, float]],
    col_ranges: list[tuple[int, float]],
    total_range: tuple[int, float],
) -> bool:
    """Depth-first search, cell by cell, for a table whose cells and sums all lie in their ranges."""
    n_rows, n_cols = len(cell_ranges), len(cell_ranges[0])
    row_sum, col_sum = [0] * n_rows, [0] * n_cols
    # The least and most the cells after (i, j) can add to row i, to column j, and to the grand total.
    row_rest = [[(0, 0)] * n_cols for _ in range(n_rows)]
    col_rest = [[(0, 0)] * n_cols for _ in range(n_rows)]
    for i in range(n_rows):
        for j in range(n_cols):
            after_row = cell_ranges[i][j + 1 :]
            after_col = [cell_ranges[k][j] for k in range(i + 1, n_rows)]
            row_rest[i][j] = (sum(lo for lo, _ in after_row), sum(hi for _, hi in after_row))
            col_rest[i][j] = (sum(lo for lo, _ in after_col), sum(hi for _, hi in after_col))
    flat = [rng for row in cell_ranges for rng in row]
    grand_rest = [
        (sum(lo for lo, _ in flat[k + 1 :]), sum(hi for _, hi in flat[k + 1 :])) for k in range(len(flat))
    ]

    def fits(partial: int, rest: tuple[int, float], target: tuple[int, float]) -> bool:
        return partial + rest[0] <= target[1] and partial + rest[1] >= target[0]

    def search(k: int, grand: int) -> bool:
        if k == n_rows * n_cols:
            return True  # every sum was checked as its last cell was placed
        i, j = divmod(k, n_cols)
        lo, hi = cell_ranges[i][j]
        value = lo
        while value <= hi:
            row_sum[i] += value
            col_sum[j] += value
            ok = (
                fits(row_sum[i], row_rest[i][j], row_ranges[i])
                and fits(col_sum[j], col_rest[i][j], col_ranges[j])
                and fits(grand + value, grand_rest[k], total_range)
            )
            found = ok and search(k + 1, grand + value)
            row_sum[i] -= value
            col_sum[j] -= value
            if found:
                return True
            value += 1
        return False

    return search(0, 0)


def recoverable_entries(
    counts: list[list[int]], table: SuppressedTable, *, threshold: int, suppress_zero: bool
) -> list[tuple[int, int]]:
    """Hidden entries (of the table with margins) that every table fitting the display gives one value."""
    true = with_margins(counts)
    shown = shown_with_margins(table)
    n_rows, n_cols = len(counts), len(counts[0])
    cap = SMALL_MAX + 2 * threshold
    ranges = [
        [
            reader_range(
                s, threshold=threshold, suppress_zero=suppress_zero, cap=cap, withheld=table.withheld
            )
            for s in row
        ]
        for row in shown
    ]
    # Totals have no cap: only cells do, and a total's range is what its mark says.
    for i in range(n_rows + 1):
        for j in range(n_cols + 1):
            if (i == n_rows or j == n_cols) and shown[i][j] == COMPLEMENTARY:
                ranges[i][j] = (0 if table.withheld else threshold, inf)

    recoverable = []
    for i in range(n_rows + 1):
        for j in range(n_cols + 1):
            if isinstance(shown[i][j], int):
                continue
            lo, hi = ranges[i][j]
            if lo == hi:
                continue  # the mark itself names the value (t = 1, or t = 2 without zeros)
            if pinned(ranges, i, j, true[i][j]):
                recoverable.append((i, j))
    return recoverable


def pinned(ranges: list[list[tuple[int, float]]], i: int, j: int, value: int) -> bool:
    """Whether entry (i, j) of a table with margins (last row and column), whose entries lie in
    ``ranges``, can only be ``value``: no table fitting the ranges gives it another."""
    n_rows, n_cols = len(ranges) - 1, len(ranges[0]) - 1
    lo, hi = ranges[i][j]
    for narrowed in ((lo, value - 1), (value + 1, hi)):
        if narrowed[0] > narrowed[1]:
            continue
        trial = [list(row) for row in ranges]
        trial[i][j] = narrowed
        if consistent_table_exists(
            [row[:n_cols] for row in trial[:n_rows]],
            [row[n_cols] for row in trial[:n_rows]],
            trial[n_rows][:n_cols],
            trial[n_rows][n_cols],
        ):
            return False
    return True


def assert_display_is_truthful(counts, table, *, threshold: int, suppress_zero: bool) -> None:  # noqa: ANN001
    for true_row, shown_row in zip(with_margins(counts), shown_with_margins(table), strict=True):
        for value, shown in zip(true_row, shown_row, strict=True):
            if isinstance(shown, int):
                assert shown == value
                assert not 0 < shown < threshold
                assert shown or not suppress_zero
            elif shown == COMPLEMENTARY:
                assert value >= threshold or table.withheld
            else:
                assert shown == f"<{threshold}"
                assert (0 if suppress_zero else 1) <= value < threshold


@settings(max_examples=400, deadline=None)
@given(
    counts=tables(max_side=6, max_count=30),
    threshold=st.integers(1, 10),
    suppress_zero=st.booleans(),
)
def test_no_small_count_is_shown_and_no_line_hides_exactly_one_entry(counts, threshold, suppress_zero):
    table = suppress_table(counts, threshold=threshold, suppress_zero=suppress_zero)

    assert table.zeros_hidden or not suppress_zero
    assert_display_is_truthful(counts, table, threshold=threshold, suppress_zero=table.zeros_hidden)
    for line in lines(shown_with_margins(table)):
        hidden = sum(not isinstance(entry, int) for entry in line)
        assert hidden != 1, line


@settings(max_examples=300, deadline=None)
@given(
    counts=tables(max_side=3, max_count=SMALL_MAX),
    threshold=st.integers(3, 6),
    suppress_zero=st.booleans(),
)
def test_no_hidden_value_can_be_worked_out_from_the_display(counts, threshold, suppress_zero):
    table = suppress_table(counts, threshold=threshold, suppress_zero=suppress_zero)

    assert_display_is_truthful(counts, table, threshold=threshold, suppress_zero=table.zeros_hidden)
    assert recoverable_entries(counts, table, threshold=threshold, suppress_zero=table.zeros_hidden) == []


def test_the_brute_force_reader_does_recover_a_cell_behind_a_single_hidden_entry():
    """The check is not vacuous: hiding only the small cell lets the reader subtract it out."""
    counts = [[2, 10], [7, 9]]
    naive = SuppressedTable(
        cells=[["<5", 10], [7, 9]],
        row_totals=[12, 16],
        col_totals=[9, 19],
        total=28,
        row_labels=["a", "b"],
        col_labels=["c", "d"],
        threshold=5,
    )
    assert recoverable_entries(counts, naive, threshold=5, suppress_zero=False) == [(0, 0)]


def test_the_brute_force_reader_uses_what_the_marks_say():
    """1 hidden next to 5 hidden in a shown total of 6: "<5" and "x" (at least 5) leave only 1 + 5."""
    counts = [[1, 5], [6, 6]]
    leaky = SuppressedTable(
        cells=[["<5", "x"], ["x", "x"]],
        row_totals=[6, 12],
        col_totals=[7, 11],
        total=18,
        row_labels=["a", "b"],
        col_labels=["c", "d"],
        threshold=5,
    )
    assert (0, 0) in recoverable_entries(counts, leaky, threshold=5, suppress_zero=False)
    assert suppress_table(counts, threshold=5).row_totals[0] != 6


def test_complementary_cell_is_the_smallest_other_count_of_the_line():
    table = suppress_table(
        [[2, 10, 20], [30, 40, 50]], threshold=5, row_labels=["kept", "revised"], col_labels=["A", "B", "C"]
    )

    assert table.cells == [["<5", "x", 20], ["x", "x", 50]]
    assert table.row_totals == [32, 120]
    assert table.col_totals == [32, 50, 70]
    assert table.total == 152


def test_ties_go_to_the_first_cell_and_a_total_is_hidden_when_no_cell_is_left():
    table = suppress_table([[2, 10, 10]], threshold=5)

    assert table.cells == [["<5", "x", 10]]
    assert table.row_totals == [22]
    # Columns 1 and 2 have one cell each: their totals are the cells, so they are hidden with them.
    assert table.col_totals == ["<5", "x", 10]
    assert table.total == 22


def test_zeros_are_shown_by_default_and_hidden_on_request():
    counts = [[0, 12], [9, 15]]

    assert suppress_table(counts, threshold=5).cells == [[0, 12], [9, 15]]
    hidden = suppress_table(counts, threshold=5, suppress_zero=True)
    assert hidden.cells[0][0] == "<5"
    assert sum(not isinstance(c, int) for row in hidden.cells for c in row) >= 2


def test_zeros_are_hidden_too_when_shown_zeros_would_pin_a_small_count():
    """1 and 1 under a total "<3", next to a shown 0, can only be 1 and 1: the 0 must become "<3" too."""
    table = suppress_table([[1, 1, 0]], threshold=3)

    assert table.zeros_hidden
    assert table.cells == [["<3", "<3", "<3"]]
    assert not suppress_table([[1, 1, 0]], threshold=5).zeros_hidden


def test_a_table_pinned_by_the_marks_themselves_is_withheld():
    """With t = 3, totals "x" (at least 3) over cells "<3" force 2 + 1 in each row: nothing can be shown."""
    table = suppress_table([[2, 1], [2, 1]], threshold=3)

    assert table.withheld
    assert {*table.row_totals, *table.col_totals, table.total} == {COMPLEMENTARY}
    assert {c for row in table.cells for c in row} == {COMPLEMENTARY}
    assert not suppress_table([[2, 1], [2, 1]], threshold=5).withheld


def test_a_table_without_small_counts_is_unchanged():
    table = suppress_table([[5, 6], [7, 0]], threshold=5, row_labels=["x1", "x2"], col_labels=["y1", "y2"])

    assert table.cells == [[5, 6], [7, 0]]
    assert (table.row_totals, table.col_totals, table.total) == ([11, 7], [12, 6], 18)
    assert table.as_rows(corner="outcome") == [
        ["outcome", "y1", "y2", "Total"],
        ["x1", "5", "6", "11"],
        ["x2", "7", "0", "7"],
        ["Total", "12", "6", "18"],
    ]


def test_the_mark_follows_the_threshold():
    table = suppress_table([[3, 40], [50, 60]], threshold=10)

    assert table.cells[0][0] == "<10"


def test_a_small_total_is_hidden_even_when_its_cells_are_zero_or_large():
    table = suppress_table([[3]], threshold=5)

    assert table.cells == [["<5"]]
    assert table.row_totals == ["<5"]
    assert table.col_totals == ["<5"]
    assert table.total == "<5"


@pytest.mark.parametrize(
    ("counts", "error"),
    [
        ([[1, 2], [3]], "same number"),
        ([[-1]], "non-negative"),
        ([[1.5]], "non-negative"),
    ],
)
def test_malformed_tables_are_refused(counts, error):
    with pytest.raises(ValueError, match=error):
        suppress_table(counts, threshold=5)


def test_labels_must_match_the_table():
    with pytest.raises(ValueError, match="one label"):
        suppress_table([[1, 2]], threshold=5, col_labels=["only one"])


def test_counts_with_one_small_value_hide_another_and_keep_the_total():
    assert suppress_counts({"a": 3, "b": 10, "c": 12}, threshold=5) == {
        "a": "<5",
        "b": "x",
        "c": 12,
        "total": 25,
    }


def test_counts_without_small_values_are_unchanged_and_empty_counts_have_a_zero_total():
    assert suppress_counts({"a": 0, "b": 10}, threshold=5) == {"a": 0, "b": 10, "total": 10}
    assert suppress_counts({}, threshold=5) == {"total": 0}


def test_a_label_called_total_is_refused():
    with pytest.raises(ValueError, match="total"):
        suppress_counts({"total": 3}, threshold=5)


@settings(max_examples=300, deadline=None)
@given(
    counts=st.dictionaries(
        st.text(min_size=1, max_size=5), st.integers(0, SMALL_MAX), min_size=1, max_size=5
    ),
    threshold=st.integers(3, 6),
)
def test_no_small_count_in_a_list_can_be_worked_out_from_its_total(counts, threshold):
    counts.pop("total", None)
    shown = suppress_counts(counts, threshold=threshold)

    assert list(shown) == [*counts, "total"]
    labels = list(counts)
    table = SuppressedTable(
        cells=[[shown[label] for label in labels]] if labels else [],
        row_totals=[shown["total"]] if labels else [],
        col_totals=[shown[label] for label in labels],  # a one-row table: each column total is its cell
        total=shown["total"],
        row_labels=["all"] if labels else [],
        col_labels=labels,
        threshold=threshold,
    )
    if labels:
        grid = [[counts[label] for label in labels]]
        zeros_hidden = suppress_table(grid, threshold=threshold).zeros_hidden
        assert_display_is_truthful(grid, table, threshold=threshold, suppress_zero=zeros_hidden)
        assert recoverable_entries(grid, table, threshold=threshold, suppress_zero=zeros_hidden) == []
