"""The HTTP API v1 keeps the status codes and bodies of the contract (docs: shared/api.md).

Business rules are tested through the services; these tests pin down what an
integration sees: who gets 401/403/404/409, what a 400 names, and that every
error body is JSON with a ``detail``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token

from rebuttal.serializers import HANDLER_FIELDS
from tests.factories import advance, api_intake, make_case

PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory
CASES = "/api/v1/cases/"


def case_url(case: Any, suffix: str = "") -> str:
    return f"{CASES}{case.pk}/{suffix}"


def transition_url(case: Any, name: str) -> str:
    return f"{CASES}{case.pk}/transitions/{name}/"


def error(response: Any, status: int) -> dict[str, Any]:
    """The response has ``status`` and the contract's error body: JSON with a ``detail``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return body


def refs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item["reference"] for item in response.json()["results"]]


# --- authentication ----------------------------------------------------------------


def test_token_login_with_good_credentials_returns_a_token(api, requester):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    assert response.json()["token"] == Token.objects.get(user=requester).key


def test_token_login_with_a_wrong_password_is_400_with_detail(api, requester):
    response = api.post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"}, format="json")
    error(response, 400)
    assert not Token.objects.filter(user=requester).exists()


def test_token_login_without_password_names_the_field(api, requester):
    body = error(api.post("/api/v1/auth/token/", {"username": "alice"}, format="json"), 400)
    assert "password" in body["errors"]


def test_the_issued_token_authenticates_api_calls(api, requester):
    token = api.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    ).json()["token"]
    case = make_case(requester)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert refs(api.get(CASES)) == [case.reference]


def test_an_unknown_token_is_401(api, requester):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    error(api.get(CASES), 401)


def test_http_basic_auth_is_not_accepted(api, requester):
    credentials = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    api.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    response = api.get(CASES)
    error(response, 401)
    # The challenge offers tokens, never Basic.
    assert response["WWW-Authenticate"].startswith("Token")


def test_session_login_reads_the_api(api, requester):
    case = make_case(requester)
    # Through the sign-in page, as a browser does (django-axes watches it).
    signed_in = api.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, format="multipart")
    assert signed_in.status_code == 302
    assert refs(api.get(CASES)) == [case.reference]


# --- case list ---------------------------------------------------------------------


def test_anonymous_case_list_is_401(api, requester):
    make_case(requester)
    error(api.get(CASES), 401)


def test_case_list_is_newest_first(api_as, requester):
    cases = [make_case(requester, appraisal_cycle=2020 + i) for i in range(3)]
    assert refs(api_as(requester).get(CASES)) == [c.reference for c in reversed(cases)]


def test_case_list_shows_only_the_cases_the_caller_may_see(api_as, requester, other_requester, hr, outsider):
    own_draft = make_case(requester)
    own_filed = advance(make_case(requester, appraisal_cycle=2025), to="submitted", requester=requester)
    others_draft = make_case(other_requester)
    others_filed = advance(make_case(other_requester), to="submitted", requester=other_requester)

    assert set(refs(api_as(requester).get(CASES))) == {own_draft.reference, own_filed.reference}
    assert set(refs(api_as(other_requester).get(CASES))) == {others_draft.reference, others_filed.reference}
    # HR sees every filed case, nobody's draft.
    assert set(refs(api_as(hr).get(CASES))) == {own_filed.reference, others_filed.reference}
    assert refs(api_as(outsider).get(CASES)) == []


def test_case_list_items_carry_the_summary_fields(api_as, requester):
    make_case(requester)
    item = api_as(requester).get(CASES).json()["results"][0]
    for name in ("id", "reference", "status", "version", "overall_rating", "final_rating", "stage_due_on"):
        assert name in item


def test_case_list_filters_by_status(api_as, requester, other_requester, hr):
    submitted = advance(make_case(requester), to="submitted", requester=requester)
    screening = advance(make_case(other_requester), to="screening", requester=other_requester, hr=hr)
    client = api_as(hr)
    assert refs(client.get(CASES, {"status": "submitted"})) == [submitted.reference]
    assert refs(client.get(CASES, {"status": "screening"})) == [screening.reference]
    assert refs(client.get(CASES, {"status": "closed"})) == []


