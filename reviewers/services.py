"""Every write to the reviewer pool and to assignments.

Assignment services check eligibility under row locks, then call the ``rebuttal``
service for the case's side of the action, in the same transaction.

Locking order, always: the case row first (``case_lock_for_transition``), then the
reviewer row. The case lock makes two invitations to one case queue (the second
sees a new version and is refused); the reviewer lock makes invitations of one
reviewer to different cases queue, so the capacity count cannot be overtaken.
Optimistic checks (version, state) would not do for capacity: twenty
invitations to twenty different cases share no row but the reviewer's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rebuttal import services as case_services
from rebuttal.accounts import account_for_email
from rebuttal.exceptions import ActionForbidden, CaseNotFound, TransitionRefused
from rebuttal.models import RebuttalCase, Status
from rebuttal.permissions import HR_ADMIN, HR_SPECIALIST, REVIEWER, group_names
from rebuttal.selectors import policy_current
from reviewers.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Conflict,
    FeeLine,
    Interview,
    RetainerContract,
    Reviewer,
)
from reviewers.selectors import assignment_open_for_case, review_end, reviewer_verdict

NO_CONFLICT_DECLARATION = (
    "I declare that I have no conflict of interest with the requester, the reporting "
    "officers or the office concerned, and no prior association with this case."
)

REVIEWER_FIELDS = ("name", "email", "languages", "regions", "affiliation", "active")


# --- pool --------------------------------------------------------------------------


@transaction.atomic
def reviewer_create(*, actor: Any, data: dict[str, Any]) -> Reviewer:
    """Add a reviewer to the pool; their login is the account with the same e-mail."""
    email = data["email"].strip()
    if Reviewer.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["A reviewer with this e-mail is already in the pool."]})
    user = account_for_email(email)
    if Reviewer.objects.filter(user=user).exists():
        raise ValidationError({"email": ["This account is already a reviewer."]})
    reviewer = Reviewer(user=user, **{k: v for k, v in data.items() if k in REVIEWER_FIELDS})
    reviewer.email = email
    reviewer.full_clean(exclude=["user"])
    reviewer._history_user = actor
    reviewer.save()
    user.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    return reviewer


@transaction.atomic
def reviewer_update(*, reviewer_id: int, actor: Any, data: dict[str, Any]) -> Reviewer:
    reviewer = Reviewer.objects.select_for_update().get(pk=reviewer_id)
    for name, value in data.items():
        if name in REVIEWER_FIELDS and name != "email":
            setattr(reviewer, name, value)
    if "email" in data and data["email"].strip().lower() != reviewer.email.lower():
        raise ValidationError({"email": ["A reviewer's e-mail is their login and cannot change."]})
    reviewer.full_clean(exclude=["user"])
    reviewer._history_user = actor
    reviewer.save()
    return reviewer


@transaction.atomic
def contract_create(*, reviewer_id: int, actor: Any, data: dict[str, Any]) -> RetainerContract:
    reviewer = Reviewer.objects.get(pk=reviewer_id)
    contract = RetainerContract(reviewer=reviewer, **data)
    errors: dict[str, list[str]] = {}
    if contract.starts_on and contract.ends_on and contract.ends_on < contract.starts_on:
        errors["ends_on"] = ["A contract cannot end before it starts."]
    if RetainerContract.objects.filter(number=contract.number).exists():
        errors["number"] = [f"Contract number {contract.number} is already used."]
    if errors:
        raise ValidationError(errors)
    contract.full_clean(exclude=["reviewer"])
    contract._history_user = actor
    contract.save()
    return contract


@transaction.atomic
def conflict_declare(
    *, reviewer_id: int, actor: Any, requester_email: str = "", office: str = "", reason: str = ""
) -> Conflict:
    requester_email, office = requester_email.strip(), office.strip()
    if not requester_email and not office:
        raise ValidationError({"non_field_errors": ["Name a requester (by e-mail) or an office."]})
    conflict = Conflict(
        reviewer=Reviewer.objects.get(pk=reviewer_id),
        requester_email=requester_email,
        office=office,
        reason=reason.strip(),
        declared_by=actor,
    )
    conflict._history_user = actor
    conflict.save()
    return conflict


# --- assignments ------------------------------------------------------------------


def _open_assignment(case_id: int) -> Assignment:
    assignment = assignment_open_for_case(case_id=case_id)
    if assignment is None:  # the case side and the pool side disagree: never expected
        raise TransitionRefused("This case has no open reviewer assignment.")
    return assignment


def _end(assignment: Assignment, status: str, *, actor: Any, reason: str = "") -> None:
    assignment.status = status
    assignment.ended_at = timezone.now()
    assignment.end_reason = reason
    assignment._history_user = actor
    assignment.save()


def _in_force(contract: RetainerContract) -> bool:
    today = timezone.localdate()
    return contract.status == "active" and contract.starts_on <= today <= contract.ends_on


@transaction.atomic
def assignment_invite(
    *, case_id: int, reviewer_id: Any, actor: Any, version: int | None, client_ip: str | None = None
) -> RebuttalCase:
    """HR invites an eligible reviewer; an ineligible choice is refused with the failing rules."""
    case = case_services.case_lock_for_transition(
        case_id=case_id, name="invite_reviewer", actor=actor, version=version
    )
    try:
        reviewer = Reviewer.objects.select_for_update().get(pk=int(reviewer_id))
    except (Reviewer.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"reviewer": ["No such reviewer in the pool."]}) from None
    verdict = reviewer_verdict(case=case, reviewer=reviewer)
    if not verdict.eligible:
        reasons = [f"{check.rule}: {check.detail}" for check in verdict.failed]
        raise ValidationError({"reviewer": [f"{reviewer.name} is not eligible for this case.", *reasons]})
    case = case_services.case_invite_reviewer(
        case_id=case.pk, actor=actor, version=version, reviewer_user=reviewer.user, client_ip=client_ip
    )
    assignment = Assignment(
        case=case,
        reviewer=reviewer,
        contract=verdict.contract,
        invited_by=actor,
        expected_end_on=review_end(policy_current(), timezone.localdate()),
    )
    assignment._history_user = actor
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:  # one open assignment per case: the case lock makes this unreachable
        raise TransitionRefused("This case already has a reviewer.") from None
    return case


@transaction.atomic
def assignment_accept(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    no_conflict_declaration: bool = False,
    client_ip: str | None = None,
) -> RebuttalCase:
    """The invited reviewer accepts, signing the no-conflict declaration."""
    case = case_services.case_lock_for_transition(
        case_id=case_id, name="reviewer_accept", actor=actor, version=version
    )
    if no_conflict_declaration is not True:
        raise ValidationError(
            {"no_conflict_declaration": ["You must declare that you have no conflict of interest."]}
        )
    assignment = _open_assignment(case.pk)
    if not _in_force(assignment.contract):
        raise ActionForbidden(
            f"Your retainer contract {assignment.contract.number} is not in force; you cannot accept."
        )
    case = case_services.case_reviewer_accept(
        case_id=case.pk, actor=actor, version=version, client_ip=client_ip
    )
    now = timezone.now()
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.responded_at = now
    assignment.declaration_text = NO_CONFLICT_DECLARATION
    assignment.declaration_signed_at = now
    assignment._history_user = actor
    assignment.save()
    return case


@transaction.atomic
def assignment_decline(
    *, case_id: int, actor: Any, version: int | None, reason: str = "", client_ip: str | None = None
) -> RebuttalCase:
    """The invited reviewer declines; they are excluded from this case for good."""
    case = case_services.case_reviewer_decline(
        case_id=case_id, actor=actor, version=version, reason=reason, client_ip=client_ip
    )
    assignment = _open_assignment(case_id)
    assignment.responded_at = timezone.now()
    assignment.decline_reason = reason.strip()
    _end(assignment, AssignmentStatus.DECLINED, actor=actor, reason=reason.strip())
    return case


@transaction.atomic
def assignment_expire(
    *, case_id: int, actor: Any = None, version: int | None = None, client_ip: str | None = None
) -> RebuttalCase:
    """The invitation lapses unanswered (the scheduler, ``actor=None``, or HR)."""
    case = case_services.case_invitation_expire(
        case_id=case_id, actor=actor, version=version, client_ip=client_ip
    )
    _end(_open_assignment(case_id), AssignmentStatus.EXPIRED, actor=actor, reason="No answer in time.")
    return case


@transaction.atomic
def assignment_release(
    *, case_id: int, actor: Any, version: int | None, reason: str = "", client_ip: str | None = None
) -> RebuttalCase:
    """HR releases the reviewer from a case under review; the case needs a new reviewer."""
    case = case_services.case_release_reviewer(
        case_id=case_id, actor=actor, version=version, reason=reason, client_ip=client_ip
    )
    _end(_open_assignment(case_id), AssignmentStatus.RELEASED, actor=actor, reason=reason.strip())
    return case


@transaction.atomic
def reviewer_release_all(
    *, reviewer_id: int, actor: Any, reason: str, client_ip: str | None = None
) -> list[RebuttalCase]:
    """Release every open case of a reviewer, in one transaction with one reason.

    Cases under review are released (``release_reviewer``); pending invitations
    are withdrawn (``invitation_expire``, with the reason recorded). Each case goes
    back to ``awaiting_assignment``. Cases are locked one by one in id order.
    """
    groups = group_names(actor)
    if not (getattr(actor, "is_superuser", False) or groups & {HR_SPECIALIST, HR_ADMIN}):
        raise ActionForbidden("Only HR may release a reviewer's cases.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the reviewer's cases are released."]})
    if not Reviewer.objects.filter(pk=reviewer_id).exists():
        raise CaseNotFound("No such reviewer.")
    released = []
    case_ids = (
        Assignment.objects.filter(reviewer_id=reviewer_id, status__in=OPEN_ASSIGNMENT_STATUSES)
        .order_by("case_id")
        .values_list("case_id", flat=True)
    )
    for case_id in list(case_ids):
        case = RebuttalCase.objects.select_for_update().get(pk=case_id)
        assignment = assignment_open_for_case(case_id=case_id)
        if assignment is None or assignment.reviewer_id != reviewer_id:
            continue  # ended by someone else before we held the lock
        if case.status == Status.REVIEWER_INVITED:
            case = case_services.case_invitation_expire(
                case_id=case_id, actor=actor, reason=f"Reviewer released: {reason}", client_ip=client_ip
            )
            _end(assignment, AssignmentStatus.RELEASED, actor=actor, reason=reason)
        elif case.status == Status.UNDER_REVIEW:
            case = case_services.case_release_reviewer(
                case_id=case_id, actor=actor, version=None, reason=reason, client_ip=client_ip
            )
            _end(assignment, AssignmentStatus.RELEASED, actor=actor, reason=reason)
        else:
            # A report is in (quality check, endorsement or decision): the work is
            # done and stays with the case; nothing to release.
            continue
        released.append(case)
    return released


@transaction.atomic
def recommendation_submit(
    *,
    case_id: int,
    actor: Any,
    version: int | None,
    findings: str,
    recommendation: str,
    recommended_rating: str = "",
    reasons: str,
    client_ip: str | None = None,
) -> RebuttalCase:
    """The reviewer's report. A lapsed mandate voids the act: no report on an ended contract."""
    case = case_services.case_lock_for_transition(
        case_id=case_id, name="submit_recommendation", actor=actor, version=version
    )
    assignment = _open_assignment(case.pk)
    if not _in_force(assignment.contract):
        raise ActionForbidden(
            f"Your retainer contract {assignment.contract.number} is not in force; "
            "a report cannot be submitted under it."
        )
    case = case_services.case_submit_recommendation(
        case_id=case.pk,
        actor=actor,
        version=version,
        findings=findings,
        recommendation=recommendation,
        recommended_rating=recommended_rating,
        reasons=reasons,
        client_ip=client_ip,
    )
    assignment.status = AssignmentStatus.REPORTED
    assignment.report_submitted_at = timezone.now()
    assignment.report = {
        "findings": case.findings,
        "recommendation": case.recommendation,
        "recommended_rating": case.recommended_rating,
        "reasons": case.recommendation_reasons,
    }
    assignment._history_user = actor
    assignment.save()
    return case


