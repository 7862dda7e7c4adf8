"""The access rule for reviewers: 404 on a case before invitation, after decline,
after expiry, after release and after the decision; read-only on their own
submitted report.

A reviewer sees a case only while they hold it (docs/domain.md, "Who uses it");
a case they may not see answers *not found*, never *forbidden*.
"""

from __future__ import annotations

from typing import Any

import pytest

from rebuttal.models import RebuttalCase
from reviewers.models import Assignment
from tests.factories import UserFactory, advance, make_case, reviewer_profile
from workflow.letters import outcome_issue
from workflow.services import case_act

ASSIGNMENTS = "/api/v1/assignments/"


def sees(client: Any, case: RebuttalCase) -> bool:
    """Whether the case and its timeline answer 200 (True) or both 404 (False)."""
    codes = {
        client.get(f"/api/v1/cases/{case.pk}/").status_code,
        client.get(f"/api/v1/cases/{case.pk}/timeline/").status_code,
    }
    assert codes in ({200}, {404}), codes
    return codes == {200}


def listed(client: Any, case: RebuttalCase) -> bool:
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    return case.reference in {item["reference"] for item in response.json()["results"]}


def act(case: RebuttalCase, name: str, actor: Any, **data: Any) -> RebuttalCase:
    return case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)


def transition(client: Any, case: RebuttalCase, name: str, **body: Any) -> RebuttalCase:
    body["version"] = RebuttalCase.objects.get(pk=case.pk).version
    response = client.post(f"/api/v1/cases/{case.pk}/transitions/{name}/", body, format="json")
    assert response.status_code == 200, response.content
    return RebuttalCase.objects.get(pk=case.pk)


@pytest.fixture
def awaiting(requester, hr, reviewer):  # noqa: ANN001, ANN201
    reviewer_profile(reviewer)
    return advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)


# --- seeing the case ---------------------------------------------------------------------


def test_a_reviewer_cannot_see_a_case_before_being_invited(api_as, reviewer, awaiting):
    client = api_as(reviewer)
    assert not sees(client, awaiting)
    assert not listed(client, awaiting)


def test_a_reviewer_sees_the_case_while_invited_and_while_reviewing(api_as, hr, reviewer, awaiting):
    client = api_as(reviewer)

    invited = transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer.reviewer_profile.pk)
    client = api_as(reviewer)
    assert sees(client, invited)
    assert listed(client, invited)

    reviewing = transition(client, invited, "reviewer_accept", no_conflict_declaration=True)
    assert reviewing.status == "under_review"
    assert sees(client, reviewing)
    assert listed(client, reviewing)


def test_a_reviewer_who_declined_no_longer_sees_the_case(api_as, hr, reviewer, awaiting):
    invited = transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer.reviewer_profile.pk)
    client = api_as(reviewer)
    assert sees(client, invited)

    transition(client, invited, "reviewer_decline", reason="Too close to the office.")

    assert not sees(client, invited)
    assert not listed(client, invited)


def test_a_reviewer_whose_invitation_expired_no_longer_sees_the_case(api_as, hr, reviewer, awaiting):
    invited = act(awaiting, "invite_reviewer", hr, reviewer=reviewer.reviewer_profile.pk)
    act(invited, "invitation_expire", None)  # the scheduler

    assert not sees(api_as(reviewer), invited)


