"""The letter archive: immutable records, corrections that supersede, downloads, and its commands."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from rebuttal.audit import AppendOnlyError
from rebuttal.models import CaseAccess, CaseEvent, EventKind
from reports.models import Letter, LetterKind, LetterRequest, RequestStatus
from tests.factories import UserFactory, advance, make_case
from workflow.letters import letter_issue


@pytest.fixture
def closed_case(requester, hr, reviewer, endorser, decision_maker):
    return advance(
        make_case(requester),
        to="closed",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
    )


@pytest.fixture
def outcome(closed_case) -> Letter:
    return Letter.objects.get(case=closed_case, kind=LetterKind.OUTCOME)


def test_the_outcome_letter_closes_the_case_and_is_on_its_timeline(closed_case, outcome):
    assert closed_case.status == "closed"
    issued = CaseEvent.objects.get(case=closed_case, kind=EventKind.LETTER_ISSUED)
    closing = CaseEvent.objects.get(case=closed_case, transition="issue_outcome")
    assert issued.changes["letter"] == outcome.pk
    assert issued.changes["sha256"] == outcome.sha256
    assert issued.seq + 1 == closing.seq  # stored, then closed, in one transaction
    assert outcome.hash_matches()


def test_the_case_cannot_close_before_its_outcome_letter_exists(
    requester, hr, reviewer, endorser, decision_maker
):
    from rebuttal.exceptions import TransitionRefused
    from workflow.services import case_act

    case = advance(
        make_case(requester),
        to="decided",
        requester=requester,
        hr=hr,
        reviewer=reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
    )
    with pytest.raises(TransitionRefused, match="outcome letter has not been issued"):
        case_act(case_id=case.pk, name="issue_outcome", actor=None, version=None)
    case.refresh_from_db()
    assert case.status == "decided"


def test_an_issued_letter_cannot_be_changed_or_deleted_through_the_orm(outcome):
    outcome.sha256 = "0" * 64
    with pytest.raises(AppendOnlyError):
        outcome.save()
    with pytest.raises(AppendOnlyError):
        outcome.delete()
    with pytest.raises(AppendOnlyError):
        Letter.objects.filter(pk=outcome.pk).update(pdf=b"%PDF-forged")
    with pytest.raises(AppendOnlyError):
        Letter.objects.filter(pk=outcome.pk).delete()
    stored = Letter.objects.get(pk=outcome.pk)
    assert stored.hash_matches()
    assert stored.sha256 != "0" * 64


def test_the_admin_shows_letters_but_refuses_to_change_add_or_delete_them(client, outcome):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = f"/admin/reports/letter/{outcome.pk}/change/"

    assert client.get("/admin/reports/letter/").status_code == 200
    shown = client.get(page)
    assert shown.status_code == 200
    assert b"Save" not in shown.content
    assert client.post(page, {"sha256": "0" * 64}).status_code == 403
    assert client.post(f"/admin/reports/letter/{outcome.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/reports/letter/add/").status_code == 403
    assert Letter.objects.get(pk=outcome.pk).hash_matches()


@pytest.mark.postgres
def test_the_database_refuses_changes_to_letters_made_around_the_orm(outcome):
    for sql in (
        "UPDATE reports_letter SET sha256 = 'forged' WHERE id = %s",
        "DELETE FROM reports_letter WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [outcome.pk])
    assert Letter.objects.get(pk=outcome.pk).hash_matches()


def correct(api, letter: Letter, **body):
    return api.post(f"/api/v1/letters/{letter.pk}/correct/", body, format="json")


def test_a_correction_supersedes_the_letter_and_leaves_it_as_it_was(
    api_as, hr, outcome, django_capture_on_commit_callbacks
):
    before = (bytes(outcome.pdf), outcome.sha256, outcome.template_version, outcome.language)
    with django_capture_on_commit_callbacks(execute=True):
        response = correct(
            api_as(hr), outcome, reason="Sent in French at the requester's request.", language="fr"
        )

    assert response.status_code == 202
    assert response.json()["supersedes"] == outcome.pk
    newer = Letter.objects.get(supersedes=outcome)
    old = Letter.objects.get(pk=outcome.pk)
    assert (bytes(old.pdf), old.sha256, old.template_version, old.language) == before
    assert newer.language == "fr"
    assert newer.kind == LetterKind.OUTCOME
    assert newer.hash_matches()
    assert newer.request.reason == "Sent in French at the requester's request."
    event = CaseEvent.objects.filter(case=outcome.case, kind=EventKind.LETTER_ISSUED).order_by("-seq").first()
    assert event.changes["supersedes"] == outcome.pk
    assert event.actor == hr
    # The case stays closed: a correction does not reopen or re-close it.
    assert CaseEvent.objects.filter(case=outcome.case, transition="issue_outcome").count() == 1

    listed = api_as(hr).get(f"/api/v1/cases/{outcome.case_id}/letters/").json()
    by_id = {item["id"]: item for item in listed}
    assert by_id[outcome.pk]["superseded_by"] == newer.pk
    assert by_id[newer.pk]["supersedes"] == outcome.pk


def test_a_superseded_letter_cannot_be_corrected_again(
    api_as, hr, outcome, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert correct(api_as(hr), outcome, reason="Typo in the name.").status_code == 202
    again = correct(api_as(hr), outcome, reason="Another fix.")
    assert again.status_code == 409
    assert "already been corrected" in again.json()["detail"]
    assert LetterRequest.objects.filter(supersedes=outcome).count() == 1


def test_who_may_correct_a_letter(api_as, requester, other_requester, reviewer, outcome):
    assert correct(api_as(requester), outcome, reason="Please change it.").status_code == 403
    assert correct(api_as(other_requester), outcome, reason="x").status_code == 404
    assert correct(api_as(reviewer), outcome, reason="x").status_code == 404
    assert LetterRequest.objects.filter(supersedes=outcome).count() == 0


def test_a_correction_needs_a_reason(api_as, hr, outcome):
    response = correct(api_as(hr), outcome, reason="   ")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_the_requester_lists_and_downloads_their_letters_and_each_download_is_logged(
    api_as, requester, closed_case, outcome
):
    api = api_as(requester)
    listed = api.get(f"/api/v1/cases/{closed_case.pk}/letters/").json()
    assert [item["kind"] for item in listed] == [LetterKind.OUTCOME]
    assert listed[0]["sha256"] == outcome.sha256
    assert listed[0]["language"] == "en"

    response = api.get(listed[0]["pdf_url"])
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body == bytes(outcome.pdf)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert closed_case.reference in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-SHA256"] == outcome.sha256
    assert (
        CaseAccess.objects.filter(case=closed_case, actor=requester, what=f"letter:{outcome.pk}").count() == 1
    )


@pytest.mark.parametrize("who", ["other_requester", "outsider", "reviewer"])
def test_nobody_else_sees_a_requesters_letters(request, api_as, closed_case, outcome, who):
    api = api_as(request.getfixturevalue(who))
    assert api.get(f"/api/v1/letters/{outcome.pk}/pdf/").status_code == 404
    listed = api.get(f"/api/v1/cases/{closed_case.pk}/letters/")
    assert listed.status_code == 404 or listed.json() == []
    assert not CaseAccess.objects.filter(case=closed_case, what=f"letter:{outcome.pk}").exists()


def test_hr_sees_every_letter(api_as, hr, outcome):
    assert api_as(hr).get(f"/api/v1/letters/{outcome.pk}/pdf/").status_code == 200


def test_a_pdf_download_works_whatever_the_client_accepts(api_as, requester, outcome):
    response = api_as(requester).get(f"/api/v1/letters/{outcome.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    missing = api_as(requester).get("/api/v1/letters/999999/pdf/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404


def test_letters_verify_passes_an_intact_archive(outcome):
    out = io.StringIO()
    call_command("letters_verify", "--no-progress", stdout=out)
    assert "0 altered" in out.getvalue()
    assert "0 whose re-render differs" in out.getvalue()


def test_letters_verify_reports_a_re_render_that_differs_from_the_archive(outcome, settings):
    settings.ORGANISATION_NAME = "Renamed Office"
    out = io.StringIO()
    call_command("letters_verify", "--no-progress", "--diff", stdout=out)
    assert "DIFFERS" in out.getvalue()
    assert "Renamed Office" in out.getvalue()


def test_letters_verify_fails_on_a_tampered_pdf(outcome):
    with connection.cursor() as cursor:
        # On PostgreSQL, as a superuser going around the trigger (replica mode skips ordinary triggers).
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE reports_letter SET pdf = %s WHERE id = %s", [b"%PDF-forged", outcome.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    err = io.StringIO()
    with pytest.raises(CommandError, match="do not match their SHA-256"):
        call_command("letters_verify", "--no-progress", stdout=io.StringIO(), stderr=err)
    assert "ALTERED" in err.getvalue()


def test_letters_verify_names_an_unknown_case(db):
    with pytest.raises(CommandError, match="No case"):
        call_command("letters_verify", "--case", "RB-1999-9999", "--no-progress")


def test_letters_issue_issues_every_waiting_letter(requester, other_requester):
    for person in (requester, other_requester):
        advance(make_case(person), to="submitted", requester=person)
    assert LetterRequest.objects.filter(status=RequestStatus.PENDING).count() == 2
    out = io.StringIO()
    call_command("letters_issue", "--no-progress", stdout=out)
    assert "2 letter(s) issued, 0 failed, of 2 waiting." in out.getvalue()
    assert Letter.objects.filter(kind=LetterKind.ACKNOWLEDGEMENT).count() == 2
    call_command("letters_issue", "--no-progress", stdout=out)
    assert Letter.objects.count() == 2


def test_issuing_a_request_twice_stores_one_letter(requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    request = LetterRequest.objects.get(case=case)
    first, second = letter_issue(request.pk), letter_issue(request.pk)
    assert first.pk == second.pk
    assert Letter.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=EventKind.LETTER_ISSUED).count() == 1


def test_a_failed_letter_is_listed_and_hr_can_retry_it(
    api_as, requester, hr, reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    from reports import services

    case = advance(make_case(requester), to="submitted", requester=requester)
    request = LetterRequest.objects.get(case=case)
    for _ in range(services.MAX_ATTEMPTS):
        services.letter_request_failed(request_id=request.pk, error="RuntimeError('fonts missing')")
    waiting = api_as(requester).get(f"/api/v1/cases/{case.pk}/letter-requests/").json()
    assert [(item["kind"], item["status"]) for item in waiting] == [("acknowledgement", "failed")]

    assert api_as(requester).post(f"/api/v1/letter-requests/{request.pk}/retry/").status_code == 403
    assert api_as(reviewer).post(f"/api/v1/letter-requests/{request.pk}/retry/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(hr).post(f"/api/v1/letter-requests/{request.pk}/retry/")
    assert response.status_code == 202
    request.refresh_from_db()
    assert request.status == RequestStatus.ISSUED
    assert Letter.objects.get(request=request).hash_matches()
    assert api_as(hr).post(f"/api/v1/letter-requests/{request.pk}/retry/").status_code == 409
    assert api_as(requester).get(f"/api/v1/cases/{case.pk}/letter-requests/").json() == []
