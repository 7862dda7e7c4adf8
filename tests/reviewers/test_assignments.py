"""Assignments of reviewers to cases, through ``case_act`` and ``reviewers.services``:
invitation, acceptance with the no-conflict declaration, decline, expiry,
release (one case or all of a reviewer's), the lapsed-mandate rule, the report,
the fee line of a completed review, cancellation on withdrawal, and the
contract and fee selectors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from rebuttal import services as case_services
from rebuttal.audit_chain import verify_case_chain
from rebuttal.exceptions import ActionForbidden, TransitionRefused
from rebuttal.models import RebuttalCase
from reviewers import services as reviewer_services
from reviewers.models import Assignment, FeeLine, RetainerContract
from reviewers.selectors import contracts_expiring, fee_certification
from tests.factories import UserFactory, advance, make_case, reviewer_profile
from workflow.services import case_act

REPORT = {
    "findings": "The objectives were met; the rating ignores the documented results.",
    "recommendation": "revise",
    "recommended_rating": "successfully_meets",
    "reasons": "The evidence supports a higher rating.",
}


# --- builders ----------------------------------------------------------------------


def _reviewer_user(groups: dict[str, Any], username: str) -> Any:
    user = UserFactory(username=username)
    user.groups.add(groups["reviewer"])
    return user


def _awaiting(requester: Any, hr: Any) -> RebuttalCase:
    return advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)


def _invite(case: RebuttalCase, hr: Any, reviewer_user: Any) -> RebuttalCase:
    return case_act(
        case_id=case.pk,
        name="invite_reviewer",
        actor=hr,
        version=case.version,
        data={"reviewer": reviewer_profile(reviewer_user).pk},
    )


def _accept(case: RebuttalCase, reviewer_user: Any) -> RebuttalCase:
    return case_act(
        case_id=case.pk,
        name="reviewer_accept",
        actor=reviewer_user,
        version=case.version,
        data={"no_conflict_declaration": True},
    )


def _under_review(requester: Any, hr: Any, reviewer_user: Any) -> RebuttalCase:
    return _accept(_invite(_awaiting(requester, hr), hr, reviewer_user), reviewer_user)


def _submit_report(case: RebuttalCase, reviewer_user: Any) -> RebuttalCase:
    return case_act(
        case_id=case.pk, name="submit_recommendation", actor=reviewer_user, version=case.version, data=REPORT
    )


def _assignment(case: RebuttalCase) -> Assignment:
    return Assignment.objects.get(case=case)


def _state(case: RebuttalCase) -> dict[str, Any]:
    """What a refused action must leave untouched: the case row, its events, its assignments."""
    fresh = RebuttalCase.objects.get(pk=case.pk)
    return {
        "case": (fresh.status, fresh.version, fresh.reviewer_user_id),
        "events": fresh.events.count(),
        "history": fresh.history.count(),
        "assignments": list(
            Assignment.objects.filter(case=case)
            .order_by("pk")
            .values("pk", "status", "ended_at", "end_reason", "declaration_signed_at", "report")
        ),
    }


def _lapse(assignment: Assignment, how: str) -> None:
    """End the assignment's contract mandate: ended, suspended, or past its end date."""
    contracts = RetainerContract.objects.filter(pk=assignment.contract_id)
    if how == "ends_on_passed":
        contracts.update(ends_on=timezone.localdate() - dt.timedelta(days=1))
    else:
        contracts.update(status=how)


# --- invitation --------------------------------------------------------------------


def test_invitation_creates_an_assignment_under_the_contract_covering_the_review(
    requester, hr, reviewer, policy
):
    profile = reviewer_profile(reviewer)
    covering = profile.contracts.get()
    today = timezone.localdate()
    # A second, newer contract that ends before the review would: it must not be used.
    RetainerContract.objects.create(
        reviewer=profile,
        number="RC-SHORT",
        starts_on=today,
        ends_on=today + dt.timedelta(days=10),
        max_concurrent_cases=5,
        fee_per_review="100.00",
        currency="EUR",
    )
    case = _awaiting(requester, hr)

    case = _invite(case, hr, reviewer)

    assert case.status == "reviewer_invited"
    assert case.reviewer_user_id == reviewer.pk
    assignment = _assignment(case)
    target = policy.stage_targets["review"]
    assert target["unit"] == "calendar"
    assert (assignment.status, assignment.contract_id, assignment.invited_by_id) == (
        "invited",
        covering.pk,
        hr.pk,
    )
    assert assignment.reviewer_id == profile.pk
    assert assignment.expected_end_on == timezone.localdate(assignment.invited_at) + dt.timedelta(
        days=int(target["days"])
    )
    last = case.events.order_by("-seq").first()
    assert (last.transition, last.actor_id, last.changes) == (
        "invite_reviewer",
        hr.pk,
        {"reviewer_user": [None, reviewer.pk]},
    )


