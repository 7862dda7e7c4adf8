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
from reviewers.models import OPEN_ASSIGNMENT_STATUSES, Assignment, AssignmentStatus, FeeLine

# Age of an open case since submission, in days: label -> (fewest, most); None: no upper bound.
AGE_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0-30": (0, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "over_90": (91, None),
}

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


# --- intake ---------------------------------------------------------------------


def received(*, scope: Scope) -> int:
    """Cases submitted in the period (drafts are never received)."""
    return _received_qs(scope).count()


def receivability(*, scope: Scope) -> dict[str, Any]:
    """Cases that reached a receivability decision in the period, and the share found receivable.

    Counted from the audit trail's transition events, so the date is the day HR
    decided, whenever the case was filed; a case is screened once, so each has one such event.
    """
    counts = CaseEvent.objects.filter(
        scope.case_filter("case__"),
        scope.during("at"),
        kind=EventKind.TRANSITION,
        transition__in=[ACCEPT, REJECT],
    ).aggregate(
        receivable=Count("pk", filter=Q(transition=ACCEPT)),
        not_receivable=Count("pk", filter=Q(transition=REJECT)),
    )
    screened = counts["receivable"] + counts["not_receivable"]
    return {
        "screened": screened,
        "receivable": counts["receivable"],
        "not_receivable": counts["not_receivable"],
        "rate": round(counts["receivable"] / screened, 4) if screened else None,
    }


def withdrawn(*, scope: Scope) -> int:
    """Cases withdrawn in the period (the day the requester withdrew)."""
    return _cases(scope).filter(scope.during("closed_at"), status=Status.WITHDRAWN).count()


# --- outcomes -------------------------------------------------------------------


def _position(field: str, keys: list[str]) -> Case:
    """The rating in ``field`` as its position on the scale (0 = highest); NULL when off the scale."""
    return Case(
        *[When(**{field: key}, then=Value(index)) for index, key in enumerate(keys)],
        default=Value(None),
        output_field=IntegerField(),
    )


def outcomes(*, scope: Scope) -> dict[str, Any]:
    """Cases decided in the period: rating maintained, or revised and by how many steps.

    Steps are positions on the policy's rating scale (policy data, highest first):
    ``position(original) - position(final)``, so a revision upwards is positive. A
    rating no longer on the scale gives no step count; it is reported as ``"off_scale"``.
    """
    keys = policy_current().rating_keys
    rows = (
        _cases(scope)
        .filter(scope.during("decided_at"))
        .annotate(
            steps=_position("original_rating", keys) - _position("final_rating", keys),
            same=ExpressionWrapper(Q(final_rating=F("original_rating")), output_field=BooleanField()),
        )
        .values("steps", "same")
        .annotate(n=Count("pk"))
        .order_by("steps")
    )
    maintained = revised = 0
    by_steps: dict[str, int] = {}
    for row in rows:  # one row per distinct step count, never per case
        if row["same"]:
            maintained += row["n"]
            continue
        revised += row["n"]
        key = "off_scale" if row["steps"] is None else str(row["steps"])
        by_steps[key] = by_steps.get(key, 0) + row["n"]
    return {
        "decided": maintained + revised,
        "maintained": maintained,
        "revised": revised,
        "revised_by_steps": by_steps,
    }


# --- open cases -----------------------------------------------------------------


def open_cases(*, scope: Scope, today: dt.date) -> dict[str, Any]:
    """Open cases on ``today`` by state and by age since submission (days, local dates).

    A snapshot: the case's status now is all the row knows, so the period does not
    apply here, only the filters. Open means filed and not terminal (a decided case
    is open until its outcome letter closes it).
    """
    buckets = {}
    for label, (fewest, most) in AGE_BUCKETS.items():
        # Age = today - local submission date, within [fewest, most]. The youngest bucket
        # has no lower bound on age, so a case stamped after ``today`` still counts as new.
        q = Q()
        if fewest > 0:
            q &= Q(submitted_at__lt=_day_start(today - dt.timedelta(days=fewest - 1)))
        if most is not None:
            q &= Q(submitted_at__gte=_day_start(today - dt.timedelta(days=most)))
        buckets[label] = Count("pk", filter=q)
    rows = (
        _cases(scope)
        .exclude(status__in=[Status.DRAFT, *TERMINAL_STATES])
        .filter(submitted_at__isnull=False)
        .values("status")
        .annotate(total=Count("pk"), **buckets)
        .order_by("status")
    )
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


def _failed(rule: str, positions: int) -> Q:
    """The screening result holds ``rule`` as failed, at any position of the list.

    JSON key transforms on a list index (``receivability_result__0__rule``) compile
    on SQLite and PostgreSQL alike, unlike unnesting the list; the list has one
    entry per rule of ``rebuttal.receivability.RULES``, so ``positions`` bounds it.
    """
    q = Q()
    for index in range(positions):
        q |= Q(
            **{
                f"receivability_result__{index}__rule": rule,
                f"receivability_result__{index}__passed": False,
            }
        )
    return q


def trends(*, scope: Scope) -> list[dict[str, Any]]:
    """Per appraisal cycle, over the cases received in the period: how many, how many not
    receivable, offices that recur (at least two cases) and the receivability rules that
    failed most often.

    Failed rules are counted on every screened case, whether HR rejected it or
    accepted it with a written override: a rule that keeps failing is a recurring
    reason either way.
    """
    received_qs = _received_qs(scope)
    per_cycle = (
        received_qs.values("appraisal_cycle")
        .annotate(
            cases=Count("pk"),
            not_receivable=Count("pk", filter=Q(status=Status.NOT_RECEIVABLE)),
        )
        .order_by("appraisal_cycle")
    )
    offices = (
        received_qs.values("appraisal_cycle", "office")
        .annotate(n=Count("pk"))
        .filter(n__gte=RECURRING_OFFICE_MIN)
        .order_by("appraisal_cycle", "-n", "office")
    )
    rules = [rule.__name__ for rule in RECEIVABILITY_RULES]
    positions = len(rules)
    per_rule = {f"rule_{i}": Count("pk", filter=_failed(rule, positions)) for i, rule in enumerate(rules)}
    failed = (
        received_qs.filter(receivability_result__isnull=False)
        .values("appraisal_cycle")
        .annotate(**per_rule)
        .order_by("appraisal_cycle")
    )
    recurring: dict[int, list[dict[str, Any]]] = {}
    for row in offices:
        recurring.setdefault(row["appraisal_cycle"], []).append({"office": row["office"], "cases": row["n"]})
    failing: dict[int, list[dict[str, Any]]] = {}
    for row in failed:
        counted = [
            {"rule": rule, "cases": row[f"rule_{index}"]}
            for index, rule in enumerate(rules)
            if row[f"rule_{index}"]
        ]
        # Most frequent first; ties in the rulebook's order (``sorted`` is stable).
        failing[row["appraisal_cycle"]] = sorted(counted, key=lambda item: -item["cases"])
    return [
        {
            "cycle": row["appraisal_cycle"],
            "cases": row["cases"],
            "not_receivable": row["not_receivable"],
            "recurring_offices": recurring.get(row["appraisal_cycle"], []),
            "failed_rules": failing.get(row["appraisal_cycle"], []),
        }
        for row in per_cycle
    ]


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
