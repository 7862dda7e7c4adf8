"""The case page, one for every role: what each person may see of the case, and the actions open to them now.

Every view of the page is written to the case's access log. Actions post to
``case_action``, which performs the transition through ``workflow.services.case_act``
(the same path as the API) with the version the page showed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_fsm import can_proceed, has_transition_perm

from rebuttal import consultation, documents, permissions
from rebuttal import services as case_services
from rebuttal.exceptions import ActionForbidden, CaseError, CaseNotFound, StaleVersion
from rebuttal.forms import DocumentForm
from rebuttal.models import (
    DocumentRequest,
    EventKind,
    RebuttalCase,
    Status,
    SupervisorInvitation,
)
from rebuttal.selectors import case_get_visible, case_receivability, case_timeline, policy_current
from reports import selectors as letter_selectors
from reports.models import LetterKind
from reviewers import services as reviewer_services
from reviewers.models import Interview
from reviewers.selectors import assignment_open_for_case, reviewer_suggestions
from workflow.forms import (
    ACTION_FORMS,
    ACTION_LABELS,
    DocumentRequestForm,
    InterviewForm,
)
from workflow.pages.common import apply_errors, client_ip, is_hr, not_found
from workflow.services import case_act

# What happens next, told to the requester, for each state.
NEXT_STEP: dict[str, str] = {
    Status.DRAFT: "Your request is a draft: nobody else has seen it. Add documents, then submit it.",
    Status.SUBMITTED: "HR will check that your request can be received.",
    Status.SCREENING: "HR is checking that your request can be received.",
    Status.AWAITING_ASSIGNMENT: "Your request was received. HR is choosing an independent reviewer.",
    Status.REVIEWER_INVITED: "A reviewer was invited and must confirm they have no conflict of interest.",
    Status.UNDER_REVIEW: (
        "The reviewer is examining your case and may contact you or your reporting officers."
    ),
    Status.RECOMMENDATION_SUBMITTED: "The reviewer's report is in; HR is checking it.",
    Status.AWAITING_ENDORSEMENT: "The report is with the endorser.",
    Status.AWAITING_DECISION: "The report is with the decision-maker.",
    Status.DECIDED: "A decision was taken; your outcome letter is being issued.",
    Status.CLOSED: "Your case is closed. Your outcome letter is below.",
    Status.NOT_RECEIVABLE: "Your request could not be received. The letter below explains why.",
    Status.WITHDRAWN: "You withdrew your request. The letter below confirms it.",
}
# Actions that end something (shown as warning buttons).
ENDING_ACTIONS = frozenset({"withdraw", "reject_not_receivable", "release_reviewer", "reviewer_decline"})
# States whose page shows the receivability checklist to HR.
SCREENED = frozenset({Status.SUBMITTED, Status.SCREENING})


def _visible_case(request: HttpRequest, pk: int) -> RebuttalCase:
    try:
        return case_get_visible(user=request.user, pk=pk)
    except CaseNotFound as exc:
        raise not_found(exc) from None


def offered_actions(case: RebuttalCase, user: Any) -> list[str]:
    """The transitions ``user`` may perform on ``case`` now (as the page offers them)."""
    offered = []
    for name in ACTION_FORMS:
        method = getattr(case, name)
        if can_proceed(method) and has_transition_perm(method, user):
            offered.append(name)
    return offered


def _expected_dates(case: RebuttalCase) -> dict[str, dt.date | None]:
    policy = case.policy or policy_current()
    overall = None
    if case.submitted_at and not case.is_terminal:
        overall = timezone.localtime(case.submitted_at).date() + dt.timedelta(days=policy.case_target_days)
    return {"stage": case.stage_due_on, "overall": overall}


def case_page_context(
    request: HttpRequest, case: RebuttalCase, *, bound: dict[str, Any] | None = None
) -> dict[str, Any]:
    user = request.user
    bound = bound or {}
    relations = permissions.relations(case, user)
    as_hr = is_hr(user) and case.requester_id != user.pk
    is_requester = "requester" in relations
    policy = case.policy or policy_current()
    names = offered_actions(case, user)
    actions = [
        {
            "name": name,
            "label": ACTION_LABELS[name][0],
            "help": ACTION_LABELS[name][1],
            "ends_something": name in ENDING_ACTIONS,
            "form": bound.get(name) or ACTION_FORMS[name](initial={"version": case.version}, policy=policy),
        }
        for name in names
        if name not in ("invite_reviewer", "submit")
    ]
    context: dict[str, Any] = {
        "case": case,
        "policy": policy,
        "as_hr": as_hr,
        "is_requester": is_requester,
        "is_reviewer": "reviewer" in relations,
        "actions": actions,
        "can_submit": "submit" in names,
        "can_invite": "invite_reviewer" in names,
        "next_step": _(NEXT_STEP[case.status]) if is_requester else "",
        "expected": _expected_dates(case),
        "original_rating": _(policy.rating_label(case.original_rating)),
        "final_rating": _(policy.rating_label(case.final_rating)) if case.final_rating else "",
        "timeline": _timeline(case, user),
        "documents": list(documents.documents_visible(case=case, user=user)),
        "letters": list(letter_selectors.letters_of_case(case=case, user=user)),
        "letters_waiting": list(letter_selectors.letter_requests_pending(case=case, user=user)),
    }
    if relations & documents.UPLOADERS and case.status not in documents.CLOSED_FOR_DOCUMENTS:
        context["document_form"] = bound.get("document") or DocumentForm()
    sees_review = as_hr or relations & {"reviewer", "endorser", "decision_maker"} or user.is_superuser
    if sees_review and case.recommendation:
        context["report"] = {
            "findings": case.findings,
            "recommendation": case.get_recommendation_display(),
            "recommended_rating": _(policy.rating_label(case.recommended_rating)),
            "reasons": case.recommendation_reasons,
            "endorsement_comment": case.endorsement_comment,
        }
    if as_hr and case.status in SCREENED | {Status.AWAITING_ASSIGNMENT}:
        context["receivability"] = case_receivability(case=case)
    if as_hr:
        context["assignment"] = assignment_open_for_case(case_id=case.pk)
    if context["can_invite"]:
        eligible, ineligible = reviewer_suggestions(case=case)
        context["suggestions"] = eligible[:10]
        context["ineligible"] = ineligible
    if as_hr or "reviewer" in relations:
        # HR and the reviewer read the reporting officers' comments (rulebook, "Review").
        context["invitations"] = list(
            SupervisorInvitation.objects.filter(case=case).select_related("officer")
        )
        context["interviews"] = list(Interview.objects.filter(case=case).order_by("held_on", "id"))
        context["document_requests"] = list(
            DocumentRequest.objects.filter(case=case).select_related("addressed_to").order_by("requested_at")
        )
        if case.status == Status.UNDER_REVIEW and ("reviewer" in relations or "hr" in relations):
            context["can_consult"] = True
            context["interview_form"] = bound.get("interview") or (
                InterviewForm() if "reviewer" in relations else None
            )
            context["document_request_form"] = bound.get("document_request") or DocumentRequestForm()
            context["can_invite_supervisors"] = not context["invitations"]
    if is_requester:
        context["requests_for_me"] = list(
            DocumentRequest.objects.filter(case=case, addressed_to=user, answered_at__isnull=True)
        )
    return context


def _timeline(case: RebuttalCase, user: Any) -> list[dict[str, Any]]:
    """The case's timeline (plain for the requester: ``case_timeline``) with readable labels."""
    entries = case_timeline(case=case, user=user, views_by_day=True)
    for entry in entries:
        changes = entry["changes"] or {}
        entry["change_list"] = []
        if entry["kind"] == EventKind.TRANSITION:
            entry["label"] = Status(entry["to_status"]).label
        elif entry["kind"] == EventKind.LETTER_ISSUED:
            kind = changes.get("letter_kind", LetterKind.ACKNOWLEDGEMENT)
            entry["label"] = _("Letter issued: %(kind)s") % {"kind": LetterKind(kind).label}
        elif entry["kind"] == EventKind.DOCUMENT_ADDED and changes.get("name"):
            entry["label"] = _("Document added: %(name)s") % {"name": changes["name"]}
        elif entry["kind"] == EventKind.VIEWED and changes.get("views", 1) > 1:
            entry["label"] = ngettext(
                "Opened (%(what)s) %(views)s time, last at %(last)s",
                "Opened (%(what)s) %(views)s times, last at %(last)s",
                changes["views"],
            ) % {
                "what": changes.get("what", ""),
                "views": changes["views"],
                "last": date_format(timezone.localtime(changes["last"]), "TIME_FORMAT"),
            }
        elif entry["kind"] == EventKind.VIEWED:
            entry["label"] = _("Opened (%(what)s)") % {"what": changes.get("what", "")}
        else:
            entry["label"] = EventKind(entry["kind"]).label
            # Field-level changes: each field with its old and new value.
            entry["change_list"] = [
                (field, value[0], value[1])
                if isinstance(value, list) and len(value) == 2
                else (field, None, value)
                for field, value in changes.items()
            ]
    return entries


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    case_services.case_record_access(case=case, actor=request.user, what="page", client_ip=client_ip(request))
    return render(request, "workflow/case_detail.html", case_page_context(request, case))


