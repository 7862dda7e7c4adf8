"""No request may produce a 500: malformed JSON, wrong types, missing fields, huge strings.

Hypothesis throws payloads at every writing endpoint of the API. The API client
re-raises any exception a view lets escape, so a would-be 500 fails the test
with its traceback; every answer must be below 500, and every error a JSON body
with a ``detail``. NUL characters get special attention: PostgreSQL refuses
them in text, so one that reached the database would be a 500 there.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.test.client import BOUNDARY, encode_multipart
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from rebuttal.models import RebuttalCase
from rebuttal.serializers import PolicySerializer
from tests.factories import advance, api_intake, make_case

# FUZZ_EXAMPLES=5000 for a long hunt; the default keeps the file well under a minute.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the people and cases are reused on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

MEGABYTE = 1_000_000
HUGE_STRINGS = [
    "a" * MEGABYTE,
    "é" * (MEGABYTE // 2),
    "\x00" * 10 + "x" * MEGABYTE,
    "RB-" + "9" * MEGABYTE,
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "application/json; charset=klingon",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    f"multipart/form-data; boundary={BOUNDARY}",
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**40)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
nasty_text = (
    st.text(max_size=40)
    | st.text(alphabet=st.sampled_from("\x00\ufffd\u202e\U0001f600'\"%_\\<>;"), max_size=20)
    | st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=10), st.text(max_size=10))
    | st.sampled_from(HUGE_STRINGS)
)
# Any field may get a valid value, a wrong type, hostile text or nothing at all.
field_value = nasty_text | json_values
latin1_text = st.text(alphabet=st.characters(max_codepoint=255), max_size=60)


def payload_for(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``valid`` with a few values replaced by junk, a few left out and a few unknown keys added.

    Corrupting a few fields, not all, lets many payloads pass validation and
    reach the services and the database.
    """
    keys = sorted(valid)

    def corrupt(junk: dict[str, Any], dropped: set[str], extra: dict[str, Any]) -> dict[str, Any]:
        data = {**valid, **junk}
        for key in dropped:
            data.pop(key, None)
        return {**extra, **data}

    return st.builds(
        corrupt,
        junk=st.dictionaries(st.sampled_from(keys), field_value, max_size=3),
        dropped=st.sets(st.sampled_from(keys), max_size=2),
        extra=st.dictionaries(st.text(max_size=12), field_value, max_size=2),
    )


def _form_value(value: Any) -> str:
    # A form carries text; lone surrogates cannot be encoded, so they become U+FFFD.
    return ("" if value is None else str(value)).encode("utf-8", "replace").decode()


def body_strategy(valid: dict[str, Any]) -> st.SearchStrategy[tuple[bytes, str]]:
    """A request body and its content type: mostly JSON, also forms and raw bytes."""
    as_json = (payload_for(valid) | json_values).map(
        lambda value: (json.dumps(value).encode(), "application/json")
    )
    raw = st.tuples(
        st.binary(max_size=200)
        | st.sampled_from([b"{", b"[1,", b'{"a": NaN}', b"\xff\xfe{}", b"[" * 50_000 + b"]" * 50_000]),
        st.sampled_from(CONTENT_TYPES),
    )
    as_form = payload_for(valid).map(
        lambda value: (
            encode_multipart(BOUNDARY, {k: _form_value(v) for k, v in value.items()}),
            f"multipart/form-data; boundary={BOUNDARY}",
        )
    )
    return st.one_of(as_json, as_json, raw, as_form)


def assert_handled(response: Any) -> None:
    """Below 500; an error is JSON with a human-readable ``detail``."""
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), response.content[:300]
        body = response.json()
        assert isinstance(body, dict)
        assert isinstance(body.get("detail"), str)
        assert body["detail"]


def call(client: APIClient, method: str, url: str, body: bytes, content_type: str) -> Any:
    response = client.generic(method, url, body, content_type=content_type)
    assert_handled(response)
    return response