# --- acceptance --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [{"no_conflict_declaration": False}, {}, {"no_conflict_declaration": "true"}],
    ids=["false", "missing", "not-a-boolean"],
)
def test_accepting_without_the_no_conflict_declaration_is_refused_and_changes_nothing(
    requester, hr, reviewer, data
):
    case = _invite(_awaiting(requester, hr), hr, reviewer)
    before = _state(case)

    with pytest.raises(ValidationError) as excinfo:
        case_act(case_id=case.pk, name="reviewer_accept", actor=reviewer, version=case.version, data=data)

    assert "no_conflict_declaration" in excinfo.value.message_dict
    assert _state(case) == before
    assert _assignment(case).status == "invited"


def test_accepting_records_the_signed_declaration_and_its_time(requester, hr, reviewer):
    case = _invite(_awaiting(requester, hr), hr, reviewer)
    before = timezone.now()

    case = _accept(case, reviewer)

    assert case.status == "under_review"
    assert case.reviewer_user_id == reviewer.pk
    assignment = _assignment(case)
    assert assignment.status == "accepted"
    assert assignment.declaration_text == reviewer_services.NO_CONFLICT_DECLARATION
    assert "no conflict of interest" in assignment.declaration_text
    assert before <= assignment.declaration_signed_at <= timezone.now()
    assert assignment.responded_at == assignment.declaration_signed_at


# --- decline -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_declining_needs_a_reason(requester, hr, reviewer, reason):
    case = _invite(_awaiting(requester, hr), hr, reviewer)
    before = _state(case)

    with pytest.raises(ValidationError) as excinfo:
        case_act(
            case_id=case.pk,
            name="reviewer_decline",
            actor=reviewer,
            version=case.version,
            data={"reason": reason},
        )

    assert "reason" in excinfo.value.message_dict
    assert _state(case) == before


def test_declining_records_the_reason_and_bars_the_reviewer_from_this_case(requester, hr, reviewer, groups):
    case = _invite(_awaiting(requester, hr), hr, reviewer)

    case = case_act(
        case_id=case.pk,
        name="reviewer_decline",
        actor=reviewer,
        version=case.version,
        data={"reason": "  I am on leave this month.  "},
    )

    assert (case.status, case.reviewer_user_id) == ("awaiting_assignment", None)
    assignment = _assignment(case)
    assert (assignment.status, assignment.decline_reason) == ("declined", "I am on leave this month.")
    assert assignment.responded_at is not None
    assert case.events.order_by("-seq").first().reason == "I am on leave this month."

    with pytest.raises(ValidationError) as excinfo:
        _invite(case, hr, reviewer)
    assert any("not_excluded_from_case" in message for message in excinfo.value.message_dict["reviewer"])
    assert RebuttalCase.objects.get(pk=case.pk).status == "awaiting_assignment"

    # Another reviewer may still be invited to the case.
    case = _invite(case, hr, _reviewer_user(groups, "victor"))
    assert case.status == "reviewer_invited"


# --- expiry ------------------------------------------------------------------------


