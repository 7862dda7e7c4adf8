"""The reviewer-pool API keeps the contract of docs/api.md "Reviewer pool".

Who may list and manage the pool, what a 400 names, the contracts, conflicts,
release-all, expiring contracts and the monthly fee certification (JSON and a
formula-safe CSV), and the reviewer transitions of the transition endpoint.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from rebuttal.models import RebuttalCase
from reviewers import services
from reviewers.models import Assignment, Conflict, RetainerContract, Reviewer
from tests.factories import UserFactory, advance, make_case, reviewer_profile

REVIEWERS = "/api/v1/reviewers/"
EXPIRING = "/api/v1/contracts/expiring/"
FEES = "/api/v1/fees/certification/"

User = get_user_model()


def error(response: Any, status: int) -> dict[str, Any]:
    """The response has ``status`` and the contract's error body: JSON with a ``detail``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return body


def reviewer_url(reviewer: Reviewer, suffix: str = "") -> str:
    return f"{REVIEWERS}{reviewer.pk}/{suffix}"


def transition(client: Any, case: RebuttalCase, name: str, **body: Any) -> Any:
    body.setdefault("version", case.version)
    return client.post(f"/api/v1/cases/{case.pk}/transitions/{name}/", body, format="json")


def new_reviewer(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Nadia Novak",
        "email": "nadia@example.net",
        "languages": ["en", "fr"],
        "regions": ["Europe"],
        "affiliation": "Independent consultant",
        "active": True,
    }
    data.update(overrides)
    return data


def new_contract(**overrides: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data = {
        "number": "RC-NEW-1",
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=365)).isoformat(),
        "max_concurrent_cases": 3,
        "fee_per_review": "1200.00",
        "currency": "USD",
    }
    data.update(overrides)
    return data


def requester_named(username: str) -> Any:
    """Another requester: one reviewer reviews at most one case per requester."""
    return UserFactory(username=username)


@pytest.fixture
def pool_reviewer(reviewer):  # noqa: ANN001, ANN201
    return reviewer_profile(reviewer)


@pytest.fixture
def awaiting(requester, hr):  # noqa: ANN001, ANN201
    """A receivable case that needs a reviewer."""
    return advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)


# --- the pool: who may list it ---------------------------------------------------------


@pytest.mark.parametrize("who", ["hr", "hr_admin"])
def test_hr_lists_the_pool_with_each_reviewers_open_case_count(request, api_as, who, requester, hr, reviewer):
    advance(make_case(requester), to="reviewer_invited", requester=requester, hr=hr, reviewer=reviewer)
    idle = reviewer_profile(UserFactory(username="ivan"), name="Ivan Idle")

    response = api_as(request.getfixturevalue(who)).get(REVIEWERS)

    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()}
    assert listed[reviewer.reviewer_profile.pk]["open_case_count"] == 1
    assert listed[idle.pk]["open_case_count"] == 0
    assert set(listed[idle.pk]) >= {"name", "email", "languages", "regions", "affiliation", "active"}


@pytest.mark.parametrize("who", ["requester", "reviewer", "endorser"])
def test_the_pool_is_403_for_anyone_but_hr(request, api_as, who, pool_reviewer):
    error(api_as(request.getfixturevalue(who)).get(REVIEWERS), 403)
    error(api_as(request.getfixturevalue(who)).get(reviewer_url(pool_reviewer)), 403)


def test_the_pool_is_401_without_login(api, policy):
    error(api.get(REVIEWERS), 401)
    error(api.post(REVIEWERS, new_reviewer(), format="json"), 401)
    error(api.get(EXPIRING), 401)
    error(api.get(FEES), 401)


def test_an_unknown_reviewer_is_404(api_as, hr):
    error(api_as(hr).get(f"{REVIEWERS}999999/"), 404)
    error(api_as(hr).get(f"{REVIEWERS}abc/"), 404)


# --- the pool: adding and editing reviewers ----------------------------------------------


