"""Each eligibility rule at its edge, checked as a verdict and through the invitation.

The rules live in ``reviewers/eligibility.py``; ``selectors.reviewer_verdict``
reads the facts they need and judges one reviewer for one case. HR invites
through ``workflow.services.case_act`` (``invite_reviewer``), which must refuse
an ineligible reviewer with a ``ValidationError`` naming every failing rule
under ``reviewer``, and change nothing.

Every test runs at noon on a fixed Monday (``time_machine``): the expected end of
a review assigned today is today plus the policy's review target (30 calendar
days by default).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from rebuttal import services as case_services
from rebuttal.models import CaseEvent, RebuttalCase
from rebuttal.permissions import REVIEWER
from rebuttal.policy_defaults import DEFAULT_POLICY
from reviewers import selectors
from reviewers.eligibility import RULES, Verdict
from reviewers.models import (
    EXCLUDING_STATUSES,
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Conflict,
    RetainerContract,
    Reviewer,
)
from tests.factories import UserFactory, advance, make_case
from workflow.services import case_act

TODAY = dt.date(2026, 3, 16)  # a Monday
DAY = dt.timedelta(days=1)
REVIEW_END = TODAY + dt.timedelta(days=30)  # the default review target: 30 calendar days
RULE_NAMES = [rule.__name__ for rule in RULES]
# A contract that does not cover the review also leaves no capacity to use.
NO_CONTRACT = ["contract_in_force", "spare_capacity"]
ENDED_STATUSES = [s for s in AssignmentStatus.values if s not in OPEN_ASSIGNMENT_STATUSES]

_numbers = itertools.count(1)


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())


@pytest.fixture(autouse=True)
def _today(time_machine: Any) -> None:
    time_machine.move_to(noon(TODAY))


# --- builders ------------------------------------------------------------------------


def add_contract(reviewer: Reviewer, **overrides: Any) -> RetainerContract:
    """A contract in force from a month ago for a year, with room for five cases."""
    fields: dict[str, Any] = {
        "number": f"RC-E{next(_numbers):04d}",
        "starts_on": TODAY - dt.timedelta(days=30),
        "ends_on": TODAY + dt.timedelta(days=365),
        "max_concurrent_cases": 5,
        "fee_per_review": "1500.00",
        "currency": "USD",
    }
    fields.update(overrides)
    return RetainerContract.objects.create(reviewer=reviewer, **fields)


def pool_member(
    username: str, *, user: Any = None, contract: dict[str, Any] | None = None, **overrides: Any
) -> Reviewer:
    """A reviewer who passes every rule for a case of the ``case`` fixture unless overridden."""
    user = user or UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    fields: dict[str, Any] = {
        "name": username.title(),
        "email": user.email,
        "languages": ["en"],
        "regions": ["Europe"],
        "affiliation": "Independent consultant",
    }
    fields.update(overrides)
    reviewer = Reviewer.objects.create(user=user, **fields)
    if contract is not None:
        add_contract(reviewer, **contract)
    return reviewer


def awaiting_assignment(requester: Any, hr: Any, **overrides: Any) -> RebuttalCase:
    return advance(make_case(requester, **overrides), to="awaiting_assignment", requester=requester, hr=hr)


def other_case(username: str) -> RebuttalCase:
    """A draft of another requester, to hang assignments on."""
    return make_case(UserFactory(username=username))


def assign(case: RebuttalCase, reviewer: Reviewer, status: str) -> Assignment:
    """An assignment row in ``status``, as the services would have left it."""
    return Assignment.objects.create(
        case=case,
        reviewer=reviewer,
        contract=reviewer.contracts.first(),
        status=status,
        expected_end_on=REVIEW_END,
    )


def verdict(case: RebuttalCase, reviewer: Reviewer) -> Verdict:
    return selectors.reviewer_verdict(case=RebuttalCase.objects.get(pk=case.pk), reviewer=reviewer)


def failing(case: RebuttalCase, reviewer: Reviewer) -> list[str]:
    return [check.rule for check in verdict(case, reviewer).failed]


def detail(case: RebuttalCase, reviewer: Reviewer, rule: str) -> str:
    return next(check.detail for check in verdict(case, reviewer).checks if check.rule == rule)


def act(case: RebuttalCase, name: str, actor: Any, **data: Any) -> RebuttalCase:
    case.refresh_from_db()
    return case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)


def invite(case: RebuttalCase, hr: Any, reviewer: Reviewer) -> RebuttalCase:
    return act(case, "invite_reviewer", hr, reviewer=reviewer.pk)


def publish_review_target(hr_admin: Any, days: int, unit: str = "calendar") -> None:
    values = copy.deepcopy(DEFAULT_POLICY)
    values["stage_targets"]["review"] = {"days": days, "unit": unit}
    case_services.policy_publish(actor=hr_admin, values=values, note=f"Review target {days} {unit} days")


@pytest.fixture
def case(requester: Any, hr: Any) -> RebuttalCase:
    """Alice's request (English, Geneva Office, fro@ / sro@), waiting for a reviewer."""
    return awaiting_assignment(requester, hr)


