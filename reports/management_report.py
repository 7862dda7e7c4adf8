"""The periodic management report: figures, charts and what changed, as a PDF in en, fr or es.

The report leaves HR, so every count it shows goes through ``reports.suppression``
(counts below the policy's ``small_count_threshold`` shown as ``"<t"``, others
hidden as ``"x"`` where a small one could be worked out from them). Anything that
would let a reader compute a hidden count is withheld with it: a rate or share
whose parts are hidden, a median of fewer cases than the threshold, a fee total
whose number of fee lines is small. The narrative is written from the suppressed
values only, so it can say "fewer than 5" but never the number.

Building it takes four steps, which the management command runs one by one under
its progress bar: the figures, the previous period's, the charts, the rendering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from rebuttal.models import ContractType, Status
from rebuttal.selectors import policy_current
from reports import charts, figures, stage_figures
from reports.figures import AGE_BUCKETS, Scope
from reports.rendering import AssetFetcher, render_pdf
from reports.stage_figures import stage_label
from reports.suppression import COMPLEMENTARY, suppress_counts, suppress_table

Shown = int | str  # a count as it may be shown: the number, "<t" or COMPLEMENTARY
WITHHELD = "—"  # a rate, share, duration or amount not shown because it would reveal a hidden count


@dataclass(frozen=True)
class Figures:
    """Everything the report counts for one scope, before suppression."""

    scope: Scope
    today: dt.date
    summary: dict[str, Any]
    stages: list[dict[str, Any]]
    end_to_end: dict[str, Any]


@dataclass
class Report:
    """The figures of the period and of the one before, and the charts once drawn."""

    current: Figures
    previous: Figures
    threshold: int
    charts: list[dict[str, Any]] = field(default_factory=list)


# --- the steps ------------------------------------------------------------------------


def previous_scope(scope: Scope) -> Scope:
    """The period of the same length just before ``scope``, with the same filters.

    Whole calendar months are followed by whole months (March after February, the
    first quarter after the last one), since months differ in days; other periods
    by the same number of days.
    """
    months = _whole_months(scope.start, scope.end)
    if months:
        end = scope.start - dt.timedelta(days=1)
        first = end.year * 12 + end.month - 1 - (months - 1)
        start = dt.date(first // 12, first % 12 + 1, 1)
    else:
        end = scope.start - dt.timedelta(days=1)
        start = end - (scope.end - scope.start)
    return Scope(
        start=start,
        end=end,
        office=scope.office,
        region=scope.region,
        cycle=scope.cycle,
        contract_type=scope.contract_type,
    )


def _whole_months(start: dt.date, end: dt.date) -> int:
    """How many calendar months ``[start, end]`` covers exactly, or 0 if it does not."""
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month + 1


def collect(*, scope: Scope, today: dt.date) -> Figures:
    """The figures of ``scope`` (a fixed number of aggregate queries, whatever the number of cases)."""
    filters = {
        "office": scope.office,
        "region": scope.region,
        "cycle": scope.cycle,
        "contract_type": scope.contract_type,
    }
    return Figures(
        scope=scope,
        today=today,
        summary=figures.summary(scope=scope, today=today),
        stages=stage_figures.stage_durations(start=scope.start, end=scope.end, **filters),
        end_to_end=stage_figures.end_to_end(start=scope.start, end=scope.end, **filters),
    )


def _language(language: str) -> str:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}; use one of {', '.join(dict(settings.LANGUAGES))}.")
    return language


def draw_charts(report: Report, *, language: str) -> None:
    """The charts of the current period, drawn from suppressed values only, in ``language``."""
    with translation.override(_language(language)):
        sections = _sections(report.current, report.threshold)
        report.charts = _charts(sections)


def render_html(report: Report, *, language: str) -> str:
    """The report's HTML in ``language`` (charts are drawn if not drawn yet)."""
    with translation.override(_language(language)):
        current = _sections(report.current, report.threshold)
        previous = _sections(report.previous, report.threshold)
        if not report.charts:
            report.charts = _charts(current)
        context = {
            "language": language,
            "organisation": settings.ORGANISATION_NAME,
            "title": gettext("Performance rebuttals: management report"),
            "period": _period(report.current.scope),
            "previous_period": _period(report.previous.scope),
            "filters": _filters(report.current.scope),
            "generated_on": _long_date(report.current.today),
            "threshold": report.threshold,
            "complementary": COMPLEMENTARY,
            "withheld": WITHHELD,
            "narrative": narrative(current, previous, report.threshold),
            "charts": report.charts,
            # Each chart is printed in its section, next to the table that holds its numbers.
            "chart": {chart["key"]: chart for chart in report.charts},
            **current,
        }
        return render_to_string("reports/management_report.html", context)


