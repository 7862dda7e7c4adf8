"""The review stage: interviews, document requests pausing the clock, reporting officers' comments."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from rebuttal.models import ClockPause, DocumentRequest, RebuttalCase, SupervisorInvitation
from reviewers.models import Interview
from tests.factories import advance, make_case

UTC = zoneinfo.ZoneInfo("UTC")


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)


def as_user(user) -> APIClient:  # noqa: ANN001
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def case(requester, hr, reviewer):
    with time_machine.travel(at("2027-01-04"), tick=False):
        return advance(
            make_case(requester, appraisal_signed_on=dt.date(2027, 1, 1)),
            to="under_review",
            requester=requester,
            hr=hr,
            reviewer=reviewer,
        )


def test_the_reviewer_records_interviews_and_hr_reads_them(case, reviewer, hr, requester):
    url = f"/api/v1/cases/{case.pk}/interviews/"
    body = {
        "interviewee": "F. Officer, first reporting officer",
        "held_on": "2027-01-05",
        "notes": "Discussed goal 2.",
    }
    with time_machine.travel(at("2027-01-06"), tick=False):
        assert as_user(reviewer).post(url, body, format="json").status_code == 201
        assert as_user(hr).post(url, body, format="json").status_code == 403  # HR does not interview
        future = {**body, "held_on": "2027-02-01"}
        assert as_user(reviewer).post(url, future, format="json").status_code == 400
    listed = as_user(hr).get(url).json()
    assert [i["interviewee"] for i in listed] == ["F. Officer, first reporting officer"]
    assert as_user(requester).get(url).status_code == 403
    assert Interview.objects.filter(case=case).count() == 1


def test_a_document_request_pauses_the_clock_until_it_is_answered(case, reviewer, requester):
    assert case.stage_due_on == dt.date(2027, 2, 3)
    with time_machine.travel(at("2027-01-10"), tick=False):
        response = as_user(reviewer).post(
            f"/api/v1/cases/{case.pk}/document-requests/",
            {"addressee": "requester", "what": "Your workplan for 2026."},
            format="json",
        )
    assert response.status_code == 201
    request_id = response.json()["id"]
    assert RebuttalCase.objects.get(pk=case.pk).paused_at is not None
    # The requester sees the request addressed to them and answers it.
    mine = as_user(requester).get(f"/api/v1/cases/{case.pk}/document-requests/").json()
    assert [r["id"] for r in mine] == [request_id]
    with time_machine.travel(at("2027-01-15"), tick=False):
        answered = as_user(requester).post(
            f"/api/v1/document-requests/{request_id}/answer/",
            {"answer": "Uploaded as evidence."},
            format="json",
        )
    assert answered.status_code == 200
    stored = RebuttalCase.objects.get(pk=case.pk)
    assert stored.paused_at is None
    assert stored.stage_due_on == dt.date(2027, 2, 8)  # five days later
    assert ClockPause.objects.get(case=case).days_added == 5
    # Answering twice is refused; a stranger cannot answer.
    again = as_user(requester).post(
        f"/api/v1/document-requests/{request_id}/answer/", {"answer": "x"}, format="json"
    )
    assert again.status_code == 409


def test_the_clock_resumes_only_when_every_request_is_answered(case, reviewer, requester, outsider):
    made = [
        as_user(reviewer)
        .post(
            f"/api/v1/cases/{case.pk}/document-requests/",
            {"addressee": addressee, "what": "Documents.", "officer_email": "fro@example.org"},
            format="json",
        )
        .json()["id"]
        for addressee in ("requester", "supervisor")
    ]
    assert (
        as_user(outsider)
        .post(f"/api/v1/document-requests/{made[0]}/answer/", {"answer": "x"}, format="json")
        .status_code
        == 404
    )
    as_user(requester).post(
        f"/api/v1/document-requests/{made[0]}/answer/", {"answer": "Sent."}, format="json"
    )
    assert RebuttalCase.objects.get(pk=case.pk).paused_at is not None
    officer = get_user_model().objects.get(email="fro@example.org")
    response = as_user(officer).post(
        f"/api/v1/document-requests/{made[1]}/answer/", {"answer": "Sent too."}, format="json"
    )
    assert response.status_code == 200
    assert RebuttalCase.objects.get(pk=case.pk).paused_at is None
    assert DocumentRequest.objects.filter(case=case, answered_at__isnull=True).count() == 0


def test_a_request_to_someone_who_is_not_a_reporting_officer_is_refused(case, reviewer):
    response = as_user(reviewer).post(
        f"/api/v1/cases/{case.pk}/document-requests/",
        {"addressee": "supervisor", "what": "Documents.", "officer_email": "someone@example.org"},
        format="json",
    )
    assert response.status_code == 400
    assert "officer_email" in response.json()["errors"]
    assert not DocumentRequest.objects.exists()


def test_reporting_officers_see_only_the_statement_and_their_comment_while_invited(case, reviewer, hr):
    with time_machine.travel(at("2027-01-05"), tick=False):
        response = as_user(reviewer).post(f"/api/v1/cases/{case.pk}/supervisor-invitations/")
    assert response.status_code == 201
    invitations = response.json()
    assert [i["role"] for i in invitations] == ["first", "second"]
    assert invitations[0]["closes_on"] == "2027-01-19"  # 14 calendar days
    first = SupervisorInvitation.objects.get(case=case, role="first")
    officer = first.officer
    assert officer.email == "fro@example.org"
    with time_machine.travel(at("2027-01-10"), tick=False):
        view = as_user(officer).get(f"/api/v1/supervisor-invitations/{first.pk}/")
        assert view.status_code == 200
        assert set(view.json()) == {"id", "role", "closes_on", "statement", "comment"}
        assert view.json()["statement"] == case.statement
        # The case itself stays invisible to them.
        assert as_user(officer).get(f"/api/v1/cases/{case.pk}/").status_code == 404
        commented = as_user(officer).post(
            f"/api/v1/supervisor-invitations/{first.pk}/",
            {"comment": "The rating was discussed twice."},
            format="json",
        )
        assert commented.status_code == 200
        # Answered: the invitation is closed.
        assert as_user(officer).get(f"/api/v1/supervisor-invitations/{first.pk}/").status_code == 404
    second = SupervisorInvitation.objects.get(case=case, role="second")
    with time_machine.travel(at("2027-01-20"), tick=False):  # the window has closed
        assert as_user(second.officer).get(f"/api/v1/supervisor-invitations/{second.pk}/").status_code == 404
        late = as_user(second.officer).post(
            f"/api/v1/supervisor-invitations/{second.pk}/", {"comment": "Too late."}, format="json"
        )
        assert late.status_code == 404
    comments = as_user(hr).get(f"/api/v1/cases/{case.pk}/supervisor-invitations/").json()
    assert [c["comment"] for c in comments] == ["The rating was discussed twice.", ""]
    # Another officer's invitation is not found for this one.
    assert as_user(officer).get(f"/api/v1/supervisor-invitations/{second.pk}/").status_code == 404


def test_officers_are_invited_once_and_only_during_review(case, reviewer, requester, hr):
    url = f"/api/v1/cases/{case.pk}/supervisor-invitations/"
    assert as_user(requester).post(url).status_code == 403
    assert as_user(reviewer).post(url).status_code == 201
    assert as_user(hr).post(url).status_code == 409
    other = advance(make_case(requester, appraisal_cycle=2025), to="screening", requester=requester, hr=hr)
    assert as_user(hr).post(f"/api/v1/cases/{other.pk}/supervisor-invitations/").status_code == 409
