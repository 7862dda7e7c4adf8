"""Days per stage and end to end: count, median, 90th percentile and share within target.

Computed in the database in one query each, whatever the number of cases: window
functions number the durations within each stage in ascending order and count
them, and only the rows at the two ranks wanted come back. Percentiles are
nearest-rank: the value at rank ceil(p·n). That needs nothing beyond window
functions, so it runs on SQLite (3.25 or later) and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from rebuttal.clocks import STAGE_OF_STATUS
from rebuttal.models import ClockPause, RebuttalCase, Status
from reports.models import StageVisit

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


class DaysBetween(Func):
    """Whole days from the date ``start`` to the date ``end``."""

    output_field = IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # PostgreSQL: date - date is a number of days.
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


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


def _at_ranks(queryset: QuerySet, *, days: str, partition: list[Any]) -> QuerySet:
    """The rows of ``queryset`` at the median's and the 90th percentile's rank, with window totals.

    ``n`` counts the rows of the partition, ``within`` those within target and
    ``judged`` those that have a target; nearest-rank: ceil(n/2) = (n + 1) / 2 and
    ceil(9n/10) = (9n + 9) / 10 in integer division.
    """
    ranked = queryset.annotate(
        rank=Window(RowNumber(), partition_by=partition, order_by=[F(days).asc(), F("pk").asc()]),
        n=Window(Count("pk"), partition_by=partition),
        within=Window(Sum(Case(When(on_target=True, then=1), default=0)), partition_by=partition),
        judged=Window(Sum(Case(When(on_target__isnull=False, then=1), default=0)), partition_by=partition),
    ).annotate(
        median_rank=(F("n") + 1) / 2,
        p90_rank=(F("n") * 9 + 9) / 10,
    )
    return ranked.filter(Q(rank=F("median_rank")) | Q(rank=F("p90_rank")))


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Count, median, 90th percentile and share within target from one partition's ranked rows."""
    if not rows:
        return {
            "count": 0,
            "median_days": None,
            "p90_days": None,
            "within_target": 0,
            "with_target": 0,
            "share": None,
        }
    first = rows[0]
    by_rank = {row["rank"]: row["days"] for row in rows}
    return {
        "count": first["n"],
        "median_days": by_rank[first["median_rank"]],
        "p90_days": by_rank[first["p90_rank"]],
        "within_target": first["within"],
        "with_target": first["judged"],
        "share": first["within"] / first["judged"] if first["judged"] else None,
    }


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
    since, until = _local_bounds(start, end)
    visits = StageVisit.objects.filter(
        _case_filters("case__", office=office, region=region, cycle=cycle, contract_type=contract_type),
        left_at__gte=since,
        left_at__lt=until,
    ).annotate(days=F("elapsed_days"), on_target=F("within_target"))
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in _at_ranks(visits, days="days", partition=[F("stage")]).values(
        "stage", "rank", "days", "n", "within", "judged", "median_rank", "p90_rank"
    ):
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
    the target is the case's policy ``case_target_days``. Same keys as a stage of
    ``stage_durations`` (without ``stage``). One query.
    """
    since, until = _local_bounds(start, end)
    paused = (
        ClockPause.objects.filter(case=OuterRef("pk"))
        .values("case")
        .annotate(total=Sum("days_added"))
        .values("total")
    )
    cases = (
        RebuttalCase.objects.filter(
            _case_filters("", office=office, region=region, cycle=cycle, contract_type=contract_type),
            status=Status.CLOSED,
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .annotate(
            days=Greatest(
                DaysBetween(TruncDate("closed_at"), TruncDate("submitted_at"))
                - Coalesce(Subquery(paused, output_field=IntegerField()), 0),
                Value(0),
            )
        )
        .annotate(
            on_target=Case(
                When(policy__isnull=True, then=None),
                When(days__lte=F("policy__case_target_days"), then=True),
                default=False,
                output_field=BooleanField(),
            )
        )
    )
    rows = list(
        _at_ranks(cases, days="days", partition=[]).values(
            "rank", "days", "n", "within", "judged", "median_rank", "p90_rank"
        )
    )
    return _figures(rows)
