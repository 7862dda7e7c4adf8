"""CSV exports of the reports (HR only): cases, figures (exact and for management), corrected ratings."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import UserFactory, advance, make_case
from workflow.services import case_act

HOSTILE = "=cmd|' /C calc'!A0"
URLS = ("reports-cases-csv", "reports-figures-csv", "reports-corrected-ratings-csv")


def build_cases(*, requester: Any, hr: Any, reviewer: Any, endorser: Any, decision_maker: Any) -> dict:
    """A revised case, a maintained one, and a submitted one from a hostile office: all filed today."""
    cast = {"hr": hr, "reviewer": reviewer, "endorser": endorser}
    revised = advance(
        make_case(requester), to="decided", requester=requester, decision_maker=decision_maker, **cast
    )
    # A reviewer takes one case of a requester: the other cases are filed by other people.
    second = UserFactory(username="bruno", email="bruno@example.org")
    maintained = advance(make_case(second), to="awaiting_decision", requester=second, **cast)
    maintained = case_act(
        case_id=maintained.pk,
        name="decide",
        actor=decision_maker,
        version=maintained.version,
        data={"final_rating": "partially_meets", "follows_recommendation": False, "reasons": "Sound."},
    )
    hostile = advance(
        make_case(requester, office=HOSTILE, region="+SUM(A1)"), to="submitted", requester=requester
    )
    return {"revised": revised, "maintained": maintained, "hostile": hostile}


@pytest.fixture
def cases(requester, hr, reviewer, endorser, decision_maker):  # noqa: ANN001, ANN201
    return build_cases(
        requester=requester, hr=hr, reviewer=reviewer, endorser=endorser, decision_maker=decision_maker
    )


def _rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize(
    ("role", "status"),
    [("hr", 200), ("endorser", 403), ("decision_maker", 403), ("requester", 403), (None, 302)],
)
def test_exports_are_for_hr_only(client, request, name, role, status):  # noqa: ANN001
    if role is not None:
        client.force_login(request.getfixturevalue(role))
    else:
        request.getfixturevalue("policy")
    response = client.get(reverse(name))
    assert response.status_code == status
    if role is None:
        assert response["Location"].startswith("/accounts/login/")


def test_cases_csv_has_one_row_per_case_with_hostile_cells_neutralised(client, hr, cases):  # noqa: ANN001
    client.force_login(hr)
    response = client.get(reverse("reports-cases-csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    header, *rows = _rows(response)
    assert header[:3] == ["reference", "status", "office"]
    assert "statement" not in header
    assert sorted(row[0] for row in rows) == sorted(case.reference for case in cases.values())
    hostile = next(row for row in rows if row[0] == cases["hostile"].reference)
    assert hostile[2] == "'" + HOSTILE
    assert hostile[3] == "'+SUM(A1)"
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    statement = cases["revised"].statement
    assert all(statement not in cell for row in rows for cell in row)


def test_corrected_ratings_are_exactly_the_revised_cases(client, hr, requester, cases):  # noqa: ANN001
    client.force_login(hr)
    header, *rows = _rows(client.get(reverse("reports-corrected-ratings-csv")))
    assert header == ["reference", "person", "cycle", "original_rating", "final_rating", "decision_date"]
    revised = cases["revised"]
    assert len(rows) == 1
    reference, person, cycle, original, final, decided = rows[0]
    assert (reference, person, cycle) == (revised.reference, requester.email, str(revised.appraisal_cycle))
    assert (original, final) == ("partially_meets", "successfully_meets")
    assert decided == revised.decided_at.date().isoformat()


def test_corrected_ratings_follow_the_period(client, hr, cases):  # noqa: ANN001
    client.force_login(hr)
    header, *rows = _rows(
        client.get(reverse("reports-corrected-ratings-csv"), {"from": "2001-01-01", "to": "2001-12-31"})
    )
    assert rows == []


def test_figures_csv_exact_and_suppressed(client, hr, cases):  # noqa: ANN001
    client.force_login(hr)
    exact = dict(_rows(client.get(reverse("reports-figures-csv")))[1:])
    assert exact["received"] == "3"
    assert exact["outcomes.revised"] == "1"
    assert exact["outcomes.maintained"] == "1"
    response = client.get(reverse("reports-figures-csv"), {"suppressed": "1"})
    assert "management" in response["Content-Disposition"]
    shown = dict(_rows(response)[1:])
    assert shown["received"] == "<5"
    assert shown["outcomes.revised"] == "<5"
    assert shown["outcomes.maintained"] == "<5"
    assert shown["suppressed"] == "True"


def test_bad_filter_is_a_400_naming_the_field(client, hr, policy):  # noqa: ANN001
    client.force_login(hr)
    response = client.get(reverse("reports-cases-csv"), {"from": "2026-13-01"})
    assert response.status_code == 400
    assert b"from" in response.content
