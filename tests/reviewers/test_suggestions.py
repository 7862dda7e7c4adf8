"""Ranking is deterministic and explained; the suggestions endpoint is HR's alone and
costs the same number of queries whatever the size of the pool.

Eligible reviewers are ranked by fewest open cases, then longest since their
last assignment (never assigned first), then name (whatever its case) and id;
each carries the checks it passed. Ineligible ones come with the rules they fail.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rebuttal.models import RebuttalCase
from reviewers import selectors
from reviewers.eligibility import RULES
from reviewers.models import Assignment, AssignmentStatus, Conflict, RetainerContract, Reviewer
from tests.factories import UserFactory, advance, make_case, reviewer_profile

RULE_NAMES = [rule.__name__ for rule in RULES]
# The token with its user, the user's groups, the visible case with its requester
# and policy, the policy in force, the open-case counts, the reviewers of the
# requester's other cases, the reviewers excluded from this case, the pool with
# its last assignment, and the pool's contracts and conflicts (two prefetches).
SUGGESTIONS_QUERIES = 10

_numbers = itertools.count(1)


def url(case: RebuttalCase) -> str:
    return f"/api/v1/cases/{case.pk}/reviewer-suggestions/"


def pool_member(name: str, *, capacity: int = 5, **overrides: Any) -> Reviewer:
    """An eligible reviewer for an English case of the Geneva Office."""
    n = next(_numbers)
    user = UserFactory(username=f"pool{n}")
    fields: dict[str, Any] = {"name": name, "email": user.email, "languages": ["en"]}
    fields.update(overrides)
    reviewer = Reviewer.objects.create(user=user, **fields)
    today = timezone.localdate()
    RetainerContract.objects.create(
        reviewer=reviewer,
        number=f"RC-S{n:04d}",
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=365),
        max_concurrent_cases=capacity,
        fee_per_review="1000.00",
    )
    return reviewer


def assign(reviewer: Reviewer, status: str, *, days_ago: int, case: RebuttalCase | None = None) -> Assignment:
    """An assignment ``days_ago`` days old, on a draft of a requester of its own by default."""
    case = case or make_case(UserFactory(username=f"req{next(_numbers)}"))
    return Assignment.objects.create(
        case=case,
        reviewer=reviewer,
        contract=reviewer.contracts.get(),
        status=status,
        invited_at=timezone.now() - dt.timedelta(days=days_ago),
        expected_end_on=timezone.localdate(),
    )


def token_client(user: Any) -> APIClient:
    """A client that authenticates with a token, so every request loads its user afresh."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def case(requester: Any, hr: Any) -> RebuttalCase:
    return advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)


@pytest.fixture
def ranked_pool(case: RebuttalCase) -> dict[str, Reviewer]:
    """Seven eligible reviewers whose rank each rule decides, and two ineligible ones."""
    pool = {
        "yan": pool_member("Yan"),  # two open cases
        "zed": pool_member("Zed"),  # one open case, assigned long ago
        "abe": pool_member("Abe"),  # none open, last assigned 5 days ago
        "bea": pool_member("Bea"),  # none open, last assigned 60 days ago
        "dana": pool_member("Dana"),  # never assigned
        "carl": pool_member("carl"),  # never assigned; ties with Carl on name, lower id
        "Carl": pool_member("Carl"),  # never assigned; ties with carl on name, higher id
        "ivo": pool_member("Ivo", active=False),
        "lou": pool_member("Lou", languages=["fr"]),
    }
    assign(pool["yan"], AssignmentStatus.ACCEPTED, days_ago=200)
    assign(pool["yan"], AssignmentStatus.INVITED, days_ago=1)
    assign(pool["zed"], AssignmentStatus.REPORTED, days_ago=100)
    assign(pool["abe"], AssignmentStatus.DECLINED, days_ago=5)
    assign(pool["abe"], AssignmentStatus.COMPLETED, days_ago=90)
    assign(pool["bea"], AssignmentStatus.COMPLETED, days_ago=60)
    return pool


RANKED = ["carl", "Carl", "dana", "bea", "abe", "zed", "yan"]


# --- ranking -------------------------------------------------------------------------


def test_ranking_is_fewest_open_cases_then_longest_idle_then_name_then_id(case, ranked_pool):
    eligible, ineligible = selectors.reviewer_suggestions(case=case)

    assert [v.reviewer.pk for v in eligible] == [ranked_pool[key].pk for key in RANKED]
    assert [v.open_cases for v in eligible] == [0, 0, 0, 0, 0, 1, 2]
    assert [v.reviewer.name for v in ineligible] == ["Ivo", "Lou"]


