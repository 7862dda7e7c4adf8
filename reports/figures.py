"""The counting figures of the reports, each computed by one or a few aggregate queries.

Every function takes a ``Scope`` (a period and optional filters on the case) and
counts in the database (``Count``/``Sum`` with ``filter=``, ``values().annotate()``),
so the number of queries does not grow with the number of cases. Python only
reshapes the handful of aggregate rows that come back.

Periods are local calendar days (``TIME_ZONE``), both ends included: a timestamp
counts when its local date lies in ``[start, end]``. The bounds are turned into
aware datetimes once, so the comparison stays a plain range on an indexable column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from rebuttal.models import TERMINAL_STATES, CaseEvent, EventKind, RebuttalCase, Status
from rebuttal.receivability import RULES as RECEIVABILITY_RULES
from rebuttal.selectors import policy_current
from reports import tally
from reports.models import FailedRule, Tally
from reviewers.models import OPEN_ASSIGNMENT_STATUSES, Assignment, AssignmentStatus, FeeLine

# Age of an open case since submission, in days: label -> (fewest, most); None: no upper bound.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "over_90": (91, None),
}

ONE_DAY = dt.timedelta(days=1)

# A recurring office has at least this many cases in one appraisal cycle.
RECURRING_OFFICE_MIN = 2

ACCEPT = "accept_receivable"
REJECT = "reject_not_receivable"


@dataclass(frozen=True)
class Scope:
    """A period of local calendar days (both ends included) and optional filters on the case."""

    start: dt.date
    end: dt.date
    office: str | None = None
    region: str | None = None
    cycle: int | None = None
    contract_type: str | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"The period starts ({self.start}) after it ends ({self.end}).")

    def case_filter(self, prefix: str = "") -> Q:
        """The filters on the case, reached from another model through ``prefix`` (e.g. ``"case__"``)."""
        wanted = {
            "office": self.office or None,
            "region": self.region or None,
            "appraisal_cycle": self.cycle,
            "contract_type": self.contract_type or None,
        }
        q = Q(**{f"{prefix}deleted_at__isnull": True})
        for field, value in wanted.items():
            if value is not None:
                q &= Q(**{f"{prefix}{field}": value})
        return q

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes ``[first instant, instant after the last day)``."""
        return _day_start(self.start), _day_start(self.end + dt.timedelta(days=1))

    def during(self, field: str) -> Q:
        """``field`` (a datetime) falls on a local date of the period."""
        first, after = self.bounds()
        return Q(**{f"{field}__gte": first, f"{field}__lt": after})

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "office": self.office,
            "region": self.region,
            "cycle": self.cycle,
            "contract_type": self.contract_type,
        }


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight starting ``day`` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _cases(scope: Scope) -> QuerySet[RebuttalCase]:
    return RebuttalCase.objects.filter(scope.case_filter()).order_by()


def _received_qs(scope: Scope) -> QuerySet[RebuttalCase]:
    return _cases(scope).filter(scope.during("submitted_at"))


def _tally(
    scope: Scope, measure: str | tuple[str, ...], *, period: bool = True, exact: bool = False
) -> QuerySet[Tally]:
    """``measure``'s running totals in ``scope`` (``period=False``: on every day)."""
    return tally.rows(
        measure,
        start=scope.start if period else None,
        end=scope.end if period else None,
        office=scope.office or None,
        region=scope.region or None,
        cycle=scope.cycle,
        contract_type=scope.contract_type or None,
        exact=exact,
    )


# --- intake ---------------------------------------------------------------------


def received(*, scope: Scope) -> int:
    """Cases submitted in the period (drafts are never received)."""
    if tally.usable():
        return tally.total(_tally(scope, "received"))
    return _received_qs(scope).count()


def receivability(*, scope: Scope) -> dict[str, Any]:
    """Cases that reached a receivability decision in the period, and the share found receivable.

    Counted from the audit trail's transition events, so the date is the day HR
    decided, whenever the case was filed; a case is screened once, so each has one such event.
    """
    if tally.usable():
        by_key = dict(_tally(scope, "screened").values_list("key").annotate(n=Sum("n")))
        counts = {"receivable": by_key.get(ACCEPT, 0), "not_receivable": by_key.get(REJECT, 0)}
    else:
        counts = _screenings(scope)
    screened = counts["receivable"] + counts["not_receivable"]
    return {
        "screened": screened,
        "receivable": counts["receivable"],
        "not_receivable": counts["not_receivable"],
        "rate": round(counts["receivable"] / screened, 4) if screened else None,
    }