def test_case_list_rejects_an_unknown_status_filter(api_as, hr):
    body = error(api_as(hr).get(CASES, {"status": "lost"}), 400)
    assert "status" in body["errors"]


def test_case_list_filters_overdue_cases(api_as, requester, other_requester, hr):
    late = advance(make_case(requester), to="submitted", requester=requester)
    with time_machine.travel(timezone.now() + dt.timedelta(days=60), tick=False):
        on_time = advance(make_case(other_requester), to="submitted", requester=other_requester)
        client = api_as(hr)
        assert refs(client.get(CASES, {"overdue": "true"})) == [late.reference]
        assert refs(client.get(CASES, {"overdue": "false"})) == [on_time.reference]
        assert len(refs(client.get(CASES))) == 2


def test_case_list_filters_the_cases_assigned_to_me(api_as, requester, other_requester, hr, reviewer):
    held = advance(make_case(requester), to="reviewer_invited", requester=requester, hr=hr, reviewer=reviewer)
    advance(make_case(other_requester), to="awaiting_assignment", requester=other_requester, hr=hr)
    own = make_case(reviewer)  # the reviewer's own request is not "assigned" to them

    assert set(refs(api_as(reviewer).get(CASES))) == {held.reference, own.reference}
    assert refs(api_as(reviewer).get(CASES, {"assigned_to_me": "true"})) == [held.reference]
    assert refs(api_as(hr).get(CASES, {"assigned_to_me": "true"})) == []


def test_case_list_filters_by_office_region_and_cycle(api_as, requester, other_requester, hr):
    geneva = advance(make_case(requester), to="submitted", requester=requester)
    nairobi = advance(
        make_case(other_requester, office="Nairobi Office", region="Africa", appraisal_cycle=2025),
        to="submitted",
        requester=other_requester,
    )
    client = api_as(hr)
    assert refs(client.get(CASES, {"office": "geneva office"})) == [geneva.reference]
    assert refs(client.get(CASES, {"region": "Africa"})) == [nairobi.reference]
    assert refs(client.get(CASES, {"cycle": 2025})) == [nairobi.reference]
    assert refs(client.get(CASES, {"cycle": 2026, "region": "Africa"})) == []


def test_case_list_searches_reference_and_requester(api_as, requester, other_requester, hr):
    alices = advance(make_case(requester), to="submitted", requester=requester)
    olgas = advance(make_case(other_requester), to="submitted", requester=other_requester)
    client = api_as(hr)
    assert refs(client.get(CASES, {"search": olgas.reference})) == [olgas.reference]
    assert refs(client.get(CASES, {"search": "abara"})) == [alices.reference]
    assert refs(client.get(CASES, {"search": "olga@example"})) == [olgas.reference]
    assert refs(client.get(CASES, {"search": "nobody-matches"})) == []


def test_case_list_is_paginated_by_page(api_as, requester):
    cases = [make_case(requester) for _ in range(27)]
    client = api_as(requester)
    first = client.get(CASES).json()
    assert len(first["results"]) == 25
    assert first["next"] is not None
    assert first["previous"] is None
    # ``page`` is the opaque position the ``next`` link carries.
    page = parse_qs(urlsplit(first["next"]).query)["page"][0]
    second = client.get(CASES, {"page": page}).json()
    assert [item["reference"] for item in second["results"]] == [c.reference for c in cases[1::-1]]
    assert second["next"] is None
    assert refs(client.get(second["previous"])) == [c.reference for c in cases[:1:-1]]


def test_case_list_with_an_invalid_page_is_404(api_as, requester):
    make_case(requester)
    error(api_as(requester).get(CASES, {"page": "not-a-position"}), 404)


# --- create ----------------------------------------------------------------------------