def test_ranking_does_not_depend_on_the_order_reviewers_come_from_the_database(
    case, ranked_pool, monkeypatch
):
    def ids(sides: tuple[list[Any], list[Any]]) -> list[list[int]]:
        return [[verdict.reviewer.pk for verdict in side] for side in sides]

    as_stored = ids(selectors.reviewer_suggestions(case=case))
    pool = selectors._pool
    monkeypatch.setattr(selectors, "_pool", lambda: pool().order_by("-id"))

    assert ids(selectors.reviewer_suggestions(case=case)) == as_stored


def test_a_name_tie_is_broken_by_id_not_by_letter_case(case):
    created_in_order = [pool_member("ruth"), pool_member("Ruth"), pool_member("RUTH")]

    eligible, _ = selectors.reviewer_suggestions(case=case)

    assert [v.reviewer.pk for v in eligible] == [r.pk for r in created_in_order]


def test_an_ineligible_reviewer_is_never_suggested_however_idle(case):
    busy = pool_member("Busy")
    assign(busy, AssignmentStatus.INVITED, days_ago=1)
    idle = pool_member("Idle", affiliation="Geneva Office")

    eligible, ineligible = selectors.reviewer_suggestions(case=case)

    assert [v.reviewer for v in eligible] == [busy]
    assert [v.reviewer for v in ineligible] == [idle]


# --- the endpoint --------------------------------------------------------------------


def test_hr_gets_the_ranked_eligible_reviewers_and_the_ineligible_with_why(api_as, hr, case, ranked_pool):
    response = api_as(hr).get(url(case))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ranking", "eligible", "ineligible"}
    assert body["ranking"].startswith("Eligible reviewers, fewest open cases first")
    eligible = body["eligible"]
    assert [entry["reviewer"] for entry in eligible] == [ranked_pool[key].pk for key in RANKED]
    assert [entry["rank"] for entry in eligible] == list(range(1, len(RANKED) + 1))
    for entry in eligible:
        assert entry["eligible"] is True
        assert entry["contract"] is not None
        assert [reason["rule"] for reason in entry["reasons"]] == RULE_NAMES
        assert all(reason["passed"] and reason["detail"] for reason in entry["reasons"])
    assert [entry["last_assigned_at"] is None for entry in eligible] == [True, True, True] + [False] * 4
    assert [entry["open_cases"] for entry in eligible] == [0, 0, 0, 0, 0, 1, 2]
    failed = {
        entry["name"]: [reason["rule"] for reason in entry["reasons"] if not reason["passed"]]
        for entry in body["ineligible"]
    }
    assert failed == {"Ivo": ["active_reviewer"], "Lou": ["reads_language"]}
    assert all(entry["rank"] is None and entry["eligible"] is False for entry in body["ineligible"])


def test_each_ineligible_entry_says_why_in_words(api_as, hr, case):
    pool_member("Nadia", affiliation="geneva office")
    reviewer = pool_member("Pia")
    Conflict.objects.create(reviewer=reviewer, requester_email="ALICE@example.org")

    body = api_as(hr).get(url(case)).json()

    why = {
        entry["name"]: [(r["rule"], r["detail"]) for r in entry["reasons"] if not r["passed"]]
        for entry in body["ineligible"]
    }
    assert why == {
        "Nadia": [("not_same_office", "Belongs to the requester's office (Geneva Office).")],
        "Pia": [("no_declared_conflict", "Declared a conflict with this requester.")],
    }
    assert body["eligible"] == []


@pytest.mark.parametrize(
    ("who", "state"),
    [
        pytest.param("requester", "awaiting_assignment", id="requester"),
        pytest.param("endorser", "awaiting_endorsement", id="endorser-with-the-case"),
        pytest.param("reviewer", "under_review", id="reviewer-holding-the-case"),
    ],
)
def test_someone_who_sees_the_case_but_is_not_hr_is_forbidden(api_as, request, who, state):
    people = {name: request.getfixturevalue(name) for name in ("requester", "hr", "reviewer", "endorser")}
    case = advance(
        make_case(people["requester"]),
        to=state,
        requester=people["requester"],
        hr=people["hr"],
        reviewer=people["reviewer"],
    )

    response = api_as(people[who]).get(url(case))

    assert response.status_code == 403