def send(client: APIClient, method: str, url: str, body: bytes, content_type: str) -> Any:
    """``call`` inside a Hypothesis test, counting the answers (see --hypothesis-show-statistics)."""
    response = call(client, method, url, body, content_type)
    event(f"status {response.status_code}")
    return response


def with_current_version(raw: bytes, case: RebuttalCase) -> bytes:
    """A JSON object whose ``version`` was left valid (1) gets the case's current one.

    Then the junk in the other fields gets past the version check, into the
    services and the database.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON: sent as it is
        return raw
    if isinstance(data, dict) and data.get("version") == 1:
        data["version"] = case.version
        return json.dumps(data).encode()
    return raw


@pytest.fixture
def as_requester(requester) -> APIClient:  # noqa: ANN001
    client = APIClient()
    client.force_authenticate(requester)
    return client


@pytest.fixture
def as_hr(hr) -> APIClient:  # noqa: ANN001
    client = APIClient()
    client.force_authenticate(hr)
    return client


@FUZZ
@given(body=body_strategy(api_intake()))
def test_creating_a_case_never_fails_with_a_server_error(as_requester, body):
    response = send(as_requester, "POST", "/api/v1/cases/", *body)
    assert response.status_code in (201, 400, 413, 415)


@FUZZ
@given(body=body_strategy({**api_intake(), "version": 1}))
def test_editing_a_draft_never_fails_with_a_server_error(as_requester, requester, body):
    case = RebuttalCase.objects.filter(requester=requester, status="draft").first() or make_case(requester)
    raw, content_type = body
    response = send(
        as_requester, "PATCH", f"/api/v1/cases/{case.pk}/", with_current_version(raw, case), content_type
    )
    assert response.status_code in (200, 400, 409, 413, 415)


TRANSITION_FIELDS = {
    "version": 1,
    "reason": "Filed too late.",
    "override_justification": "Checked.",
    "comment": "",
}


@FUZZ
@given(
    name=st.sampled_from(["start_screening", "accept_receivable", "reject_not_receivable", "withdraw"])
    | st.sampled_from(["submit", "decide", "teleport", "x" * 300]),
    body=body_strategy(TRANSITION_FIELDS),
)
def test_hr_transitions_never_fail_with_a_server_error(as_hr, requester, hr, name, body):
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    raw, content_type = body
    url = f"/api/v1/cases/{case.pk}/transitions/{name}/"
    response = send(as_hr, "POST", url, with_current_version(raw, case), content_type)
    assert response.status_code in (200, 400, 403, 404, 409, 413, 415)


@FUZZ
@given(
    name=st.sampled_from(["submit", "withdraw", "start_screening"])
    | st.from_regex(r"[a-z_]{1,30}", fullmatch=True),
    body=body_strategy(TRANSITION_FIELDS),
)
def test_requester_transitions_never_fail_with_a_server_error(as_requester, requester, name, body):
    case = make_case(requester)
    response = send(as_requester, "POST", f"/api/v1/cases/{case.pk}/transitions/{name}/", *body)
    assert response.status_code in (200, 400, 403, 404, 409, 413, 415)


@pytest.fixture
def policy_payload(policy) -> dict[str, Any]:  # noqa: ANN001
    data = dict(PolicySerializer(policy).data)
    data.pop("version")
    data.pop("created_at")
    return json.loads(json.dumps(data))


def mutated_policies(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The policy in force with up to three values replaced: by junk or by junk of the right shape."""
    small_text = st.text(max_size=40) | st.builds(lambda a: f"{a}\x00", st.text(max_size=5))
    shaped = {
        "rating_scale": st.lists(
            st.fixed_dictionaries({"key": small_text, "label": small_text}) | json_values, max_size=12
        ),
        "stage_targets": st.dictionaries(
            st.sampled_from(sorted(valid["stage_targets"])) | st.text(max_size=5),
            st.fixed_dictionaries({"days": json_values, "unit": st.sampled_from(["calendar", "business"])})
            | json_values,
            max_size=9,
        ),
        "reminder_thresholds": st.lists(st.integers(-5, 200) | json_values, max_size=5),
        "rebuttable_ratings": st.lists(
            small_text | st.sampled_from(["exceeds", "does_not_meet"]), max_size=4
        ),
        "eligible_contract_types": st.lists(small_text | st.sampled_from(["ica", "temporary"]), max_size=4),
    }
    change = st.sampled_from(sorted(valid)).flatmap(
        lambda key: st.tuples(st.just(key), shaped.get(key, field_value) | field_value)
    )
    return st.lists(change, max_size=3).map(lambda changes: {**valid, **dict(changes)})


