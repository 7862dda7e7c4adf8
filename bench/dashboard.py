"""(g) HR's reports dashboard: 100,000 cases against 1,000.

Requests go through the whole Django stack (``django.test.Client`` signed in
with ``force_login`` as an HR specialist) for ``/reports/`` without filters:
the last twelve months, every figure of ``reports.exports.summary_figures``,
the outcomes per month and the four charts.

Goal (a throughput ratio, higher is better): the page at 100,000 cases answers
at least 0.5 times as fast as at 1,000. The figures are aggregated in the
database, so the number of SQL statements per request must not grow with the
cases; the rows each aggregate reads do, which is what the ratio measures.

The cases are bulk-created by ``bench.data`` in the same status mix as the
queue page's, but dated inside the default period: submissions spread over the
last 364 days, closures and decisions after them and never later than now, so
that every figure of the period counts them. They carry no stage visits, audit
events, assignments or fees (bulk-created cases have none), so the stage
durations, screening, workload and fee queries read empty tables. Each closed
case does get the duration row the transition hook keeps when a case closes
(``reports.CaseDuration``: days from submission to closure, no pauses), so the
end-to-end figures rank 45,000 cases at the larger size. Bulk-created rows go
through no transition, so the running totals the transitions keep
(``reports.Tally``) are then rebuilt from them (``reports.tally.rebuild``, as
``manage.py report_tally --rebuild`` does): the figures read those, months
whole and the period's edge days, as they do in production. The cases are
deleted afterwards, as the queue page's are, and the totals rebuilt again.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from bench import data, report
from bench.queue_page import _get, _recorder, _remove_cases
from bench.timing import Sample, latency_figures, median_cpu, median_wall, time_once
from rebuttal.models import TERMINAL_STATES, RebuttalCase, Status
from rebuttal.selectors import policy_current
from reports import tally
from reports.forms import default_period
from reports.models import CaseDuration
from reports.stage_visits import duration_figures

URL = "/reports/"
SMALL = 1_000
LARGE = 100_000
# Cases per bulk insert round, as the queue page's.
CHUNK = 5_000
REQUESTS = 30
WARMUP = 5
TARGET_SCALE = 0.5
# Submissions fall this many days back at most: inside the default period (a year back, the day after).
PERIOD_DAYS = 364
SEED = 20_260_107
KEY_FIGURES = {
    "received": "Cases received",
    "decided": "Decided",
    "open": "Open cases today",
}


@dataclass(frozen=True)
class SizeFigures:
    """The dashboard with ``cases`` cases in the database."""

    cases: int
    received: int
    decided: int
    open_cases: int
    samples: list[Sample]
    queries: int
    slowest: tuple[float, str]

    @property
    def median_ms(self) -> float:
        return median_wall(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "received_in_period": self.received,
            "decided_in_period": self.decided,
            "open_today": self.open_cases,
            "sql_per_request": self.queries,
            "slowest_sql_ms": self.slowest[0],
            "slowest_sql": self.slowest[1],
            **latency_figures(self.samples),
        }


@dataclass(frozen=True)
class DashboardFigures:
    small: SizeFigures
    large: SizeFigures

    @property
    def scale_ratio(self) -> float:
        """Throughput at 100,000 cases over throughput at 1,000 (1k latency / 100k latency)."""
        return self.small.median_ms / self.large.median_ms

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": URL,
            "period": "default: the last twelve months, no filters",
            "small": self.small.as_dict(),
            "large": self.large.as_dict(),
            "ratios": {"throughput_large_over_small": self.scale_ratio},
            "targets": {"throughput_large_over_small": TARGET_SCALE},
        }


def run(people: data.People) -> DashboardFigures:
    """Measure at ``SMALL`` cases, grow the same database to ``LARGE``, measure again; then clean up."""
    rng = random.Random(SEED)
    first_id = _create_cases(rng, people, SMALL)
    try:
        with override_settings(ROOT_URLCONF="bench.urls"):
            client = Client()
            client.force_login(people.hr)
            tally.rebuild()
            data.analyze()
            small = _measure_size(client, SMALL)
            _create_cases(rng, people, LARGE - SMALL)
            tally.rebuild()
            data.analyze()
            large = _measure_size(client, LARGE)
    finally:
        _remove(first_id)
    return DashboardFigures(small=small, large=large)


def _create_cases(rng: random.Random, people: data.People, count: int) -> int:
    """Bulk-create ``count`` cases dated in the period, in rounds of ``CHUNK``; the first new id."""
    statuses, weights = list(data.STATUS_WEIGHTS), list(data.STATUS_WEIGHTS.values())
    now = timezone.now()
    target_days = policy_current().case_target_days
    first_id = None
    for done in range(0, count, CHUNK):
        by_status: dict[str, list[dict[str, Any]]] = {}
        for status in rng.choices(statuses, weights, k=min(CHUNK, count - done)):
            by_status.setdefault(status, []).append(_dates(rng, status, now))
        for status, overrides in by_status.items():
            ids = data.create_cases(people, len(overrides), status=status, overrides=overrides)
            first_id = min(ids) if first_id is None else min(first_id, *ids)
            if status == Status.CLOSED:
                _create_durations(ids, overrides, target_days)
    assert first_id is not None
    return first_id


def _create_durations(ids: list[int], overrides: list[dict[str, Any]], target_days: int) -> None:
    """The duration rows of closed cases, as ``reports.stage_visits.record_case_duration`` keeps them."""
    rows = []
    for case_id, fields in zip(ids, overrides, strict=True):
        figures = duration_figures(
            submitted_at=fields["submitted_at"],
            closed_at=fields["closed_at"],
            paused_days=0,
            target_days=target_days,
        )
        rows.append(CaseDuration(case_id=case_id, **figures))
    CaseDuration.objects.bulk_create(rows, batch_size=data.BATCH_SIZE)


def _remove(first_id: int) -> None:
    """The duration rows first (they refer to the cases), then the cases as the queue page removes them."""
    CaseDuration.objects.filter(case_id__gte=first_id).delete()
    _remove_cases(first_id)
    tally.rebuild()


def _dates(rng: random.Random, status: str, now: dt.datetime) -> dict[str, Any]:
    """A case's timestamps for ``status``, submitted within the last ``PERIOD_DAYS`` days, none after now."""
    submitted_at = now - dt.timedelta(days=rng.uniform(0, PERIOD_DAYS))
    created_at = submitted_at - dt.timedelta(hours=rng.uniform(1, 72))
    fields: dict[str, Any] = {"created_at": created_at, "appraisal_cycle": created_at.year - 1}
    if status == Status.DRAFT:
        return fields
    fields["submitted_at"] = submitted_at
    if status in TERMINAL_STATES:
        fields["closed_at"] = _after(rng, submitted_at, now, fewest=5, most=90)
    else:
        stage_started_at = _after(rng, submitted_at, now, fewest=0, most=30)
        fields["stage_started_at"] = stage_started_at
        fields["stage_due_on"] = (stage_started_at + dt.timedelta(days=rng.choice([5, 10, 30]))).date()
    if status in data.WITH_DECISION:
        fields["decided_at"] = fields.get("closed_at") or _after(rng, submitted_at, now, fewest=5, most=90)
    return fields


