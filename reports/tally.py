"""The figures' running totals (``reports.Tally``): what each transition adds, and a rebuild.

A report figure over a year of cases used to read every case of the year on each
request (97,000 index entries for "received" at 100,000 cases). The tally counts
each fact once, when it happens: a transition's hook (``record``) adds one to
every row the fact belongs to — its local day and its month, for every case and
for the case's office, region, cycle and contract type — in one upsert, inside
the transition's transaction. A period's figure then sums the rows of its whole
months and of the days at its edges: at most a few hundred rows per fact and
filter, however many cases there are (once ``compact`` has merged the rows the
transitions appended, which the scheduler's pass does every few minutes).

The facts (``MEASURES``) are those the figures count; each is a function of the
case, its stage visits, its duration and its screening event, so ``facts_of_all``
can work them all out again from those tables, and ``rebuild`` replaces the
tally with them (the migration that created it, and ``manage.py report_tally``
after data was written outside the services). ``differences`` compares the
two: the tests run every lifecycle and check it is empty.

Days are local days in ``TIME_ZONE``. A figure asked for in another time zone
(``timezone.override``) cannot use the tally and is computed from the cases
(``usable``).

Concurrency: two transitions of different cases on the same day count the same
facts. Adding to one shared row per fact (an upsert) would lock that row until
the transaction commits, and a transaction that moves several cases (releasing a
reviewer's assignments) would then hold a shared row while waiting for a case
another transaction holds, which waits for the shared row: a deadlock (seen in
CI). So a transition only appends its own rows (+1 and -1), which no other
transaction waits for, and ``compact`` merges each fact's rows into one in a
single statement that takes every row it deletes into the sum it inserts.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from rebuttal.models import TERMINAL_STATES, CaseEvent, EventKind, RebuttalCase, Status
from reports.models import CaseDuration, FailedRule, StageVisit, Tally

# measure -> the fact it counts, and the day it is counted on.
MEASURES = {
    "received": "a case submitted; its day of submission",
    "open": "a case open now, in state ``key``; its day of submission",
    "nr": "a case found not receivable; its day of submission",
    "rule": "a receivability rule (``key``) a screened case failed; its day of submission",
    "screened": "a screening decision (``key``: the transition); the day HR decided",
    "withdrawn": "a withdrawal; the day of withdrawal",
    "decided": "a decision (``key``: original and final rating); the day of the decision",
    "e2e": "a case closed with its outcome (``days``, ``within``); the day it closed",
    "stage": "a stay in a stage (``key``) that ended (``days``, ``within``); the day it ended",
}
# Open cases are read by their age in days, never by period: no month rows.
DAY_ONLY = frozenset({"open"})
SCREENING = ("accept_receivable", "reject_not_receivable")
# Between the two ratings of a "decided" key (ratings are policy keys: no control characters).
PAIR = "\x1f"
OPEN_EXCLUDED = frozenset({Status.DRAFT, *TERMINAL_STATES})
DIMENSIONS = ("office", "region", "cycle", "contract_type")
KEY_FIELDS = ("measure", "level", "grain", "day", *DIMENSIONS, "key", "days", "within")
EVERY_CASE, PER_DIMENSIONS = 0, 1
# Rows per INSERT statement.
CHUNK = 400


@dataclass(frozen=True, order=True)
class Fact:
    """One thing that happened to (or is true of) one case, on one local day."""

    measure: str
    day: dt.date
    office: str
    region: str
    cycle: int
    contract_type: str
    key: str = ""
    days: int = 0
    within: str = ""


def local_day(instant: dt.datetime) -> dt.date:
    """The day ``instant`` falls on in ``TIME_ZONE`` (whatever time zone is active)."""
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def usable() -> bool:
    """Whether the tally's days are the active time zone's (they are ``TIME_ZONE``'s)."""
    return timezone.get_current_timezone_name() == settings.TIME_ZONE


def within_code(within_target: bool | None) -> str:
    return "" if within_target is None else ("y" if within_target else "n")


def decided_key(original: str, final: str) -> str:
    return f"{original}{PAIR}{final}"


def decided_pair(key: str) -> tuple[str, str]:
    original, _, final = key.partition(PAIR)
    return original, final


def _fact(measure: str, day: dt.date, case: Any, **fields: Any) -> Fact:
    return Fact(
        measure=measure,
        day=day,
        office=case.office,
        region=case.region,
        cycle=case.appraisal_cycle,
        contract_type=case.contract_type,
        **fields,
    )


# --- what a transition adds ---------------------------------------------------------


def transition_facts(
    case: RebuttalCase,
    *,
    failed: Iterable[str] = (),
    visit: dict[str, Any] | None = None,
    duration: dict[str, Any] | None = None,
) -> Counter[Fact]:
    """The change a transition (``case.last_transition``) makes to the tally, as +1/-1 per fact.

    ``failed``: the rules a screening recorded as failed; ``visit``: the stage visit
    the transition closed (``stage``, ``left_at``, ``elapsed_days``, ``within_target``);
    ``duration``: the case's duration when it closed with its outcome.
    """
    record = case.last_transition
    change: Counter[Fact] = Counter()
    if case.submitted_at is None:
        return change
    submitted_on = local_day(case.submitted_at)
    if record.source == Status.DRAFT:
        change[_fact("received", submitted_on, case)] += 1
    if record.source != record.target:
        if record.source not in OPEN_EXCLUDED:
            change[_fact("open", submitted_on, case, key=record.source)] -= 1
        if record.target not in OPEN_EXCLUDED:
            change[_fact("open", submitted_on, case, key=record.target)] += 1
        if record.target == Status.NOT_RECEIVABLE:
            change[_fact("nr", submitted_on, case)] += 1
        if record.source == Status.NOT_RECEIVABLE:
            change[_fact("nr", submitted_on, case)] -= 1
        if record.target == Status.WITHDRAWN and case.closed_at is not None:
            change[_fact("withdrawn", local_day(case.closed_at), case)] += 1
        if record.target == Status.DECIDED and case.decided_at is not None:
            key = decided_key(case.original_rating, case.final_rating)
            change[_fact("decided", local_day(case.decided_at), case, key=key)] += 1
    if record.name in SCREENING:
        change[_fact("screened", local_day(record.at), case, key=record.name)] += 1
    for rule in failed:
        change[_fact("rule", submitted_on, case, key=rule)] += 1
    if visit is not None:
        change[_stage_fact(case, visit)] += 1
    if duration is not None:
        change[_duration_fact(case, duration)] += 1
    return change


def _stage_fact(case: Any, visit: dict[str, Any]) -> Fact:
    return _fact(
        "stage",
        local_day(visit["left_at"]),
        case,
        key=visit["stage"],
        days=visit["elapsed_days"],
        within=within_code(visit["within_target"]),
    )


def _duration_fact(case: Any, duration: dict[str, Any]) -> Fact:
    return _fact(
        "e2e",
        local_day(duration["closed_at"]),
        case,
        days=duration["days"],
        within=within_code(duration["within_target"]),
    )


def _rows(facts: Counter[Fact]) -> Counter[tuple[Any, ...]]:
    """Each fact's rows (day and month; every case and the case's own dimensions), in ``KEY_FIELDS``
    order, with what to add to each; rows that add nothing are left out."""
    rows: Counter[tuple[Any, ...]] = Counter()
    for fact, n in facts.items():
        if not n:
            continue
        grains = [("d", fact.day)]
        if fact.measure not in DAY_ONLY:
            grains.append(("m", fact.day.replace(day=1)))
        for grain, day in grains:
            rest = (fact.key, fact.days, fact.within)
            rows[(fact.measure, EVERY_CASE, grain, day, "", "", 0, "", *rest)] += n
            dims = (fact.office, fact.region, fact.cycle, fact.contract_type)
            rows[(fact.measure, PER_DIMENSIONS, grain, day, *dims, *rest)] += n
    return Counter({row: n for row, n in rows.items() if n})


def add(facts: Counter[Fact]) -> None:
    """Append ``facts``' rows to the tally (one INSERT)."""
    rows = _rows(facts).items()
    if rows:
        Tally.objects.bulk_create(
            [Tally(**dict(zip(KEY_FIELDS, row, strict=True)), n=n) for row, n in rows], batch_size=CHUNK
        )


def compact() -> int:
    """Merge the rows of each fact that has several (or only a zero) into one row with their sum
    (none when it is zero); how many rows fewer there are.

    One statement on PostgreSQL (a DELETE ... RETURNING feeding the INSERT of the sums): the rows
    it deletes are exactly those it sums, whatever transactions append meanwhile (a row committed
    during the statement is not in its snapshot, and stays). On SQLite the transaction takes the
    write lock when it begins (``transaction_mode`` IMMEDIATE): nobody appends until it commits,
    and the DELETE leaves the rows the INSERT has just written (ids above the last one before it).
    """
    table = connection.ops.quote_name(Tally._meta.db_table)
    keys = ", ".join(connection.ops.quote_name(Tally._meta.get_field(name).column) for name in KEY_FIELDS)
    n, pk = connection.ops.quote_name("n"), connection.ops.quote_name("id")
    to_merge = f"GROUP BY {keys} HAVING COUNT(*) > 1 OR SUM({n}) = 0"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH gone AS (DELETE FROM {table} "
                f"WHERE ({keys}) IN (SELECT {keys} FROM {table} {to_merge}) RETURNING {keys}, {n}), "
                f"added AS (INSERT INTO {table} ({keys}, {n}) SELECT {keys}, SUM({n}) FROM gone "
                f"GROUP BY {keys} HAVING SUM({n}) <> 0 RETURNING 1) "
                "SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM added)"
            )
            return cursor.fetchone()[0]
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {table}")
        last = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {table} ({keys}, {n}) SELECT {keys}, SUM({n}) FROM {table} WHERE {pk} <= %s "
            f"GROUP BY {keys} HAVING (COUNT(*) > 1 OR SUM({n}) = 0) AND SUM({n}) <> 0",
            [last],
        )
        added = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {table} WHERE {pk} <= %s AND ({keys}) IN "
            f"(SELECT {keys} FROM {table} WHERE {pk} <= %s {to_merge})",
            [last, last],
        )
        return cursor.rowcount - added