# --- the whole verdict ---------------------------------------------------------------


def test_a_reviewer_clear_of_every_rule_passes_each_named_check_in_order(case):
    reviewer = pool_member("una", contract={})

    result = verdict(case, reviewer)

    assert result.eligible
    assert [check.rule for check in result.checks] == RULE_NAMES
    assert all(check.passed and check.detail for check in result.checks)
    assert result.contract == reviewer.contracts.get()
    assert result.open_cases == 0


# --- contract in force through the review's expected end -----------------------------


@pytest.mark.parametrize(
    ("ends_on", "failed"),
    [
        pytest.param(REVIEW_END - DAY, NO_CONTRACT, id="day-before-review-end"),
        pytest.param(REVIEW_END, [], id="day-of-review-end"),
        pytest.param(REVIEW_END + DAY, [], id="day-after-review-end"),
    ],
)
def test_contract_must_last_through_the_reviews_expected_end(case, ends_on, failed):
    reviewer = pool_member("carla", contract={"ends_on": ends_on})

    assert failing(case, reviewer) == failed


def test_contract_ending_the_day_before_the_review_end_says_when_each_ends(case):
    reviewer = pool_member("carla", contract={"number": "RC-SHORT", "ends_on": REVIEW_END - DAY})

    assert detail(case, reviewer, "contract_in_force") == (
        "Contract RC-SHORT ends on 14 Apr 2026, before the review's expected end (15 Apr 2026)."
    )


def test_invitation_at_the_edge_records_the_covering_contract_and_the_review_end(case, hr):
    reviewer = pool_member("carla", contract={"ends_on": REVIEW_END})

    case = invite(case, hr, reviewer)

    assert case.status == "reviewer_invited"
    assignment = Assignment.objects.get(case=case)
    assert assignment.status == AssignmentStatus.INVITED
    assert assignment.contract == reviewer.contracts.get()
    assert assignment.expected_end_on == REVIEW_END


@pytest.mark.parametrize(
    ("ends_on", "failed"),
    [
        pytest.param(TODAY + dt.timedelta(days=30), NO_CONTRACT, id="default-edge-now-short"),
        pytest.param(TODAY + dt.timedelta(days=44), NO_CONTRACT, id="day-before-new-edge"),
        pytest.param(TODAY + dt.timedelta(days=45), [], id="day-of-new-edge"),
    ],
)
def test_a_published_longer_review_target_moves_the_contract_edge(case, hr_admin, ends_on, failed):
    publish_review_target(hr_admin, 45)
    reviewer = pool_member("carla", contract={"ends_on": ends_on})

    assert failing(case, reviewer) == failed


@pytest.mark.parametrize(
    ("ends_on", "failed"),
    [
        # Ten working days from Monday 16 March 2026 end on Monday 30 March.
        pytest.param(dt.date(2026, 3, 29), NO_CONTRACT, id="sunday-before"),
        pytest.param(dt.date(2026, 3, 30), [], id="tenth-working-day"),
    ],
)
def test_a_review_target_in_working_days_counts_working_days(case, hr_admin, ends_on, failed):
    publish_review_target(hr_admin, 10, "business")
    reviewer = pool_member("carla", contract={"ends_on": ends_on})

    assert failing(case, reviewer) == failed


def test_invitation_under_a_new_policy_expects_the_review_to_end_by_its_target(case, hr, hr_admin):
    publish_review_target(hr_admin, 45)
    reviewer = pool_member("carla", contract={"ends_on": TODAY + dt.timedelta(days=45)})

    invite(case, hr, reviewer)

    assert Assignment.objects.get(case=case).expected_end_on == TODAY + dt.timedelta(days=45)


