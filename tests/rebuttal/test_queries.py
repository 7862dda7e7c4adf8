"""Exact query counts: a transition, the case list and the case detail cost a fixed
number of queries, whatever the number of cases (no N+1).

Counts are taken inside the test's transaction, so every ``transaction.atomic``
shows as a SAVEPOINT / RELEASE SAVEPOINT pair. API calls authenticate with a
token, as integrations do, so every request loads its user afresh (and with it
the user's groups, which ``permissions.group_names`` then caches per request).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rebuttal.models import RebuttalCase
from tests.factories import UserFactory, advance, make_case
from workflow.services import case_act

# case_act's atomic and the service's atomic (2 savepoints, 2 releases), the
# locked case, the actor's groups, the policy in force, the case UPDATE, its
# history row and its audit event (10); then viewflow's bookkeeping (12): the
# process and its open task, the flow's lock (savepoint, row lock, release),
# the task re-read with its process, the task assigned and done, the next task
# and its link to the previous one; then the reports' stage visit (1: the open
# visit, which screening keeps, as it stays in the receivability stage) and the
# reports' running totals (1 upsert: one fewer case submitted, one more in screening).
START_SCREENING_QUERIES = 24
# As above, plus the policy the case is screened under (``case.policy``), the
# earlier requests for the same appraisal (rule ``one_per_appraisal``) and, as
# the case enters a new stage, its office and that office's holidays (the
# calendar its due date counts on).
# The receivability gateway adds its own task to viewflow's bookkeeping, and the
# stage visit is closed and the next one opened (3: read, update, insert), and
# the running totals get every fact of the screening in one upsert.
ACCEPT_RECEIVABLE_QUERIES = 36
# The token with its user, the user's groups, one page of cases (keyset paging: no COUNT).
LIST_QUERIES = 3
# The token with its user, the user's groups, the case with its requester and
# policy, and the access-log row.
DETAIL_QUERIES = 4
# The detail's queries, the events with their actors and, for HR only, who opened the case.
TIMELINE_QUERIES = {"requester": 5, "hr": 6}
# Token, groups, the visible case, the transition (as START_SCREENING_QUERIES
# but the actor's groups are cached already) and the requester for the response.
TRANSITION_API_QUERIES = 27


def fresh(user: Any) -> Any:
    """The user as a request would load it: no cached groups."""
    return get_user_model().objects.get(pk=user.pk)


def token_client(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def people(requester, other_requester, outsider, hr, reviewer) -> dict[str, Any]:  # noqa: ANN001
    return {"requesters": [requester, other_requester, outsider], "hr": hr, "reviewer": reviewer}


def file_cases(people: dict[str, Any], count: int) -> None:
    """``count`` filed cases from several requesters, spread over the early states."""
    states = itertools.cycle(["submitted", "screening", "awaiting_assignment", "reviewer_invited"])
    requesters = itertools.cycle(people["requesters"])
    for _, state, requester in zip(range(count), states, requesters, strict=False):
        if state == "reviewer_invited":
            # One reviewer holds at most one case per requester: each invitation
            # goes to a case of its own requester.
            requester = UserFactory(username=f"invited-{RebuttalCase.objects.count()}")
        advance(
            make_case(requester),
            to=state,
            requester=requester,
            hr=people["hr"],
            reviewer=people["reviewer"],
        )


# --- a transition through the service ------------------------------------------------


def test_start_screening_costs_a_fixed_number_of_queries(requester, hr, django_assert_num_queries):
    case = advance(make_case(requester), to="submitted", requester=requester)
    actor = fresh(hr)
    with django_assert_num_queries(START_SCREENING_QUERIES):
        case = case_act(case_id=case.pk, name="start_screening", actor=actor, version=case.version)
    assert case.status == "screening"


def test_accept_receivable_costs_a_fixed_number_of_queries(requester, hr, django_assert_num_queries):
    # Earlier requests of other people and cycles must not add queries.
    for cycle in (2023, 2024, 2025):
        advance(make_case(requester, appraisal_cycle=cycle), to="screening", requester=requester, hr=hr)
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    actor = fresh(hr)
    with django_assert_num_queries(ACCEPT_RECEIVABLE_QUERIES):
        case = case_act(case_id=case.pk, name="accept_receivable", actor=actor, version=case.version)
    assert case.status == "awaiting_assignment"


def test_a_transition_through_the_api_costs_a_fixed_number_of_queries(
    requester, hr, django_assert_num_queries
):
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = token_client(hr)
    url = f"/api/v1/cases/{case.pk}/transitions/start_screening/"
    with django_assert_num_queries(TRANSITION_API_QUERIES):
        response = client.post(url, {"version": case.version}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "screening"


# --- the case list -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["hr", "requester"])
def test_the_case_list_costs_the_same_for_5_and_50_cases(people, role, django_assert_num_queries):
    viewer = people["hr"] if role == "hr" else people["requesters"][0]
    client = token_client(viewer)
    visible = RebuttalCase.objects.all() if role == "hr" else RebuttalCase.objects.filter(requester=viewer)
    counts = []
    for added in (5, 45):
        file_cases(people, added)
        with django_assert_num_queries(LIST_QUERIES) as captured:
            response = client.get("/api/v1/cases/", {"page_size": 100})
        assert response.status_code == 200
        assert len(response.json()["results"]) == visible.count()
        counts.append(len(captured.captured_queries))
    assert RebuttalCase.objects.count() == 50
    assert counts == [LIST_QUERIES, LIST_QUERIES]


def test_a_filtered_case_list_costs_the_same_for_5_and_50_cases(people, django_assert_num_queries):
    client = token_client(people["hr"])
    params = {"search": "example.org", "overdue": "false", "status": ["submitted", "screening"]}
    for added in (5, 45):
        file_cases(people, added)
        with django_assert_num_queries(LIST_QUERIES):
            response = client.get("/api/v1/cases/", {**params, "page_size": 100})
        assert response.status_code == 200
        assert response.json()["results"]


def test_the_reviewers_list_costs_the_same_for_5_and_50_cases(people, django_assert_num_queries):
    client = token_client(people["reviewer"])
    held = RebuttalCase.objects.filter(reviewer_user=people["reviewer"])
    for added in (5, 45):
        file_cases(people, added)
        with django_assert_num_queries(LIST_QUERIES):
            response = client.get("/api/v1/cases/", {"assigned_to_me": "true", "page_size": 100})
        assert len(response.json()["results"]) == held.count() > 0


# --- the case detail and timeline --------------------------------------------------------


@pytest.mark.parametrize("role", ["hr", "requester", "reviewer"])
def test_the_case_detail_costs_a_fixed_number_of_queries(people, role, django_assert_num_queries):
    requester = people["requesters"][0]
    case = advance(
        make_case(requester),
        to="under_review",
        requester=requester,
        hr=people["hr"],
        reviewer=people["reviewer"],
    )
    client = token_client(requester if role == "requester" else people[role])
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "under_review"


@pytest.mark.parametrize("role", ["hr", "requester"])
def test_the_timeline_costs_the_same_for_few_and_many_events(people, role, django_assert_num_queries):
    requester = people["requesters"][0]
    hr = people["hr"]
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = token_client(requester if role == "requester" else hr)
    url = f"/api/v1/cases/{case.pk}/timeline/"
    with django_assert_num_queries(TIMELINE_QUERIES[role]):
        few = client.get(url).json()

    case.refresh_from_db()
    advance(case, to="under_review", requester=requester, hr=hr, reviewer=people["reviewer"])
    for _ in range(5):
        token_client(hr).get(f"/api/v1/cases/{case.pk}/")  # more access-log rows for HR's view
    with django_assert_num_queries(TIMELINE_QUERIES[role]):
        many = client.get(url).json()
    assert len(many) > len(few) + 3
