"""Days per stage and end to end: count, median, 90th percentile and share within target.

Computed in the database in one query each, whatever the number of cases: the
durations are grouped by their number of days (per stage), so what comes back is
a histogram of at most a few hundred rows (days are whole numbers, bounded by how
long cases take), with how many of each were within target. Percentiles are
nearest-rank, read off the histogram's running count: the value at rank
ceil(p·n). Ranking every row with window functions instead sorts every duration
of the period on each request (200 ms for 45,000 cases on SQLite, against 10 ms
for the grouping).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from rebuttal.clocks import STAGE_OF_STATUS
from reports import tally
from reports.models import CaseDuration, StageVisit

# The stages in the order a case goes through them.
STAGES: tuple[str, ...] = tuple(dict.fromkeys(STAGE_OF_STATUS.values()))


def stage_label(stage: str) -> str:
    """How a stage is named to people (dashboard, management report), in the active language."""
    labels = {
        "receivability": gettext("Receivability check"),
        "assignment": pgettext("stage", "Reviewer assignment"),
        "acceptance": pgettext("stage", "Reviewer acceptance"),
        "review": pgettext("stage", "Review"),
        "quality_check": pgettext("stage", "Quality check"),
        "endorsement": pgettext("stage", "Endorsement"),
        "decision": pgettext("stage", "Decision"),
        "outcome": pgettext("stage", "Outcome letter"),
    }
    return labels.get(stage, stage)


def _local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] as local dates, as an instant range [from, to) the index can use."""
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


def _case_filters(prefix: str, **values: Any) -> Q:
    """The report filters, on the case's own fields; ``None`` means any."""
    names = {
        "office": "office",
        "region": "region",
        "cycle": "appraisal_cycle",
        "contract_type": "contract_type",
    }
    return Q(**{f"{prefix}{names[key]}": value for key, value in values.items() if value is not None})


def _histogram(queryset: QuerySet, *, group: list[str]) -> QuerySet:
    """``queryset``'s rows grouped by ``group`` and their ``days``: how many, how many within
    target (``on_target`` true) and how many that had a target (``on_target`` not null)."""
    return (
        queryset.values(*group, "days")
        .annotate(
            n=Count("pk"),
            within=Count("pk", filter=Q(on_target=True)),
            judged=Count("pk", filter=Q(on_target__isnull=False)),
        )
        .order_by(*group, "days")
    )


def _tally_histogram(queryset: QuerySet, *, group: str | None = None) -> list[dict[str, Any]]:
    """``_histogram``'s rows from the running totals: the durations of the period's months and
    edge days grouped by ``group`` (if any) and days, with how many were within target."""
    fields = [group] if group else []
    rows = (
        queryset.values(*fields, "days")
        .annotate(
            cases=Sum("n"),
            cases_within=Coalesce(Sum("n", filter=Q(within="y")), 0),
            cases_judged=Coalesce(Sum("n", filter=~Q(within="")), 0),
        )
        .filter(cases__gt=0)
        .order_by(*fields, "days")
    )
    return [
        {**{name: row[name] for name in (*fields, "days")}, "n": row["cases"]}
        | {"within": row["cases_within"], "judged": row["cases_judged"]}
        for row in rows
    ]


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Count, median, 90th percentile and share within target from one histogram, days ascending.

    Nearest rank: the median is the value at rank ceil(n/2) = (n + 1) // 2, the 90th
    percentile the one at ceil(9n/10) = (9n + 9) // 10.
    """
    count = sum(row["n"] for row in rows)
    within = sum(row["within"] for row in rows)
    judged = sum(row["judged"] for row in rows)
    return {
        "count": count,
        "median_days": _at_rank(rows, (count + 1) // 2),
        "p90_days": _at_rank(rows, (count * 9 + 9) // 10),
        "within_target": within,
        "with_target": judged,
        "share": within / judged if judged else None,
    }


def _at_rank(rows: list[dict[str, Any]], rank: int) -> int | None:
    """The days at ``rank`` (1 = fewest) of the histogram; ``None`` when it is empty."""
    seen = 0
    for row in rows:
        seen += row["n"]
        if seen >= rank:
            return row["days"]
    return None


def stage_durations(
    *,
    start: dt.date,
    end: dt.date,
    office: str | None = None,
    region: str | None = None,
    cycle: int | None = None,
    contract_type: str | None = None,
) -> list[dict[str, Any]]:
    """Per stage, over the visits that left it within [start, end] (local dates), in stage order.

    Each entry: ``stage``, ``count``, ``median_days``, ``p90_days``, ``within_target``
    (visits that left by their due date), ``with_target`` (visits that had one) and
    ``share`` (the first over the second; ``None`` without any). One query.
    """
    filters = {"office": office, "region": region, "cycle": cycle, "contract_type": contract_type}
    rows: dict[str, list[dict[str, Any]]] = {}
    if tally.usable():
        for row in _tally_histogram(tally.rows("stage", start=start, end=end, **filters), group="key"):
            rows.setdefault(row["key"], []).append(row)
        return [{"stage": stage, **_figures(rows.get(stage, []))} for stage in STAGES]
    since, until = _local_bounds(start, end)
    visits = StageVisit.objects.filter(
        _case_filters("case__", office=office, region=region, cycle=cycle, contract_type=contract_type),
        left_at__gte=since,
        left_at__lt=until,
    ).annotate(days=F("elapsed_days"), on_target=F("within_target"))
    for row in _histogram(visits, group=["stage"]):  # one row per stage and number of days
        rows.setdefault(row["stage"], []).append(row)
    return [{"stage": stage, **_figures(rows.get(stage, []))} for stage in STAGES]


def end_to_end(
    *,
    start: dt.date,
    end: dt.date,
    office: str | None = None,
    region: str | None = None,
    cycle: int | None = None,
    contract_type: str | None = None,
) -> dict[str, Any]:
    """Whole cases closed with an outcome within [start, end] (local dates): submission to closure.

    Days are calendar days between the local dates, less every pause of the case;
    the target is the case's policy ``case_target_days``. Both were kept when the
    case closed (``reports.CaseDuration``), so this reads one narrow row per case.
    Same keys as a stage of ``stage_durations`` (without ``stage``). One query.
    """
    if tally.usable():
        filters = {"office": office, "region": region, "cycle": cycle, "contract_type": contract_type}
        return _figures(_tally_histogram(tally.rows("e2e", start=start, end=end, **filters)))
    since, until = _local_bounds(start, end)
    durations = CaseDuration.objects.filter(
        _case_filters("case__", office=office, region=region, cycle=cycle, contract_type=contract_type),
        closed_at__gte=since,
        closed_at__lt=until,
    ).annotate(on_target=F("within_target"))
    return _figures(list(_histogram(durations, group=[])))