def _after(
    rng: random.Random, since: dt.datetime, now: dt.datetime, *, fewest: int, most: int
) -> dt.datetime:
    """``fewest`` to ``most`` days after ``since``; somewhere between it and now if that is later than now."""
    when = since + dt.timedelta(days=rng.uniform(fewest, most))
    return when if when <= now else since + (now - since) * rng.random()


def _expected() -> dict[str, int]:
    """The key figures counted here with the ORM, from the period's own bounds (not ``reports.figures``)."""
    start, end = default_period(timezone.localdate())
    first = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    after = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    cases = RebuttalCase.objects.filter(deleted_at__isnull=True)
    return {
        "received": cases.filter(submitted_at__gte=first, submitted_at__lt=after).count(),
        "decided": cases.filter(decided_at__gte=first, decided_at__lt=after).count(),
        "open": cases.exclude(status__in=[Status.DRAFT, *TERMINAL_STATES])
        .filter(submitted_at__isnull=False)
        .count(),
    }


def _check(response: Any, expected: dict[str, int]) -> None:
    """The key figures table shows the counts made with the ORM (and none of them is trivially zero)."""
    body = response.content.decode()
    for key, label in KEY_FIGURES.items():
        found = re.search(rf'<th scope="row">{re.escape(label)}</th><td>(\d+)</td>', body)
        if found is None:
            raise RuntimeError(f"the dashboard has no '{label}' figure")
        if int(found.group(1)) != expected[key] or not expected[key]:
            raise RuntimeError(
                f"the dashboard shows {label} {found.group(1)}; the ORM counts {expected[key]}"
            )