# --- the whole of it ---------------------------------------------------------------


def build(*, scope: Scope, today: dt.date, previous: Scope | None = None) -> Report:
    """The figures of ``scope`` and of ``previous`` (by default the same length just before)."""
    return Report(
        current=collect(scope=scope, today=today),
        previous=collect(scope=previous or previous_scope(scope), today=today),
        threshold=threshold(),
    )


def threshold() -> int:
    """The policy's small-count threshold: counts below it are never shown."""
    return policy_current().small_count_threshold


def management_report_html(
    *, scope: Scope, language: str, today: dt.date, previous: Scope | None = None
) -> str:
    """The report's HTML (what the PDF is made from)."""
    _language(language)
    return render_html(build(scope=scope, today=today, previous=previous), language=language)


def management_report_pdf(
    *,
    scope: Scope,
    language: str,
    today: dt.date,
    previous: Scope | None = None,
    fetcher: AssetFetcher | None = None,
) -> bytes:
    """The report as a PDF/A-3u, rendered with the letters' safe fetcher and fonts."""
    html = management_report_html(scope=scope, language=language, today=today, previous=previous)
    return render_pdf(html, fetcher=fetcher)


# --- suppressed sections ----------------------------------------------------------------


def _single(value: int, threshold: int) -> Shown:
    """One count on its own (no total it belongs to is shown)."""
    return suppress_counts({"n": value}, threshold=threshold)["n"]


def _percent(part: int, whole: int) -> str:
    if not whole:
        return WITHHELD
    return gettext("%(percent)s%%") % {"percent": round(100 * part / whole)}


def _sections(data: Figures, threshold: int) -> dict[str, Any]:
    """The figures as shown: every count suppressed, and what would reveal a hidden count withheld."""
    summary = data.summary
    screening = summary["receivability"]
    screened = suppress_counts(
        {"receivable": screening["receivable"], "not_receivable": screening["not_receivable"]},
        threshold=threshold,
        total_label="screened",
    )
    # The rate gives the receivable count away from the number screened: shown only with both parts.
    rate_shown = isinstance(screened["receivable"], int) and isinstance(screened["not_receivable"], int)
    intake = {
        "received": _single(summary["received"], threshold),
        "withdrawn": _single(summary["withdrawn"], threshold),
        "screened": screened["screened"],
        "receivable": screened["receivable"],
        "not_receivable": screened["not_receivable"],
        "rate": _percent(screening["receivable"], screening["screened"]) if rate_shown else WITHHELD,
        "rate_value": screening["rate"] if rate_shown else None,
    }
    return {
        "intake": intake,
        "outcomes": _outcomes(summary["outcomes"], threshold),
        "open_cases": _open_cases(summary["open_cases"], threshold),
        "stages": [_duration(row, threshold, label=stage_label(row["stage"])) for row in data.stages],
        "end_to_end": _duration(data.end_to_end, threshold, label=gettext("Filing to outcome")),
        "workload": _workload(summary["reviewer_workload"], threshold),
        "fees": _fees(summary["fees"], threshold),
    }


def _step_key(key: str) -> tuple[int, int]:
    return (1, 0) if key == "off_scale" else (0, int(key))


def _step_label(key: str) -> str:
    if key == "off_scale":
        return gettext("Rating no longer on the scale")
    steps = int(key)
    if steps > 0:
        return ngettext("Revised up %(steps)s step", "Revised up %(steps)s steps", steps) % {"steps": steps}
    return ngettext("Revised down %(steps)s step", "Revised down %(steps)s steps", -steps) % {"steps": -steps}


def _outcomes(outcomes: Mapping[str, Any], threshold: int) -> dict[str, Any]:
    """Decided cases: maintained, revised and by steps, as one table so that no total gives a cell away.

    Rows are maintained and revised; columns are "no change" and each step count.
    The maintained row only has the first cell, the revised row the others, so
    row totals are maintained and revised and the table total is every decision.
    """
    # Every step, zeros included: listing only those that happened would say each "<t" is at least 1.
    by_steps = figures.every_step(outcomes["revised_by_steps"], len(policy_current().rating_keys))
    keys = sorted(by_steps, key=_step_key)
    table = suppress_table(
        [
            [outcomes["maintained"], *(0 for _ in keys)],
            [0, *(by_steps[key] for key in keys)],
        ],
        threshold=threshold,
        row_labels=["maintained", "revised"],
        col_labels=["same", *keys],
    )
    return {
        "decided": table.total,
        "maintained": table.row_totals[0],
        "revised": table.row_totals[1],
        "by_steps": [
            {"label": _step_label(key), "count": table.cells[1][index + 1]} for index, key in enumerate(keys)
        ],
    }


def _status_label(status: str) -> str:
    try:
        return gettext(Status(status).label)
    except ValueError:
        return status