@pytest.mark.parametrize(
    ("starts_on", "failed"),
    [
        pytest.param(TODAY, [], id="starting-today"),
        pytest.param(TODAY + DAY, NO_CONTRACT, id="starting-tomorrow"),
    ],
)
def test_contract_must_already_be_in_force_today(case, starts_on, failed):
    reviewer = pool_member("carla", contract={"starts_on": starts_on})

    assert failing(case, reviewer) == failed


def test_contract_starting_tomorrow_says_so(case):
    reviewer = pool_member("carla", contract={"number": "RC-LATE", "starts_on": TODAY + DAY})

    assert detail(case, reviewer, "contract_in_force") == "Contract RC-LATE only starts on 17 Mar 2026."


@pytest.mark.parametrize("status", ["suspended", "ended"])
def test_a_suspended_or_ended_contract_is_not_in_force_whatever_its_dates(case, status):
    reviewer = pool_member("carla", contract={"number": "RC-OFF", "status": status})

    assert failing(case, reviewer) == NO_CONTRACT
    assert detail(case, reviewer, "contract_in_force") == f"Contract RC-OFF is {status}."


def test_a_reviewer_without_a_contract_is_not_eligible(case):
    reviewer = pool_member("carla")

    assert failing(case, reviewer) == NO_CONTRACT
    assert detail(case, reviewer, "contract_in_force") == "Has no retainer contract."


def test_an_ended_contract_does_not_matter_when_another_covers_the_review(case):
    reviewer = pool_member("carla", contract={"number": "RC-OLD", "status": "ended"})
    current = add_contract(reviewer, number="RC-NEW")

    result = verdict(case, reviewer)

    assert result.eligible
    assert result.contract == current


# --- spare capacity ------------------------------------------------------------------


def test_capacity_counts_open_cases_only_one_below_the_limit_passes(case):
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 4})
    for n, status in enumerate([*OPEN_ASSIGNMENT_STATUSES, *ENDED_STATUSES]):
        assign(other_case(f"req{n}"), reviewer, status)

    result = verdict(case, reviewer)

    assert result.eligible
    assert result.open_cases == 3
    assert detail(case, reviewer, "spare_capacity") == "Holds 3 of at most 4 open cases."


def test_capacity_reached_at_the_limit_fails(case):
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 4})
    for n, status in enumerate([*OPEN_ASSIGNMENT_STATUSES, AssignmentStatus.INVITED, *ENDED_STATUSES]):
        assign(other_case(f"req{n}"), reviewer, status)

    assert failing(case, reviewer) == ["spare_capacity"]
    assert detail(case, reviewer, "spare_capacity") == "Already holds 4 of at most 4 open cases."


@pytest.mark.parametrize("status", OPEN_ASSIGNMENT_STATUSES)
def test_an_invited_accepted_or_reported_assignment_takes_a_place(case, status):
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 1})
    assign(other_case("req"), reviewer, status)

    assert failing(case, reviewer) == ["spare_capacity"]


@pytest.mark.parametrize("status", ENDED_STATUSES)
def test_an_ended_assignment_frees_its_place(case, status):
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 1})
    assign(other_case("req"), reviewer, status)

    assert failing(case, reviewer) == []


def test_invitation_one_below_capacity_succeeds(case, hr):
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 2})
    assign(other_case("req"), reviewer, AssignmentStatus.ACCEPTED)

    invite(case, hr, reviewer)

    assert reviewer.assignments.filter(status__in=OPEN_ASSIGNMENT_STATUSES).count() == 2


# --- language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("languages", "failed"),
    [
        pytest.param(["fr", "es"], ["reads_language"], id="missing"),
        pytest.param(["fr", "en"], [], id="among-others"),
    ],
)
def test_reviewer_must_read_the_case_language(case, languages, failed):
    reviewer = pool_member("lea", contract={}, languages=languages)

    assert failing(case, reviewer) == failed


def test_a_french_case_needs_a_french_reader(requester, hr):
    case = awaiting_assignment(requester, hr, language="fr")
    reviewer = pool_member("lea", contract={}, languages=["en"])

    assert failing(case, reviewer) == ["reads_language"]
    assert detail(case, reviewer, "reads_language") == "Does not read the case language (fr)."