def _measure_size(client: Client, cases: int) -> SizeFigures:
    """The page: checked, its SQL counted and the slowest statement noted, warmed, then timed."""
    expected = _expected()
    _check(_get(client, URL), expected)
    statements: list[str] = []
    with connection.execute_wrapper(_recorder(statements)):
        _get(client, URL)
    timings: list[tuple[float, str]] = []
    with connection.execute_wrapper(_timer(timings)):
        _get(client, URL)
    for _ in range(WARMUP):
        _get(client, URL)
    samples = [time_once(lambda: _get(client, URL)) for _ in range(REQUESTS)]
    return SizeFigures(
        cases=cases,
        received=expected["received"],
        decided=expected["decided"],
        open_cases=expected["open"],
        samples=samples,
        queries=len(statements),
        slowest=max(timings),
    )


def _timer(timings: list[tuple[float, str]]) -> Any:
    """An execute wrapper that notes each statement's wall time (ms) with its SQL.

    The time is that of ``execute``: on SQLite the rows are fetched afterwards, but an
    aggregate has done its work by the time its first row is ready.
    """

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        timings.append(((time.perf_counter() - started) * 1000, sql))
        return result

    return record


def dashboard_lines(figures: DashboardFigures) -> None:
    """What the run prints about the dashboard."""
    small, large = figures.small, figures.large
    report.say(
        f"dashboard: {small.cases:,} cases {small.median_ms:.2f} ms, {large.cases:,} cases "
        f"{large.median_ms:.2f} ms, throughput ratio {figures.scale_ratio:.2f} (goal >= {TARGET_SCALE:.2f})"
    )
    report.say(
        f"  (GET {URL} as an HR specialist (session login), default period (last twelve months), "
        f"no filters; median of {REQUESTS} requests after {WARMUP} warm-up;"
    )
    report.say(
        f"   received in the period {small.received:,} and {large.received:,}, decided {small.decided:,} "
        f"and {large.decided:,}, open today {small.open_cases:,} and {large.open_cases:,}; "
        f"{small.queries} and {large.queries} SQL per request;"
    )
    report.say(
        f"   CPU of this process per request {median_cpu(small.samples):.2f} ms vs "
        f"{median_cpu(large.samples):.2f} ms; slowest statement {small.slowest[0]:.2f} ms vs "
        f"{large.slowest[0]:.2f} ms: {_head(large.slowest[1])})"
    )


def _head(sql: str, length: int = 90) -> str:
    """The start of a statement, on one line."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= length else flat[: length - 3] + "..."


def summary_rows(figures: DashboardFigures) -> list[tuple[str, str, float]]:
    """The dashboard's row of the summary (a throughput ratio: higher is better)."""
    return [
        (
            "dashboard",
            f"{LARGE // 1000}k / {SMALL // 1000}k cases, throughput (goal >= {TARGET_SCALE})",
            figures.scale_ratio,
        )
    ]
