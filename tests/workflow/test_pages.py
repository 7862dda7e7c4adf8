"""The web pages through the Django test client: filing, actions, errors that keep what was typed,
security headers, sign-in lockout, languages and query counts. (Browser walkthroughs: tests/browser.)"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rebuttal.models import CaseAccess, RebuttalCase
from rebuttal.services import case_update_draft
from tests.factories import UserFactory, advance, make_case

PASSWORD = "pw-for-tests-only"


def form_data(**overrides):
    data = {
        "appraisal_cycle": "2026",
        "overall_rating": "partially_meets",
        "appraisal_signed_on": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        "first_reporting_officer_email": "fro@example.org",
        "second_reporting_officer_email": "sro@example.org",
        "office": "Geneva Office",
        "region": "Europe",
        "contract_type": "permanent",
        "appointment_months": "",
        "language": "en",
        "statement": "The rating ignores the documented results of my workplan.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- filing --------------------------------------------------------------------------------


def test_the_file_form_explains_the_rules(signed_in, requester):
    page = signed_in(requester).get("/cases/new/").content.decode()
    assert "Before you file" in page
    assert "14 calendar days" in page
    assert "Partially meets expectations" in page


def test_saving_a_draft_creates_it_and_shows_the_filing_deadline(signed_in, requester):
    client = signed_in(requester)
    response = client.post("/cases/new/", {**form_data(), "save": "1"})
    case = RebuttalCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.status == "draft"
    edit = client.get(f"/cases/{case.pk}/edit/").content.decode()
    deadline = case.appraisal_signed_on + dt.timedelta(days=14)
    assert f"{deadline.day} {deadline:%B} {deadline.year}" in edit


def test_submitting_the_form_files_the_request(signed_in, requester):
    response = signed_in(requester).post("/cases/new/", {**form_data(), "submit": "1"})
    case = RebuttalCase.objects.get()
    assert response.status_code == 302
    assert case.status == "submitted"


def test_a_refused_form_comes_back_with_every_value_and_each_error_by_its_field(signed_in, requester):
    statement = "My statement <b>keeps</b> its text when the form is refused."
    data = form_data(first_reporting_officer_email="not-an-email", overall_rating="", statement=statement)
    response = signed_in(requester).post("/cases/new/", {**data, "submit": "1"})
    page = response.content.decode()

    assert response.status_code == 400
    assert not RebuttalCase.objects.exists()
    assert "There is a problem" in page
    assert 'href="#id_first_reporting_officer_email"' in page
    assert 'href="#id_overall_rating"' in page
    assert "My statement &lt;b&gt;keeps&lt;/b&gt; its text when the form is refused." in page
    assert 'value="not-an-email"' in page
    assert 'value="Geneva Office" selected' in page or 'value="Geneva Office"' in page


def test_a_statement_over_the_policy_limit_is_refused_with_its_length(signed_in, requester, policy):
    too_long = "x" * (policy.statement_max_chars + 1)
    response = signed_in(requester).post("/cases/new/", {**form_data(statement=too_long), "save": "1"})
    assert response.status_code == 400
    assert "20,001 characters" in response.content.decode()
    assert not RebuttalCase.objects.exists()


def test_a_sign_off_date_in_the_future_is_refused_by_the_service_on_its_field(signed_in, requester):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = signed_in(requester).post(
        "/cases/new/", {**form_data(appraisal_signed_on=future), "save": "1"}
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert 'href="#id_appraisal_signed_on"' in response.content.decode()


def test_only_the_requester_edits_and_deletes_their_draft(signed_in, requester, other_requester):
    case = make_case(requester)
    assert signed_in(other_requester).get(f"/cases/{case.pk}/edit/").status_code == 404
    assert signed_in(other_requester).post(f"/cases/{case.pk}/delete/").status_code == 404
    client = signed_in(requester)
    assert client.post(f"/cases/{case.pk}/delete/", {"version": case.version}).status_code == 302
    case.refresh_from_db()
    assert case.deleted_at is not None


# --- actions -------------------------------------------------------------------------------


def test_an_action_offered_on_the_page_performs_the_transition(signed_in, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = signed_in(hr)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Start the receivability check" in page
    assert "Withdraw your request" not in page  # the requester's action, not HR's
    response = client.post(f"/cases/{case.pk}/actions/start_screening/", {"version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "screening"


def test_an_action_on_a_changed_case_says_so_and_changes_nothing(signed_in, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = signed_in(hr)
    response = client.post(f"/cases/{case.pk}/actions/start_screening/", {"version": case.version - 1})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "submitted"
    assert "changed since you opened it" in client.get(response["Location"]).content.decode()


def test_acting_without_the_role_is_403_and_on_an_unseen_case_404(signed_in, requester, other_requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    assert signed_in(requester).post(
        f"/cases/{case.pk}/actions/start_screening/", {"version": case.version}
    ).status_code in (403, 302)
    assert (
        signed_in(other_requester)
        .post(f"/cases/{case.pk}/actions/withdraw/", {"version": case.version, "confirm": "on"})
        .status_code
        == 404
    )
    case.refresh_from_db()
    assert case.status == "submitted"


def test_withdrawing_needs_the_confirmation(signed_in, requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = signed_in(requester)
    refused = client.post(
        f"/cases/{case.pk}/actions/withdraw/", {"version": case.version, "reason": "Solved."}
    )
    assert refused.status_code == 400
    assert "Solved." in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "submitted"
    done = client.post(
        f"/cases/{case.pk}/actions/withdraw/", {"version": case.version, "reason": "Solved.", "confirm": "on"}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "withdrawn"


def test_every_view_of_a_case_page_is_logged(signed_in, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    signed_in(hr).get(f"/cases/{case.pk}/")
    signed_in(requester).get(f"/cases/{case.pk}/")
    assert list(
        CaseAccess.objects.filter(case=case, what="page").values_list("actor__username", flat=True)
    ) == [
        "hana",
        "alice",
    ]


# --- headers, sign-in, languages ---------------------------------------------------------


def test_pages_send_security_headers_and_case_pages_are_not_stored(signed_in, requester):
    case = make_case(requester)
    response = signed_in(requester).get(f"/cases/{case.pk}/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


def test_the_sign_in_page_locks_an_account_after_repeated_failures(client, requester):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        failed = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert failed.status_code in (200, 429)
    locked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_good_password_signs_in(client, requester):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(requester.pk)


def test_the_language_can_be_switched_to_french(signed_in, requester):
    make_case(requester)
    client = signed_in(requester)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/cases/"})
    page = client.get("/cases/").content.decode()
    assert '<html lang="fr">' in page
    assert "Projet" in page  # the draft's status, in French


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_deploy_checks_are_clean_with_production_settings():
    env = {
        **os.environ,
        "HTTPS": "1",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-" + "y" * 20,
        "ALLOWED_HOSTS": "rebuttals.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- query counts ----------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_queue_page_uses_the_same_queries_for_few_and_many_cases(signed_in, hr):
    client = signed_in(hr)
    for _ in range(3):
        person = UserFactory()
        advance(make_case(person), to="submitted", requester=person)
    cache.clear()
    few = _queries(client, "/queue/")
    for _ in range(20):
        person = UserFactory()
        advance(make_case(person), to="submitted", requester=person)
    cache.clear()
    many = _queries(client, "/queue/")
    assert few == many


def test_the_case_page_uses_the_same_queries_for_few_and_many_events(signed_in, requester, hr):
    case = make_case(requester)
    client = signed_in(hr)
    for i in range(2):
        case = case_update_draft(
            case_id=case.pk, actor=requester, version=case.version, data={"office": f"Office {i}"}
        )
    case = advance(case, to="screening", requester=requester, hr=hr)
    few = _queries(client, f"/cases/{case.pk}/")
    for _ in range(15):
        client.get(f"/cases/{case.pk}/")  # each view adds an access record to HR's timeline
    many = _queries(client, f"/cases/{case.pk}/")
    assert few == many


def test_the_queue_pages_through_every_open_case_once_overdue_first(signed_in, hr, monkeypatch):
    from rebuttal.models import Status
    from workflow.pages import work

    monkeypatch.setattr(work, "QUEUE_PAGE_SIZE", 4)
    cases = []
    for _ in range(9):
        person = UserFactory()
        cases.append(advance(make_case(person), to="submitted", requester=person))
    today = timezone.localdate()
    # Spread the due dates, two overdue, and two open cases with none (they come last).
    for case, offset in zip(cases, [5, -3, 2, None, 2, -1, 9, None, 0], strict=True):
        due = None if offset is None else today + dt.timedelta(days=offset)
        RebuttalCase.objects.filter(pk=case.pk).update(stage_due_on=due)
    leaver = UserFactory()
    closed = advance(make_case(leaver), to="withdrawn", requester=leaver)
    expected = list(RebuttalCase.objects.filter(pk__in=[c.pk for c in cases]).order_by("stage_due_on", "pk"))
    dated = [c.reference for c in expected if c.stage_due_on]
    undated = sorted((c for c in expected if not c.stage_due_on), key=lambda c: c.pk)
    order = dated + [c.reference for c in undated]

    client, seen, url = signed_in(hr), [], "/queue/"
    for _ in range(5):
        text = client.get(url).content.decode()
        seen += re.findall(r">(RB-\d{4}-\d{4})</a>", text)
        marker = 'href="?'
        nxt = [part.split('"')[0] for part in text.split(marker)[1:] if "after=" in part.split('"')[0]]
        if not nxt:
            break
        url = "/queue/?" + nxt[-1].replace("&amp;", "&")
    assert seen == order
    assert closed.reference not in seen
    assert Status.WITHDRAWN not in {c.status for c in expected}


def test_the_counts_per_state_follow_each_transition(
    signed_in, requester, hr, django_capture_on_commit_callbacks
):
    from workflow.pages.work import state_counts

    case = advance(make_case(requester), to="submitted", requester=requester)
    assert state_counts().get("submitted") == 1
    with django_capture_on_commit_callbacks(execute=True):
        advance(case, to="screening", requester=requester, hr=hr)
    assert state_counts().get("submitted") is None
    assert state_counts()["screening"] == 1