def test_hr_admin_adds_a_reviewer_with_a_new_account_that_has_no_usable_password(api_as, hr_admin):
    response = api_as(hr_admin).post(REVIEWERS, new_reviewer(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "nadia@example.net"
    assert body["languages"] == ["en", "fr"]
    assert body["open_case_count"] == 0
    reviewer = Reviewer.objects.get(pk=body["id"])
    account = reviewer.user
    assert account.email == "nadia@example.net"
    assert not account.has_usable_password()
    assert account.groups.filter(name="reviewer").exists()


def test_adding_a_reviewer_reuses_the_account_with_that_email(api_as, hr_admin, outsider):
    users_before = User.objects.count()

    response = api_as(hr_admin).post(
        REVIEWERS, new_reviewer(name="Oscar O.", email="OSCAR@example.org"), format="json"
    )

    assert response.status_code == 201, response.content
    assert User.objects.count() == users_before
    reviewer = Reviewer.objects.get(pk=response.json()["id"])
    assert reviewer.user == outsider
    outsider.refresh_from_db()
    assert outsider.has_usable_password()  # their existing login keeps working
    assert outsider.groups.filter(name="reviewer").exists()


def test_an_hr_specialist_may_not_add_a_reviewer(api_as, hr):
    error(api_as(hr).post(REVIEWERS, new_reviewer(), format="json"), 403)
    assert not Reviewer.objects.exists()
    assert not User.objects.filter(email="nadia@example.net").exists()


def test_a_second_reviewer_with_the_same_email_is_400(api_as, hr_admin):
    client = api_as(hr_admin)
    assert client.post(REVIEWERS, new_reviewer(), format="json").status_code == 201

    body = error(client.post(REVIEWERS, new_reviewer(email="NADIA@example.net"), format="json"), 400)

    assert "email" in body["errors"]
    assert Reviewer.objects.count() == 1


@pytest.mark.parametrize("languages", [["de"], [], "en", ["en", "xx"], [None], [["en"]]])
def test_unknown_or_missing_languages_are_400_naming_the_field(api_as, hr_admin, languages):
    body = error(api_as(hr_admin).post(REVIEWERS, new_reviewer(languages=languages), format="json"), 400)
    assert "languages" in body["errors"]
    assert not Reviewer.objects.exists()


def test_hr_admin_edits_a_reviewer(api_as, hr_admin, pool_reviewer):
    response = api_as(hr_admin).patch(
        reviewer_url(pool_reviewer), {"languages": ["es"], "active": False}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["languages"] == ["es"]
    pool_reviewer.refresh_from_db()
    assert pool_reviewer.languages == ["es"]
    assert pool_reviewer.active is False


def test_a_reviewers_email_cannot_change(api_as, hr_admin, pool_reviewer):
    body = error(api_as(hr_admin).patch(reviewer_url(pool_reviewer), {"email": "new@example.net"}), 400)
    assert "email" in body["errors"]
    pool_reviewer.refresh_from_db()
    assert pool_reviewer.email == "rita@example.org"


def test_an_hr_specialist_may_not_edit_a_reviewer(api_as, hr, pool_reviewer):
    error(api_as(hr).patch(reviewer_url(pool_reviewer), {"active": False}, format="json"), 403)
    pool_reviewer.refresh_from_db()
    assert pool_reviewer.active is True


def test_a_reviewer_cannot_be_replaced_or_deleted_through_the_api(api_as, hr_admin, pool_reviewer):
    client = api_as(hr_admin)
    error(client.put(reviewer_url(pool_reviewer), new_reviewer(), format="json"), 405)
    error(client.delete(reviewer_url(pool_reviewer)), 405)
    assert Reviewer.objects.filter(pk=pool_reviewer.pk).exists()


# --- contracts ---------------------------------------------------------------------------


def test_hr_lists_a_reviewers_contracts(api_as, hr, pool_reviewer):
    response = api_as(hr).get(reviewer_url(pool_reviewer, "contracts/"))
    assert response.status_code == 200
    [contract] = response.json()
    assert contract["number"] == f"RC-{pool_reviewer.pk:04d}"
    assert set(contract) >= {
        "number",
        "starts_on",
        "ends_on",
        "max_concurrent_cases",
        "fee_per_review",
        "currency",
        "status",
    }


def test_hr_admin_adds_a_contract(api_as, hr_admin, pool_reviewer):
    response = api_as(hr_admin).post(reviewer_url(pool_reviewer, "contracts/"), new_contract(), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "active"
    contract = RetainerContract.objects.get(number="RC-NEW-1")
    assert contract.reviewer == pool_reviewer
    assert contract.fee_per_review == Decimal("1200.00")


def test_an_hr_specialist_may_not_add_a_contract(api_as, hr, pool_reviewer):
    error(api_as(hr).post(reviewer_url(pool_reviewer, "contracts/"), new_contract(), format="json"), 403)
    assert not RetainerContract.objects.filter(number="RC-NEW-1").exists()


def test_a_contract_that_ends_before_it_starts_is_400(api_as, hr_admin, pool_reviewer):
    bad = new_contract(starts_on="2026-06-01", ends_on="2026-05-31")
    body = error(api_as(hr_admin).post(reviewer_url(pool_reviewer, "contracts/"), bad, format="json"), 400)
    assert "ends_on" in body["errors"]
    assert not RetainerContract.objects.filter(number="RC-NEW-1").exists()


def test_a_contract_number_already_used_is_400(api_as, hr_admin, pool_reviewer):
    taken = pool_reviewer.contracts.get().number
    other = reviewer_profile(UserFactory(username="ivan"))
    url = reviewer_url(other, "contracts/")

    body = error(api_as(hr_admin).post(url, new_contract(number=taken), format="json"), 400)

    assert "number" in body["errors"]
    assert RetainerContract.objects.filter(number=taken).count() == 1


@pytest.mark.parametrize("currency", ["usd", "US", "EURO", "€€€", "", "U$D"])
def test_a_contract_currency_that_is_not_a_three_letter_code_is_400(
    api_as, hr_admin, pool_reviewer, currency
):
    url = reviewer_url(pool_reviewer, "contracts/")
    body = error(api_as(hr_admin).post(url, new_contract(currency=currency), format="json"), 400)
    assert "currency" in body["errors"]


def test_contracts_of_an_unknown_reviewer_are_404(api_as, hr_admin):
    error(api_as(hr_admin).get(f"{REVIEWERS}999999/contracts/"), 404)
    error(api_as(hr_admin).post(f"{REVIEWERS}999999/contracts/", new_contract(), format="json"), 404)


# --- conflicts ---------------------------------------------------------------------------


def test_hr_records_a_conflict_with_a_requester(api_as, hr, pool_reviewer):
    url = reviewer_url(pool_reviewer, "conflicts/")
    response = api_as(hr).post(url, {"requester_email": "alice@example.org", "reason": "Former colleague."})

    assert response.status_code == 201, response.content
    conflict = Conflict.objects.get(reviewer=pool_reviewer)
    assert conflict.requester_email == "alice@example.org"
    assert conflict.declared_by == hr


def test_a_reviewer_declares_their_own_conflict_with_an_office(api_as, reviewer, pool_reviewer):
    url = reviewer_url(pool_reviewer, "conflicts/")
    response = api_as(reviewer).post(url, {"office": "Geneva Office"}, format="json")

    assert response.status_code == 201, response.content
    assert Conflict.objects.get(reviewer=pool_reviewer).office == "Geneva Office"


def test_a_declared_conflict_makes_the_reviewer_ineligible_for_that_requester(
    api_as, hr, reviewer, pool_reviewer, awaiting
):
    url = reviewer_url(pool_reviewer, "conflicts/")
    assert api_as(reviewer).post(url, {"requester_email": "ALICE@example.org"}).status_code == 201

    body = error(transition(api_as(hr), awaiting, "invite_reviewer", reviewer=pool_reviewer.pk), 400)

    assert any(message.startswith("no_declared_conflict") for message in body["errors"]["reviewer"])


def test_another_reviewer_may_not_declare_a_conflict_for_someone_else(api_as, pool_reviewer):
    other = UserFactory(username="ivan")
    reviewer_profile(other)
    error(api_as(other).post(reviewer_url(pool_reviewer, "conflicts/"), {"office": "Geneva Office"}), 403)
    assert not Conflict.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"requester_email": "", "office": ""}, {"requester_email": "  ", "office": "   "}]
)
def test_a_conflict_naming_neither_a_requester_nor_an_office_is_400(api_as, hr, pool_reviewer, body):
    error(api_as(hr).post(reviewer_url(pool_reviewer, "conflicts/"), body, format="json"), 400)
    assert not Conflict.objects.exists()


def test_a_conflict_with_a_malformed_email_is_400_naming_it(api_as, hr, pool_reviewer):
    url = reviewer_url(pool_reviewer, "conflicts/")
    body = error(api_as(hr).post(url, {"requester_email": "not-an-email"}, format="json"), 400)
    assert "requester_email" in body["errors"]


# --- release all -------------------------------------------------------------------------


def test_release_all_sends_every_open_case_of_the_reviewer_back_to_assignment(api_as, hr, reviewer):
    alice, bob = requester_named("al"), requester_named("bo")
    reviewing = advance(make_case(alice), to="under_review", requester=alice, hr=hr, reviewer=reviewer)
    invited = advance(make_case(bob), to="reviewer_invited", requester=bob, hr=hr, reviewer=reviewer)

    response = api_as(hr).post(
        reviewer_url(reviewer.reviewer_profile, "release-all/"), {"reason": "Contract cut short."}
    )

    assert response.status_code == 200, response.content
    assert sorted(response.json()["released"]) == sorted([reviewing.reference, invited.reference])
    for case in (reviewing, invited):
        case.refresh_from_db()
        assert case.status == "awaiting_assignment"
        assert case.reviewer_user_id is None
    assert set(Assignment.objects.values_list("status", flat=True)) == {"released"}


def test_release_all_leaves_a_case_whose_report_is_in(api_as, hr, requester, reviewer):
    case = advance(
        make_case(requester), to="recommendation_submitted", requester=requester, hr=hr, reviewer=reviewer
    )

    response = api_as(hr).post(
        reviewer_url(reviewer.reviewer_profile, "release-all/"), {"reason": "Leaving."}
    )

    assert response.json() == {"released": []}
    case.refresh_from_db()
    assert case.status == "recommendation_submitted"
    assert Assignment.objects.get(case=case).status == "reported"


def test_release_all_with_no_open_case_releases_nothing(api_as, hr, pool_reviewer):
    response = api_as(hr).post(reviewer_url(pool_reviewer, "release-all/"), {"reason": "Leaving."})
    assert response.status_code == 200
    assert response.json() == {"released": []}


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_release_all_needs_a_reason(api_as, hr, requester, reviewer, body):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    response = api_as(hr).post(reviewer_url(reviewer.reviewer_profile, "release-all/"), body, format="json")

    assert "reason" in error(response, 400)["errors"]
    case.refresh_from_db()
    assert case.status == "under_review"


def test_release_all_is_403_for_the_reviewer_themself(api_as, reviewer, pool_reviewer):
    error(api_as(reviewer).post(reviewer_url(pool_reviewer, "release-all/"), {"reason": "Bye."}), 403)


# --- contracts expiring ------------------------------------------------------------------


def test_expiring_contracts_lists_contracts_ending_within_the_window_that_carry_open_cases(
    api_as, hr, requester, reviewer
):
    advance(make_case(requester), to="reviewer_invited", requester=requester, hr=hr, reviewer=reviewer)
    reviewer_profile(UserFactory(username="ivan"))  # same end date, but no open case
    client = api_as(hr)
    contract = reviewer.reviewer_profile.contracts.get()  # ends 365 days from today

    wide = client.get(EXPIRING, {"days": 365})
    narrow = client.get(EXPIRING, {"days": 364})
    default = client.get(EXPIRING)

    assert wide.status_code == 200
    [row] = wide.json()
    assert row["number"] == contract.number
    assert row["open_case_count"] == 1
    assert row["reviewer_id"] == reviewer.reviewer_profile.pk
    assert narrow.json() == []
    assert default.json() == []


@pytest.mark.parametrize("days", ["0", "366", "-1", "abc", "1.5", "", "99999999999999999999"])
def test_expiring_contracts_window_out_of_range_is_400(api_as, hr, days):
    assert "days" in error(api_as(hr).get(EXPIRING, {"days": days}), 400)["errors"]


@pytest.mark.parametrize("who", ["requester", "reviewer", "endorser"])
def test_expiring_contracts_are_for_hr_only(request, api_as, who):
    error(api_as(request.getfixturevalue(who)).get(EXPIRING), 403)


# --- fee certification -------------------------------------------------------------------

FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def fees(hr, endorser, decision_maker, reviewer):  # noqa: ANN001, ANN201
    """Three completed reviews this month: Rita one in USD; a reviewer whose name is a
    formula one in USD and, under a newer contract, one in EUR."""
    rita = reviewer_profile(reviewer, name="Rita Reyes")
    mallory = UserFactory(username="mallory")
    formula = reviewer_profile(mallory, name=FORMULA_NAME)
    people = {"hr": hr, "endorser": endorser, "decision_maker": decision_maker}

    def decided(requester: Any, by: Any) -> RebuttalCase:
        return advance(make_case(requester), to="decided", requester=requester, reviewer=by, **people)

    rita_case = decided(requester_named("r1"), reviewer)
    usd_case = decided(requester_named("r2"), mallory)
    today = timezone.localdate()
    services.contract_create(
        reviewer_id=formula.pk,
        actor=None,
        data={
            "number": "RC-EUR-1",
            "starts_on": today,
            "ends_on": today + dt.timedelta(days=700),  # the newer contract covers new cases
            "max_concurrent_cases": 2,
            "fee_per_review": Decimal("900.00"),
            "currency": "EUR",
        },
    )
    eur_case = decided(requester_named("r3"), mallory)
    return {"rita": rita, "formula": formula, "cases": (rita_case, usd_case, eur_case)}


def test_fee_certification_lists_each_reviewers_lines_and_totals_per_currency(api_as, hr, fees):
    response = api_as(hr).get(FEES, {"month": timezone.localdate().strftime("%Y-%m")})

    assert response.status_code == 200
    by_name = {entry["reviewer"]: entry for entry in response.json()}
    assert set(by_name) == {"Rita Reyes", FORMULA_NAME}
    formula = by_name[FORMULA_NAME]
    assert {(t["currency"], Decimal(t["total"]), t["reviews"]) for t in formula["totals"]} == {
        ("USD", Decimal("1500"), 1),
        ("EUR", Decimal("900"), 1),
    }
    assert sorted(line["currency"] for line in formula["lines"]) == ["EUR", "USD"]
    assert [line["case"] for line in by_name["Rita Reyes"]["lines"]] == [fees["cases"][0].reference]


def test_fee_certification_of_another_month_is_empty(api_as, hr, fees):
    response = api_as(hr).get(FEES, {"month": "2001-01"})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1999-12", "2101-01"])
def test_fee_certification_of_a_month_out_of_range_is_400_not_500(api_as, hr, month):
    response = api_as(hr).get(FEES, {"month": month})
    assert response.status_code == 400
    assert "month" in response.json()["errors"]


def test_fee_certification_csv_has_a_bom_a_line_per_fee_and_a_total_per_currency(api_as, hr, fees):
    response = api_as(hr).get(FEES, {"month": timezone.localdate().strftime("%Y-%m"), "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["reviewer", "contract", "case", "earned_on", "amount", "currency"]
    lines = [row for row in rows[1:] if not row[2].startswith("TOTAL")]
    totals = [row for row in rows[1:] if row[2].startswith("TOTAL")]
    assert len(rows) == 1 + 3 + 3
    assert sorted(row[2] for row in lines) == sorted(case.reference for case in fees["cases"])
    assert sorted((row[0], row[5], Decimal(row[4])) for row in totals) == sorted(
        [
            ("'" + FORMULA_NAME, "EUR", Decimal("900")),
            ("'" + FORMULA_NAME, "USD", Decimal("1500")),
            ("Rita Reyes", "USD", Decimal("1500")),
        ]
    )


def test_fee_certification_csv_neutralises_a_reviewer_name_that_is_a_formula(api_as, hr, fees):
    response = api_as(hr).get(FEES, {"month": timezone.localdate().strftime("%Y-%m"), "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = {row[0] for row in rows[1:]}
    assert names == {"'" + FORMULA_NAME, "Rita Reyes"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("month", ["2026-13", "2026", "abc", "2026-1-1", "99999-01", "2026-00"])
def test_fee_certification_month_that_is_not_yyyy_mm_is_400(api_as, hr, month):
    assert "month" in error(api_as(hr).get(FEES, {"month": month}), 400)["errors"]


def test_fee_certification_csv_with_a_bad_month_is_still_a_400(api_as, hr):
    response = api_as(hr).get(FEES, {"month": "nope", "format": "csv"})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["requester", "reviewer", "endorser"])
def test_fee_certification_is_for_hr_only(request, api_as, who):
    error(api_as(request.getfixturevalue(who)).get(FEES), 403)


# --- reviewer transitions ----------------------------------------------------------------


def test_hr_invites_an_eligible_reviewer(api_as, hr, pool_reviewer, awaiting):
    response = transition(api_as(hr), awaiting, "invite_reviewer", reviewer=pool_reviewer.pk)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "reviewer_invited"
    assignment = Assignment.objects.get(case=awaiting)
    assert assignment.reviewer == pool_reviewer
    assert assignment.status == "invited"


def test_inviting_an_ineligible_reviewer_is_400_naming_the_failing_rules(api_as, hr, awaiting):
    unfit = reviewer_profile(UserFactory(username="ivan"), languages=["fr"], active=False)

    body = error(transition(api_as(hr), awaiting, "invite_reviewer", reviewer=unfit.pk), 400)

    messages = body["errors"]["reviewer"]
    failed = {message.split(":")[0] for message in messages[1:]}
    assert failed == {"active_reviewer", "reads_language"}
    after = RebuttalCase.objects.get(pk=awaiting.pk)
    assert (after.status, after.version) == ("awaiting_assignment", awaiting.version)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("reviewer_id", [999999, 2**31, 2**63 + 1, 2**70])
def test_inviting_an_unknown_reviewer_is_400(api_as, hr, awaiting, reviewer_id):
    body = error(transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer_id), 400)
    assert "reviewer" in body["errors"]
    assert RebuttalCase.objects.get(pk=awaiting.pk).status == "awaiting_assignment"


@pytest.mark.parametrize("reviewer_id", [None, "abc", 0, -1, [1], {"id": 1}, 1.5])
def test_inviting_with_a_malformed_reviewer_id_is_400(api_as, hr, awaiting, reviewer_id):
    body = error(transition(api_as(hr), awaiting, "invite_reviewer", reviewer=reviewer_id), 400)
    assert "reviewer" in body["errors"]


def test_a_reviewer_may_not_invite_themself(api_as, reviewer, pool_reviewer, awaiting):
    # The reviewer cannot see a case they were not invited to: 404, not 403.
    error(transition(api_as(reviewer), awaiting, "invite_reviewer", reviewer=pool_reviewer.pk), 404)


@pytest.fixture
def invited(requester, hr, reviewer):  # noqa: ANN001, ANN201
    return advance(make_case(requester), to="reviewer_invited", requester=requester, hr=hr, reviewer=reviewer)


def test_the_invited_reviewer_accepts_with_the_no_conflict_declaration(api_as, reviewer, invited):
    response = transition(api_as(reviewer), invited, "reviewer_accept", no_conflict_declaration=True)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "under_review"
    assignment = Assignment.objects.get(case=invited)
    assert assignment.status == "accepted"
    assert assignment.declaration_signed_at is not None


@pytest.mark.parametrize("declaration", [False, None, "no", "maybe"])
def test_accepting_without_the_no_conflict_declaration_is_400(api_as, reviewer, invited, declaration):
    response = transition(api_as(reviewer), invited, "reviewer_accept", no_conflict_declaration=declaration)

    assert "no_conflict_declaration" in error(response, 400)["errors"]
    assert RebuttalCase.objects.get(pk=invited.pk).status == "reviewer_invited"


def test_accepting_with_no_declaration_field_is_400(api_as, reviewer, invited):
    response = api_as(reviewer).post(
        f"/api/v1/cases/{invited.pk}/transitions/reviewer_accept/", {"version": invited.version}
    )
    assert "no_conflict_declaration" in error(response, 400)["errors"]


def test_hr_may_not_accept_on_the_reviewers_behalf(api_as, hr, invited):
    error(transition(api_as(hr), invited, "reviewer_accept", no_conflict_declaration=True), 403)


def test_the_invited_reviewer_declines_with_a_reason(api_as, reviewer, invited):
    response = transition(api_as(reviewer), invited, "reviewer_decline", reason="Travelling all month.")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_assignment"
    assignment = Assignment.objects.get(case=invited)
    assert (assignment.status, assignment.decline_reason) == ("declined", "Travelling all month.")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}])
def test_declining_needs_a_reason(api_as, reviewer, invited, body):
    response = transition(api_as(reviewer), invited, "reviewer_decline", **body)
    assert "reason" in error(response, 400)["errors"]
    assert RebuttalCase.objects.get(pk=invited.pk).status == "reviewer_invited"


def test_hr_releases_the_reviewer_from_a_case_under_review(api_as, hr, requester, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)

    response = transition(api_as(hr), case, "release_reviewer", reason="Conflict found late.")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_assignment"
    assert Assignment.objects.get(case=case).status == "released"


def test_releasing_needs_a_reason(api_as, hr, requester, reviewer):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    assert "reason" in error(transition(api_as(hr), case, "release_reviewer"), 400)["errors"]
    assert RebuttalCase.objects.get(pk=case.pk).status == "under_review"


def test_a_released_reviewer_is_never_suggested_or_invited_again_for_that_case(
    api_as, hr, requester, reviewer
):
    case = advance(make_case(requester), to="under_review", requester=requester, hr=hr, reviewer=reviewer)
    client = api_as(hr)
    assert transition(client, case, "release_reviewer", reason="Ill.").status_code == 200
    case = RebuttalCase.objects.get(pk=case.pk)
    rita = reviewer.reviewer_profile.pk

    suggestions = client.get(f"/api/v1/cases/{case.pk}/reviewer-suggestions/").json()
    body = error(transition(client, case, "invite_reviewer", reviewer=rita), 400)

    assert rita not in [s["reviewer"] for s in suggestions["eligible"]]
    [verdict] = [s for s in suggestions["ineligible"] if s["reviewer"] == rita]
    assert {r["rule"] for r in verdict["reasons"] if not r["passed"]} == {"not_excluded_from_case"}
    assert any(message.startswith("not_excluded_from_case") for message in body["errors"]["reviewer"])


def test_the_invited_reviewer_is_offered_accept_and_decline(api_as, reviewer, invited):
    offered = api_as(reviewer).get(f"/api/v1/cases/{invited.pk}/").json()["available_transitions"]
    assert {"reviewer_accept", "reviewer_decline"} <= set(offered)


# --- no request gives a 500 --------------------------------------------------------------

# Whole bodies of the wrong shape or with every field wrong at once.
MALFORMED_BODIES = [
    [],
    [1, 2],
    "text",
    42,
    None,
    {},
    {"name": ["x"], "email": {"a": 1}, "languages": {"en": True}, "regions": "Europe", "active": "perhaps"},
    {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {}}}}}}}}}}},
]