def _expire_invitations() -> str:
    out = StringIO()
    call_command("expire_invitations", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_unanswered_invitations_expire_after_the_policy_limit_and_only_once(
    requester, other_requester, hr, reviewer, groups, policy
):
    days = policy.invitation_expiry_days
    start = timezone.now()
    unanswered = _invite(_awaiting(requester, hr), hr, reviewer)
    # Answered in time: the command leaves it alone however old the invitation.
    victor = _reviewer_user(groups, "victor")
    answered = _accept(_invite(_awaiting(other_requester, hr), hr, victor), victor)
    events_before = unanswered.events.count()

    with time_machine.travel(start + dt.timedelta(days=days) - dt.timedelta(hours=1)):
        assert _expire_invitations().strip() == "0 invitation(s) expired."
    assert RebuttalCase.objects.get(pk=unanswered.pk).status == "reviewer_invited"

    with time_machine.travel(start + dt.timedelta(days=days, hours=1)):
        assert _expire_invitations().strip() == "1 invitation(s) expired."
        # Idempotent: the second run finds nothing left to expire.
        assert _expire_invitations().strip() == "0 invitation(s) expired."

    case = RebuttalCase.objects.get(pk=unanswered.pk)
    assert (case.status, case.reviewer_user_id) == ("awaiting_assignment", None)
    assert case.events.count() == events_before + 1
    last = case.events.order_by("-seq").first()
    assert (last.transition, last.actor_id, last.to_status) == (
        "invitation_expire",
        None,
        "awaiting_assignment",
    )
    assert _assignment(case).status == "expired"
    assert verify_case_chain(case) == []
    assert RebuttalCase.objects.get(pk=answered.pk).status == "under_review"
    assert _assignment(answered).status == "accepted"


# --- release -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  "], ids=["empty", "blank"])
def test_releasing_a_reviewer_needs_a_reason(requester, hr, reviewer, reason):
    case = _under_review(requester, hr, reviewer)
    before = _state(case)

    with pytest.raises(ValidationError) as excinfo:
        case_act(
            case_id=case.pk, name="release_reviewer", actor=hr, version=case.version, data={"reason": reason}
        )

    assert "reason" in excinfo.value.message_dict
    assert _state(case) == before


def test_releasing_a_reviewer_returns_the_case_to_assignment_and_bars_them_from_it(requester, hr, reviewer):
    case = _under_review(requester, hr, reviewer)

    case = case_act(
        case_id=case.pk,
        name="release_reviewer",
        actor=hr,
        version=case.version,
        data={"reason": "Conflict found."},
    )

    assert (case.status, case.reviewer_user_id) == ("awaiting_assignment", None)
    assignment = _assignment(case)
    assert (assignment.status, assignment.end_reason) == ("released", "Conflict found.")
    with pytest.raises(ValidationError, match="not_excluded_from_case"):
        _invite(case, hr, reviewer)


def _open_cases_of_one_reviewer(groups: dict[str, Any], hr: Any, reviewer: Any) -> dict[str, RebuttalCase]:
    """Three cases of ``reviewer`` (one per requester): under review, invited, report submitted."""
    requesters = [UserFactory(username=f"filer-{name}") for name in ("a", "b", "c")]
    under_review = _under_review(requesters[0], hr, reviewer)
    invited = _invite(_awaiting(requesters[1], hr), hr, reviewer)
    reported = _submit_report(_under_review(requesters[2], hr, reviewer), reviewer)
    return {"under_review": under_review, "invited": invited, "reported": reported}


def test_release_all_sends_every_open_case_back_to_assignment_with_the_reason(groups, hr, reviewer):
    cases = _open_cases_of_one_reviewer(groups, hr, reviewer)
    profile = reviewer_profile(reviewer)

    released = reviewer_services.reviewer_release_all(
        reviewer_id=profile.pk, actor=hr, reason="  Contract cut short.  "
    )

    assert sorted(case.pk for case in released) == sorted([cases["under_review"].pk, cases["invited"].pk])
    expected = {
        "under_review": ("release_reviewer", "Contract cut short."),
        "invited": ("invitation_expire", "Reviewer released: Contract cut short."),
    }
    for key, (transition, reason) in expected.items():
        case = RebuttalCase.objects.get(pk=cases[key].pk)
        assert (case.status, case.reviewer_user_id) == ("awaiting_assignment", None), key
        last = case.events.order_by("-seq").first()
        assert (last.transition, last.actor_id, last.reason) == (transition, hr.pk, reason), key
        assignment = _assignment(case)
        assert (assignment.status, assignment.end_reason) == ("released", "Contract cut short."), key
        assert verify_case_chain(case) == []
    # The case with a report in stays as it is, with its reviewer.
    reported = RebuttalCase.objects.get(pk=cases["reported"].pk)
    assert (reported.status, reported.reviewer_user_id) == ("recommendation_submitted", reviewer.pk)
    assert reported.version == cases["reported"].version
    assert _assignment(reported).status == "reported"


def test_release_all_needs_a_reason(groups, hr, reviewer):
    cases = _open_cases_of_one_reviewer(groups, hr, reviewer)
    before = {key: _state(case) for key, case in cases.items()}

    with pytest.raises(ValidationError) as excinfo:
        reviewer_services.reviewer_release_all(
            reviewer_id=reviewer_profile(reviewer).pk, actor=hr, reason=" "
        )

    assert "reason" in excinfo.value.message_dict
    assert {key: _state(case) for key, case in cases.items()} == before


def test_release_all_releases_nothing_when_one_case_fails(groups, hr, reviewer, monkeypatch):
    first = _under_review(UserFactory(username="filer-a"), hr, reviewer)
    second = _under_review(UserFactory(username="filer-b"), hr, reviewer)
    assert first.pk < second.pk  # cases are released in id order
    before = {case.pk: _state(case) for case in (first, second)}
    real = case_services.case_release_reviewer
    calls: list[int] = []

    def fails_on_the_second_case(**kwargs: Any) -> RebuttalCase:
        calls.append(kwargs["case_id"])
        if len(calls) == 2:
            raise TransitionRefused("Simulated failure on the second case.")
        return real(**kwargs)

    monkeypatch.setattr(case_services, "case_release_reviewer", fails_on_the_second_case)

    with pytest.raises(TransitionRefused, match="Simulated failure"):
        reviewer_services.reviewer_release_all(
            reviewer_id=reviewer_profile(reviewer).pk, actor=hr, reason="Leaving the pool."
        )

    assert calls == [first.pk, second.pk]
    # The first case had been released inside the transaction; it is rolled back.
    assert {case.pk: _state(case) for case in (first, second)} == before
    assert RebuttalCase.objects.get(pk=first.pk).status == "under_review"
    assert _assignment(first).status == "accepted"


# --- a lapsed mandate --------------------------------------------------------------


@pytest.mark.parametrize("how", ["ended", "suspended", "ends_on_passed"])
def test_a_reviewer_whose_contract_is_not_in_force_cannot_accept(requester, hr, reviewer, how):
    case = _invite(_awaiting(requester, hr), hr, reviewer)
    _lapse(_assignment(case), how)
    before = _state(case)

    with pytest.raises(ActionForbidden, match="not in force"):
        _accept(case, reviewer)

    assert _state(case) == before


@pytest.mark.parametrize("how", ["ended", "suspended", "ends_on_passed"])
def test_a_lapsed_mandate_voids_the_report(requester, hr, reviewer, how):
    case = _under_review(requester, hr, reviewer)
    _lapse(_assignment(case), how)
    before = _state(case)

    with pytest.raises(ActionForbidden, match="cannot be submitted"):
        _submit_report(case, reviewer)

    assert _state(case) == before
    assert RebuttalCase.objects.get(pk=case.pk).findings == ""


# --- report, decision, withdrawal --------------------------------------------------


def test_the_report_is_recorded_on_the_assignment(requester, hr, reviewer):
    case = _under_review(requester, hr, reviewer)
    before = timezone.now()

    case = _submit_report(case, reviewer)

    assert case.status == "recommendation_submitted"
    assignment = _assignment(case)
    assert assignment.status == "reported"
    assert assignment.report == REPORT
    assert before <= assignment.report_submitted_at <= timezone.now()


def test_the_decision_completes_the_assignment_with_one_fee_line_at_the_contract_rate(
    requester, hr, reviewer, endorser, decision_maker
):
    contract = reviewer_profile(reviewer).contracts.get()
    RetainerContract.objects.filter(pk=contract.pk).update(fee_per_review=Decimal("2750.50"), currency="CHF")
    people = {"requester": requester, "hr": hr, "reviewer": reviewer, "endorser": endorser}

    case = advance(make_case(requester), to="decided", decision_maker=decision_maker, **people)

    assert case.reviewer_user_id is None
    assignment = _assignment(case)
    assert (assignment.status, assignment.contract_id) == ("completed", contract.pk)
    lines = list(FeeLine.objects.all())
    assert len(lines) == 1
    line = lines[0]
    assert (line.assignment_id, line.contract_id, line.amount, line.currency) == (
        assignment.pk,
        contract.pk,
        Decimal("2750.50"),
        "CHF",
    )
    assert line.earned_on == timezone.localdate()

    # Issuing the outcome adds no second line.
    advance(case, to="closed", **people)
    assert FeeLine.objects.count() == 1


@pytest.mark.parametrize("state", ["reviewer_invited", "under_review"])
def test_withdrawing_a_case_cancels_its_open_assignment_without_a_fee(requester, hr, reviewer, state):
    case = advance(make_case(requester), to=state, requester=requester, hr=hr, reviewer=reviewer)

    case = case_act(
        case_id=case.pk, name="withdraw", actor=requester, version=case.version, data={"reason": "Settled."}
    )

    assert (case.status, case.reviewer_user_id) == ("withdrawn", None)
    assignment = _assignment(case)
    assert assignment.status == "cancelled"
    assert assignment.ended_at is not None
    assert not FeeLine.objects.exists()


# --- contracts and fees ------------------------------------------------------------


def test_expiring_contracts_are_those_ending_soon_that_still_carry_open_cases(requester, hr, groups):
    today = timezone.localdate()
    soon, later, idle = (_reviewer_user(groups, name) for name in ("soon", "later", "idle"))
    case_soon = _invite(_awaiting(requester, hr), hr, soon)
    _invite(_awaiting(requester, hr), hr, later)
    reviewer_profile(idle)
    contract = {user.username: reviewer_profile(user).contracts.get() for user in (soon, later, idle)}
    # Cut short after the invitation: the contract now ends within the review.
    RetainerContract.objects.filter(pk=contract["soon"].pk).update(ends_on=today + dt.timedelta(days=10))
    RetainerContract.objects.filter(pk=contract["later"].pk).update(ends_on=today + dt.timedelta(days=40))
    RetainerContract.objects.filter(pk=contract["idle"].pk).update(ends_on=today + dt.timedelta(days=10))

    expiring = list(contracts_expiring(within_days=30))

    assert [c.pk for c in expiring] == [contract["soon"].pk]
    assert expiring[0].open_case_count == 1
    assert _assignment(case_soon).contract_id == contract["soon"].pk
    # A 60-day window reaches the contract ending in 40 days as well.
    assert [c.pk for c in contracts_expiring(within_days=60)] == [contract["soon"].pk, contract["later"].pk]


def _fee_line(
    contract: RetainerContract, requester: Any, amount: str, currency: str, earned_on: dt.date
) -> None:
    """A completed assignment's fee line, built directly (the decision path is tested above)."""
    assignment = Assignment.objects.create(
        case=make_case(requester),
        reviewer=contract.reviewer,
        contract=contract,
        status="completed",
        expected_end_on=earned_on,
    )
    FeeLine.objects.create(
        contract=contract,
        assignment=assignment,
        amount=Decimal(amount),
        currency=currency,
        earned_on=earned_on,
    )


def test_fee_certification_groups_a_months_lines_per_reviewer_with_totals_per_currency(requester, groups):
    anna = reviewer_profile(_reviewer_user(groups, "anna"), name="Anna Amsel")
    bruno = reviewer_profile(_reviewer_user(groups, "bruno"), name="Bruno Berg")
    carla = reviewer_profile(_reviewer_user(groups, "carla"), name="Carla Cruz")
    anna_usd = anna.contracts.get()
    anna_eur = RetainerContract.objects.create(
        reviewer=anna,
        number="RC-ANNA-EUR",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        max_concurrent_cases=3,
        fee_per_review="1200.00",
        currency="EUR",
    )
    month = dt.date(2026, 3, 1)
    _fee_line(anna_usd, requester, "1500.00", "USD", dt.date(2026, 3, 1))
    _fee_line(anna_usd, requester, "1500.00", "USD", dt.date(2026, 3, 31))
    _fee_line(anna_eur, requester, "1200.00", "EUR", dt.date(2026, 3, 15))
    _fee_line(bruno.contracts.get(), requester, "900.00", "USD", dt.date(2026, 3, 10))
    # Outside March: not certified this month.
    _fee_line(bruno.contracts.get(), requester, "900.00", "USD", dt.date(2026, 2, 28))
    _fee_line(carla.contracts.get(), requester, "700.00", "USD", dt.date(2026, 4, 1))

    certification = fee_certification(month=dt.date(2026, 3, 17))

    assert fee_certification(month=month) == certification
    assert [entry["reviewer"] for entry in certification] == ["Anna Amsel", "Bruno Berg"]
    anna_entry, bruno_entry = certification
    assert anna_entry["totals"] == [
        {"currency": "EUR", "total": Decimal("1200.00"), "reviews": 1},
        {"currency": "USD", "total": Decimal("3000.00"), "reviews": 2},
    ]
    assert [(line["contract"], line["amount"], line["currency"]) for line in anna_entry["lines"]] == [
        (anna_usd.number, Decimal("1500.00"), "USD"),
        (anna_eur.number, Decimal("1200.00"), "EUR"),
        (anna_usd.number, Decimal("1500.00"), "USD"),
    ]
    assert bruno_entry["totals"] == [{"currency": "USD", "total": Decimal("900.00"), "reviews": 1}]
    assert [line["earned_on"] for line in bruno_entry["lines"]] == [dt.date(2026, 3, 10)]