def _after_action(request: HttpRequest, case_id: int) -> HttpResponse:
    """Back to the case if the person may still see it (a reviewer who declines may not)."""
    try:
        case_get_visible(user=request.user, pk=case_id)
    except CaseNotFound:
        return redirect("home")
    return redirect("case-detail", pk=case_id)


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    case = _visible_case(request, pk)
    form_class = ACTION_FORMS.get(name)
    if form_class is None:
        raise Http404("No such action.")
    policy = case.policy or policy_current()
    form = form_class(request.POST, policy=policy)
    if form.is_valid():
        try:
            case_act(
                case_id=case.pk,
                name=name,
                actor=request.user,
                version=form.cleaned_data["version"],
                data=form.transition_data(),
                client_ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except StaleVersion as exc:
            messages.error(request, str(exc))
            return redirect("case-detail", pk=case.pk)
        except CaseError as exc:
            messages.error(request, str(exc))
            return redirect("case-detail", pk=case.pk)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS[name][0]})
            return _after_action(request, case.pk)
    context = case_page_context(request, case, bound={name: form})
    context["open_action"] = name
    return render(request, "workflow/case_detail.html", context, status=400)


def _post_form(
    request: HttpRequest,
    case: RebuttalCase,
    form: Any,
    *,
    bound: str,
    perform: Callable[[], Any],
    done: str,
    refusal_field: str | None = None,
) -> HttpResponse:
    """Validate ``form`` and run ``perform``: back to the case with ``done`` on success, otherwise
    the case page again with the form's errors and everything typed (400)."""
    if form.is_valid():
        try:
            perform()
        except ValidationError as exc:
            apply_errors(form, exc)
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except CaseError as exc:
            form.add_error(refusal_field, str(exc))
        else:
            messages.success(request, done)
            return redirect("case-detail", pk=case.pk)
    context = case_page_context(request, case, bound={bound: form})
    return render(request, "workflow/case_detail.html", context, status=400)


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = DocumentForm(request.POST, request.FILES)

    def perform() -> None:
        upload = form.cleaned_data["file"]
        documents.document_add(
            case_id=case.pk,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            name=getattr(upload, "sent_name", upload.name),
            fileobj=upload,
            client_ip=client_ip(request),
        )

    # A refusal (too large, case closed) is about the file.
    done = _("The document was added to the case.")
    return _post_form(request, case, form, bound="document", perform=perform, done=done, refusal_field="file")


