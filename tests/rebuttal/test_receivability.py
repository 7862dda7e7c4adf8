"""Receivability rules at their edges, checked directly and through the services.

Each rule is tested as a function (``rebuttal/receivability.py``) on a case built
in memory, then end to end: a request is filed and screened through
``workflow.services.case_act``, and HR accepts or rejects it. The filing window
is measured from the appraisal sign-off to the submission date, so every test
runs at a fixed moment (``time_machine``).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from rebuttal import receivability, selectors, services
from rebuttal.models import CaseEvent, ContractType, Policy, RebuttalCase, Status
from rebuttal.policy_defaults import DEFAULT_POLICY
from tests.factories import advance, intake, make_case
from workflow.services import case_act

# A Monday; the tests file and screen requests around it.
TODAY = dt.date(2026, 3, 16)
RULE_NAMES = [rule.__name__ for rule in receivability.RULES]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())


@pytest.fixture(autouse=True)
def _today(time_machine: Any) -> None:
    time_machine.move_to(noon(TODAY))


# --- helpers -------------------------------------------------------------------


def request_data(*, signed_days_ago: int = 1, **overrides: Any) -> dict[str, Any]:
    """Intake fields of a request signed ``signed_days_ago`` days before today."""
    return intake(appraisal_signed_on=TODAY - dt.timedelta(days=signed_days_ago), **overrides)


def in_memory(requester: Any, *, submitted_on: dt.date = TODAY, **overrides: Any) -> RebuttalCase:
    """An unsaved request submitted on ``submitted_on``, for calling a rule directly."""
    case = RebuttalCase(requester=requester, **request_data(**overrides))
    case.submitted_at = noon(submitted_on)
    return case


def act(case: RebuttalCase, name: str, actor: Any, **data: Any) -> RebuttalCase:
    return case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)


def screened(requester: Any, hr: Any, **overrides: Any) -> RebuttalCase:
    """A request filed today and taken into screening by HR."""
    case = services.case_create(requester=requester, data=request_data(**overrides))
    return advance(case, to=Status.SCREENING, requester=requester, hr=hr)


def outcome(case: RebuttalCase) -> dict[str, bool]:
    return {result.rule: result.passed for result in selectors.case_receivability(case=case)}


def failed_rules(case: RebuttalCase) -> list[str]:
    return [rule for rule, passed in outcome(case).items() if not passed]


def snapshot(case: RebuttalCase) -> dict[str, Any]:
    """What a refused action must leave exactly as it was."""
    case = RebuttalCase.objects.get(pk=case.pk)
    return {
        "status": case.status,
        "version": case.version,
        "event_count": case.event_count,
        "events": case.events.count(),
        "history": case.history.count(),
        "receivability_result": case.receivability_result,
        "override_justification": case.override_justification,
        "not_receivable_reason": case.not_receivable_reason,
        "stage_due_on": case.stage_due_on,
    }


def last_event(case: RebuttalCase) -> CaseEvent:
    return case.events.order_by("-seq").first()


# --- rebuttable rating ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "rebuttable"),
    [
        ("exceeds", False),
        ("successfully_meets", False),
        ("partially_meets", True),
        ("does_not_meet", True),
    ],
)
def test_only_the_two_lowest_ratings_of_the_scale_are_rebuttable(requester, policy, rating, rebuttable):
    assert policy.rating_keys == ["exceeds", "successfully_meets", "partially_meets", "does_not_meet"]

    result = receivability.rebuttable_rating(in_memory(requester, original_rating=rating), policy)

    assert result.rule == "rebuttable_rating"
    assert result.passed is rebuttable
    assert policy.rating_label(rating) in result.detail


def test_a_rating_not_on_the_scale_is_not_rebuttable(requester, policy):
    result = receivability.rebuttable_rating(in_memory(requester, original_rating="outstanding"), policy)

    assert result.passed is False
    assert "not on the rating scale" in result.detail


def test_a_refused_rating_names_the_ratings_that_can_be_rebutted(requester, policy):
    result = receivability.rebuttable_rating(in_memory(requester, original_rating="exceeds"), policy)

    assert "Partially meets expectations" in result.detail
    assert "Does not meet expectations" in result.detail


# --- filing window -----------------------------------------------------------------


def test_the_default_filing_window_is_14_calendar_days(policy):
    assert policy.filing_window_days == 14


def test_request_signed_14_days_before_submission_is_in_time(requester, policy):
    case = in_memory(requester, signed_days_ago=policy.filing_window_days)

    result = receivability.filing_window(case, policy)

    assert result.passed is True
    assert "14 calendar day(s)" in result.detail


def test_request_signed_15_days_before_submission_is_late(requester, policy):
    case = in_memory(requester, signed_days_ago=policy.filing_window_days + 1)

    result = receivability.filing_window(case, policy)

    assert result.passed is False
    assert "15 calendar days" in result.detail
    assert "the window is 14 days" in result.detail


def test_request_submitted_the_day_it_was_signed_is_in_time(requester, policy):
    assert receivability.filing_window(in_memory(requester, signed_days_ago=0), policy).passed is True


def test_sign_off_after_the_submission_date_fails_the_filing_window(requester, policy):
    case = in_memory(requester, signed_days_ago=0, submitted_on=TODAY - dt.timedelta(days=1))

    result = receivability.filing_window(case, policy)

    assert result.passed is False
    assert "after the filing date" in result.detail


def test_filing_window_is_measured_to_the_submission_date_not_the_screening_date(
    requester, policy, time_machine
):
    case = in_memory(requester, signed_days_ago=14)
    time_machine.move_to(noon(TODAY + dt.timedelta(days=30)))

    assert receivability.filing_window(case, policy).passed is True


def test_unsubmitted_request_is_measured_to_today(requester, policy, time_machine):
    case = in_memory(requester, signed_days_ago=14)
    case.submitted_at = None
    assert receivability.filing_window(case, policy).passed is True

    time_machine.move_to(noon(TODAY + dt.timedelta(days=1)))

    assert receivability.filing_window(case, policy).passed is False


def test_screening_days_after_an_in_time_submission_keeps_the_request_in_time(requester, hr, time_machine):
    case = make_case(requester, appraisal_signed_on=TODAY - dt.timedelta(days=14))
    case = act(case, "submit", requester)
    time_machine.move_to(noon(TODAY + dt.timedelta(days=10)))

    case = act(case, "start_screening", hr)
    case = act(case, "accept_receivable", hr)

    assert case.status == Status.AWAITING_ASSIGNMENT
    assert case.override_justification == ""


# --- eligible contract types ---------------------------------------------------------


@pytest.mark.parametrize(
    ("contract_type", "months", "eligible"),
    [
        ("permanent", None, True),
        ("continuing", None, True),
        ("fixed_term", 24, True),
        ("ica", None, True),
        ("temporary", None, False),
    ],
)
def test_eligible_contract_types(requester, policy, contract_type, months, eligible):
    case = in_memory(requester, contract_type=contract_type, appointment_months=months)

    result = receivability.eligible_contract(case, policy)

    assert result.passed is eligible
    assert str(ContractType(contract_type).label) in result.detail


def test_every_contract_type_is_covered_by_the_eligibility_tests():
    assert set(ContractType.values) == {"permanent", "continuing", "fixed_term", "ica", "temporary"}


@pytest.mark.parametrize(("months", "eligible"), [(11, False), (12, True), (None, False)])
def test_fixed_term_appointment_needs_at_least_12_months(requester, policy, months, eligible):
    assert policy.fixed_term_min_months == 12
    case = in_memory(requester, contract_type="fixed_term", appointment_months=months)

    result = receivability.eligible_contract(case, policy)

    assert result.passed is eligible
    if not eligible:
        assert "at least 12 months" in result.detail
        assert ("unknown" if months is None else "11 months") in result.detail


# --- distinct reporting officers and the statement -----------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "distinct"),
    [
        ("fro@example.org", "sro@example.org", True),
        ("fro@example.org", "fro@example.org", False),
        ("Fro@Example.ORG", "fro@example.org", False),
    ],
    ids=["different", "identical", "identical-but-for-case"],
)
def test_first_and_second_reporting_officers_must_differ(requester, policy, first, second, distinct):
    case = in_memory(requester, first_reporting_officer_email=first, second_reporting_officer_email=second)

    assert receivability.distinct_reporting_officers(case, policy).passed is distinct


@pytest.mark.parametrize(
    ("statement", "present"),
    [("", False), ("   \n\t  ", False), ("The rating ignores my results.", True)],
    ids=["empty", "whitespace-only", "written"],
)
def test_statement_of_reasons_must_not_be_blank(requester, policy, statement, present):
    case = in_memory(requester, statement=statement)

    assert receivability.statement_present(case, policy).passed is present


def test_evaluate_runs_every_rule_in_order(requester, policy):
    results = receivability.evaluate(filed(requester), policy)

    assert (
        [r.rule for r in results]
        == RULE_NAMES
        == [
            "rebuttable_rating",
            "filing_window",
            "eligible_contract",
            "one_per_appraisal",
            "distinct_reporting_officers",
            "statement_present",
        ]
    )
    assert all(r.passed for r in results)


# --- the same edges through the services ---------------------------------------------------

FAILING_REQUESTS = [
    pytest.param({"original_rating": "exceeds"}, "rebuttable_rating", id="rating-exceeds"),
    pytest.param({"original_rating": "successfully_meets"}, "rebuttable_rating", id="rating-meets"),
    pytest.param({"signed_days_ago": 15}, "filing_window", id="signed-15-days-ago"),
    pytest.param({"contract_type": "temporary", "appointment_months": None}, "eligible_contract", id="temp"),
    pytest.param({"contract_type": "fixed_term", "appointment_months": 11}, "eligible_contract", id="ft-11"),
    pytest.param(
        {"contract_type": "fixed_term", "appointment_months": None}, "eligible_contract", id="ft-unknown"
    ),
    pytest.param(
        {
            "first_reporting_officer_email": "Fro@Example.org",
            "second_reporting_officer_email": "fro@example.org",
        },
        "distinct_reporting_officers",
        id="same-officers",
    ),
    pytest.param({"statement": ""}, "statement_present", id="empty-statement"),
    pytest.param({"statement": " \n\t "}, "statement_present", id="blank-statement"),
]

PASSING_REQUESTS = [
    pytest.param({"original_rating": "partially_meets"}, id="rating-partially-meets"),
    pytest.param({"original_rating": "does_not_meet"}, id="rating-does-not-meet"),
    pytest.param({"signed_days_ago": 14}, id="signed-14-days-ago"),
    pytest.param({"signed_days_ago": 0}, id="signed-today"),
    pytest.param({"contract_type": "permanent", "appointment_months": None}, id="permanent"),
    pytest.param({"contract_type": "continuing", "appointment_months": None}, id="continuing"),
    pytest.param({"contract_type": "ica", "appointment_months": None}, id="ica"),
    pytest.param({"contract_type": "fixed_term", "appointment_months": 12}, id="ft-12"),
]


@pytest.mark.parametrize(("overrides", "rule"), FAILING_REQUESTS)
def test_request_failing_one_rule_is_refused_without_an_override_and_nothing_changes(
    requester, hr, overrides, rule
):
    case = screened(requester, hr, **overrides)
    assert failed_rules(case) == [rule]
    before = snapshot(case)

    with pytest.raises(ValidationError) as refused:
        act(case, "accept_receivable", hr)

    assert list(refused.value.message_dict) == ["override_justification"]
    assert rule in refused.value.message_dict["override_justification"][0]
    assert snapshot(case) == before


@pytest.mark.parametrize("overrides", PASSING_REQUESTS)
def test_request_passing_every_rule_is_accepted_without_an_override(requester, hr, overrides):
    case = screened(requester, hr, **overrides)

    case = act(case, "accept_receivable", hr)

    assert case.status == Status.AWAITING_ASSIGNMENT
    assert [item["rule"] for item in case.receivability_result] == RULE_NAMES
    assert all(item["passed"] for item in case.receivability_result)
    assert case.override_justification == ""


def test_override_with_only_whitespace_is_refused(requester, hr):
    case = screened(requester, hr, statement="")
    before = snapshot(case)

    with pytest.raises(ValidationError) as refused:
        act(case, "accept_receivable", hr, override_justification="  \n ")

    assert "override_justification" in refused.value.message_dict
    assert snapshot(case) == before


def test_override_with_justification_is_accepted_and_recorded(requester, hr):
    case = screened(requester, hr, signed_days_ago=16)
    justification = "The requester was on certified sick leave during the window."

    case = act(case, "accept_receivable", hr, override_justification=f"  {justification}\n")

    case.refresh_from_db()
    assert case.status == Status.AWAITING_ASSIGNMENT
    assert case.override_justification == justification
    failed = [item for item in case.receivability_result if not item["passed"]]
    assert [item["rule"] for item in failed] == ["filing_window"]
    event = last_event(case)
    assert (event.transition, event.from_status, event.to_status) == (
        "accept_receivable",
        Status.SCREENING,
        Status.AWAITING_ASSIGNMENT,
    )
    assert event.reason == justification
    assert event.actor == hr


def test_override_can_accept_several_failed_rules_at_once(requester, hr):
    case = screened(requester, hr, original_rating="exceeds", statement="", signed_days_ago=20)
    assert failed_rules(case) == ["rebuttable_rating", "filing_window", "statement_present"]

    with pytest.raises(ValidationError) as refused:
        act(case, "accept_receivable", hr)
    message = refused.value.message_dict["override_justification"][0]
    assert all(rule in message for rule in ("rebuttable_rating", "filing_window", "statement_present"))

    case = act(case, "accept_receivable", hr, override_justification="Director's instruction, memo 12.")
    assert case.status == Status.AWAITING_ASSIGNMENT


def test_reject_not_receivable_records_the_rule_results_and_the_reason(requester, hr):
    case = screened(requester, hr, contract_type="temporary", appointment_months=None)
    reason = "Temporary appointments cannot rebut an appraisal."

    case = act(case, "reject_not_receivable", hr, reason=reason)

    case.refresh_from_db()
    assert case.status == Status.NOT_RECEIVABLE
    assert case.not_receivable_reason == reason
    assert case.closed_at is not None
    assert [item["rule"] for item in case.receivability_result] == RULE_NAMES
    by_rule = {item["rule"]: item for item in case.receivability_result}
    assert by_rule["eligible_contract"]["passed"] is False
    assert "Temporary appointment" in by_rule["eligible_contract"]["detail"]
    assert all(item["passed"] for rule, item in by_rule.items() if rule != "eligible_contract")
    event = last_event(case)
    assert (event.transition, event.to_status, event.reason) == (
        "reject_not_receivable",
        Status.NOT_RECEIVABLE,
        reason,
    )


def test_request_passing_every_rule_can_still_be_found_not_receivable(requester, hr):
    case = screened(requester, hr)

    case = act(case, "reject_not_receivable", hr, reason="The appraisal was never completed.")

    assert case.status == Status.NOT_RECEIVABLE
    assert all(item["passed"] for item in case.receivability_result)


def test_reject_not_receivable_without_a_reason_is_refused_and_nothing_changes(requester, hr):
    case = screened(requester, hr, statement="")
    before = snapshot(case)

    with pytest.raises(ValidationError) as refused:
        act(case, "reject_not_receivable", hr, reason="   ")

    assert "reason" in refused.value.message_dict
    assert snapshot(case) == before


# --- one rebuttal per appraisal ------------------------------------------------------------


def filed(requester: Any, **overrides: Any) -> RebuttalCase:
    case = services.case_create(requester=requester, data=request_data(**overrides))
    return act(case, "submit", requester)


def test_second_request_for_the_same_cycle_is_not_receivable(requester, hr, policy):
    first = filed(requester)
    second = screened(requester, hr)

    result = receivability.one_per_appraisal(second, policy)

    assert result.passed is False
    assert first.reference in result.detail
    assert failed_rules(second) == ["one_per_appraisal"]
    with pytest.raises(ValidationError):
        act(second, "accept_receivable", hr)
    assert receivability.one_per_appraisal(first, policy).passed is True


def test_first_request_withdrawn_before_screening_does_not_count(requester, hr, policy):
    first = filed(requester)
    first = act(first, "withdraw", requester, reason="Filed too early.")
    assert first.withdrawn_from == Status.SUBMITTED
    second = screened(requester, hr)

    assert receivability.one_per_appraisal(second, policy).passed is True
    assert act(second, "accept_receivable", hr).status == Status.AWAITING_ASSIGNMENT


def test_first_request_withdrawn_after_screening_started_counts(requester, hr, policy):
    first = advance(make_case(requester), to=Status.SCREENING, requester=requester, hr=hr)
    first = act(first, "withdraw", requester, reason="Changed my mind.")
    assert first.withdrawn_from == Status.SCREENING
    second = screened(requester, hr)

    result = receivability.one_per_appraisal(second, policy)

    assert result.passed is False
    assert first.reference in result.detail


def test_first_request_found_not_receivable_counts(requester, hr, policy):
    first = advance(make_case(requester), to=Status.NOT_RECEIVABLE, requester=requester, hr=hr)
    second = screened(requester, hr)

    assert receivability.one_per_appraisal(second, policy).passed is False
    assert first.reference in receivability.one_per_appraisal(second, policy).detail


def test_drafts_other_cycles_and_other_requesters_do_not_count(requester, other_requester, hr, policy):
    make_case(requester)  # a draft never filed
    deleted = make_case(requester)
    services.case_delete_draft(case_id=deleted.pk, actor=requester)
    filed(requester, appraisal_cycle=2025)
    filed(other_requester)
    case = screened(requester, hr)

    assert receivability.one_per_appraisal(case, policy).passed is True


# --- the policy decides, and a screened case keeps its policy --------------------------------


def publish(actor: Any, **changes: Any) -> Policy:
    values = copy.deepcopy(DEFAULT_POLICY)
    values.update(changes)
    return services.policy_publish(actor=actor, values=values, note="Test change")


def test_a_published_30_day_window_lets_a_request_signed_20_days_before_submission_pass(
    requester, hr, hr_admin, policy
):
    late_under_v1 = in_memory(requester, signed_days_ago=20)
    assert receivability.filing_window(late_under_v1, policy).passed is False

    v2 = publish(hr_admin, filing_window_days=30)
    case = screened(requester, hr, signed_days_ago=20)

    assert case.policy_id == v2.pk
    assert receivability.filing_window(case, v2).passed is True
    assert outcome(case)["filing_window"] is True
    assert act(case, "accept_receivable", hr).status == Status.AWAITING_ASSIGNMENT


def test_a_new_policy_version_never_changes_the_outcome_of_a_case_already_screened(
    requester, hr, hr_admin, policy
):
    case = screened(requester, hr, signed_days_ago=20)
    assert case.policy_id == policy.pk
    assert failed_rules(case) == ["filing_window"]

    v2 = publish(hr_admin, filing_window_days=30)
    case.refresh_from_db()

    assert v2.version == policy.version + 1
    assert selectors.policy_current() == v2
    assert case.policy_id == policy.pk
    results = {r.rule: r for r in selectors.case_receivability(case=case)}
    assert results["filing_window"].passed is False
    assert "the window is 14 days" in results["filing_window"].detail
    with pytest.raises(ValidationError):
        act(case, "accept_receivable", hr)

    case = act(case, "accept_receivable", hr, override_justification="Late for documented reasons.")
    case.refresh_from_db()
    assert case.policy_id == policy.pk
    by_rule = {item["rule"]: item for item in case.receivability_result}
    assert by_rule["filing_window"]["passed"] is False


def test_a_case_not_yet_screened_is_checked_under_the_policy_in_force(requester, hr_admin, policy):
    case = filed(requester, signed_days_ago=20)
    assert case.policy_id is None
    assert outcome(case)["filing_window"] is False

    publish(hr_admin, filing_window_days=30)

    assert outcome(case)["filing_window"] is True