def _age_label(bucket: str) -> str:
    fewest, most = AGE_BUCKETS[bucket]
    if most is None:
        return gettext("Over %(days)s days") % {"days": fewest - 1}
    return gettext("%(fewest)s to %(most)s days") % {"fewest": fewest, "most": most}


def _open_cases(open_cases: Mapping[str, Any], threshold: int) -> dict[str, Any]:
    """Open cases by state (rows) and age (columns), with totals, suppressed as one table."""
    states = list(open_cases["by_state_and_age"])
    buckets = list(AGE_BUCKETS)
    table = suppress_table(
        [[open_cases["by_state_and_age"][state][bucket] for bucket in buckets] for state in states],
        threshold=threshold,
        row_labels=[_status_label(state) for state in states],
        col_labels=[_age_label(bucket) for bucket in buckets],
    )
    return {
        "total": table.total,
        "columns": table.col_labels,
        "rows": [
            {"label": label, "cells": cells, "total": total}
            for label, cells, total in zip(table.row_labels, table.cells, table.row_totals, strict=True)
        ],
        "column_totals": table.col_totals,
        "by_age": list(zip(table.col_labels, table.col_totals, strict=True)),
    }


def _duration(row: Mapping[str, Any], threshold: int, *, label: str) -> dict[str, Any]:
    """A stage's (or the whole case's) durations, with the durations of too few cases withheld.

    The visits split into within target, past target and without a target; the share
    within target is shown only when both of its parts are, and the median and
    90th percentile only when the number of visits is shown (a median of two cases
    is nearly their own durations).
    """
    within = row["within_target"]
    missed = row["with_target"] - within
    parts = suppress_counts(
        {"within": within, "missed": missed, "no_target": row["count"] - row["with_target"]},
        threshold=threshold,
        total_label="count",
    )
    count = parts["count"]
    durations_shown = isinstance(count, int) and count > 0
    share_shown = isinstance(parts["within"], int) and isinstance(parts["missed"], int) and within + missed
    return {
        "label": label,
        "count": count,
        "median": row["median_days"] if durations_shown else WITHHELD,
        "p90": row["p90_days"] if durations_shown else WITHHELD,
        "share": _percent(within, within + missed) if share_shown else WITHHELD,
        "share_value": round(100 * within / (within + missed)) if share_shown else None,
    }


def _workload(rows: list[dict[str, Any]], threshold: int) -> dict[str, Any]:
    """Per reviewer: open assignments (now) and reviews completed in the period, suppressed as one table."""
    table = suppress_table(
        [[row["open"], row["completed"]] for row in rows],
        threshold=threshold,
        row_labels=[row["reviewer"] for row in rows],
        col_labels=["open", "completed"],
    )
    return {
        "rows": [
            {"reviewer": label, "open": cells[0], "completed": cells[1]}
            for label, cells in zip(table.row_labels, table.cells, strict=True)
        ],
        "open": table.col_totals[0] if rows else 0,
        "completed": table.col_totals[1] if rows else 0,
    }


def _fees(lines: list[dict[str, Any]], threshold: int) -> list[dict[str, Any]]:
    """Fees earned per currency. A flat fee per review turns a total back into a number of reviews,
    so the amount is withheld whenever the number of fee lines is."""
    totals: dict[str, dict[str, Any]] = {}
    for line in lines:  # one aggregate row per reviewer and currency, never per case
        entry = totals.setdefault(line["currency"], {"amount": Decimal(0), "lines": 0})
        entry["amount"] += Decimal(line["amount"])
        entry["lines"] += line["lines"]
    shown = []
    for currency in sorted(totals):
        count = _single(totals[currency]["lines"], threshold)
        amount = formats.number_format(totals[currency]["amount"], 2, use_l10n=True, force_grouping=True)
        shown.append(
            {"currency": currency, "lines": count, "amount": amount if isinstance(count, int) else WITHHELD}
        )
    return shown


# --- charts ------------------------------------------------------------------------------


