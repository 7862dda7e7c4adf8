"""Bulk data for the bench: people and cases written straight to the tables.

Cases are built with ``bulk_create`` (no events, no history): the list only reads
case rows, and the transitions measured by the bench write their own. Each case
is consistent with its status (submitted, screened, reviewed, decided, closed)
so that rows are as wide as real ones.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from rebuttal import permissions
from rebuttal.models import TERMINAL_STATES, ContractType, Language, RebuttalCase, Recommendation, Status
from rebuttal.selectors import policy_current

SEED = 20_251_125
REQUESTERS = 500
REVIEWERS = 20
BATCH_SIZE = 1_000

# A plausible mix: most cases are closed or in review, few are drafts.
STATUS_WEIGHTS: dict[str, int] = {
    Status.DRAFT: 3,
    Status.SUBMITTED: 4,
    Status.SCREENING: 4,
    Status.NOT_RECEIVABLE: 8,
    Status.AWAITING_ASSIGNMENT: 5,
    Status.REVIEWER_INVITED: 3,
    Status.UNDER_REVIEW: 10,
    Status.RECOMMENDATION_SUBMITTED: 3,
    Status.AWAITING_ENDORSEMENT: 3,
    Status.AWAITING_DECISION: 3,
    Status.DECIDED: 2,
    Status.CLOSED: 45,
    Status.WITHDRAWN: 7,
}
NOT_SCREENED = frozenset({Status.DRAFT, Status.SUBMITTED})
WITH_REVIEWER = frozenset(
    {
        Status.REVIEWER_INVITED,
        Status.UNDER_REVIEW,
        Status.RECOMMENDATION_SUBMITTED,
        Status.AWAITING_ENDORSEMENT,
        Status.AWAITING_DECISION,
        Status.DECIDED,
        Status.CLOSED,
    }
)
WITH_RECOMMENDATION = WITH_REVIEWER - {Status.REVIEWER_INVITED, Status.UNDER_REVIEW}
WITH_DECISION = frozenset({Status.DECIDED, Status.CLOSED})
OFFICES = [
    ("Geneva Office", "Europe"),
    ("Vienna Office", "Europe"),
    ("Nairobi Office", "Africa"),
    ("Addis Ababa Office", "Africa"),
    ("Bangkok Office", "Asia and the Pacific"),
    ("Santiago Office", "Latin America and the Caribbean"),
    ("Beirut Office", "Western Asia"),
    ("New York Headquarters", "North America"),
]
SENTENCE = (
    "The rating does not reflect the objectives agreed at the start of the cycle, "
    "which were met and documented in the mid-point review. "
)


@dataclass(frozen=True)
class People:
    """The accounts the bench acts as: an HR specialist (with an API token) and the others."""

    hr: Any
    hr_token: str
    requester_ids: list[int]
    reviewer_ids: list[int]


def create_people() -> People:
    """An HR specialist, reviewers and requesters (unusable passwords: nobody logs in)."""
    user_model = get_user_model()
    hr = user_model.objects.create_user(username="bench-hr", email="bench-hr@example.org")
    hr.groups.add(Group.objects.get_or_create(name=permissions.HR_SPECIALIST)[0])
    reviewers = bulk_users("bench-reviewer", REVIEWERS)
    Group.objects.get_or_create(name=permissions.REVIEWER)[0].user_set.add(*reviewers)
    requesters = bulk_users("bench-requester", REQUESTERS)
    return People(
        hr=hr,
        hr_token=Token.objects.create(user=hr).key,
        requester_ids=requesters,
        reviewer_ids=reviewers,
    )


def bulk_users(prefix: str, count: int, *, start: int = 0) -> list[int]:
    """Users ``{prefix}-{n:04d}`` for n from ``start``, with unusable passwords; their ids, in order."""
    user_model = get_user_model()
    users = [
        user_model(
            username=f"{prefix}-{n:04d}",
            email=f"{prefix}-{n:04d}@example.org",
            last_name=f"Person{n:04d}",
            password=make_password(None),
        )
        for n in range(start, start + count)
    ]
    user_model.objects.bulk_create(users, batch_size=BATCH_SIZE)
    by_username = dict(
        user_model.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk")
    )
    return [by_username[user.username] for user in users]


def create_cases(
    people: People,
    count: int,
    *,
    status: str | None = None,
    overrides: Sequence[dict[str, Any]] | None = None,
) -> list[int]:
    """``count`` cases with unique references; a realistic mix of statuses unless ``status`` is given.

    ``overrides``, if given, holds one dict of field values per case (e.g. its
    requester), applied over the generated ones. Returns their ids, in creation order.
    """
    if overrides is not None and len(overrides) != count:
        raise ValueError(f"{len(overrides)} overrides for {count} cases")
    start = RebuttalCase.objects.count()
    rng = random.Random(SEED + start)
    policy_id = policy_current().pk
    now = timezone.now()
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    cases = [
        _build_case(
            rng,
            number=start + n + 1,
            status=status or rng.choices(statuses, weights)[0],
            people=people,
            policy_id=policy_id,
            now=now,
        )
        for n in range(count)
    ]
    for case, fields in zip(cases, overrides or (), strict=False):
        for name, value in fields.items():
            setattr(case, name, value)
    RebuttalCase.objects.bulk_create(cases, batch_size=BATCH_SIZE)
    references = [case.reference for case in cases]
    by_reference = dict(RebuttalCase.objects.filter(reference__in=references).values_list("reference", "pk"))
    return [by_reference[reference] for reference in references]


def _build_case(
    rng: random.Random, *, number: int, status: str, people: People, policy_id: int, now: dt.datetime
) -> RebuttalCase:
    created_at = now - dt.timedelta(days=rng.uniform(0, 3 * 365))
    office, region = rng.choice(OFFICES)
    contract_type = rng.choice(ContractType.values)
    fields: dict[str, Any] = {
        "reference": f"RB-{created_at.year}-{number:05d}",
        "requester_id": rng.choice(people.requester_ids),
        "status": status,
        "version": 1,
        "appraisal_cycle": created_at.year - 1,
        "original_rating": rng.choice(["partially_meets", "does_not_meet"]),
        "appraisal_signed_on": (created_at - dt.timedelta(days=rng.randint(1, 20))).date(),
        "first_reporting_officer_email": f"fro{rng.randint(1, 300)}@example.org",
        "second_reporting_officer_email": f"sro{rng.randint(1, 300)}@example.org",
        "office": office,
        "region": region,
        "contract_type": contract_type,
        "appointment_months": rng.choice([12, 24, 36]) if contract_type == ContractType.FIXED_TERM else None,
        "language": rng.choice(Language.values),
        "statement": SENTENCE * rng.randint(2, 12),
        "created_at": created_at,
    }
    if status != Status.DRAFT:
        fields.update(_progress_fields(rng, status, created_at, people=people, policy_id=policy_id, now=now))
    return RebuttalCase(**fields)


def _progress_fields(
    rng: random.Random,
    status: str,
    created_at: dt.datetime,
    *,
    people: People,
    policy_id: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """The fields a case has gathered by the time it reached ``status``."""
    submitted_at = min(created_at + dt.timedelta(hours=rng.uniform(1, 72)), now)
    fields: dict[str, Any] = {"submitted_at": submitted_at}
    if status in TERMINAL_STATES:
        fields["closed_at"] = min(submitted_at + dt.timedelta(days=rng.uniform(5, 90)), now)
    else:
        stage_started_at = min(submitted_at + dt.timedelta(days=rng.uniform(0, 30)), now)
        fields["stage_started_at"] = stage_started_at
        fields["stage_due_on"] = (stage_started_at + dt.timedelta(days=rng.choice([5, 10, 30]))).date()
    if status not in NOT_SCREENED:
        fields["policy_id"] = policy_id
        fields["receivability_result"] = [{"rule": "filing_window", "passed": True}]
    if status == Status.NOT_RECEIVABLE:
        fields["not_receivable_reason"] = "Filed after the filing window closed."
    if status == Status.WITHDRAWN:
        fields["withdrawn_from"] = Status.UNDER_REVIEW
        fields["withdrawal_reason"] = "Resolved informally."
    if status in WITH_REVIEWER:
        fields["reviewer_user_id"] = rng.choice(people.reviewer_ids)
    if status in WITH_RECOMMENDATION:
        fields["findings"] = SENTENCE * 3
        fields["recommendation"] = Recommendation.REVISE
        fields["recommended_rating"] = "successfully_meets"
        fields["recommendation_reasons"] = SENTENCE
    if status in WITH_DECISION:
        fields["final_rating"] = "successfully_meets"
        fields["follows_recommendation"] = True
        fields["decision_reasons"] = SENTENCE
        fields["decided_at"] = fields.get("closed_at", now)
    return fields


def analyze() -> None:
    """Refresh the planner's statistics, as a database in service would have them."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
