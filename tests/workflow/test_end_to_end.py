"""End to end through the API: each role finds its task in its inbox or queue,
takes it, and performs it; nobody else can."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient
from viewflow.workflow import STATUS

from rebuttal.models import RebuttalCase
from tests.factories import api_intake, reviewer_profile
from workflow.letters import outcome_issue
from workflow.models import RebuttalProcess


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def my_tasks(client: APIClient, box: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tasks/", {"box": box})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def take_and_do(client: APIClient, case: dict[str, Any], node: str, name: str, **data: Any) -> dict[str, Any]:
    """Find the case's task in the queue (or inbox), claim it, and perform ``name``."""
    tasks = [
        t for t in my_tasks(client, "queue") + my_tasks(client, "inbox") if t["case"]["id"] == case["id"]
    ]
    assert [t["node"] for t in tasks] == [node], tasks
    if tasks[0]["status"] == STATUS.NEW:
        assert client.post(f"/api/v1/tasks/{tasks[0]['id']}/claim/").status_code == 200
    response = client.post(
        f"/api/v1/cases/{case['id']}/transitions/{name}/", {"version": case["version"], **data}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def refused(client: APIClient, case: dict[str, Any], name: str, **data: Any) -> int:
    body = {"version": case["version"], **data}
    return client.post(f"/api/v1/cases/{case['id']}/transitions/{name}/", body, format="json").status_code


def test_one_case_from_draft_to_closed_each_step_by_its_role(
    requester, hr, reviewer, endorser, decision_maker, outsider
):
    reviewer_profile(reviewer)
    people = {
        "requester": client_for(requester),
        "hr": client_for(hr),
        "reviewer": client_for(reviewer),
        "endorser": client_for(endorser),
        "decision_maker": client_for(decision_maker),
        "outsider": client_for(outsider),
    }
    case = people["requester"].post("/api/v1/cases/", api_intake(), format="json").json()
    assert refused(people["hr"], case, "submit") == 404  # a draft is the requester's alone
    case = (
        people["requester"]
        .post(f"/api/v1/cases/{case['id']}/transitions/submit/", {"version": case["version"]}, format="json")
        .json()
    )

    steps = [
        ("hr", "intake", "start_screening", {}),
        ("hr", "screening", "accept_receivable", {}),
        ("hr", "assignment", "invite_reviewer", {"reviewer": reviewer.reviewer_profile.pk}),
        ("reviewer", "acceptance", "reviewer_accept", {"no_conflict_declaration": True}),
        (
            "reviewer",
            "review",
            "submit_recommendation",
            {"findings": "Thin evidence.", "recommendation": "maintain", "reasons": "The rating stands."},
        ),
        ("hr", "quality_check", "forward_for_endorsement", {}),
        ("endorser", "endorsement", "endorse", {"comment": "Agreed."}),
        (
            "decision_maker",
            "decision",
            "decide",
            {"final_rating": "partially_meets", "follows_recommendation": True, "reasons": "As recommended."},
        ),
    ]
    for role, node, name, data in steps:
        for other in ("requester", "outsider", "endorser", "decision_maker", "reviewer", "hr"):
            if other != role:
                assert refused(people[other], case, name, **data) in (403, 404), (other, name)
        case = take_and_do(people[role], case, node, name, **data)

    # The outcome letter task closes the case (the letter itself comes with its issue).
    assert [t["node"] for t in my_tasks(people["hr"], "queue")] == ["outcome"]
    outcome_issue(case["id"])
    closed = RebuttalCase.objects.get(pk=case["id"])
    assert closed.status == "closed"
    process = RebuttalProcess.objects.get(case_id=case["id"])
    assert process.status == STATUS.DONE
    assert not my_tasks(people["hr"], "queue")
    assert {t["node"] for t in my_tasks(people["hr"], "archive")} == {
        "intake",
        "screening",
        "assignment",
        "quality_check",
    }


def test_a_withdrawal_mid_review_cancels_the_process_and_the_reviewers_work(requester, hr, reviewer):
    reviewer_profile(reviewer)
    people = {"requester": client_for(requester), "hr": client_for(hr), "reviewer": client_for(reviewer)}
    case = people["requester"].post("/api/v1/cases/", api_intake(), format="json").json()
    case = (
        people["requester"]
        .post(f"/api/v1/cases/{case['id']}/transitions/submit/", {"version": case["version"]}, format="json")
        .json()
    )
    case = take_and_do(people["hr"], case, "intake", "start_screening")
    case = take_and_do(people["hr"], case, "screening", "accept_receivable")
    case = take_and_do(
        people["hr"], case, "assignment", "invite_reviewer", reviewer=reviewer.reviewer_profile.pk
    )
    case = take_and_do(
        people["reviewer"], case, "acceptance", "reviewer_accept", no_conflict_declaration=True
    )
    assert [t["node"] for t in my_tasks(people["reviewer"], "inbox")] == ["review"]

    assert refused(people["hr"], case, "withdraw", reason="x") == 403  # only the requester withdraws
    response = people["requester"].post(
        f"/api/v1/cases/{case['id']}/transitions/withdraw/",
        {"version": case["version"], "reason": "Settled with my supervisor."},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    process = RebuttalProcess.objects.get(case_id=case["id"])
    assert process.status == STATUS.CANCELED
    assert not process.task_set.filter(status__in=[STATUS.NEW, STATUS.ASSIGNED]).exists()
    assert my_tasks(people["reviewer"], "inbox") == []
    assert people["reviewer"].get(f"/api/v1/cases/{case['id']}/").status_code == 404
    assert reviewer.reviewer_profile.assignments.get().status == "cancelled"