@login_required
@require_POST
def interview_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = InterviewForm(request.POST)

    def perform() -> None:
        reviewer_services.interview_record(case_id=case.pk, actor=request.user, **form.cleaned_data)

    done = _("The interview is recorded.")
    return _post_form(request, case, form, bound="interview", perform=perform, done=done)


@login_required
@require_POST
def document_request_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    form = DocumentRequestForm(request.POST)

    def perform() -> None:
        addressee = form.cleaned_data["addressee"]
        officer_email = {
            "first": case.first_reporting_officer_email,
            "second": case.second_reporting_officer_email,
        }.get(addressee, "")
        consultation.document_request_create(
            case_id=case.pk,
            actor=request.user,
            addressee="requester" if addressee == "requester" else "supervisor",
            officer_email=officer_email,
            what=form.cleaned_data["what"],
            client_ip=client_ip(request),
        )

    done = _("The request was sent; the stage clock is paused until it is answered.")
    return _post_form(request, case, form, bound="document_request", perform=perform, done=done)


@login_required
@require_POST
def supervisors_invite(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    try:
        consultation.supervisors_invite(case_id=case.pk, actor=request.user)
    except ActionForbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except CaseError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Both reporting officers are invited to comment on the statement."))
    return redirect("case-detail", pk=case.pk)