# Values each field of a good body is replaced with, one field at a time.
BAD_VALUES = [
    None,
    "",
    "   ",
    "x" * 10_000,
    "nul\x00byte",
    [],
    ["en", None],
    {"k": "v"},
    True,
    -1,
    0,
    10**40,
    1.5,
    "NaN",
    "Infinity",
    "1e999",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "=1+1",
]

RAW_BODIES = [
    ("{not json", "application/json"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "application/json"),
    ("\xff\xfe", "application/json"),
    ("reason=x&reason=y&version=1&reviewer=1", "application/x-www-form-urlencoded"),
    ("--b\r\nbroken", "multipart/form-data; boundary=b"),
    ("<xml/>", "application/xml"),
]


@pytest.fixture
def endpoints(requester, hr, hr_admin, reviewer, pool_reviewer):  # noqa: ANN001, ANN201
    """(who, method, url, a good body) for every pool endpoint that takes a body."""
    carol, dave = requester_named("carol"), requester_named("dave")
    awaiting = advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)
    invited = advance(make_case(carol), to="reviewer_invited", requester=carol, hr=hr, reviewer=reviewer)
    other = reviewer_profile(UserFactory(username="ivan"))
    reviewing = advance(make_case(dave), to="under_review", requester=dave, hr=hr, reviewer=other.user)
    case_url = "/api/v1/cases/{}/transitions/{}/".format
    return [
        (hr_admin, "post", REVIEWERS, new_reviewer()),
        (hr_admin, "patch", reviewer_url(pool_reviewer), {"name": "Rita R.", "languages": ["en"]}),
        (hr_admin, "post", reviewer_url(pool_reviewer, "contracts/"), new_contract()),
        (hr, "post", reviewer_url(pool_reviewer, "conflicts/"), {"requester_email": "x@example.org"}),
        (
            reviewer,
            "post",
            reviewer_url(pool_reviewer, "conflicts/"),
            {"office": "Rome", "reason": "Lived there"},
        ),
        (hr, "post", reviewer_url(other, "release-all/"), {"reason": "Leaving."}),
        (
            hr,
            "post",
            case_url(awaiting.pk, "invite_reviewer"),
            {"version": awaiting.version, "reviewer": other.pk},
        ),
        (
            reviewer,
            "post",
            case_url(invited.pk, "reviewer_accept"),
            {"version": invited.version, "no_conflict_declaration": True},
        ),
        (
            reviewer,
            "post",
            case_url(invited.pk, "reviewer_decline"),
            {"version": invited.version, "reason": "Busy."},
        ),
        (
            hr,
            "post",
            case_url(reviewing.pk, "release_reviewer"),
            {"version": reviewing.version, "reason": "Ill."},
        ),
    ]