def assignment_complete(*, case: RebuttalCase, actor: Any) -> FeeLine | None:
    """After the decision: the review is complete and its fee line is added (once)."""
    assignment = (
        Assignment.objects.select_related("contract")
        .filter(case_id=case.pk, status=AssignmentStatus.REPORTED)
        .first()
    )
    if assignment is None:
        return None
    _end(assignment, AssignmentStatus.COMPLETED, actor=actor, reason="Decision taken.")
    contract = assignment.contract
    line, _created = FeeLine.objects.get_or_create(
        assignment=assignment,
        defaults={
            "contract": contract,
            "amount": contract.fee_per_review or Decimal("0"),
            "currency": contract.currency,
            "earned_on": timezone.localdate(),
        },
    )
    return line


def assignment_cancel(*, case: RebuttalCase, actor: Any) -> None:
    """The case was withdrawn: its open assignment ends, with no fee."""
    assignment = assignment_open_for_case(case_id=case.pk)
    if assignment is not None:
        _end(assignment, AssignmentStatus.CANCELLED, actor=actor, reason="The request was withdrawn.")


def invitations_due_for_expiry(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of cases whose reviewer invitation is older than the policy allows."""
    now = now or timezone.now()
    days = policy_current().invitation_expiry_days
    return list(
        Assignment.objects.filter(
            status=AssignmentStatus.INVITED,
            invited_at__lte=now - dt.timedelta(days=days),
            case__status=Status.REVIEWER_INVITED,
        )
        .order_by("case_id")
        .values_list("case_id", flat=True)
    )


@transaction.atomic
def interview_record(
    *, case_id: int, actor: Any, interviewee: str, held_on: dt.date, notes: str
) -> Interview:
    """The reviewer holding the case records an interview (who, when, notes)."""
    interviewee = case_services.require_text(interviewee, "interviewee", "Say who was interviewed.")
    notes = case_services.require_text(notes, "notes", "The interview notes are required.")
    case = case_services.case_lock(case_id)
    if case.reviewer_user_id is None or case.reviewer_user_id != getattr(actor, "pk", None):
        raise ActionForbidden("Only the reviewer holding the case records interviews.")
    if case.status != Status.UNDER_REVIEW:
        raise TransitionRefused("Interviews are recorded while the case is under review.")
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": ["An interview cannot be recorded before it is held."]})
    interview = Interview(
        assignment=_open_assignment(case.pk), case=case, interviewee=interviewee, held_on=held_on, notes=notes
    )
    interview._history_user = actor
    interview.save()
    return interview