def test_hr_specialist_who_is_the_requester_is_forbidden(api_as, hr):
    own = advance(make_case(hr), to="submitted", requester=hr)

    assert api_as(hr).get(url(own)).status_code == 403


@pytest.mark.parametrize("who", ["outsider", "reviewer"])
def test_someone_who_cannot_see_the_case_is_told_it_does_not_exist(api_as, request, case, who):
    user = request.getfixturevalue(who)
    reviewer_profile(request.getfixturevalue("reviewer"))  # in the pool, not holding this case

    response = api_as(user).get(url(case))

    assert response.status_code == 404


def test_anonymous_is_unauthorised(api, case):
    assert api.get(url(case)).status_code == 401


# --- a fixed number of queries -------------------------------------------------------


def build_pool(size: int, case: RebuttalCase) -> None:
    """``size`` reviewers with contracts; some with an old contract, conflicts and assignments.

    Rows are bulk-created; the number of cases the assignments hang on stays the
    same whatever the size, so only the pool grows.
    """
    today = timezone.localdate()
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"bulk{i}", email=f"bulk{i}@example.org", password="!") for i in range(size)
    )
    reviewers = Reviewer.objects.bulk_create(
        Reviewer(
            user=user,
            name=f"Reviewer {i:03d}",
            email=user.email,
            languages=["fr"] if i % 7 == 0 else ["en", "fr"],
            active=i % 11 != 5,
        )
        for i, user in enumerate(users)
    )
    contracts = RetainerContract.objects.bulk_create(
        RetainerContract(
            reviewer=reviewer,
            number=f"RC-B{i:04d}",
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=365),
            max_concurrent_cases=3,
            fee_per_review="1000.00",
        )
        for i, reviewer in enumerate(reviewers)
    )
    RetainerContract.objects.bulk_create(
        RetainerContract(
            reviewer=reviewer,
            number=f"RC-B{i:04d}-OLD",
            starts_on=today - dt.timedelta(days=800),
            ends_on=today - dt.timedelta(days=400),
            max_concurrent_cases=3,
            fee_per_review="900.00",
            status="ended",
        )
        for i, reviewer in enumerate(reviewers)
        if i % 5 == 0
    )
    Conflict.objects.bulk_create(
        Conflict(reviewer=reviewer, office="Nairobi Office" if i % 2 else "Geneva Office")
        for i, reviewer in enumerate(reviewers)
        if i % 6 == 0
    )
    earlier = make_case(case.requester, appraisal_cycle=2025)
    others = [make_case(UserFactory(username=f"bulkreq{n}")) for n in range(3)]
    now = timezone.now()
    assignments = [
        Assignment(
            case=others[0] if i % 9 else earlier,
            reviewer=reviewer,
            contract=contract,
            status=AssignmentStatus.COMPLETED,
            invited_at=now - dt.timedelta(days=i % 50 + 1),
            expected_end_on=today,
        )
        for i, (reviewer, contract) in enumerate(zip(reviewers, contracts, strict=True))
        if i % 3 == 0
    ]
    assignments += [
        Assignment(
            case=case,
            reviewer=reviewers[i],
            contract=contracts[i],
            status=AssignmentStatus.DECLINED,
            expected_end_on=today,
        )
        for i in (1, 2)
    ]
    assignments += [
        Assignment(
            case=other,
            reviewer=reviewers[i + 3],
            contract=contracts[i + 3],
            status=status,
            expected_end_on=today,
        )
        for i, (other, status) in enumerate(zip(others, ("invited", "accepted", "reported"), strict=True))
    ]
    Assignment.objects.bulk_create(assignments)


@pytest.mark.parametrize("size", [12, 200])
def test_suggestions_cost_the_same_number_of_queries_for_12_or_200_reviewers(
    hr, case, size, django_assert_num_queries
):
    build_pool(size, case)
    client = token_client(hr)

    with django_assert_num_queries(SUGGESTIONS_QUERIES):
        response = client.get(url(case))

    assert response.status_code == 200
    body = response.json()
    assert len(body["eligible"]) + len(body["ineligible"]) == size
    failed = {r["rule"] for entry in body["ineligible"] for r in entry["reasons"] if not r["passed"]}
    assert {"reads_language", "active_reviewer", "no_declared_conflict", "not_excluded_from_case"} <= failed
    assert "no_earlier_case_of_requester" in failed
    assert body["eligible"][-1]["open_cases"] == 1
