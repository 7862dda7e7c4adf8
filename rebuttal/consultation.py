"""The review stage's consultations: document requests (which pause the stage
clock until answered) and the reporting officers' comments on the statement.

Each function is one business action in one transaction, like ``services``;
they live apart only to keep ``services`` readable.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rebuttal import clocks, permissions
from rebuttal.accounts import account_for_email
from rebuttal.exceptions import ActionForbidden, CaseNotFound, TransitionRefused
from rebuttal.models import (
    Addressee,
    DocumentRequest,
    OfficerRole,
    RebuttalCase,
    Status,
    SupervisorInvitation,
)
from rebuttal.selectors import policy_current
from rebuttal.services import case_lock, case_pause_clock, case_resume_clock, require_text

# The people working the case may consult: HR and the reviewer holding it.
_CONSULTERS = frozenset({"hr", "reviewer"})


def _check_consulter(case: RebuttalCase, actor: Any) -> None:
    if not permissions.relations(case, actor) & _CONSULTERS:
        raise ActionForbidden("Only HR or the reviewer holding the case may do this.")
    if case.status != Status.UNDER_REVIEW:
        raise TransitionRefused("Consultations happen while the case is under review.")


@transaction.atomic
def document_request_create(
    *,
    case_id: int,
    actor: Any,
    addressee: str,
    what: str,
    officer_email: str = "",
    client_ip: str | None = None,
) -> DocumentRequest:
    """Ask the requester or a reporting officer for documents; the stage clock pauses."""
    what = require_text(what, "what", "Say which documents are needed.")
    case = case_lock(case_id)
    _check_consulter(case, actor)
    if addressee == Addressee.REQUESTER:
        addressed_to = case.requester
    elif addressee == Addressee.SUPERVISOR:
        officers = {
            case.first_reporting_officer_email.strip().lower(),
            case.second_reporting_officer_email.strip().lower(),
        }
        if officer_email.strip().lower() not in officers:
            raise ValidationError({"officer_email": ["Name one of the case's reporting officers."]})
        addressed_to = account_for_email(officer_email.strip())
    else:
        raise ValidationError({"addressee": ["Choose 'requester' or 'supervisor'."]})
    request = DocumentRequest(
        case=case, requested_by=actor, addressee=addressee, addressed_to=addressed_to, what=what
    )
    request._history_user = actor
    request.save()
    if case.paused_at is None and case.stage_due_on is not None:
        case_pause_clock(
            case_id=case.pk,
            actor=actor,
            reason=f"Waiting for documents (request {request.pk}).",
            client_ip=client_ip,
        )
    return request


@transaction.atomic
def document_request_answer(
    *, request_id: int, actor: Any, answer: str, client_ip: str | None = None
) -> DocumentRequest:
    """The addressee (or HR on their behalf) answers; the clock resumes when nothing else is pending."""
    answer = require_text(answer, "answer", "Write the answer, or say where the documents are.")
    request = DocumentRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise CaseNotFound("No such request.")
    case = case_lock(request.case_id)
    if actor.pk != request.addressed_to_id and "hr" not in permissions.relations(case, actor):
        raise CaseNotFound("No such request.")
    if not request.is_open:
        raise TransitionRefused("This request was already answered.")
    request.answer = answer
    request.answered_at = timezone.now()
    request.answered_by = actor
    request._history_user = actor
    request.save()
    still_open = DocumentRequest.objects.filter(case=case, answered_at__isnull=True).exists()
    if case.paused_at is not None and not still_open:
        case_resume_clock(
            case_id=case.pk,
            actor=None,
            reason=f"Documents received (request {request.pk}).",
            client_ip=client_ip,
        )
    return request


@transaction.atomic
def supervisors_invite(*, case_id: int, actor: Any) -> list[SupervisorInvitation]:
    """Invite both reporting officers to comment on the statement within the policy window."""
    case = case_lock(case_id)
    _check_consulter(case, actor)
    if case.supervisor_invitations.exists():
        raise TransitionRefused("The reporting officers were already invited on this case.")
    closes_on = clocks.add_days(
        timezone.localdate(), policy_current().supervisor_comment_days, clocks.CALENDAR
    )
    invitations = []
    for role, email in (
        (OfficerRole.FIRST, case.first_reporting_officer_email),
        (OfficerRole.SECOND, case.second_reporting_officer_email),
    ):
        invitation = SupervisorInvitation(
            case=case, role=role, officer=account_for_email(email), invited_by=actor, closes_on=closes_on
        )
        invitation._history_user = actor
        invitation.save()
        invitations.append(invitation)
    return invitations


def supervisor_invitation_open_for(*, invitation_id: Any, user: Any) -> SupervisorInvitation:
    """The officer's own invitation while it is open; otherwise not found (they learn nothing)."""
    try:
        invitation = SupervisorInvitation.objects.select_related("case").get(
            pk=int(invitation_id), officer_id=user.pk
        )
    except (SupervisorInvitation.DoesNotExist, TypeError, ValueError):
        raise CaseNotFound("No such invitation.") from None
    if not invitation.is_open:
        raise CaseNotFound("No such invitation.")
    return invitation


@transaction.atomic
def supervisor_comment(*, invitation_id: Any, actor: Any, comment: str) -> SupervisorInvitation:
    """The reporting officer's comment; the invitation closes with it."""
    comment = require_text(comment, "comment", "Write your comment on the statement.")
    invitation = supervisor_invitation_open_for(invitation_id=invitation_id, user=actor)
    invitation = SupervisorInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:  # answered meanwhile
        raise CaseNotFound("No such invitation.")
    invitation.comment = comment
    invitation.commented_at = timezone.now()
    invitation._history_user = actor
    invitation.save()
    return invitation