def _screenings(scope: Scope) -> dict[str, int]:
    return CaseEvent.objects.filter(
        scope.case_filter("case__"),
        scope.during("at"),
        kind=EventKind.TRANSITION,
        transition__in=[ACCEPT, REJECT],
    ).aggregate(
        receivable=Count("pk", filter=Q(transition=ACCEPT)),
        not_receivable=Count("pk", filter=Q(transition=REJECT)),
    )


def withdrawn(*, scope: Scope) -> int:
    """Cases withdrawn in the period (the day the requester withdrew)."""
    if tally.usable():
        return tally.total(_tally(scope, "withdrawn"))
    return _cases(scope).filter(scope.during("closed_at"), status=Status.WITHDRAWN).count()


# --- outcomes -------------------------------------------------------------------


def outcomes(*, scope: Scope) -> dict[str, Any]:
    """Cases decided in the period: rating maintained, or revised and by how many steps.

    Steps are positions on the policy's rating scale (policy data, highest first):
    ``position(original) - position(final)``, so a revision upwards is positive. A
    rating no longer on the scale gives no step count; it is reported as ``"off_scale"``.
    The database counts the cases per pair of ratings (a few dozen pairs at most, read
    from the index); the steps of each pair are worked out here.
    """
    position = {key: index for index, key in enumerate(policy_current().rating_keys)}
    maintained = revised = 0
    by_steps: dict[int | None, int] = {}
    for (original, final), n in _decided_pairs(scope):  # one row per pair of ratings, never per case
        if original is not None and original == final:
            maintained += n
            continue
        revised += n
        steps = position[original] - position[final] if original in position and final in position else None
        by_steps[steps] = by_steps.get(steps, 0) + n
    ordered = sorted(by_steps, key=lambda steps: (steps is None, steps or 0))
    return {
        "decided": maintained + revised,
        "maintained": maintained,
        "revised": revised,
        "revised_by_steps": {
            "off_scale" if steps is None else str(steps): by_steps[steps] for steps in ordered
        },
    }


