"""HR's pages of the reviewer pool: who may see them, what they show, releasing a reviewer's
cases from the page, the filters' errors, and a pool page whose query count does not grow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rebuttal.models import RebuttalCase
from reviewers.models import Assignment, Conflict, RetainerContract
from tests.factories import UserFactory, advance, make_case, reviewer_profile

POOL = reverse("reviewer-pool")
CONTRACTS = reverse("contracts")
FEES = reverse("fees")


def detail_url(profile: Any) -> str:
    return reverse("reviewer-detail", args=[profile.pk])


def release_url(profile: Any) -> str:
    return reverse("reviewer-release-all", args=[profile.pk])


@pytest.fixture
def pool_reviewer(reviewer):  # noqa: ANN001, ANN201
    return reviewer_profile(reviewer, name="Rita Reyes", affiliation="Independent consultant")


@pytest.fixture
def as_hr(client, hr):  # noqa: ANN001, ANN201
    client.force_login(hr)
    return client


@pytest.fixture
def reviewing(requester, hr, reviewer, pool_reviewer) -> RebuttalCase:  # noqa: ANN001
    """A case under review by the pool reviewer."""
    return advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)


def text(response: Any) -> str:
    return response.content.decode()


# --- who may see the pages --------------------------------------------------------------------


def _urls(profile: Any) -> list[str]:
    return [POOL, detail_url(profile), CONTRACTS, FEES]


@pytest.mark.parametrize("who", ["requester", "reviewer", "outsider"])
def test_the_pages_are_403_for_anyone_but_hr(request, client, pool_reviewer, who):
    client.force_login(request.getfixturevalue(who))

    for url in _urls(pool_reviewer):
        assert client.get(url).status_code == 403, url
    assert client.post(release_url(pool_reviewer), {"reason": "x", "confirm": "on"}).status_code == 403


@pytest.mark.parametrize("who", ["requester", "reviewer", "outsider"])
def test_release_all_by_someone_not_hr_releases_nothing(request, client, reviewing, pool_reviewer, who):
    client.force_login(request.getfixturevalue(who))

    client.post(release_url(pool_reviewer), {"reason": "Leaving.", "confirm": "on"})

    reviewing.refresh_from_db()
    assert reviewing.status == "under_review"


def test_anonymous_visitors_are_sent_to_sign_in(client, pool_reviewer):
    login = reverse("login")
    for url in _urls(pool_reviewer):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url
    response = client.post(release_url(pool_reviewer), {"reason": "x", "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(login)


def test_a_reviewer_that_does_not_exist_is_404(as_hr, pool_reviewer):
    missing = pool_reviewer.pk + 1000
    assert as_hr.get(reverse("reviewer-detail", args=[missing])).status_code == 404
    response = as_hr.post(reverse("reviewer-release-all", args=[missing]), {"reason": "x", "confirm": "on"})
    assert response.status_code == 404


def test_release_all_is_post_only(as_hr, pool_reviewer):
    assert as_hr.get(release_url(pool_reviewer)).status_code == 405


# --- the pool ---------------------------------------------------------------------------------


def test_the_pool_lists_each_reviewer_with_their_contract_and_open_cases(as_hr, reviewing, pool_reviewer):
    contract = pool_reviewer.contracts.get()

    response = as_hr.get(POOL)

    assert response.status_code == 200
    page = text(response)
    assert "<title>Reviewer pool" in page
    assert f'href="{detail_url(pool_reviewer)}"' in page
    assert "Rita Reyes" in page
    assert "en, fr, es" in page
    assert "Europe, Africa" in page
    assert "Independent consultant" in page
    assert contract.number in page
    assert f"{contract.ends_on.day} {contract.ends_on:%B %Y}" in page
    rows = {row["reviewer"].pk: row for row in response.context["rows"]}
    assert rows[pool_reviewer.pk]["reviewer"].open_case_count == 1
    assert rows[pool_reviewer.pk]["expiring"] is False
    assert "Ending soon" not in page
    assert 'scope="col"' in page
    assert reviewing.reference not in page  # the pool names no case


def test_a_contract_ending_within_30_days_is_marked_on_the_pool(as_hr, pool_reviewer):
    RetainerContract.objects.filter(reviewer=pool_reviewer).update(
        ends_on=timezone.localdate() + dt.timedelta(days=10)
    )

    page = text(as_hr.get(POOL))

    assert "badge--overdue" in page
    assert "Ending soon" in page


def test_a_reviewer_without_a_contract_in_force_says_so(as_hr, pool_reviewer):
    RetainerContract.objects.filter(reviewer=pool_reviewer).update(status="suspended")

    page = text(as_hr.get(POOL))

    assert "None in force" in page


def _pool_of(size: int) -> None:
    for n in range(size):
        reviewer_profile(UserFactory(username=f"pool{size}-{n}"), name=f"Reviewer {size}-{n}")


def _queries_for_pool(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(POOL)
    assert response.status_code == 200
    return len(queries)


def test_the_pool_page_costs_the_same_queries_for_3_and_for_20_reviewers(as_hr, requester, hr, reviewer):
    _pool_of(3)
    advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    small = _queries_for_pool(as_hr)
    _pool_of(17)
    assert len(as_hr.get(POOL).context["rows"]) == 21  # the 20 made here and the fixture's reviewer

    large = _queries_for_pool(as_hr)

    assert large == small


# --- one reviewer -----------------------------------------------------------------------------


def test_the_reviewer_page_shows_facts_contracts_conflicts_and_current_cases(
    as_hr, hr, reviewing, pool_reviewer
):
    Conflict.objects.create(
        reviewer=pool_reviewer, office="Nairobi Office", reason="Worked there until 2024.", declared_by=hr
    )
    contract = pool_reviewer.contracts.get()
    assignment = Assignment.objects.get(case=reviewing)

    response = as_hr.get(detail_url(pool_reviewer))

    assert response.status_code == 200
    page = text(response)
    assert "<title>Reviewer ·" in page  # a generic title: no name, no case reference
    assert "rita@example.org" in page
    assert contract.number in page
    assert "1500.00 USD" in page
    assert "Nairobi Office" in page
    assert "Worked there until 2024." in page
    assert f'href="{reverse("case-detail", args=[reviewing.pk])}"' in page
    assert reviewing.reference in page
    assert f"{assignment.expected_end_on.day} {assignment.expected_end_on:%B %Y}" in page
    assert f'action="{release_url(pool_reviewer)}"' in page
    assert 'for="id_reason"' in page
    assert 'for="id_confirm"' in page


def test_an_expiring_contract_is_marked_on_the_reviewer_page(as_hr, pool_reviewer):
    RetainerContract.objects.filter(reviewer=pool_reviewer).update(
        ends_on=timezone.localdate() + dt.timedelta(days=29)
    )

    page = text(as_hr.get(detail_url(pool_reviewer)))

    assert "Ending soon" in page


# --- release all ------------------------------------------------------------------------------


def test_release_all_sends_the_case_back_to_assignment_and_says_so(as_hr, reviewing, pool_reviewer):
    response = as_hr.post(
        release_url(pool_reviewer), {"reason": "Contract terminated.", "confirm": "on"}, follow=True
    )

    assert response.redirect_chain == [(detail_url(pool_reviewer), 302)]
    reviewing.refresh_from_db()
    assert reviewing.status == "awaiting_assignment"
    assert Assignment.objects.get(case=reviewing).status == "released"
    assert Assignment.objects.get(case=reviewing).end_reason == "Contract terminated."
    page = text(response)
    assert "1 case went back to assignment" in page
    assert reviewing.reference in page
    assert "The reviewer holds no open case." in page


def test_release_all_with_nothing_to_release_says_so(as_hr, pool_reviewer):
    response = as_hr.post(release_url(pool_reviewer), {"reason": "Leaving.", "confirm": "on"}, follow=True)

    assert response.status_code == 200
    assert "No case was released" in text(response)


@pytest.mark.parametrize("reason", ["", "   "])
def test_release_all_without_a_reason_is_400_and_releases_nothing(as_hr, reviewing, pool_reviewer, reason):
    response = as_hr.post(release_url(pool_reviewer), {"reason": reason, "confirm": "on"})

    assert response.status_code == 400
    page = text(response)
    assert "There is a problem" in page
    assert "Say why the reviewer&#x27;s cases are released." in page
    assert 'id="id_confirm" checked' in page  # the ticked confirmation is kept
    reviewing.refresh_from_db()
    assert reviewing.status == "under_review"
    assert Assignment.objects.get(case=reviewing).status == "accepted"


def test_release_all_without_the_confirmation_is_400_keeps_the_reason_and_releases_nothing(
    as_hr, reviewing, pool_reviewer
):
    response = as_hr.post(release_url(pool_reviewer), {"reason": "Contract terminated."})

    assert response.status_code == 400
    page = text(response)
    assert "Confirm that every open case goes back to assignment." in page
    assert "Contract terminated." in page  # what was typed is not lost
    assert reviewing.reference in page  # the rest of the page is there too
    reviewing.refresh_from_db()
    assert reviewing.status == "under_review"


# --- contracts --------------------------------------------------------------------------------


def test_contracts_lists_those_ending_soon_with_open_cases_and_every_active_one(
    as_hr, requester, hr, reviewer, pool_reviewer
):
    advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    ending = pool_reviewer.contracts.get()
    RetainerContract.objects.filter(pk=ending.pk).update(ends_on=timezone.localdate() + dt.timedelta(days=20))
    later = reviewer_profile(UserFactory(username="lena"), name="Lena Long").contracts.get()

    response = as_hr.get(CONTRACTS)

    assert response.status_code == 200
    assert [c.number for c in response.context["expiring"]] == [ending.number]
    assert {c.number for c in response.context["active"]} == {ending.number, later.number}
    assert response.context["expiring_ids"] == {ending.pk}
    page = text(response)
    assert "Contracts ending within 30 days that still carry open cases" in page
    assert "Lena Long" in page
    assert "Ending soon" in page


def test_contracts_window_comes_from_within(as_hr, requester, hr, reviewer, pool_reviewer):
    advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    ending = pool_reviewer.contracts.get()
    RetainerContract.objects.filter(pk=ending.pk).update(ends_on=timezone.localdate() + dt.timedelta(days=60))

    assert as_hr.get(CONTRACTS).context["expiring"] == []
    response = as_hr.get(CONTRACTS, {"within": "90"})

    assert [c.number for c in response.context["expiring"]] == [ending.number]
    assert "Contracts ending within 90 days" in text(response)


@pytest.mark.parametrize("within", ["0", "366", "-5", "abc", "1.5"])
def test_a_bad_window_is_a_clear_message_not_an_error_page(as_hr, pool_reviewer, within):
    response = as_hr.get(CONTRACTS, {"within": within})

    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Enter a whole number of days from 1 to 365." in page
    assert response.context["expiring"] is None
    assert pool_reviewer.contracts.get().number in page  # the active contracts are still listed


# --- fees -------------------------------------------------------------------------------------


@pytest.fixture
def decided_in_march(requester, hr, reviewer, endorser, decision_maker) -> RebuttalCase:  # noqa: ANN001
    """A review completed (and its fee earned) on 16 March 2026."""
    with time_machine.travel(dt.datetime(2026, 3, 16, 10, tzinfo=dt.UTC)):
        reviewer_profile(reviewer, name="Rita Reyes")
        return advance(
            make_case(requester),
            to="decided",
            requester=requester,
            hr=hr,
            reviewer=reviewer,
            endorser=endorser,
            decision_maker=decision_maker,
        )


def test_fees_default_to_the_previous_month_with_lines_totals_and_the_csv_link(as_hr, decided_in_march):
    with time_machine.travel(dt.datetime(2026, 4, 10, 10, tzinfo=dt.UTC)):
        response = as_hr.get(FEES)

    assert response.status_code == 200
    assert response.context["month"] == dt.date(2026, 3, 1)
    page = text(response)
    assert "Fees earned in March 2026" in page
    assert "Rita Reyes" in page
    assert decided_in_march.reference in page
    assert "16 March 2026" in page
    assert "Total: 1500.00 USD for 1 review" in page
    assert f'href="{reverse("v1:fee-certification")}?month=2026-03&amp;format=csv"' in page
    [entry] = response.context["listing"]
    assert entry["totals"] == [{"currency": "USD", "total": Decimal("1500.00"), "reviews": 1}]


def test_the_csv_link_of_the_fees_page_downloads_the_months_csv(as_hr, decided_in_march):
    response = as_hr.get(reverse("v1:fee-certification"), {"month": "2026-03", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert decided_in_march.reference in response.content.decode("utf-8-sig")


def test_fees_of_a_chosen_month(as_hr, decided_in_march):
    march = as_hr.get(FEES, {"month": "2026-03"})
    february = as_hr.get(FEES, {"month": "2026-02"})

    assert decided_in_march.reference in text(march)
    assert february.status_code == 200
    assert february.context["listing"] == []
    assert "No fee was earned in this month." in text(february)


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3-1", "0000-01", "9999-12", "2026/03"])
def test_a_bad_month_is_a_clear_message_not_an_error_page(as_hr, month):
    response = as_hr.get(FEES, {"month": month})

    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Enter a month as YYYY-MM, e.g. 2026-03." in page
    assert response.context["listing"] is None
    assert "format=csv" not in page