# --- everything again, from the cases -----------------------------------------------


def facts_of_all() -> Counter[Fact]:
    """Every fact of every case, worked out from the cases, visits, durations, failed rules and
    screening events (what the transitions would have added, had they all gone through ``record``)."""
    facts: Counter[Fact] = Counter()
    cases = RebuttalCase.objects.filter(deleted_at__isnull=True, submitted_at__isnull=False).order_by()
    fields = ("office", "region", "appraisal_cycle", "contract_type")
    for row in cases.values(
        *fields, "submitted_at", "closed_at", "decided_at", "status", "original_rating", "final_rating"
    ).iterator(chunk_size=2000):
        case = _Dims(row)
        submitted_on = local_day(row["submitted_at"])
        facts[_fact("received", submitted_on, case)] += 1
        status = row["status"]
        if status not in OPEN_EXCLUDED:
            facts[_fact("open", submitted_on, case, key=status)] += 1
        if status == Status.NOT_RECEIVABLE:
            facts[_fact("nr", submitted_on, case)] += 1
        if status == Status.WITHDRAWN and row["closed_at"] is not None:
            facts[_fact("withdrawn", local_day(row["closed_at"]), case)] += 1
        if row["decided_at"] is not None:
            key = decided_key(row["original_rating"], row["final_rating"])
            facts[_fact("decided", local_day(row["decided_at"]), case, key=key)] += 1
    related = [f"case__{name}" for name in fields]
    live = {"case__deleted_at__isnull": True, "case__submitted_at__isnull": False}
    for row in (
        FailedRule.objects.filter(**live)
        .values(*related, "rule", "case__submitted_at")
        .iterator(chunk_size=2000)
    ):
        facts[_fact("rule", local_day(row["case__submitted_at"]), _Dims(row, "case__"), key=row["rule"])] += 1
    screenings = CaseEvent.objects.filter(**live, kind=EventKind.TRANSITION, transition__in=SCREENING)
    for row in screenings.values(*related, "transition", "at").iterator(chunk_size=2000):
        facts[_fact("screened", local_day(row["at"]), _Dims(row, "case__"), key=row["transition"])] += 1
    durations = CaseDuration.objects.filter(**live).values(*related, "closed_at", "days", "within_target")
    for row in durations.iterator(chunk_size=2000):
        facts[_duration_fact(_Dims(row, "case__"), row)] += 1
    visits = StageVisit.objects.filter(**live, left_at__isnull=False).values(
        *related, "stage", "left_at", "elapsed_days", "within_target"
    )
    for row in visits.iterator(chunk_size=2000):
        facts[_stage_fact(_Dims(row, "case__"), row)] += 1
    return facts


