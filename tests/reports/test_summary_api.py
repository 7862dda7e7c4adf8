"""``GET /api/v1/reports/summary/``: exact figures for HR, small counts suppressed for senior management."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.reports.test_exports import build_cases

URL = "/api/v1/reports/summary/"
# Integers that are identifiers or years, not counts.
NOT_COUNTS = {"reviewer_id", "cycle"}


@pytest.fixture
def cases(requester, hr, reviewer, endorser, decision_maker):  # noqa: ANN001, ANN201
    return build_cases(
        requester=requester, hr=hr, reviewer=reviewer, endorser=endorser, decision_maker=decision_maker
    )


def _numbers(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every number in the answer with the key it sits under."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _numbers(item, str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item, key)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield key, value


@pytest.mark.parametrize(
    ("role", "status"),
    [("hr", 200), ("hr_admin", 200), ("endorser", 200), ("decision_maker", 200), ("requester", 403)],
)
def test_summary_is_for_hr_and_senior_management(api_as, request, role, status):  # noqa: ANN001
    response = api_as(request.getfixturevalue(role)).get(URL)
    assert response.status_code == status


def test_anonymous_gets_401(api, policy):  # noqa: ANN001
    assert api.get(URL).status_code == 401


@pytest.mark.parametrize("role", ["endorser", "decision_maker"])
def test_management_sees_no_small_count(api_as, request, cases, role):  # noqa: ANN001
    data = api_as(request.getfixturevalue(role)).get(URL).json()
    assert data["suppressed"] is True
    small = [(key, n) for key, n in _numbers(data) if key not in NOT_COUNTS and 1 <= n <= 4]
    assert small == []
    assert data["received"] == "<5"
    assert data["outcomes"] == {
        "decided": "<5",
        "maintained": "<5",
        "revised": "<5",
        # Every step of the four-point scale is listed, zeros included: a list of only the steps
        # that happened would say that each "<5" in it is at least one.
        "revised_by_steps": {"-3": 0, "-2": 0, "-1": 0, "1": "<5", "2": 0, "3": 0, "off_scale": 0},
    }


def test_hr_sees_the_exact_counts(api_as, hr, cases):  # noqa: ANN001
    data = api_as(hr).get(URL).json()
    assert data["suppressed"] is False
    assert data["received"] == 3
    assert data["outcomes"] == {"decided": 2, "maintained": 1, "revised": 1, "revised_by_steps": {"1": 1}}
    assert data["open_cases"]["total"] == 3
    assert {stage["stage"] for stage in data["stage_durations"]}
    assert "count" in data["end_to_end"]


def test_filters_narrow_the_figures(api_as, hr, cases):  # noqa: ANN001
    data = api_as(hr).get(URL, {"office": "Geneva Office", "cycle": 2026}).json()
    assert data["received"] == 2
    assert data["scope"]["office"] == "Geneva Office"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"cycle": "soon"}, "cycle"),
        ({"contract_type": "slave"}, "contract_type"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(api_as, hr, params, field):  # noqa: ANN001
    response = api_as(hr).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]
