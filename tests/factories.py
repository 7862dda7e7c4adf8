"""Factories and small builders for tests (and the benchmarks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from rebuttal import services
from rebuttal.models import Policy, RebuttalCase
from rebuttal.policy_defaults import DEFAULT_POLICY


def ensure_default_policy() -> Policy:
    """Policy v1 (a flushed transactional-test database has lost the migration's row)."""
    policy = Policy.objects.order_by("-version").first()
    if policy is None:
        policy = Policy.objects.create(version=1, note="Rulebook defaults", **DEFAULT_POLICY)
    return policy


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-only")


def reviewer_profile(user: Any, **overrides: Any) -> Any:
    """``user``'s place in the reviewer pool, with a contract in force for a year (made once)."""
    from reviewers.models import RetainerContract, Reviewer

    reviewer = Reviewer.objects.filter(user=user).first()
    if reviewer is None:
        fields = {
            "name": user.get_full_name() or user.username,
            "email": user.email,
            "languages": ["en", "fr", "es"],
            "regions": ["Europe", "Africa"],
            "affiliation": "Independent consultant",
        }
        fields.update(overrides)
        reviewer = Reviewer.objects.create(user=user, **fields)
        today = timezone.localdate()
        RetainerContract.objects.create(
            reviewer=reviewer,
            number=f"RC-{reviewer.pk:04d}",
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=365),
            max_concurrent_cases=1000,
            fee_per_review="1500.00",
            currency="USD",
        )
    return reviewer


def intake(**overrides: Any) -> dict[str, Any]:
    """A receivable request's intake fields (signed yesterday, lowest-but-one rating)."""
    data: dict[str, Any] = {
        "appraisal_cycle": 2026,
        "original_rating": "partially_meets",
        "appraisal_signed_on": timezone.localdate() - dt.timedelta(days=1),
        "first_reporting_officer_email": "fro@example.org",
        "second_reporting_officer_email": "sro@example.org",
        "office": "Geneva Office",
        "region": "Europe",
        "contract_type": "fixed_term",
        "appointment_months": 24,
        "language": "en",
        "statement": "My objectives were met; the rating ignores the documented results.",
    }
    data.update(overrides)
    return data


def api_intake(**overrides: Any) -> dict[str, Any]:
    """The same request as the API takes it (``overall_rating``, ISO dates)."""
    data = intake(**overrides)
    data["overall_rating"] = data.pop("original_rating")
    data["appraisal_signed_on"] = data["appraisal_signed_on"].isoformat()
    return data


def make_case(requester: Any, **overrides: Any) -> RebuttalCase:
    return services.case_create(requester=requester, data=intake(**overrides))


def advance(
    case: RebuttalCase,
    *,
    to: str,
    requester: Any,
    hr: Any = None,
    reviewer: Any = None,
    endorser: Any = None,
    decision_maker: Any = None,
) -> RebuttalCase:
    """Drive ``case`` through the services along the main path until it is in ``to``."""
    steps = {
        "draft": None,
        "submitted": ("submit", requester, {}),
        "screening": ("start_screening", hr, {}),
        "awaiting_assignment": ("accept_receivable", hr, {"override_justification": "Accepted in test."}),
        "reviewer_invited": ("invite_reviewer", hr, {"reviewer": reviewer and reviewer_profile(reviewer)}),
        "under_review": ("reviewer_accept", reviewer, {"no_conflict_declaration": True}),
        "recommendation_submitted": (
            "submit_recommendation",
            reviewer,
            {
                "findings": "Evidence thin.",
                "recommendation": "revise",
                "recommended_rating": "successfully_meets",
                "reasons": "Objectives met.",
            },
        ),
        "awaiting_endorsement": ("forward_for_endorsement", hr, {}),
        "awaiting_decision": ("endorse", endorser, {"comment": "Agreed."}),
        "decided": (
            "decide",
            decision_maker,
            {
                "final_rating": "successfully_meets",
                "follows_recommendation": True,
                "reasons": "The review is convincing.",
            },
        ),
        "closed": ("issue_outcome", None, {}),
    }
    side = {
        "not_receivable": ("screening", "reject_not_receivable", hr, {"reason": "Out of time."}),
        "withdrawn": ("submitted", "withdraw", requester, {"reason": "Resolved informally."}),
    }
    from workflow.services import case_act

    order = list(steps)
    if to in side:
        before, name, actor, data = side[to]
        case = advance(case, to=before, requester=requester, hr=hr, reviewer=reviewer)
        return case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)
    for state in order[order.index(case.status) + 1 : order.index(to) + 1]:
        name, actor, data = steps[state]
        if name == "issue_outcome":
            # As the letter task does: the case closes when its outcome letter is archived.
            from workflow.letters import outcome_issue

            outcome_issue(case.pk)
            case.refresh_from_db()
            continue
        case = case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)
    return case


def archive_outcome_letter(case: RebuttalCase) -> Any:
    """Store a decided case's outcome letter without closing the case.

    For tests of ``issue_outcome`` itself, which is allowed once the letter is archived
    (``workflow.letters.letter_issue`` normally stores and closes in one transaction).
    """
    from reports.models import LetterKind, LetterRequest
    from reports.services import letter_render, letter_store

    request = LetterRequest.objects.get(case=case, kind=LetterKind.OUTCOME, supersedes__isnull=True)
    letter, _ = letter_store(request_id=request.pk, rendered=letter_render(request))
    case.refresh_from_db()
    return letter