def test_a_released_reviewer_no_longer_sees_the_case(api_as, hr, requester, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    assert sees(api_as(reviewer), case)

    transition(api_as(hr), case, "release_reviewer", reason="Conflict found late.")

    client = api_as(reviewer)
    assert not sees(client, case)
    assert not listed(client, case)


def test_a_reviewer_released_by_release_all_no_longer_sees_the_case(api_as, hr, requester, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    url = f"/api/v1/reviewers/{reviewer.reviewer_profile.pk}/release-all/"
    assert api_as(hr).post(url, {"reason": "Contract ended."}).status_code == 200

    assert not sees(api_as(reviewer), case)


def test_a_reviewer_sees_the_case_while_their_report_is_checked(api_as, hr, requester, reviewer, endorser):
    case = advance(
        make_case(requester), to="awaiting_endorsement", requester=requester, hr=hr, reviewer=reviewer
    )
    assert sees(api_as(reviewer), case)


def test_a_reviewer_no_longer_sees_the_case_after_the_decision(
    api_as, hr, requester, reviewer, endorser, decision_maker
):
    case = advance(
        make_case(requester),
        to="awaiting_decision",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
    )
    assert sees(api_as(reviewer), case)

    decided = act(
        case,
        "decide",
        decision_maker,
        final_rating="successfully_meets",
        follows_recommendation=True,
        reasons="Convincing.",
    )

    client = api_as(reviewer)
    assert not sees(client, decided)
    assert not listed(client, decided)
    assert client.get(f"/api/v1/cases/{case.pk}/receivability/").status_code == 404


def test_a_reviewer_no_longer_sees_a_withdrawn_case(api_as, hr, requester, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    act(case, "withdraw", requester, reason="Settled.")

    assert not sees(api_as(reviewer), case)
    assert Assignment.objects.get(case=case).status == "cancelled"


def test_a_reviewer_cannot_act_on_a_case_after_declining_it(api_as, hr, reviewer, awaiting):
    invited = transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer.reviewer_profile.pk)
    client = api_as(reviewer)
    transition(client, invited, "reviewer_decline", reason="Busy.")
    case = RebuttalCase.objects.get(pk=invited.pk)

    response = client.post(
        f"/api/v1/cases/{case.pk}/transitions/reviewer_accept/",
        {"version": case.version, "no_conflict_declaration": True},
        format="json",
    )

    assert response.status_code == 404
    assert RebuttalCase.objects.get(pk=case.pk).status == "awaiting_assignment"


# --- the submitted report ----------------------------------------------------------------


@pytest.fixture
def decided(requester, hr, reviewer, endorser, decision_maker):  # noqa: ANN001, ANN201
    return advance(
        make_case(requester),
        to="decided",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
    )


@pytest.fixture
def report_url(decided):  # noqa: ANN001, ANN201
    return f"{ASSIGNMENTS}{Assignment.objects.get(case=decided).pk}/report/"


def test_the_author_reads_their_report_after_the_decision(api_as, reviewer, decided, report_url):
    response = api_as(reviewer).get(report_url)

    assert response.status_code == 200, response.content
    report = response.json()
    assert report["case"] == decided.reference
    assert report["findings"] == "Evidence thin."
    assert report["recommendation"] == "revise"
    assert report["recommended_rating"] == "successfully_meets"
    assert report["reasons"] == "Objectives met."
    assert report["submitted_at"]


def test_the_author_still_reads_the_report_once_the_case_is_closed(api_as, reviewer, decided, report_url):
    outcome_issue(decided.pk)
    assert api_as(reviewer).get(report_url).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_report_cannot_be_changed_through_the_api(api_as, reviewer, decided, report_url, method):
    assignment = Assignment.objects.get(case=decided)
    body = {"findings": "Rewritten after the fact.", "recommendation": "maintain", "reasons": "Changed."}

    response = getattr(api_as(reviewer), method)(report_url, body, format="json")

    assert response.status_code == 405
    assert response.json()["detail"]
    assignment.refresh_from_db()
    assert assignment.report["findings"] == "Evidence thin."


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_assignment_cannot_be_changed_through_the_api(api_as, reviewer, decided, method):
    assignment = Assignment.objects.get(case=decided)

    response = getattr(api_as(reviewer), method)(f"{ASSIGNMENTS}{assignment.pk}/", {"status": "invited"})

    assert response.status_code == 405
    assignment.refresh_from_db()
    assert assignment.status == "completed"


def test_another_reviewer_gets_404_for_someone_elses_report(api_as, decided, report_url):
    other = UserFactory(username="ivan")
    reviewer_profile(other)
    client = api_as(other)
    assignment = Assignment.objects.get(case=decided)

    assert client.get(report_url).status_code == 404
    assert client.get(f"{ASSIGNMENTS}{assignment.pk}/").status_code == 404


def test_the_requester_gets_404_for_the_reviewers_report(api_as, requester, report_url):
    assert api_as(requester).get(report_url).status_code == 404


def test_hr_reads_the_report(api_as, hr, report_url):
    assert api_as(hr).get(report_url).status_code == 200


def test_there_is_no_report_before_one_is_submitted(api_as, requester, hr, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    assignment = Assignment.objects.get(case=case)

    response = api_as(reviewer).get(f"{ASSIGNMENTS}{assignment.pk}/report/")

    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_unknown_assignment_is_404(api_as, reviewer):
    client = api_as(reviewer)
    assert client.get(f"{ASSIGNMENTS}999999/").status_code == 404
    assert client.get(f"{ASSIGNMENTS}abc/report/").status_code == 404


def test_assignments_are_401_without_login(api, decided, report_url):
    assert api.get(ASSIGNMENTS).status_code == 401
    assert api.get(report_url).status_code == 401


# --- the list of assignments -------------------------------------------------------------


def test_a_reviewer_lists_only_their_own_assignments(api_as, hr, reviewer):
    alice, bob = UserFactory(username="al"), UserFactory(username="bo")
    ivan = UserFactory(username="ivan")
    reviewer_profile(ivan)
    mine = advance(make_case(alice), to="under_review", requester=alice, hr=hr, reviewer=reviewer)
    theirs = advance(make_case(bob), to="reviewer_invited", requester=bob, hr=hr, reviewer=ivan)

    own = api_as(reviewer).get(ASSIGNMENTS)
    everyone = api_as(hr).get(ASSIGNMENTS)

    assert own.status_code == 200
    assert [a["case"] for a in _results(own.json())] == [mine.reference]
    assert {a["case"] for a in _results(everyone.json())} == {mine.reference, theirs.reference}


def test_a_reviewer_still_lists_an_assignment_they_declined(api_as, hr, reviewer, awaiting):
    invited = transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer.reviewer_profile.pk)
    transition(api_as(reviewer), invited, "reviewer_decline", reason="Busy.")

    response = api_as(reviewer).get(ASSIGNMENTS)

    [assignment] = _results(response.json())
    assert (assignment["case"], assignment["status"]) == (invited.reference, "declined")


def test_someone_outside_the_pool_lists_no_assignments(api_as, outsider, requester, hr, reviewer):
    advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    response = api_as(outsider).get(ASSIGNMENTS)

    assert response.status_code == 200
    assert _results(response.json()) == []


def _results(body: Any) -> list[dict[str, Any]]:
    """The items of a list response, paginated or not."""
    return body["results"] if isinstance(body, dict) else body