def _server_errors(api: Any, endpoints: list[Any], bodies: Any) -> list[tuple[Any, ...]]:
    """Send every body to every endpoint; return those answered with a 500 or a non-JSON body."""
    api.raise_request_exception = False  # a server error must show as a 500, not abort the test
    failures = []
    for user, method, url, good in endpoints:
        api.force_authenticate(user=user)
        send = getattr(api, method)
        for body in bodies(good):
            response = send(url, body, format="json")
            if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
                failures.append((method, url, repr(body)[:100], response.status_code))
    return failures


def test_no_malformed_body_on_a_pool_endpoint_gives_a_500(api, endpoints):
    assert _server_errors(api, endpoints, lambda good: MALFORMED_BODIES) == []
    for user, method, url, _good in endpoints:
        api.force_authenticate(user=user)
        for raw, content_type in RAW_BODIES:
            response = getattr(api, method)(url, raw, content_type=content_type)
            assert response.status_code < 500, (url, raw[:40], response.status_code)


def test_no_bad_field_value_on_a_pool_endpoint_gives_a_500(api, endpoints):
    numbers = iter(range(1, 10_000))

    def variants(good: dict[str, Any]) -> Any:
        for field in good:
            for value in BAD_VALUES:
                body = {**good, field: value}
                # Each new reviewer its own e-mail, each contract its own number, so
                # that a duplicate does not hide what the bad value does.
                if "number" in good and field != "number":
                    body["number"] = f"RC-FUZZ-{next(numbers)}"
                if "email" in good and field != "email":
                    body["email"] = f"fuzz{next(numbers)}@example.net"
                yield body

    assert _server_errors(api, endpoints, variants) == []


