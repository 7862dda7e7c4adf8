"""What ``python -m verify fuzz`` (schemathesis against the live server) found: statuses the schema omits.

The contract (``api.md``) says the OpenAPI schema describes every error status. Each
test sends one of the fuzzer's failing requests, in its smallest form, and checks
that it is refused (4xx) with a status the schema documents for that operation
(exactly, as ``4XX`` or by ``default``). They failed until the schema documented
them (the token view's 400, and ``rebuttal.api_schema`` for 415, 414 and the 404 of
paging and formats); they stay as regression tests.
"""

from __future__ import annotations

import pytest

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def documented(api):  # noqa: ANN001, ANN201
    """``documented(method, path)``: the statuses the live schema lists for that operation."""
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    def statuses(method: str, path: str) -> set[str]:
        return {str(key).upper() for key in paths[path][method.lower()]["responses"]}

    return statuses


def _is_documented(status: int, statuses: set[str]) -> bool:
    return "DEFAULT" in statuses or str(status) in statuses or f"{status // 100}XX" in statuses


def test_token_login_with_wrong_credentials_answers_a_documented_status(api, requester, documented):
    response = api.post(TOKEN, {"username": "alice", "password": "not-her-password"}, format="json")

    assert 400 <= response.status_code < 500
    assert _is_documented(response.status_code, documented("POST", TOKEN))


def test_token_login_without_a_body_answers_a_documented_status(api, documented):
    response = api.post(TOKEN)

    assert 400 <= response.status_code < 500
    assert _is_documented(response.status_code, documented("POST", TOKEN))


# Operations the fuzzer sent a JSON body as ``text/plain``: DRF answers 415, which no operation documents.
UNSUPPORTED_MEDIA_TYPE = [
    ("POST", "/api/v1/cases/", "/api/v1/cases/", "requester"),
    ("POST", "/api/v1/reviewers/", "/api/v1/reviewers/", "hr_admin"),
    ("PUT", "/api/v1/policy/", "/api/v1/policy/", "hr_admin"),
    ("POST", "/api/v1/letters/{id}/correct/", "/api/v1/letters/0/correct/", "hr"),
    ("POST", "/api/v1/document-requests/{id}/answer/", "/api/v1/document-requests/0/answer/", "requester"),
    ("POST", "/api/v1/supervisor-invitations/{id}/", "/api/v1/supervisor-invitations/0/", "requester"),
]


@pytest.mark.parametrize(("method", "template", "url", "who"), UNSUPPORTED_MEDIA_TYPE)
def test_a_body_of_an_unsupported_type_answers_a_documented_status(
    request, api_as, documented, method, template, url, who
):  # noqa: ANN001, PLR0913
    client = api_as(request.getfixturevalue(who))
    response = client.generic(method, url, '{"reason": "x"}', content_type="text/plain")

    assert 400 <= response.status_code < 500
    assert _is_documented(response.status_code, documented(method, template))


@pytest.mark.parametrize("path", ["/api/v1/assignments/", "/api/v1/tasks/"])
def test_a_page_that_is_not_a_number_answers_a_documented_status(api_as, hr, documented, path):  # noqa: ANN001
    response = api_as(hr).get(path, {"page": "x"})

    assert 400 <= response.status_code < 500
    assert _is_documented(response.status_code, documented("GET", path))


def test_a_fee_certification_format_outside_the_enum_answers_a_documented_status(api_as, hr, documented):  # noqa: ANN001
    path = "/api/v1/fees/certification/"
    response = api_as(hr).get(path, {"format": "AAA"})

    assert 400 <= response.status_code < 500
    assert _is_documented(response.status_code, documented("GET", path))