@FUZZ
@given(data=st.data())
def test_publishing_a_policy_never_fails_with_a_server_error(hr_admin, policy_payload, data):
    client = APIClient()
    client.force_authenticate(hr_admin)
    value = data.draw(mutated_policies(policy_payload) | json_values)
    response = send(client, "PUT", "/api/v1/policy/", json.dumps(value).encode(), "application/json")
    assert response.status_code in (200, 400, 413)


@FUZZ
@given(body=body_strategy({"username": "alice", "password": "pw-for-tests-only"}))
def test_token_login_never_fails_with_a_server_error(api, requester, body):
    response = send(api, "POST", "/api/v1/auth/token/", *body)
    assert response.status_code in (200, 400, 413, 415)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "overdue",
                "assigned_to_me",
                "office",
                "region",
                "cycle",
                "search",
                "page",
                "page_size",
            ]
        ),
        latin1_text | st.integers().map(str) | st.sampled_from(["\x00", "a\x00b", "9" * 5000]),
        max_size=4,
    )
)
def test_filtering_the_case_list_never_fails_with_a_server_error(as_hr, params):
    response = as_hr.get("/api/v1/cases/", params)
    assert_handled(response)
    assert response.status_code in (200, 400, 404)


@FUZZ
@given(header=latin1_text, cookie=latin1_text)
def test_hostile_credentials_are_refused_without_a_server_error(api, requester, header, cookie):
    response = api.get("/api/v1/cases/", HTTP_AUTHORIZATION=header, HTTP_COOKIE=f"sessionid={cookie}")
    assert_handled(response)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Token abc\x00def", "Token " + "\x00" * 40, "Token " + "f" * MEGABYTE, "Basic YWxpY2U6cHc=", "Bearer x"],
)
def test_a_malformed_authorization_header_is_401(api, requester, header):
    response = api.get("/api/v1/cases/", HTTP_AUTHORIZATION=header)
    assert_handled(response)
    assert response.status_code == 401


def test_a_session_cookie_with_a_nul_is_no_session(api, requester):
    response = api.get("/api/v1/cases/", HTTP_COOKIE="sessionid=abcdefgh\x00ijklmnop")
    assert_handled(response)
    assert response.status_code == 401


def test_deeply_nested_json_is_400(as_requester):
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        response = call(as_requester, "POST", "/api/v1/cases/", body, "application/json")
        assert response.status_code == 400


def test_a_body_over_the_upload_limit_is_413(as_requester):
    body = json.dumps({**api_intake(), "statement": "a" * 3 * MEGABYTE}).encode()
    response = call(as_requester, "POST", "/api/v1/cases/", body, "application/json")
    assert response.status_code == 413


def test_too_many_form_fields_is_400(as_requester):
    body = "&".join(f"f{i}=1" for i in range(1500)).encode()
    response = call(as_requester, "POST", "/api/v1/cases/", body, "application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["office", "statement", "first_reporting_officer_email"])
def test_a_nul_character_in_a_text_field_is_400_naming_it(as_requester, field):
    payload = {**api_intake(), field: "Gen\x00eva"}
    response = call(as_requester, "POST", "/api/v1/cases/", json.dumps(payload).encode(), "application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}


def test_a_nul_character_in_a_transition_reason_is_400(as_hr, requester, hr):
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    body = json.dumps({"version": case.version, "reason": "late\x00"}).encode()
    response = call(
        as_hr, "POST", f"/api/v1/cases/{case.pk}/transitions/reject_not_receivable/", body, "application/json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