@pytest.mark.parametrize(
    "url",
    [
        f"{REVIEWERS}abc/contracts/",
        f"{REVIEWERS}{2**70}/",
        f"{REVIEWERS}-1/",
        f"{EXPIRING}?days=%00",
        f"{FEES}?month=%00",
        f"{FEES}?month=2026-01&format=xml",
        "/api/v1/assignments/abc/",
        f"/api/v1/assignments/{2**70}/report/",
        f"/api/v1/cases/{2**70}/reviewer-suggestions/",
    ],
)
def test_no_malformed_pool_url_gives_a_500(api_as, hr, url):
    client = api_as(hr)
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code < 500, (url, response.status_code)
    assert response.status_code in (400, 404, 406)


# --- the schema --------------------------------------------------------------------------

POOL_PATHS = {
    "/api/v1/reviewers/": {"get", "post"},
    "/api/v1/reviewers/{id}/": {"get", "patch"},
    "/api/v1/reviewers/{id}/contracts/": {"get", "post"},
    "/api/v1/reviewers/{id}/conflicts/": {"post"},
    "/api/v1/reviewers/{id}/release-all/": {"post"},
    "/api/v1/cases/{id}/reviewer-suggestions/": {"get"},
    "/api/v1/contracts/expiring/": {"get"},
    "/api/v1/fees/certification/": {"get"},
    "/api/v1/assignments/": {"get"},
    "/api/v1/assignments/{id}/": {"get"},
    "/api/v1/assignments/{id}/report/": {"get"},
}


