"""One case through the whole lifecycle over HTTP, each role with its own token."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviewers.models import Assignment, FeeLine
from tests.factories import api_intake, reviewer_profile


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def act(client: APIClient, case: dict[str, Any], name: str, **data: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/cases/{case['id']}/transitions/{name}/", {"version": case["version"], **data}, format="json"
    )
    assert response.status_code == 200, (name, response.status_code, response.json())
    body = response.json()
    assert body["version"] == case["version"] + 1
    return body


@pytest.fixture
def clients(requester, hr, reviewer, endorser, decision_maker):
    reviewer_profile(reviewer)
    return {
        "requester": client_for(requester),
        "hr": client_for(hr),
        "reviewer": client_for(reviewer),
        "endorser": client_for(endorser),
        "decision_maker": client_for(decision_maker),
    }


def test_a_case_goes_from_draft_to_decided_through_the_api_alone(clients, reviewer):
    created = clients["requester"].post("/api/v1/cases/", api_intake(), format="json")
    assert created.status_code == 201
    case = created.json()
    assert case["status"] == "draft"
    assert case["available_transitions"] == ["submit"]

    case = act(clients["requester"], case, "submit")
    case = act(clients["hr"], case, "start_screening")
    case = act(clients["hr"], case, "accept_receivable")
    suggestions = clients["hr"].get(f"/api/v1/cases/{case['id']}/reviewer-suggestions/").json()
    top = suggestions["eligible"][0]
    assert top["reviewer"] == reviewer.reviewer_profile.pk
    case = act(clients["hr"], case, "invite_reviewer", reviewer=top["reviewer"])
    case = act(clients["reviewer"], case, "reviewer_accept", no_conflict_declaration=True)
    case = act(
        clients["reviewer"],
        case,
        "submit_recommendation",
        findings="The rating rests on one undocumented incident.",
        recommendation="revise",
        recommended_rating="successfully_meets",
        reasons="The documented results meet the workplan.",
    )
    case = act(clients["hr"], case, "return_to_reviewer", reason="Please address objective 3.")
    assert case["status"] == "under_review"
    case = act(
        clients["reviewer"],
        case,
        "submit_recommendation",
        findings="Objective 3 was reassigned mid-cycle; the rating ignores it.",
        recommendation="revise",
        recommended_rating="successfully_meets",
        reasons="The documented results meet the workplan.",
    )
    case = act(clients["hr"], case, "forward_for_endorsement", comment="Quality check passed.")
    case = act(clients["endorser"], case, "endorse", comment="Endorsed.")
    case = act(
        clients["decision_maker"],
        case,
        "decide",
        final_rating="successfully_meets",
        follows_recommendation=True,
        reasons="The review's findings are convincing.",
    )
    assert case["status"] == "decided"
    assert case["original_rating"] == "partially_meets"
    assert case["final_rating"] == "successfully_meets"

    # The review is complete: the reviewer's access ends, a fee line exists.
    assert clients["reviewer"].get(f"/api/v1/cases/{case['id']}/").status_code == 404
    assignment = Assignment.objects.get(case_id=case["id"])
    assert assignment.status == "completed"
    assert FeeLine.objects.filter(assignment=assignment).count() == 1
    timeline = clients["requester"].get(f"/api/v1/cases/{case['id']}/timeline/").json()
    transitions = [entry["transition"] for entry in timeline if entry["kind"] == "transition"]
    assert transitions == [
        "submit",
        "start_screening",
        "accept_receivable",
        "invite_reviewer",
        "reviewer_accept",
        "submit_recommendation",
        "return_to_reviewer",
        "submit_recommendation",
        "forward_for_endorsement",
        "endorse",
        "decide",
    ]


def test_each_decision_stage_refuses_the_wrong_role(clients, requester, hr, reviewer):
    case = clients["requester"].post("/api/v1/cases/", api_intake(), format="json").json()
    case = act(clients["requester"], case, "submit")
    case = act(clients["hr"], case, "start_screening")
    case = act(clients["hr"], case, "accept_receivable")
    case = act(clients["hr"], case, "invite_reviewer", reviewer=reviewer.reviewer_profile.pk)
    case = act(clients["reviewer"], case, "reviewer_accept", no_conflict_declaration=True)
    url = f"/api/v1/cases/{case['id']}/transitions/"
    # HR may see the case but does not write the report; the requester may not decide.
    report = {
        "version": case["version"],
        "findings": "x",
        "recommendation": "maintain",
        "reasons": "y",
    }
    assert clients["hr"].post(url + "submit_recommendation/", report, format="json").status_code == 403
    decision = {
        "version": case["version"],
        "final_rating": "exceeds",
        "follows_recommendation": False,
        "reasons": "z",
    }
    assert clients["requester"].post(url + "decide/", decision, format="json").status_code == 403
    # The decision-maker cannot see a case that is not waiting for them.
    assert clients["decision_maker"].post(url + "decide/", decision, format="json").status_code == 404
    # A revision must name a rating on the scale.
    bad = {**report, "recommendation": "revise", "recommended_rating": "stellar"}
    response = clients["reviewer"].post(url + "submit_recommendation/", bad, format="json")
    assert response.status_code == 400
    assert "recommended_rating" in response.json()["errors"]
