"""Small-cell suppression for every count that leaves HR.

Counts in 1..t-1 (t = the policy's ``small_count_threshold``) identify people, so
they are shown as ``"<t"``. Hiding them is not enough: a hidden cell could be
worked out by subtracting the shown cells of its row or column from the shown
total. So other cells are hidden as well ("complementary suppression"), marked
``COMPLEMENTARY`` ("x"), until no hidden value can be worked out.

What a reader may assume, and what this module protects against:

- A ``"<t"`` cell holds 1..t-1 (0..t-1 with ``suppress_zero``).
- An ``"x"`` cell holds t or more (every smaller non-zero count is a ``"<t"``),
  so it is never marked ``"<t"``: that would be a false statement.
- Zeros are shown by default: a zero reveals nobody, and a table of zeros
  marked ``"<5"`` would hide that nothing happened. ``suppress_zero=True``
  hides them as ``"<t"`` too, for tables where "none" is itself sensitive.
  Shown zeros tell the reader that every ``"<t"`` is at least 1, which can pin a
  value once everything else is hidden (1 and 1 under a total of ``"<3"``); such
  a table falls back to hiding its zeros, and says so (``zeros_hidden``).
- If even that leaves a value pinned (only with a threshold of 2 or 3, where
  "<t" is one or two values wide), the whole table is withheld: every entry
  is marked ``"x"`` and ``withheld`` is set.

The reader modelled is one who knows the display and these meanings. One who
replays this algorithm over every candidate table could learn a little more
(that an ``"x"`` was the smallest count of its line, for instance); published
tables are small and coarse, and that is accepted.

The table is treated with its margins: every row, every column, the row of
column totals and the column of row totals are each one equation "cells sum to
the total". A hidden value is safe when some other table, with the shown values
and within the bounds above, gives it another value. That is checked exactly:
the tables consistent with the display are the integer flows of a small network
(rows and columns as nodes, hidden entries as bounded arcs), and a hidden entry
can change exactly when it lies on a cycle of the residual network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from math import inf

COMPLEMENTARY = "x"

_SHOWN, _PRIMARY, _COMPLEMENTARY = 0, 1, 2

Pos = tuple[int, int]
Node = tuple[str, int]
Graph = dict[Node, list[tuple[Node, Pos]]]


@dataclass(frozen=True)
class SuppressedTable:
    """A table of counts as it may be shown: ints, ``"<t"`` or ``COMPLEMENTARY``."""

    cells: list[list[int | str]]
    row_totals: list[int | str]
    col_totals: list[int | str]
    total: int | str
    row_labels: list[str]
    col_labels: list[str]
    threshold: int
    # Whether zeros are hidden too, so that a "<t" may stand for 0 (say so in the table's legend).
    zeros_hidden: bool = False
    # Whether every entry is marked COMPLEMENTARY: nothing could be shown (tiny tables with a low threshold).
    withheld: bool = False

    def as_rows(self, *, corner: str = "", total_label: str = "Total") -> list[list[str]]:
        """Header, one line per row with its total, then the totals line (for CSV and HTML tables)."""
        rows = [[corner, *self.col_labels, total_label]]
        for label, cells, row_total in zip(self.row_labels, self.cells, self.row_totals, strict=True):
            rows.append([label, *(str(c) for c in cells), str(row_total)])
        rows.append([total_label, *(str(c) for c in self.col_totals), str(self.total)])
        return rows


def is_small(value: int, *, threshold: int, suppress_zero: bool = False) -> bool:
    """Whether a count must be hidden for its own sake."""
    return value < threshold and (value > 0 or suppress_zero)


def suppress_table(
    counts: Sequence[Sequence[int]],
    *,
    threshold: int,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    suppress_zero: bool = False,
) -> SuppressedTable:
    """The table with its totals, small counts shown as ``"<t"`` and enough others hidden to protect them."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    n_rows = len(counts)
    n_cols = len(counts[0]) if n_rows else len(col_labels or ())
    if any(len(row) != n_cols for row in counts):
        raise ValueError("every row must have the same number of cells")
    if any(type(v) is not int or v < 0 for row in counts for v in row):
        raise ValueError("counts must be non-negative integers")
    rows = list(row_labels) if row_labels is not None else [str(i + 1) for i in range(n_rows)]
    cols = list(col_labels) if col_labels is not None else [str(j + 1) for j in range(n_cols)]
    if len(rows) != n_rows or len(cols) != n_cols:
        raise ValueError("one label per row and per column")

    grid = _Grid(counts, n_cols=n_cols, threshold=threshold, suppress_zero=suppress_zero)
    safe = grid.protect()
    if not safe and not suppress_zero:
        # Everything non-zero is hidden and the shown zeros still give a count away (say 1 + 1 under a
        # total "<3"): only hiding the zeros too, so that a "<t" may be 0, protects it.
        grid = _Grid(counts, n_cols=n_cols, threshold=threshold, suppress_zero=True)
        safe = grid.protect()
    if not safe:
        # Still pinned by the marks' own bounds (2 and 1 under "x" totals when t = 3): withhold it all.
        grid.withhold()
    shown = [[grid.display((i, j)) for j in range(n_cols + 1)] for i in range(n_rows + 1)]
    return SuppressedTable(
        cells=[row[:n_cols] for row in shown[:n_rows]],
        row_totals=[row[n_cols] for row in shown[:n_rows]],
        col_totals=shown[n_rows][:n_cols],
        total=shown[n_rows][n_cols],
        row_labels=rows,
        col_labels=cols,
        threshold=threshold,
        zeros_hidden=grid.suppress_zero,
        withheld=grid.withheld,
    )