def test_create_returns_a_draft_with_a_reference_and_version(api_as, requester):
    response = api_as(requester).post(CASES, api_intake(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert re.fullmatch(rf"RB-{timezone.localdate().year}-\d{{4}}", body["reference"])
    assert body["version"] == 1
    assert body["overall_rating"] == "partially_meets"
    assert body["available_transitions"] == ["submit"]


def test_create_by_anonymous_is_401(api, requester):
    error(api.post(CASES, api_intake(), format="json"), 401)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("overall_rating", "brilliant"),
        ("contract_type", "consultant"),
        ("appraisal_signed_on", "tomorrow"),
        ("first_reporting_officer_email", "not-an-email"),
        ("second_reporting_officer_email", "sro at example.org"),
        ("language", "de"),
        ("appraisal_cycle", 1066),
        ("appointment_months", 0),
    ],
)
def test_create_with_a_bad_field_is_400_naming_it(api_as, requester, field, value):
    if value == "tomorrow":
        value = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    payload = api_intake()
    payload[field] = value
    body = error(api_as(requester).post(CASES, payload, format="json"), 400)
    assert set(body["errors"]) == {field}
    assert field in body["detail"]


def test_create_names_every_bad_field_at_once(api_as, requester):
    payload = api_intake(contract_type="consultant", first_reporting_officer_email="nope")
    del payload["office"]
    body = error(api_as(requester).post(CASES, payload, format="json"), 400)
    assert set(body["errors"]) == {"contract_type", "first_reporting_officer_email", "office"}


# --- detail --------------------------------------------------------------------------


def test_detail_lists_the_transitions_available_to_the_caller(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    as_requester = api_as(requester).get(case_url(case)).json()
    assert as_requester["available_transitions"] == ["withdraw"]
    as_hr = api_as(hr).get(case_url(case)).json()
    assert as_hr["available_transitions"] == ["start_screening"]
    for name in ("id", "reference", "status", "version", "original_rating", "final_rating", "stage_due_on"):
        assert name in as_hr


def test_detail_of_someone_elses_case_is_404_for_a_requester(api_as, requester, other_requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(other_requester).get(case_url(case)), 404)


def test_detail_is_404_for_an_outsider(api_as, requester, outsider):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(outsider).get(case_url(case)), 404)


def test_detail_of_a_draft_is_404_for_hr(api_as, requester, hr):
    error(api_as(hr).get(case_url(make_case(requester))), 404)


def test_detail_of_a_missing_case_is_404(api_as, requester):
    error(api_as(requester).get(f"{CASES}999999/"), 404)
    error(api_as(requester).get(f"{CASES}not-a-number/"), 404)


def test_requester_does_not_see_handler_only_fields(api_as, requester, hr):
    case = advance(
        make_case(requester, contract_type="temporary"), to="awaiting_assignment", requester=requester, hr=hr
    )
    mine = api_as(requester).get(case_url(case)).json()
    assert not HANDLER_FIELDS & set(mine)
    handled = api_as(hr).get(case_url(case)).json()
    assert handled["override_justification"] == "Accepted in test."
    assert handled["requester"] == "alice@example.org"


# --- PATCH a draft ---------------------------------------------------------------------