class _Dims:
    """A case's dimensions from a ``values()`` row (``prefix`` when read through a relation)."""

    __slots__ = ("office", "region", "appraisal_cycle", "contract_type")

    def __init__(self, row: dict[str, Any], prefix: str = "") -> None:
        for name in self.__slots__:
            setattr(self, name, row[f"{prefix}{name}"])


@transaction.atomic
def rebuild() -> int:
    """Replace the tally with the facts of every case; the number of rows written.

    On PostgreSQL the table is locked first (transitions wait to add to it until the
    rebuild commits), so a transition that added to the old rows but had not committed
    when the cases were read cannot be lost: the lock waits for it, and the cases are
    read afterwards.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Tally._meta.db_table)} IN EXCLUSIVE MODE")
    rows = _rows(facts_of_all())
    Tally.objects.all().delete()
    Tally.objects.bulk_create(
        (Tally(**dict(zip(KEY_FIELDS, row, strict=True)), n=n) for row, n in sorted(rows.items())),
        batch_size=2000,
    )
    return len(rows)


def differences(limit: int = 20) -> list[str]:
    """How the tally differs from the facts of every case (at most ``limit`` lines; empty: none)."""
    expected = _rows(facts_of_all())
    sums = Tally.objects.values_list(*KEY_FIELDS).annotate(total=Sum("n")).order_by()
    found = Counter({tuple(row[:-1]): row[-1] for row in sums if row[-1]})
    lines = []
    for row in sorted(set(expected) | set(found)):
        if expected[row] != found[row]:
            lines.append(
                f"{dict(zip(KEY_FIELDS, row, strict=True))}: kept {found[row]}, should be {expected[row]}"
            )
            if len(lines) >= limit:
                break
    return lines


# --- reading ------------------------------------------------------------------------


def spans(
    start: dt.date, end: dt.date
) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.date, dt.date]]]:
    """[start, end] as its whole months (first and last month's first day, or ``None``) and the
    day ranges left at its edges."""
    first_whole = start if start.day == 1 else _next_month(start)
    after = end + dt.timedelta(days=1)
    end_whole = after if after.day == 1 else after.replace(day=1)  # the day after the last whole month
    if first_whole >= end_whole:
        return None, [(start, end)]
    edges = []
    if start < first_whole:
        edges.append((start, first_whole - dt.timedelta(days=1)))
    if end_whole <= end:
        edges.append((end_whole, end))
    last_month = (end_whole - dt.timedelta(days=1)).replace(day=1)
    return (first_whole, last_month), edges


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def rows(
    measure: str | tuple[str, ...],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    office: str | None = None,
    region: str | None = None,
    cycle: int | None = None,
    contract_type: str | None = None,
    exact: bool = False,
) -> QuerySet[Tally]:
    """``measure``'s rows (or several measures') for the period [start, end] (whole months and
    edge days; without a period: every day) and the filters (``None``: any). ``exact``: read
    the rows per office, region, cycle and contract type even without a filter (to group by them)."""
    wanted = {"office": office, "region": region, "cycle": cycle, "contract_type": contract_type}
    filters = {name: value for name, value in wanted.items() if value is not None}
    level = PER_DIMENSIONS if filters or exact else EVERY_CASE
    # An equality, not IN, for one measure: SQLite then seeks the index on (measure, level, grain, day).
    which = Q(measure=measure) if isinstance(measure, str) else Q(measure__in=measure)
    q = which & Q(level=level, **filters)
    if start is None or end is None:
        return Tally.objects.filter(q, grain="d").order_by()
    months, edges = spans(start, end)
    parts = [Q(grain="m", day__range=months)] if months else []
    parts += [Q(grain="d", day__range=edge) for edge in edges]
    return Tally.objects.filter(q & reduce(operator.or_, parts)).order_by()


def total(queryset: QuerySet[Tally]) -> int:
    return queryset.aggregate(n=Sum("n"))["n"] or 0