# --- not a party ---------------------------------------------------------------------


def test_the_requester_cannot_review_their_own_case(case, requester):
    reviewer = pool_member("alice", user=requester, contract={})

    assert failing(case, reviewer) == ["not_a_party"]
    assert detail(case, reviewer, "not_a_party") == "Is the requester."


def test_another_account_with_the_requesters_email_in_any_letter_case_is_the_requester(case):
    reviewer = pool_member("alice2", contract={}, email="ALICE@Example.ORG")

    assert failing(case, reviewer) == ["not_a_party"]


@pytest.mark.parametrize("email", ["FRO@Example.org", "sro@EXAMPLE.ORG"])
def test_a_reporting_officer_of_the_case_is_a_party_whatever_the_case_of_the_email(case, email):
    reviewer = pool_member("rory", contract={}, email=email)

    assert failing(case, reviewer) == ["not_a_party"]
    assert detail(case, reviewer, "not_a_party") == "Is a reporting officer of the case."


def test_someone_elses_reporting_officer_is_not_a_party(case):
    reviewer = pool_member("rory", contract={}, email="fro.other@example.org")

    assert failing(case, reviewer) == []


# --- not from the requester's office -------------------------------------------------


@pytest.mark.parametrize(
    ("affiliation", "failed"),
    [
        pytest.param("Geneva Office", ["not_same_office"], id="same"),
        pytest.param("  GENEVA office ", ["not_same_office"], id="same-other-case-and-spaces"),
        pytest.param("Geneva Office Annex", [], id="different"),
        pytest.param("", [], id="none"),
    ],
)
def test_reviewer_from_the_requesters_office_is_not_eligible(case, affiliation, failed):
    reviewer = pool_member("omar", contract={}, affiliation=affiliation)

    assert failing(case, reviewer) == failed


# --- no earlier case of the same requester -------------------------------------------


@pytest.mark.parametrize(
    ("status", "accepted", "failed"),
    [
        pytest.param(AssignmentStatus.INVITED, False, ["no_earlier_case_of_requester"], id="invited"),
        pytest.param(AssignmentStatus.ACCEPTED, True, ["no_earlier_case_of_requester"], id="accepted"),
        pytest.param(AssignmentStatus.REPORTED, True, ["no_earlier_case_of_requester"], id="reported"),
        pytest.param(AssignmentStatus.COMPLETED, True, ["no_earlier_case_of_requester"], id="completed"),
        pytest.param(
            AssignmentStatus.RELEASED, True, ["no_earlier_case_of_requester"], id="released-after-accepting"
        ),
        pytest.param(
            AssignmentStatus.CANCELLED, True, ["no_earlier_case_of_requester"], id="cancelled-after-accepting"
        ),
        pytest.param(AssignmentStatus.RELEASED, False, [], id="released-while-invited"),
        pytest.param(AssignmentStatus.CANCELLED, False, [], id="cancelled-while-invited"),
        pytest.param(AssignmentStatus.DECLINED, False, [], id="declined"),
        pytest.param(AssignmentStatus.EXPIRED, False, [], id="expired"),
    ],
)
def test_another_case_of_the_requester_bars_a_reviewer_who_holds_or_accepted_it(
    case, requester, status, accepted, failed
):
    reviewer = pool_member("ezra", contract={})
    earlier = assign(make_case(requester, appraisal_cycle=2025), reviewer, status)
    if accepted:
        Assignment.objects.filter(pk=earlier.pk).update(declaration_signed_at=timezone.now())

    assert failing(case, reviewer) == failed


def test_an_accepted_earlier_case_of_the_requester_bars_the_reviewer(requester, hr):
    reviewer = pool_member("ezra", contract={})
    earlier = invite(awaiting_assignment(requester, hr, appraisal_cycle=2025), hr, reviewer)
    act(earlier, "reviewer_accept", reviewer.user, no_conflict_declaration=True)
    case = awaiting_assignment(requester, hr)

    assert failing(case, reviewer) == ["no_earlier_case_of_requester"]
    assert detail(case, reviewer, "no_earlier_case_of_requester") == (
        "Holds or reviewed another case of the same requester."
    )