def _charts(sections: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each chart with its table (header row, then rows), drawn from values already suppressed.

    ``key`` names the section of the report the chart is printed in (next to that section's table).
    """
    intake = sections["intake"]
    outcomes = sections["outcomes"]
    cases = gettext("Cases")
    specs = [
        (
            "intake",
            gettext("Cases received, screened and withdrawn"),
            [
                (gettext("Cases received"), intake["received"]),
                (gettext("Found receivable"), intake["receivable"]),
                (gettext("Found not receivable"), intake["not_receivable"]),
                (gettext("Requests withdrawn"), intake["withdrawn"]),
            ],
            {"x_label": gettext("Figure"), "y_label": cases},
        ),
        (
            "outcomes",
            gettext("Outcomes of the decided cases"),
            [(gettext("Rating maintained"), outcomes["maintained"])]
            + [(row["label"], row["count"]) for row in outcomes["by_steps"]],
            {"x_label": gettext("Outcome"), "y_label": cases},
        ),
        (
            "open_cases",
            gettext("Open cases by age"),
            sections["open_cases"]["by_age"],
            {"x_label": gettext("Age since filing"), "y_label": cases},
        ),
        (
            "median_days",
            gettext("Median days per stage"),
            [(row["label"], row["median"]) for row in sections["stages"]],
            {"unit": gettext("days"), "x_label": gettext("Stage"), "y_label": gettext("Median days")},
        ),
        (
            "within_target",
            gettext("Share of stages completed within target"),
            [
                (row["label"], WITHHELD if row["share_value"] is None else row["share_value"])
                for row in sections["stages"]
            ],
            {"unit": "%", "x_label": gettext("Stage"), "y_label": gettext("Within target (%)")},
        ),
    ]
    drawn = []
    for key, title, data, options in specs:
        chart = charts.bar_chart(title, data, **options)
        # ``reports.charts`` escapes every piece of text it puts in the markup, so it can go in as is.
        drawn.append({"key": key, "title": title, "svg": mark_safe(chart.svg), "table": chart.table})  # noqa: S308
    return drawn


# --- narrative ---------------------------------------------------------------------------


def _change(subject: str, before: Shown, now: Shown, threshold: int) -> str | None:
    """One sentence on how a count moved, from suppressed values only; ``None`` when nothing can be said."""
    if COMPLEMENTARY in (before, now):
        return None  # a hidden count of at least the threshold: saying more would undo the hiding
    small = f"<{threshold}"
    values = {"subject": subject, "before": before, "now": now, "threshold": threshold}
    if before == small and now == small:
        return gettext("%(subject)s: fewer than %(threshold)s in both periods.") % values
    if before == small:
        return gettext("%(subject)s: from fewer than %(threshold)s to %(now)s.") % values
    if now == small:
        return gettext("%(subject)s: from %(before)s to fewer than %(threshold)s.") % values
    if not (isinstance(before, int) and isinstance(now, int)):
        return None
    if now > before:
        return gettext("%(subject)s rose from %(before)s to %(now)s.") % values
    if now < before:
        return gettext("%(subject)s fell from %(before)s to %(now)s.") % values
    return gettext("%(subject)s stayed at %(now)s.") % values


def narrative(current: Mapping[str, Any], previous: Mapping[str, Any], threshold: int) -> list[str]:
    """Sentences on what changed since the previous period (open cases are a snapshot: not compared)."""
    pairs = [
        (gettext("Cases received"), "intake", "received"),
        (gettext("Withdrawals"), "intake", "withdrawn"),
        (gettext("Decisions"), "outcomes", "decided"),
        (gettext("Ratings revised"), "outcomes", "revised"),
    ]
    sentences = [
        _change(subject, previous[section][key], current[section][key], threshold)
        for subject, section, key in pairs
    ]
    before, now = previous["intake"]["rate"], current["intake"]["rate"]
    if WITHHELD not in (before, now) and before != now:
        sentences.append(
            gettext("The share of screened requests found receivable went from %(before)s to %(now)s.")
            % {"before": before, "now": now}
        )
    before, now = previous["end_to_end"]["median"], current["end_to_end"]["median"]
    if WITHHELD not in (before, now) and None not in (before, now):
        sentences.append(
            gettext("The median time from filing to outcome went from %(before)s to %(now)s days.")
            % {"before": before, "now": now}
        )
    found = [sentence for sentence in sentences if sentence]
    return found or [gettext("No change can be reported without revealing small counts.")]


# --- words -------------------------------------------------------------------------------


def _long_date(day: dt.date) -> str:
    """A date written out in the active language (25 November 2026, 3 mars 2026)."""
    return formats.date_format(day, "j F Y" if translation.get_language() == "en" else "DATE_FORMAT")


def _period(scope: Scope) -> str:
    return gettext("%(start)s to %(end)s") % {"start": _long_date(scope.start), "end": _long_date(scope.end)}


def _filters(scope: Scope) -> list[tuple[str, str]]:
    """The filters as (label, value) pairs; the values are user data, escaped by the template."""
    shown = []
    if scope.office:
        shown.append((gettext("Office"), scope.office))
    if scope.region:
        shown.append((gettext("Region"), scope.region))
    if scope.cycle is not None:
        shown.append((gettext("Appraisal cycle"), str(scope.cycle)))
    if scope.contract_type:
        try:
            kind = gettext(ContractType(scope.contract_type).label)
        except ValueError:
            kind = scope.contract_type
        shown.append((gettext("Contract type"), kind))
    return shown