def _decided_pairs(scope: Scope) -> list[tuple[tuple[str, str], int]]:
    """Cases decided in the period per pair of (original, final) ratings."""
    if tally.usable():
        rows = _tally(scope, "decided").values_list("key").annotate(n=Sum("n")).filter(n__gt=0)
        return [(tally.decided_pair(key), n) for key, n in rows]
    rows = (
        _cases(scope)
        .filter(scope.during("decided_at"))
        .values_list("original_rating", "final_rating")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [((original, final), n) for original, final, n in rows]


def step_keys(scale_length: int) -> list[str]:
    """Every key ``outcomes`` can give ``revised_by_steps`` on a scale of ``scale_length`` ratings:
    down the most steps to up the most (no 0: that is maintained), then ``"off_scale"``.

    What leaves HR lists them all, zeros included: a list of only the steps that
    happened would tell the reader that each listed ``"<5"`` is at least one.
    """
    reach = max(scale_length - 1, 0)
    return [str(steps) for steps in range(-reach, reach + 1) if steps != 0] + ["off_scale"]


def every_step(by_steps: dict[str, int], scale_length: int) -> dict[str, int]:
    """``by_steps`` with every key of ``step_keys`` (zeros where nothing happened), in that order."""
    keys = step_keys(scale_length)
    return {key: by_steps.get(key, 0) for key in keys} | {
        key: count for key, count in by_steps.items() if key not in keys
    }


def outcomes_by_month(*, scope: Scope) -> list[dict[str, Any]]:
    """Cases decided in the period per local calendar month, maintained and revised; months
    without a decision are left out. One query: from the running totals (a month's row, or
    its days at the period's edges), or else by comparing each case's decision time with the
    months' first instants (worked out here, in the time zone), so no date is truncated row by row."""
    if tally.usable():
        counts: dict[str, dict[str, int]] = {}
        rows = _tally(scope, "decided").values_list("day", "key").annotate(n=Sum("n")).filter(n__gt=0)
        for day, key, n in rows:  # one row per month or edge day, and pair of ratings
            original, final = tally.decided_pair(key)
            entry = counts.setdefault(day.strftime("%Y-%m"), {"maintained": 0, "revised": 0})
            entry["maintained" if original == final else "revised"] += n
        return [{"month": month, **counts[month]} for month in sorted(counts)]
    months, starts = [], []
    first = scope.start.replace(day=1)
    while first <= scope.end:
        months.append(first.strftime("%Y-%m"))
        first = (first + dt.timedelta(days=32)).replace(day=1)
        starts.append(_day_start(first))
    # The last month needs no bound: the period's own filter ends it.
    month = Case(
        *[When(decided_at__lt=start, then=Value(index)) for index, start in enumerate(starts[:-1])],
        default=Value(len(starts) - 1),
        output_field=IntegerField(),
    )
    rows = (
        _cases(scope)
        .filter(scope.during("decided_at"))
        .annotate(
            month=month,
            same=ExpressionWrapper(Q(final_rating=F("original_rating")), output_field=BooleanField()),
        )
        .values("month", "same")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    by_index: dict[int, dict[str, int]] = {}
    for row in rows:  # one row per month and outcome
        entry = by_index.setdefault(row["month"], {"maintained": 0, "revised": 0})
        entry["maintained" if row["same"] else "revised"] += row["n"]
    return [{"month": months[index], **by_index[index]} for index in sorted(by_index)]


# --- open cases -----------------------------------------------------------------


def open_cases(*, scope: Scope, today: dt.date) -> dict[str, Any]:
    """Open cases on ``today`` by state and by age since submission (days, local dates).

    A snapshot: the case's status now is all the row knows, so the period does not
    apply here, only the filters. Open means filed and not terminal (a decided case
    is open until its outcome letter closes it).
    """
    rows = _open_rows(scope, today)
    by_state: dict[str, int] = {}
    by_age = dict.fromkeys(AGE_BUCKETS, 0)
    by_state_and_age: dict[str, dict[str, int]] = {}
    for row in rows:  # one row per state
        by_state[row["status"]] = row["total"]
        by_state_and_age[row["status"]] = {label: row[label] for label in AGE_BUCKETS}
        for label in AGE_BUCKETS:
            by_age[label] += row[label]
    return {
        "total": sum(by_state.values()),
        "by_state": by_state,
        "by_age": by_age,
        "by_state_and_age": by_state_and_age,
    }


def _open_rows(scope: Scope, today: dt.date) -> list[dict[str, Any]]:
    """One row per open state: ``status``, ``total`` and a count per age bucket."""
    use_tally = tally.usable()
    buckets = {}
    for label, (fewest, most) in AGE_BUCKETS.items():
        # Age = today - local submission date, within [fewest, most]. The youngest bucket
        # has no lower bound on age, so a case stamped after ``today`` still counts as new.
        q = Q()
        if fewest > 0:
            newest = today - dt.timedelta(days=fewest)
            q &= Q(day__lte=newest) if use_tally else Q(submitted_at__lt=_day_start(newest + ONE_DAY))
        if most is not None:
            oldest = today - dt.timedelta(days=most)
            q &= Q(day__gte=oldest) if use_tally else Q(submitted_at__gte=_day_start(oldest))
        buckets[label] = Sum("n", filter=q) if use_tally else Count("pk", filter=q)
    if use_tally:
        rows = (
            _tally(scope, "open", period=False)
            .values("key")
            .annotate(total=Sum("n"), **buckets)
            .filter(total__gt=0)
            .order_by("key")
        )
        return [
            {"status": row["key"], "total": row["total"], **{label: row[label] or 0 for label in buckets}}
            for row in rows
        ]
    return list(
        _cases(scope)
        .exclude(status__in=[Status.DRAFT, *TERMINAL_STATES])
        .filter(submitted_at__isnull=False)
        .values("status")
        .annotate(total=Count("pk"), **buckets)
        .order_by("status")
    )


# --- reviewers ------------------------------------------------------------------


def reviewer_workload(*, scope: Scope) -> list[dict[str, Any]]:
    """Per reviewer: assignments open now, and reviews completed in the period.

    Open is a snapshot (invited, accepted or report submitted, today); completed
    counts assignments that ended as completed (the decision) on a day of the period.
    Reviewers with neither are left out.
    """
    rows = (
        Assignment.objects.filter(scope.case_filter("case__"))
        .values("reviewer_id", "reviewer__name")
        .annotate(
            open=Count("pk", filter=Q(status__in=OPEN_ASSIGNMENT_STATUSES)),
            completed=Count("pk", filter=Q(scope.during("ended_at"), status=AssignmentStatus.COMPLETED)),
        )
        .filter(Q(open__gt=0) | Q(completed__gt=0))
        .order_by("reviewer__name", "reviewer_id")
    )
    return [
        {
            "reviewer_id": row["reviewer_id"],
            "reviewer": row["reviewer__name"],
            "open": row["open"],
            "completed": row["completed"],
        }
        for row in rows
    ]


def fees(*, scope: Scope) -> list[dict[str, Any]]:
    """Per reviewer and currency: fees earned in the period (sum of fee lines) and how many lines."""
    rows = (
        FeeLine.objects.filter(
            scope.case_filter("assignment__case__"), earned_on__range=(scope.start, scope.end)
        )
        .values("contract__reviewer_id", "contract__reviewer__name", "currency")
        .annotate(amount=Sum("amount"), lines=Count("pk"))
        .order_by("contract__reviewer__name", "contract__reviewer_id", "currency")
    )
    return [
        {
            "reviewer_id": row["contract__reviewer_id"],
            "reviewer": row["contract__reviewer__name"],
            "currency": row["currency"],
            "amount": Decimal(row["amount"]).quantize(Decimal("0.01")),
            "lines": row["lines"],
        }
        for row in rows
    ]


# --- trends ---------------------------------------------------------------------


def trends(*, scope: Scope) -> list[dict[str, Any]]:
    """Per appraisal cycle, over the cases received in the period: how many, how many not
    receivable, offices that recur (at least two cases) and the receivability rules that
    failed most often.

    Failed rules are counted on every screened case, whether HR rejected it or
    accepted it with a written override: a rule that keeps failing is a recurring
    reason either way. They are read from ``reports.FailedRule`` (kept at screening),
    not from each case's stored result. Two queries: one count per cycle and office,
    one per cycle and failed rule.
    """
    rules = [rule.__name__ for rule in RECEIVABILITY_RULES]
    per_office, per_rule = _trend_rows(scope, rules)
    cycles: dict[int, dict[str, Any]] = {}
    for (number, office), (n, not_receivable) in per_office.items():  # one per cycle and office
        cycle = cycles.setdefault(number, {"cases": 0, "not_receivable": 0, "recurring_offices": []})
        cycle["cases"] += n
        cycle["not_receivable"] += not_receivable
        if n >= RECURRING_OFFICE_MIN:
            cycle["recurring_offices"].append({"office": office, "cases": n})
    failing: dict[int, dict[str, int]] = {}
    for (number, rule), n in per_rule.items():  # one per cycle and failed rule
        failing.setdefault(number, {})[rule] = n
    shown = []
    for number in sorted(cycles):
        cycle = cycles[number]
        failed = failing.get(number, {})
        shown.append(
            {
                "cycle": number,
                "cases": cycle["cases"],
                "not_receivable": cycle["not_receivable"],
                # Most cases first; ties by name.
                "recurring_offices": sorted(
                    cycle["recurring_offices"], key=lambda item: (-item["cases"], item["office"])
                ),
                # Most frequent first; ties in the rulebook's order (``sorted`` is stable).
                "failed_rules": sorted(
                    [{"rule": rule, "cases": failed[rule]} for rule in rules if failed.get(rule)],
                    key=lambda item: -item["cases"],
                ),
            }
        )
    return shown


def _trend_rows(
    scope: Scope, rules: list[str]
) -> tuple[dict[tuple[int, str], tuple[int, int]], dict[tuple[int, str], int]]:
    """Over the cases received in the period: (cases, not receivable) per cycle and office, and
    cases per cycle and failed rule."""
    if tally.usable():
        counts: dict[tuple[int, str], list[int]] = {}
        rows = _tally(scope, ("received", "nr"), exact=True).values_list("cycle", "office", "measure")
        for cycle, office, measure, n in rows.annotate(n=Sum("n")).order_by("cycle", "office"):
            counts.setdefault((cycle, office), [0, 0])[measure == "nr"] += n
        per_office = {place: (n, refused) for place, (n, refused) in counts.items() if n}
        failed = _tally(scope, "rule", exact=True).filter(key__in=rules)
        per_rule = {
            (cycle, rule): n
            for cycle, rule, n in failed.values_list("cycle", "key").annotate(n=Sum("n"))
            if n
        }
        return per_office, per_rule
    offices = (
        _received_qs(scope)
        .values_list("appraisal_cycle", "office")
        .annotate(n=Count("pk"), not_receivable=Count("pk", filter=Q(status=Status.NOT_RECEIVABLE)))
        .order_by("appraisal_cycle", "office")
    )
    failed_rules = (
        FailedRule.objects.filter(
            scope.case_filter("case__"), scope.during("case__submitted_at"), rule__in=rules
        )
        .values_list("case__appraisal_cycle", "rule")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return (
        {(cycle, office): (n, refused) for cycle, office, n, refused in offices},
        {(cycle, rule): n for cycle, rule, n in failed_rules},
    )


# --- all of it ------------------------------------------------------------------


def summary(*, scope: Scope, today: dt.date) -> dict[str, Any]:
    """Every counting figure of ``scope``, JSON-serialisable (ISO dates, amounts as strings)."""
    return {
        "scope": scope.as_dict(),
        "today": today.isoformat(),
        "received": received(scope=scope),
        "receivability": receivability(scope=scope),
        "withdrawn": withdrawn(scope=scope),
        "outcomes": outcomes(scope=scope),
        "open_cases": open_cases(scope=scope, today=today),
        "reviewer_workload": reviewer_workload(scope=scope),
        "fees": [{**line, "amount": f"{line['amount']:.2f}"} for line in fees(scope=scope)],
        "trends": trends(scope=scope),
    }