def test_requester_edits_a_draft_with_the_current_version(api_as, requester):
    case = make_case(requester)
    response = api_as(requester).patch(case_url(case), {"version": 1, "office": "Bonn Office"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["office"] == "Bonn Office"
    assert response.json()["version"] == 2


def test_editing_with_a_stale_version_is_409(api_as, requester):
    case = make_case(requester)
    client = api_as(requester)
    client.patch(case_url(case), {"version": 1, "office": "Bonn Office"}, format="json")
    body = error(client.patch(case_url(case), {"version": 1, "office": "Rome Office"}, format="json"), 409)
    assert body["code"] == "stale_version"


def test_editing_a_submitted_request_is_409(api_as, requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    payload = {"version": case.version, "office": "Bonn Office"}
    body = error(api_as(requester).patch(case_url(case), payload, format="json"), 409)
    assert body["code"] == "transition_not_allowed"


def test_hr_who_can_see_a_submitted_case_may_not_edit_it(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    payload = {"version": case.version, "office": "Bonn Office"}
    error(api_as(hr).patch(case_url(case), payload, format="json"), 403)


def test_editing_without_a_version_is_400(api_as, requester):
    case = make_case(requester)
    body = error(api_as(requester).patch(case_url(case), {"office": "Bonn Office"}, format="json"), 400)
    assert "version" in body["errors"]


def test_editing_someone_elses_draft_is_404(api_as, requester, other_requester):
    case = make_case(requester)
    error(api_as(other_requester).patch(case_url(case), {"version": 1, "office": "X"}, format="json"), 404)


def test_edit_with_a_bad_field_is_400_naming_it(api_as, requester):
    case = make_case(requester)
    payload = {"version": 1, "overall_rating": "brilliant"}
    body = error(api_as(requester).patch(case_url(case), payload, format="json"), 400)
    assert set(body["errors"]) == {"overall_rating"}


# --- DELETE a draft --------------------------------------------------------------------


def test_deleting_a_draft_is_204_and_then_it_is_gone(api_as, requester):
    case = make_case(requester)
    client = api_as(requester)
    assert client.delete(case_url(case)).status_code == 204
    error(client.get(case_url(case)), 404)
    error(client.delete(case_url(case)), 404)
    assert refs(client.get(CASES)) == []


def test_deleting_a_submitted_request_is_409(api_as, requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(requester).delete(case_url(case)), 409)


def test_hr_may_not_delete_a_request(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(hr).delete(case_url(case)), 403)


# --- transitions ------------------------------------------------------------------------


def test_a_transition_returns_the_updated_case(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    response = api_as(hr).post(
        transition_url(case, "start_screening"), {"version": case.version}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "screening"
    assert body["version"] == case.version + 1
    assert set(body["available_transitions"]) == {"accept_receivable", "reject_not_receivable"}


def test_requester_submits_their_draft_through_the_api(api_as, requester):
    case = make_case(requester)
    response = api_as(requester).post(transition_url(case, "submit"), {"version": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert response.json()["submitted_at"] is not None


def test_a_transition_not_allowed_now_is_409(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    payload = {"version": case.version, "override_justification": "x"}
    body = error(api_as(hr).post(transition_url(case, "accept_receivable"), payload, format="json"), 409)
    assert body["code"] == "transition_not_allowed"


def test_a_transition_with_a_stale_version_is_409(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    payload = {"version": case.version - 1}
    body = error(api_as(hr).post(transition_url(case, "start_screening"), payload, format="json"), 409)
    assert body["code"] == "stale_version"


def test_a_transition_of_another_role_is_403(api_as, requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    payload = {"version": case.version}
    error(api_as(requester).post(transition_url(case, "start_screening"), payload, format="json"), 403)


def test_an_unknown_transition_is_404(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(hr).post(transition_url(case, "teleport"), {"version": case.version}, format="json"), 404)


def test_a_transition_on_an_invisible_case_is_404(api_as, requester, outsider, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(
        api_as(outsider).post(transition_url(case, "withdraw"), {"version": case.version}, format="json"), 404
    )
    draft = make_case(requester, appraisal_cycle=2025)
    error(api_as(hr).post(transition_url(draft, "submit"), {"version": 1}, format="json"), 404)


def test_a_transition_without_a_version_is_400(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    body = error(api_as(hr).post(transition_url(case, "start_screening"), {}, format="json"), 400)
    assert "version" in body["errors"]


def test_rejecting_as_not_receivable_without_a_reason_is_400(api_as, requester, hr):
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    client = api_as(hr)
    url = transition_url(case, "reject_not_receivable")
    for payload in ({"version": case.version}, {"version": case.version, "reason": "   "}):
        body = error(client.post(url, payload, format="json"), 400)
        assert "reason" in body["errors"]
    response = client.post(url, {"version": case.version, "reason": "Filed too late."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "not_receivable"


def test_accepting_over_a_failed_rule_without_justification_is_400(api_as, requester, hr):
    case = advance(make_case(requester, statement=""), to="screening", requester=requester, hr=hr)
    body = error(
        api_as(hr).post(transition_url(case, "accept_receivable"), {"version": case.version}, format="json"),
        400,
    )
    assert "override_justification" in body["errors"]


# --- receivability ---------------------------------------------------------------------


def test_hr_reads_the_receivability_checklist(api_as, requester, hr):
    case = advance(make_case(requester, contract_type="temporary"), to="submitted", requester=requester)
    response = api_as(hr).get(case_url(case, "receivability/"))
    assert response.status_code == 200
    rules = response.json()
    assert [r["rule"] for r in rules] == [
        "rebuttable_rating",
        "filing_window",
        "eligible_contract",
        "one_per_appraisal",
        "distinct_reporting_officers",
        "statement_present",
    ]
    for rule in rules:
        assert set(rule) == {"rule", "passed", "detail"}
        assert isinstance(rule["passed"], bool)
        assert rule["detail"]
    assert [r["rule"] for r in rules if not r["passed"]] == ["eligible_contract"]


def test_the_requester_may_not_read_the_receivability_checklist(api_as, requester):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(requester).get(case_url(case, "receivability/")), 403)


def test_the_receivability_checklist_is_404_for_an_outsider(api_as, requester, outsider):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(outsider).get(case_url(case, "receivability/")), 404)


# --- timeline --------------------------------------------------------------------------


TIMELINE_FIELDS = {"at", "actor", "kind", "from_status", "to_status", "changes", "reason"}


def test_the_timeline_lists_every_event_oldest_first(api_as, requester, hr):
    case = make_case(requester)
    client = api_as(requester)
    client.patch(case_url(case), {"version": 1, "office": "Bonn Office"}, format="json")
    case.refresh_from_db()
    advance(case, to="withdrawn", requester=requester, hr=hr)

    response = client.get(case_url(case, "timeline/"))
    assert response.status_code == 200
    entries = response.json()
    assert [e["kind"] for e in entries] == ["created", "updated", "transition", "transition"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    for entry in entries:
        assert set(entry) >= TIMELINE_FIELDS
    assert entries[1]["changes"] == {"office": ["Geneva Office", "Bonn Office"]}
    assert entries[2]["actor"] == "Alice Abara"
    assert (entries[2]["from_status"], entries[2]["to_status"]) == ("draft", "submitted")
    assert (entries[3]["to_status"], entries[3]["reason"]) == ("withdrawn", "Resolved informally.")


def test_the_timeline_gives_times_in_utc_whatever_the_local_time_zone(api_as, requester):
    case = make_case(requester)
    with timezone.override(dt.timezone(dt.timedelta(hours=2))):
        entries = api_as(requester).get(case_url(case, "timeline/")).json()
    at = dt.datetime.fromisoformat(entries[0]["at"].replace("Z", "+00:00"))
    assert at.utcoffset() == dt.timedelta(0)


def test_hr_sees_who_opened_the_case_in_the_timeline_in_order(api_as, requester, hr):
    case = advance(make_case(requester), to="submitted", requester=requester)
    client = api_as(hr)
    client.get(case_url(case))
    entries = client.get(case_url(case, "timeline/")).json()
    assert [e["kind"] for e in entries] == ["created", "transition", "viewed", "viewed"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)


def test_the_timeline_is_404_for_an_outsider(api_as, requester, outsider):
    case = advance(make_case(requester), to="submitted", requester=requester)
    error(api_as(outsider).get(case_url(case, "timeline/")), 404)


# --- schema and docs -------------------------------------------------------------------


CONTRACT_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/cases/": {"get", "post"},
    "/api/v1/cases/{id}/": {"get", "patch", "delete"},
    "/api/v1/cases/{id}/transitions/{name}/": {"post"},
    "/api/v1/cases/{id}/receivability/": {"get"},
    "/api/v1/cases/{id}/timeline/": {"get"},
    "/api/v1/policy/": {"get", "put"},
}


def _routed_api_paths() -> set[str]:
    """Every path Django routes under /api/v1/, in OpenAPI spelling (``{id}``)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.add(route)

    walk(get_resolver().url_patterns, "/")
    paths = set()
    for route in found:
        path = route.replace("^", "").replace("$", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path).replace("{pk}", "{id}")
        if path.startswith("/api/v1/") and "{format}" not in path:
            paths.add(path)
    return paths


def test_the_openapi_schema_describes_every_api_path(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    assert _routed_api_paths() <= set(schema["paths"])


def test_the_openapi_schema_documents_the_error_statuses(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    transition = paths["/api/v1/cases/{id}/transitions/{name}/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(transition)
    assert {"200", "401", "404"} <= set(paths["/api/v1/cases/{id}/"]["get"]["responses"])


def test_the_api_docs_page_is_served(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/cases/{id}/transitions/{name}/" in target.read_text()