def test_a_declined_invitation_to_an_earlier_case_of_the_requester_does_not_bar(requester, hr):
    reviewer = pool_member("ezra", contract={})
    earlier = invite(awaiting_assignment(requester, hr, appraisal_cycle=2025), hr, reviewer)
    act(earlier, "reviewer_decline", reviewer.user, reason="Travelling.")
    case = awaiting_assignment(requester, hr)

    assert failing(case, reviewer) == []


def test_a_case_of_another_requester_does_not_bar(case, other_requester):
    reviewer = pool_member("ezra", contract={})
    assign(make_case(other_requester), reviewer, AssignmentStatus.COMPLETED)

    assert failing(case, reviewer) == []


# --- no declared conflict ------------------------------------------------------------


@pytest.mark.parametrize(
    ("conflict", "failed"),
    [
        pytest.param({"requester_email": "Alice@EXAMPLE.org"}, ["no_declared_conflict"], id="requester"),
        pytest.param({"office": "geneva OFFICE"}, ["no_declared_conflict"], id="office"),
        pytest.param({"requester_email": "olga@example.org"}, [], id="another-requester"),
        pytest.param({"office": "Nairobi Office"}, [], id="another-office"),
    ],
)
def test_a_declared_conflict_with_the_requester_or_the_office_bars(case, conflict, failed):
    reviewer = pool_member("cora", contract={})
    Conflict.objects.create(reviewer=reviewer, reason="Former colleague.", **conflict)

    assert failing(case, reviewer) == failed


# --- not excluded from this case -----------------------------------------------------


def test_excluding_statuses_are_declined_and_released():
    assert set(EXCLUDING_STATUSES) == {AssignmentStatus.DECLINED, AssignmentStatus.RELEASED}


def test_a_reviewer_who_declined_this_case_is_excluded_from_it(case, hr):
    reviewer = pool_member("dina", contract={})
    act(invite(case, hr, reviewer), "reviewer_decline", reviewer.user, reason="Too busy.")

    assert failing(case, reviewer) == ["not_excluded_from_case"]


def test_a_reviewer_released_from_this_case_is_excluded_from_it(case, hr):
    reviewer = pool_member("dina", contract={})
    case = act(invite(case, hr, reviewer), "reviewer_accept", reviewer.user, no_conflict_declaration=True)
    act(case, "release_reviewer", hr, reason="Conflict found.")

    assert failing(case, reviewer) == ["not_excluded_from_case"]


def test_an_expired_invitation_does_not_exclude_the_reviewer(case, hr):
    reviewer = pool_member("dina", contract={})
    case = act(invite(case, hr, reviewer), "invitation_expire", None)

    assert case.status == "awaiting_assignment"
    assert failing(case, reviewer) == []
    assert invite(case, hr, reviewer).status == "reviewer_invited"


def test_declining_another_case_does_not_exclude_from_this_one(case, hr, other_requester):
    reviewer = pool_member("dina", contract={})
    elsewhere = invite(awaiting_assignment(other_requester, hr), hr, reviewer)
    act(elsewhere, "reviewer_decline", reviewer.user, reason="Too busy.")

    assert failing(case, reviewer) == []


# --- active in the pool --------------------------------------------------------------


def test_an_inactive_reviewer_is_not_eligible(case):
    reviewer = pool_member("ivan", contract={}, active=False)

    assert failing(case, reviewer) == ["active_reviewer"]


# --- the invitation refuses every ineligible reviewer, changing nothing ------------


Scenario = Callable[[RebuttalCase, Any, Any], tuple[RebuttalCase, Reviewer, list[str]]]


def _refused_after_decline(case: RebuttalCase, hr: Any, requester: Any) -> tuple[Any, Reviewer, list[str]]:
    reviewer = pool_member("dina", contract={})
    case = act(invite(case, hr, reviewer), "reviewer_decline", reviewer.user, reason="Too busy.")
    return case, reviewer, ["not_excluded_from_case"]


def _refused_after_release(case: RebuttalCase, hr: Any, requester: Any) -> tuple[Any, Reviewer, list[str]]:
    reviewer = pool_member("dina", contract={})
    case = act(invite(case, hr, reviewer), "reviewer_accept", reviewer.user, no_conflict_declaration=True)
    case = act(case, "release_reviewer", hr, reason="Conflict found.")
    return case, reviewer, ["not_excluded_from_case"]