def suppress_counts(
    counts: Mapping[str, int],
    *,
    threshold: int,
    total_label: str = "total",
    suppress_zero: bool = False,
) -> dict[str, int | str]:
    """A list of counts and its total (under ``total_label``, last), suppressed like a one-row table."""
    if total_label in counts:
        raise ValueError(f"{total_label!r} is both a label and the total's key")
    labels = list(counts)
    table = suppress_table(
        [[counts[label] for label in labels]] if labels else [],
        threshold=threshold,
        row_labels=[total_label] if labels else [],
        col_labels=labels,
        suppress_zero=suppress_zero,
    )
    if not labels:
        return {total_label: table.total}
    result: dict[str, int | str] = dict(zip(labels, table.cells[0], strict=True))
    result[total_label] = table.row_totals[0]
    return result


class _Grid:
    """The table extended with its margins: entry (i, n_cols) is row i's total, (n_rows, j) column j's."""

    def __init__(
        self, counts: Sequence[Sequence[int]], *, n_cols: int, threshold: int, suppress_zero: bool
    ) -> None:
        self.threshold = threshold
        self.suppress_zero = suppress_zero
        self.withheld = False
        self.n_rows = len(counts)
        self.n_cols = n_cols
        r, c = self.n_rows, self.n_cols
        values = [[*row, sum(row)] for row in counts]
        values.append([sum(counts[i][j] for i in range(r)) for j in range(c)] + [sum(map(sum, counts))])
        self.values = values
        self.state = [
            [
                _PRIMARY if is_small(v, threshold=threshold, suppress_zero=suppress_zero) else _SHOWN
                for v in row
            ]
            for row in values
        ]
        # Each line is one equation; its last entry is its total.
        self.lines: list[list[Pos]] = [[(i, j) for j in range(c + 1)] for i in range(r + 1)]
        self.lines += [[(i, j) for i in range(r + 1)] for j in range(c + 1)]

    def withhold(self) -> None:
        """Mark every entry alike, so that no mark tells a small count from a large one."""
        self.withheld = True
        self.state = [[_COMPLEMENTARY for _ in row] for row in self.state]

    def display(self, pos: Pos) -> int | str:
        state = self.state[pos[0]][pos[1]]
        if state == _PRIMARY:
            return f"<{self.threshold}"
        if state == _COMPLEMENTARY:
            return COMPLEMENTARY
        return self.values[pos[0]][pos[1]]

    def hidden(self, pos: Pos) -> bool:
        return self.state[pos[0]][pos[1]] != _SHOWN

    def protect(self) -> bool:
        """Hide more entries until no hidden one can be worked out; False if one still can (nothing left)."""
        while True:
            # The rule everyone can check: a line with exactly one hidden entry gives it away.
            changed = False
            for line in self.lines:
                if sum(self.hidden(p) for p in line) == 1:
                    pick = self._candidate(line)
                    if pick is not None:
                        self.state[pick[0]][pick[1]] = _COMPLEMENTARY
                        changed = True
            if changed:
                continue
            # Subtler leaks (through several lines, or through the bounds a reader knows).
            pinned = next(self._pinned(), None)
            if pinned is None:
                return True
            i, j = pinned
            pick = self._candidate(self.lines[i] + self.lines[self.n_rows + 1 + j])
            if pick is None:
                pick = self._candidate([p for line in self.lines[: self.n_rows + 1] for p in line])
            if pick is None:
                return False
            self.state[pick[0]][pick[1]] = _COMPLEMENTARY

    def _candidate(self, entries: Sequence[Pos]) -> Pos | None:
        """The smallest shown non-zero entry, cells before totals, then by position."""
        shown = [p for p in entries if not self.hidden(p) and self.values[p[0]][p[1]] > 0]
        if not shown:
            return None
        return min(shown, key=lambda p: (self._is_total(p), self.values[p[0]][p[1]], p))

    def _is_total(self, pos: Pos) -> bool:
        return pos[0] == self.n_rows or pos[1] == self.n_cols

    def _bounds(self, pos: Pos) -> tuple[float, float]:
        """What a reader knows of a hidden entry from its mark."""
        if self.state[pos[0]][pos[1]] == _PRIMARY:
            return (0 if self.suppress_zero else 1), self.threshold - 1
        return self.threshold, inf

    def _arc(self, pos: Pos) -> tuple[Node, Node]:
        """The entry as an arc of the flow network: cells row→column, totals back (so every node balances)."""
        i, j = pos
        row, col = ("r", i), ("c", j)
        if (i < self.n_rows) == (j < self.n_cols):
            return row, col
        return col, row

    def _pinned(self) -> Iterator[Pos]:
        """Hidden entries that every table consistent with the display gives the same value."""
        hidden = [(i, j) for i, row in enumerate(self.state) for j, s in enumerate(row) if s != _SHOWN]
        residual: Graph = {}
        for pos in hidden:
            lo, hi = self._bounds(pos)
            value = self.values[pos[0]][pos[1]]
            tail, head = self._arc(pos)
            if value < hi:
                residual.setdefault(tail, []).append((head, pos))
            if value > lo:
                residual.setdefault(head, []).append((tail, pos))
        for pos in hidden:
            lo, hi = self._bounds(pos)
            if lo == hi:
                continue  # the mark itself says the value ("<1", or "<2" for 1): nothing to protect
            value = self.values[pos[0]][pos[1]]
            tail, head = self._arc(pos)
            # Raising the entry needs a way back from head to tail; lowering it, from tail to head.
            up = value < hi and _reaches(residual, head, tail, without=pos)
            down = value > lo and _reaches(residual, tail, head, without=pos)
            if not (up or down):
                yield pos


def _reaches(graph: Graph, start: Node, goal: Node, *, without: Pos) -> bool:
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt, pos in graph.get(node, ()):
            if pos != without and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False
