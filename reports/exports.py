"""The report's figures as one document, its management (suppressed) version, and the CSV exports.

Everything here reads through aggregate queries (``reports.figures``, ``reports.stage_figures``)
or one plain query per export, so the number of queries does not grow with the number of cases.
The suppressed version is what may leave HR: every count below the policy's
``small_count_threshold`` is shown as ``"<t"``, and where counts add up to a total that is also
shown, enough other cells are hidden (``"x"``) that no small count can be worked out. What is
listed under a cycle of the trends (recurring offices, failed rules) is named without a count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from django.db.models import F
from django.utils import timezone

from rebuttal.csvsafe import csv_text
from rebuttal.models import RebuttalCase
from rebuttal.receivability import RULES
from rebuttal.selectors import policy_current
from reports import figures, stage_figures
from reports.figures import Scope
from reports.suppression import COMPLEMENTARY, SuppressedTable, is_small, suppress_table

Count_ = int | str

CASE_HEADER = (
    "reference",
    "status",
    "office",
    "region",
    "cycle",
    "contract_type",
    "submitted_on",
    "decided_on",
    "closed_on",
    "original_rating",
    "final_rating",
)
# The receivability rules by name, in the rulebook's order: the order the management version lists them.
RULE_ORDER = tuple(rule.__name__ for rule in RULES)
CORRECTED_HEADER = ("reference", "person", "cycle", "original_rating", "final_rating", "decision_date")


# --- the figures ----------------------------------------------------------------


def _stage_filters(scope: Scope) -> dict[str, Any]:
    return {
        "start": scope.start,
        "end": scope.end,
        "office": scope.office or None,
        "region": scope.region or None,
        "cycle": scope.cycle,
        "contract_type": scope.contract_type or None,
    }


def summary_figures(*, scope: Scope, today: dt.date) -> dict[str, Any]:
    """``figures.summary`` with days per stage and end to end: the exact numbers, for HR."""
    data = figures.summary(scope=scope, today=today)
    data["stage_durations"] = stage_figures.stage_durations(**_stage_filters(scope))
    data["end_to_end"] = stage_figures.end_to_end(**_stage_filters(scope))
    return data


# --- suppression ----------------------------------------------------------------


def _single(value: int, threshold: int) -> Count_:
    """A count shown on its own (no total beside it): hidden only when small."""
    return f"<{threshold}" if is_small(value, threshold=threshold) else value


def _blocks(groups: Mapping[str, Mapping[str, int]], threshold: int) -> SuppressedTable:
    """Groups of counts with a subtotal each and a grand total, as a block-diagonal table.

    Row ``g`` holds group ``g``'s counts in its own columns (zeros elsewhere), so the row
    totals are the subtotals, the grand total is the total, and the suppression sees every
    equation a reader can write with them.
    """
    columns = [(group, label) for group, counts in groups.items() for label in counts]
    cells = [
        [counts.get(label, 0) if group == owner else 0 for owner, label in columns]
        for group, counts in groups.items()
    ]
    return suppress_table(
        cells,
        threshold=threshold,
        row_labels=list(groups),
        col_labels=[f"{group}.{label}" for group, label in columns],
    )


def _cell(table: SuppressedTable, group: str, label: str) -> Count_:
    row = table.row_labels.index(group)
    return table.cells[row][table.col_labels.index(f"{group}.{label}")]


def _hidden(*values: Count_) -> bool:
    return any(isinstance(v, str) for v in values)


def _duration(figure: Mapping[str, Any], threshold: int) -> dict[str, Any]:
    """One stage (or end to end): visits within, outside and without a target add up to ``count``.

    The days are hidden with a small count too: the median of two visits is nearly someone's own.
    """
    with_target, within, count = figure["with_target"], figure["within_target"], figure["count"]
    table = _blocks(
        {
            "with_target": {"within": within, "outside": with_target - within},
            "without_target": {"none": count - with_target},
        },
        threshold,
    )
    shown_count = table.total
    shown_within = _cell(table, "with_target", "within")
    shown_with = table.row_totals[0]
    small = _hidden(shown_count)
    return {
        **({"stage": figure["stage"]} if "stage" in figure else {}),
        "count": shown_count,
        "median_days": COMPLEMENTARY if small and count else figure["median_days"],
        "p90_days": COMPLEMENTARY if small and count else figure["p90_days"],
        "within_target": shown_within,
        "with_target": shown_with,
        "share": COMPLEMENTARY if _hidden(shown_within, shown_with) else figure["share"],
    }


def _trends(data: dict[str, Any], threshold: int) -> tuple[list[dict[str, Any]], Count_]:
    """Per cycle: not receivable and the rest add up to the cycle's cases, which add up to
    ``received`` (the same cases), so the received total comes out of the same table.

    Under each cycle, the recurring offices and the failed rules are listed by name only, each with
    ``"x"`` (``t`` or more), never with a count (see ``_recurring_offices`` and ``_failed_rules``);
    under a cycle whose count is hidden, nothing is listed. A listed name bounds the hidden count
    from below, and a name left out bounds it from above for a reader who knows which offices the
    filter covers (two offices, neither listed: fewer than 2t cases), and with ``received`` either
    bound can pin another cycle's small count. Listing nothing under every hidden count makes the
    absence say nothing.
    """
    rows = data["trends"]
    if not rows:
        return [], _single(data["received"], threshold)
    table = suppress_table(
        [[row["not_receivable"], row["cases"] - row["not_receivable"]] for row in rows],
        threshold=threshold,
        row_labels=[str(row["cycle"]) for row in rows],
        col_labels=["not_receivable", "other"],
    )
    shown = []
    for i, row in enumerate(rows):
        listed = not _hidden(table.row_totals[i])
        shown.append(
            {
                "cycle": row["cycle"],
                "cases": table.row_totals[i],
                "not_receivable": table.cells[i][0],
                "recurring_offices": _recurring_offices(row, threshold) if listed else [],
                "failed_rules": _failed_rules(row, threshold) if listed else [],
            }
        )
    return shown, table.total


def _recurring_offices(row: Mapping[str, Any], threshold: int) -> list[dict[str, Any]]:
    """The offices that recur in a cycle, as management may see them: those with ``t`` or more of
    the cycle's cases, by name in alphabetical order, each with ``"x"`` (``t`` or more).

    A listed office has at least two cases (that is what recurring means), so a listed ``"<t"``
    would be 2..t-1: only offices with ``t`` or more are listed. Their counts are not shown
    either: an office's count is a floor on its cycle's cases, which the trends table may hide as
    ``"x"`` to protect another cycle's small count (the cycles add up to ``received``), and with the
    cycle's count shown it leaves the cycle's other offices as a difference. Nor are they listed
    most cases first: the order would tell the counts apart (6 Vienna, 5 Geneva and 1 Nairobi case
    under a cycle of 12, Vienna shown: Geneva is fewer than 6, so 5, and the rest 1).
    """
    listed = sorted(item["office"] for item in row["recurring_offices"] if item["cases"] >= threshold)
    return [{"office": office, "cases": COMPLEMENTARY} for office in listed]


def _failed_rules(row: Mapping[str, Any], threshold: int) -> list[dict[str, Any]]:
    """The receivability rules failed in a cycle, as management may see them: those failed by
    ``t`` or more of the cycle's cases, in the rulebook's order (``rebuttal.receivability.RULES``),
    each with ``"x"`` (``t`` or more).

    A rule's count is a floor on its cycle's cases, which may be hidden as ``"x"``, and beside the
    cycle's count it gives the cases that did not fail the rule as a difference; a ``"<t"`` beside a
    shown cycle count bounds them too. So no count is shown, and the order is the rulebook's, not
    most failed first, which would tell the counts apart.
    """
    failing = {item["rule"] for item in row["failed_rules"] if item["cases"] >= threshold}
    return [{"rule": rule, "cases": COMPLEMENTARY} for rule in RULE_ORDER if rule in failing]


def suppressed_summary(data: dict[str, Any], *, threshold: int, scale_length: int) -> dict[str, Any]:
    """The management version of ``summary_figures``: no count below ``threshold`` recoverable.

    ``scale_length`` is the number of ratings on the policy's scale (every step is listed).
    """
    trends, received = _trends(data, threshold)

    screening = data["receivability"]
    screened = _blocks(
        {"screened": {"receivable": screening["receivable"], "not_receivable": screening["not_receivable"]}},
        threshold,
    )
    receivable = _cell(screened, "screened", "receivable")
    not_receivable = _cell(screened, "screened", "not_receivable")

    outcome = data["outcomes"]
    by_steps = figures.every_step(outcome["revised_by_steps"], scale_length)
    decided = _blocks({"maintained": {"maintained": outcome["maintained"]}, "revised": by_steps}, threshold)

    open_cases = data["open_cases"]
    states = list(open_cases["by_state_and_age"])
    ages = list(figures.AGE_BUCKETS)
    if states:
        table = suppress_table(
            [[open_cases["by_state_and_age"][state][age] for age in ages] for state in states],
            threshold=threshold,
            row_labels=states,
            col_labels=ages,
        )
        shown_open = {
            "total": table.total,
            "by_state": dict(zip(states, table.row_totals, strict=True)),
            "by_age": dict(zip(ages, table.col_totals, strict=True)),
            "by_state_and_age": {
                state: dict(zip(ages, table.cells[i], strict=True)) for i, state in enumerate(states)
            },
        }
    else:
        shown_open = open_cases

    workload = data["reviewer_workload"]
    if workload:
        table = suppress_table(
            [[row["open"], row["completed"]] for row in workload],
            threshold=threshold,
            col_labels=["open", "completed"],
        )
        shown_workload = [
            {**row, "open": table.cells[i][0], "completed": table.cells[i][1]}
            for i, row in enumerate(workload)
        ]
    else:
        shown_workload = []

    shown_fees = []
    for line in data["fees"]:
        lines = _single(line["lines"], threshold)
        # The amount is a fee per review times the reviews: it would give a hidden count away.
        amount = COMPLEMENTARY if _hidden(lines) else line["amount"]
        shown_fees.append({**line, "lines": lines, "amount": amount})

    return {
        **data,
        "suppressed": True,
        "threshold": threshold,
        "received": received,
        "receivability": {
            "screened": screened.total,
            "receivable": receivable,
            "not_receivable": not_receivable,
            "rate": COMPLEMENTARY if _hidden(receivable, not_receivable) else screening["rate"],
        },
        "withdrawn": _single(data["withdrawn"], threshold),
        "outcomes": {
            "decided": decided.total,
            "maintained": decided.row_totals[0],
            "revised": decided.row_totals[1],
            "revised_by_steps": {label: _cell(decided, "revised", label) for label in by_steps},
        },
        "open_cases": shown_open,
        "reviewer_workload": shown_workload,
        "fees": shown_fees,
        "trends": trends,
        "stage_durations": [_duration(stage, threshold) for stage in data["stage_durations"]],
        "end_to_end": _duration(data["end_to_end"], threshold),
    }


def summary_for(*, scope: Scope, today: dt.date, suppressed: bool) -> dict[str, Any]:
    """The exact figures, or their management version under the policy's threshold."""
    data = summary_figures(scope=scope, today=today)
    data["suppressed"] = False
    if suppressed:
        policy = policy_current()
        return suppressed_summary(
            data, threshold=policy.small_count_threshold, scale_length=len(policy.rating_keys)
        )
    return data


