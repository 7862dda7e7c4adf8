"""Reads of the reviewer pool: eligibility facts, ranked suggestions, contracts, fees."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from rebuttal.clocks import add_days
from rebuttal.models import Policy, RebuttalCase
from rebuttal.selectors import policy_current
from reviewers.eligibility import PoolFacts, Verdict, judge
from reviewers.models import (
    EXCLUDING_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Conflict,
    FeeLine,
    RetainerContract,
    Reviewer,
)

# A reviewer is associated with a requester's case if they hold it now (invited,
# accepted, reported) or completed it, or if they had accepted it before it was
# released or withdrawn. A declined or expired invitation, or one withdrawn
# before it was answered, leaves no association.
HELD_STATUSES = (
    AssignmentStatus.INVITED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.REPORTED,
    AssignmentStatus.COMPLETED,
)
ASSOCIATED = Q(status__in=HELD_STATUSES) | Q(declaration_signed_at__isnull=False)


def review_end(policy: Policy, start: dt.date) -> dt.date:
    """The review's expected end if assigned on ``start``: start plus the review target."""
    target = policy.stage_targets["review"]
    return add_days(start, int(target["days"]), target["unit"])


def pool_facts(*, case: RebuttalCase, reviewer_ids: list[int] | None = None) -> PoolFacts:
    """Everything the eligibility checks need, in three queries whatever the pool size."""
    today = timezone.localdate()
    facts = PoolFacts(
        case=case,
        requester_email=case.requester.email.strip().lower(),
        today=today,
        review_end=review_end(policy_current(), today),
    )
    open_qs = Assignment.objects.filter(status__in=OPEN_ASSIGNMENT_STATUSES)
    if reviewer_ids is not None:
        open_qs = open_qs.filter(reviewer_id__in=reviewer_ids)
    facts.open_cases = dict(
        open_qs.values("reviewer_id").annotate(n=Count("id")).values_list("reviewer_id", "n")
    )
    facts.earlier_reviewers = set(
        Assignment.objects.filter(ASSOCIATED, case__requester_id=case.requester_id)
        .exclude(case_id=case.pk)
        .values_list("reviewer_id", flat=True)
    )
    facts.excluded_reviewers = set(
        Assignment.objects.filter(case_id=case.pk, status__in=EXCLUDING_STATUSES).values_list(
            "reviewer_id", flat=True
        )
    )
    return facts


def _pool() -> QuerySet[Reviewer]:
    return Reviewer.objects.annotate(last_assigned_at=Max("assignments__invited_at")).prefetch_related(
        Prefetch("contracts", queryset=RetainerContract.objects.order_by("id"), to_attr="contract_list"),
        Prefetch("conflicts", queryset=Conflict.objects.order_by("id"), to_attr="conflict_list"),
    )


def _rank_key(verdict: Verdict) -> tuple[Any, ...]:
    # Fewest open cases first, then longest since the last assignment (never
    # assigned first), then by name and id so that the order is deterministic.
    last = verdict.reviewer.last_assigned_at
    return (
        verdict.open_cases,
        last is not None,
        last or dt.datetime.min.replace(tzinfo=dt.UTC),
        verdict.reviewer.name.lower(),
        verdict.reviewer.pk,
    )


def reviewer_suggestions(*, case: RebuttalCase) -> tuple[list[Verdict], list[Verdict]]:
    """(eligible reviewers ranked best first, ineligible reviewers with why)."""
    facts = pool_facts(case=case)
    verdicts = [judge(reviewer, facts) for reviewer in _pool()]
    eligible = sorted((v for v in verdicts if v.eligible), key=_rank_key)
    ineligible = sorted(
        (v for v in verdicts if not v.eligible), key=lambda v: (v.reviewer.name.lower(), v.reviewer.pk)
    )
    return eligible, ineligible


def reviewer_verdict(*, case: RebuttalCase, reviewer: Reviewer) -> Verdict:
    """The eligibility of one reviewer for one case (under the caller's locks)."""
    reviewer = _pool().get(pk=reviewer.pk)
    return judge(reviewer, pool_facts(case=case, reviewer_ids=[reviewer.pk]))


def reviewer_list() -> QuerySet[Reviewer]:
    return Reviewer.objects.annotate(
        open_case_count=Count("assignments", filter=Q(assignments__status__in=OPEN_ASSIGNMENT_STATUSES))
    ).order_by("name", "id")


def assignment_open_for_case(*, case_id: int) -> Assignment | None:
    return (
        Assignment.objects.select_related("reviewer", "contract")
        .filter(case_id=case_id, status__in=OPEN_ASSIGNMENT_STATUSES)
        .first()
    )


def contracts_expiring(*, within_days: int = 30, today: dt.date | None = None) -> QuerySet[RetainerContract]:
    """Active contracts ending within ``within_days`` that still carry open cases."""
    today = today or timezone.localdate()
    return (
        RetainerContract.objects.filter(
            status="active", ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=within_days)
        )
        .annotate(
            open_case_count=Count("assignments", filter=Q(assignments__status__in=OPEN_ASSIGNMENT_STATUSES))
        )
        .filter(open_case_count__gt=0)
        .select_related("reviewer")
        .order_by("ends_on", "number")
    )


def fee_certification(*, month: dt.date) -> list[dict[str, Any]]:
    """Per reviewer, the fee lines earned in ``month`` with totals per currency.

    Totals are summed in the database; lines are listed for the certifying officer.
    """
    first = month.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    lines = (
        FeeLine.objects.filter(earned_on__gte=first, earned_on__lt=after)
        .select_related("contract__reviewer", "assignment__case")
        .order_by("contract__reviewer__name", "earned_on", "id")
    )
    totals = (
        FeeLine.objects.filter(earned_on__gte=first, earned_on__lt=after)
        .values("contract__reviewer_id", "currency")
        .annotate(total=Sum("amount"), reviews=Count("id"))
        .order_by()
    )
    by_reviewer: dict[int, dict[str, Any]] = {}
    for line in lines:
        reviewer = line.contract.reviewer
        entry = by_reviewer.setdefault(
            reviewer.pk,
            {"reviewer_id": reviewer.pk, "reviewer": reviewer.name, "lines": [], "totals": []},
        )
        entry["lines"].append(
            {
                "case": line.assignment.case.reference,
                "contract": line.contract.number,
                "earned_on": line.earned_on,
                "amount": line.amount,
                "currency": line.currency,
            }
        )
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in totals:
        grouped[row["contract__reviewer_id"]].append(
            {"currency": row["currency"], "total": row["total"] or Decimal("0"), "reviews": row["reviews"]}
        )
    for reviewer_id, entry in by_reviewer.items():
        entry["totals"] = sorted(grouped[reviewer_id], key=lambda t: t["currency"])
    return list(by_reviewer.values())


def reviewer_for_user(user: Any) -> Reviewer | None:
    if user is None or not user.is_authenticated:
        return None
    return Reviewer.objects.filter(user_id=user.pk).first()