def _refused_earlier_case(case: RebuttalCase, hr: Any, requester: Any) -> tuple[Any, Reviewer, list[str]]:
    reviewer = pool_member("ezra", contract={})
    assign(make_case(requester, appraisal_cycle=2025), reviewer, AssignmentStatus.ACCEPTED)
    return case, reviewer, ["no_earlier_case_of_requester"]


def _refused_at_capacity(case: RebuttalCase, hr: Any, requester: Any) -> tuple[Any, Reviewer, list[str]]:
    reviewer = pool_member("kim", contract={"max_concurrent_cases": 1})
    assign(other_case("req"), reviewer, AssignmentStatus.INVITED)
    return case, reviewer, ["spare_capacity"]


def _simple(rules: list[str], **fields: Any) -> Scenario:
    def build(case: RebuttalCase, hr: Any, requester: Any) -> tuple[Any, Reviewer, list[str]]:
        member = dict(fields)
        if member.pop("is_requester", False):
            member["user"] = requester
        conflict = member.pop("conflict", None)
        reviewer = pool_member("zed", **member)
        if conflict:
            Conflict.objects.create(reviewer=reviewer, **conflict)
        return case, reviewer, rules

    return build


REFUSALS: dict[str, Scenario] = {
    "contract-ends-day-before": _simple(NO_CONTRACT, contract={"ends_on": REVIEW_END - DAY}),
    "contract-starts-tomorrow": _simple(NO_CONTRACT, contract={"starts_on": TODAY + DAY}),
    "contract-suspended": _simple(NO_CONTRACT, contract={"status": "suspended"}),
    "contract-ended": _simple(NO_CONTRACT, contract={"status": "ended"}),
    "at-capacity": _refused_at_capacity,
    "language": _simple(["reads_language"], contract={}, languages=["es"]),
    "requester": _simple(["not_a_party"], contract={}, is_requester=True),
    "reporting-officer": _simple(["not_a_party"], contract={}, email="Fro@Example.org"),
    "same-office": _simple(["not_same_office"], contract={}, affiliation="GENEVA OFFICE"),
    "earlier-case": _refused_earlier_case,
    "conflict-requester": _simple(
        ["no_declared_conflict"], contract={}, conflict={"requester_email": "ALICE@example.org"}
    ),
    "conflict-office": _simple(["no_declared_conflict"], contract={}, conflict={"office": "geneva office"}),
    "declined-before": _refused_after_decline,
    "released-before": _refused_after_release,
    "inactive": _simple(["active_reviewer"], contract={}, active=False),
    "several-at-once": _simple(
        ["active_reviewer", *NO_CONTRACT, "reads_language", "not_same_office", "no_declared_conflict"],
        contract={"status": "suspended"},
        active=False,
        languages=["fr"],
        affiliation="Geneva Office",
        conflict={"office": "Geneva Office"},
    ),
}


@pytest.mark.parametrize("scenario", list(REFUSALS))
def test_invitation_refuses_an_ineligible_reviewer_naming_each_failing_rule(case, hr, requester, scenario):
    case, reviewer, rules = REFUSALS[scenario](case, hr, requester)
    assert failing(case, reviewer) == rules
    case.refresh_from_db()
    before = (case.status, case.version, case.reviewer_user_id)
    events = CaseEvent.objects.filter(case=case).count()
    assignments = list(Assignment.objects.values_list("pk", "status"))

    with pytest.raises(ValidationError) as refused:
        invite(case, hr, reviewer)

    messages = refused.value.message_dict["reviewer"]
    assert messages[0] == f"{reviewer.name} is not eligible for this case."
    assert [message.split(":")[0] for message in messages[1:]] == rules
    case.refresh_from_db()
    assert (case.status, case.version, case.reviewer_user_id) == before
    assert case.status == "awaiting_assignment"
    assert CaseEvent.objects.filter(case=case).count() == events
    assert list(Assignment.objects.values_list("pk", "status")) == assignments
    assert not Assignment.objects.filter(case=case, status__in=OPEN_ASSIGNMENT_STATUSES).exists()


def test_invitation_refuses_a_reviewer_missing_from_the_pool(case, hr):
    version = case.version

    with pytest.raises(ValidationError) as refused:
        case_act(case_id=case.pk, name="invite_reviewer", actor=hr, version=version, data={"reviewer": 0})

    assert refused.value.message_dict["reviewer"] == ["No such reviewer in the pool."]
    case.refresh_from_db()
    assert (case.status, case.version) == ("awaiting_assignment", version)