# --- CSV ------------------------------------------------------------------------


def _local_date(stamp: dt.datetime | None) -> str:
    return timezone.localdate(stamp).isoformat() if stamp is not None else ""


def case_rows(*, scope: Scope) -> Iterator[list[Any]]:
    """One row per case received in the period: facts and ratings, never the statement or a name."""
    cases = (
        RebuttalCase.objects.filter(scope.case_filter(), scope.during("submitted_at"))
        .order_by("submitted_at", "pk")
        .values_list(
            "reference",
            "status",
            "office",
            "region",
            "appraisal_cycle",
            "contract_type",
            "submitted_at",
            "decided_at",
            "closed_at",
            "original_rating",
            "final_rating",
        )
    )
    for ref, status, office, region, cycle, contract, submitted, decided, closed, original, final in cases:
        yield [
            ref,
            status,
            office,
            region,
            cycle,
            contract,
            _local_date(submitted),
            _local_date(decided),
            _local_date(closed),
            original,
            final,
        ]


def corrected_rating_rows(*, scope: Scope) -> Iterator[list[Any]]:
    """The HR system of record's corrections: cases decided in the period with a revised rating."""
    cases = (
        RebuttalCase.objects.filter(scope.case_filter(), scope.during("decided_at"))
        .exclude(final_rating="")
        .exclude(final_rating=F("original_rating"))
        .order_by("decided_at", "pk")
        .values_list(
            "reference",
            "requester__email",
            "appraisal_cycle",
            "original_rating",
            "final_rating",
            "decided_at",
        )
    )
    for ref, email, cycle, original, final, decided in cases:
        yield [ref, email, cycle, original, final, _local_date(decided)]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts and lists as ``a.b.0.c`` keys with their leaf values."""
    if isinstance(value, Mapping):
        if not value and prefix:
            yield prefix, ""
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value and prefix:
            yield prefix, ""
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}.{index}")
    else:
        yield prefix, "" if value is None else value


def cases_csv(*, scope: Scope) -> str:
    return csv_text(CASE_HEADER, case_rows(scope=scope))


def corrected_ratings_csv(*, scope: Scope) -> str:
    return csv_text(CORRECTED_HEADER, corrected_rating_rows(scope=scope))


def figures_csv(*, scope: Scope, today: dt.date, suppressed: bool) -> str:
    """The summary as ``key,value`` rows."""
    data = summary_for(scope=scope, today=today, suppressed=suppressed)
    return csv_text(("key", "value"), ([key, value] for key, value in _flatten(data)))