def test_the_openapi_schema_lists_the_pool_paths_and_reviewer_transitions(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, methods in POOL_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert {"400", "401", "403"} <= set(paths["/api/v1/reviewers/"]["post"]["responses"])
    [name] = [
        p
        for p in paths["/api/v1/cases/{id}/transitions/{name}/"]["post"]["parameters"]
        if p["name"] == "name"
    ]
    assert {"invite_reviewer", "reviewer_accept", "reviewer_decline", "release_reviewer"} <= set(
        name["schema"]["enum"]
    )


# --- accounts ----------------------------------------------------------------------------


def test_adding_a_reviewer_whose_email_is_another_accounts_username_makes_a_new_account(api_as, hr_admin):
    other = UserFactory(username="nadia@example.net", email="someone-else@example.org")

    response = api_as(hr_admin).post(REVIEWERS, new_reviewer(), format="json")

    assert response.status_code == 201, response.content
    account = Reviewer.objects.get(pk=response.json()["id"]).user
    assert account != other
    assert account.email == "nadia@example.net"
    assert account.username != other.username


def test_two_reviewers_whose_long_emails_share_150_characters_get_two_accounts(api_as, hr_admin):
    stem = "a" * 140 + "@example.net"
    client = api_as(hr_admin)

    first = client.post(REVIEWERS, new_reviewer(email=stem + "x"), format="json")
    second = client.post(REVIEWERS, new_reviewer(email=stem + "y"), format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    users = {Reviewer.objects.get(pk=r.json()["id"]).user_id for r in (first, second)}
    assert len(users) == 2


# --- assignments list paging -------------------------------------------------------------


def test_hr_pages_through_every_assignment(api_as, hr, reviewer):
    ivan = UserFactory(username="ivan")
    cases = []
    for n, who in enumerate([reviewer, ivan, reviewer]):
        person = requester_named(f"rq{n}")
        cases.append(advance(make_case(person), to="reviewer_invited", requester=person, hr=hr, reviewer=who))
    client = api_as(hr)

    seen, url = [], "/api/v1/assignments/?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [item["case"] for item in body["results"]]
        url = body["next"]

    assert sorted(seen) == sorted(case.reference for case in cases)


def test_a_garbled_assignments_page_is_404_not_500(api_as, hr):
    error(api_as(hr).get("/api/v1/assignments/", {"page": "garbage"}), 404)
