"""The HR dashboard ``/reports/``: filters, server-side SVG charts with their tables, constant queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory, advance, make_case
from tests.reports.test_exports import build_cases

URL = "/reports/"


@pytest.fixture
def cases(requester, hr, reviewer, endorser, decision_maker):  # noqa: ANN001, ANN201
    return build_cases(
        requester=requester, hr=hr, reviewer=reviewer, endorser=endorser, decision_maker=decision_maker
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("hr", 200), ("hr_admin", 200), ("endorser", 403), ("decision_maker", 403), ("requester", 403)],
)
def test_dashboard_is_for_hr_only(client, request, role, status):  # noqa: ANN001
    client.force_login(request.getfixturevalue(role))
    assert client.get(URL).status_code == status


def test_anonymous_is_sent_to_login(client, policy):  # noqa: ANN001
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_dashboard_url_name_and_menu(client, hr):  # noqa: ANN001
    assert reverse("reports-dashboard") == URL
    client.force_login(hr)
    assert f'href="{URL}"' in client.get(reverse("queue")).content.decode()


def test_dashboard_renders_charts_each_with_its_table(client, hr, cases):  # noqa: ANN001
    client.force_login(hr)
    html = client.get(URL).content.decode()
    assert html.count("<svg ") == 4
    assert html.count("<caption>") == 4
    assert 'scope="col"' in html
    assert 'scope="row"' in html
    # The site's CSP forbids inline styles: the charts use presentation attributes only.
    assert " style=" not in html
    assert "<style" not in html
    # Open cases by age: all three filed today.
    assert re.search(r'<th scope="row">0-30</th><td>3</td>', html)
    # The CSV links carry no filters by default.
    assert 'href="/reports/cases.csv"' in html
    assert 'href="/reports/figures.csv?suppressed=1"' in html


def test_filters_go_into_the_csv_links(client, hr, cases):  # noqa: ANN001
    client.force_login(hr)
    html = client.get(URL, {"from": "2020-01-01", "office": "Geneva Office"}).content.decode()
    assert "/reports/cases.csv?from=2020-01-01&amp;office=Geneva+Office" in html


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"cycle": "x"}, "cycle"),
    ],
)
def test_bad_filters_show_errors_and_the_defaults(client, hr, cases, params, field):  # noqa: ANN001
    client.force_login(hr)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    html = response.content.decode()
    assert "error-summary" in html
    assert html.count("<svg ") == 4
    scope = response.context["scope"]
    assert (scope.end - scope.start).days in (364, 365)
    assert 'href="/reports/cases.csv"' in html


def _file(n: int, hr) -> None:  # noqa: ANN001
    for i in range(n):
        person = UserFactory(username=f"filer{n}-{i}")
        case = advance(make_case(person, office=f"Office {i % 3}"), to="screening", requester=person, hr=hr)
        assert case.status == "screening"


def _queries(client, hr) -> int:  # noqa: ANN001
    client.force_login(hr)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_query_count_does_not_grow_with_the_cases(client, hr):  # noqa: ANN001
    _file(5, hr)
    few = _queries(client, hr)
    _file(25, hr)
    many = _queries(client, hr)
    assert few == many


def test_the_management_report_pdf_is_downloaded_from_the_dashboard(client, hr, requester, cases):  # noqa: ANN001
    client.force_login(requester)
    assert client.get("/reports/management-report.pdf").status_code == 403
    client.force_login(hr)
    page = client.get("/reports/").content.decode()
    assert "/reports/management-report.pdf" in page
    response = client.get("/reports/management-report.pdf", {"from": "2020-01-01", "to": "2030-12-31"})
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert body.startswith(b"%PDF")
    assert client.get("/reports/management-report.pdf", {"from": "2026-13-01"}).status_code == 400
