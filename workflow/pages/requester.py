"""The requester's pages: my cases, filing a rebuttal (draft, then submit), editing or deleting a draft."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rebuttal import services as case_services
from rebuttal.exceptions import CaseError, CaseNotFound
from rebuttal.forms import IntakeForm
from rebuttal.models import RebuttalCase, Status
from rebuttal.selectors import case_get_visible, policy_current
from workflow.pages.common import apply_errors, client_ip, not_found
from workflow.services import case_act


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """The requester's own cases, newest first, with what is happening now."""
    cases = (
        RebuttalCase.objects.filter(requester=request.user, deleted_at__isnull=True)
        .annotate(letter_count=Count("letters", filter=Q(letters__superseded_by__isnull=True)))
        .order_by("-created_at", "-id")
    )
    return render(request, "workflow/my_cases.html", {"cases": cases})


def _save(request: HttpRequest, form: IntakeForm, case: RebuttalCase | None) -> RebuttalCase | None:
    """Create or update the draft from a valid form; None (errors on the form) if refused."""
    try:
        if case is None:
            return case_services.case_create(
                requester=request.user, data=form.service_data(), client_ip=client_ip(request)
            )
        return case_services.case_update_draft(
            case_id=case.pk,
            actor=request.user,
            version=int(request.POST.get("version") or case.version),
            data=form.service_data(),
            client_ip=client_ip(request),
        )
    except ValidationError as exc:
        apply_errors(form, exc)
    except CaseError as exc:
        form.add_error(None, str(exc))
    return None


def _intake_page(request: HttpRequest, case: RebuttalCase | None) -> HttpResponse:
    policy = policy_current()
    if request.method == "POST":
        form = IntakeForm(request.POST, policy=policy)
        if form.is_valid():
            saved = _save(request, form, case)
            if saved is not None:
                if "submit" not in request.POST:
                    messages.success(request, _("Your draft is saved. You can add documents and submit it."))
                    return redirect("case-detail", pk=saved.pk)
                try:
                    case_act(
                        case_id=saved.pk,
                        name="submit",
                        actor=request.user,
                        version=saved.version,
                        client_ip=client_ip(request),
                    )
                except CaseError as exc:
                    messages.error(request, _("Your draft is saved, but it was not submitted: %s") % exc)
                    return redirect("case-detail", pk=saved.pk)
                messages.success(
                    request,
                    _("Your request %(reference)s is submitted. You will receive an acknowledgement letter.")
                    % {"reference": saved.reference},
                )
                return redirect("case-detail", pk=saved.pk)
    else:
        initial = IntakeForm.initial_from(case) if case else IntakeForm.blank_initial(request.user)
        form = IntakeForm(initial=initial, policy=policy)
    context: dict[str, Any] = {
        "form": form,
        "case": case,
        "policy": policy,
        "rebuttable": [
            _(item["label"]) for item in policy.rating_scale if item["key"] in policy.rebuttable_ratings
        ],
        "deadline": form.filing_deadline() if (request.method == "GET" or form.is_bound) else None,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/intake.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    return _intake_page(request, None)


def _own_draft(request: HttpRequest, pk: int) -> RebuttalCase:
    try:
        case = case_get_visible(user=request.user, pk=pk)
    except CaseNotFound as exc:
        raise not_found(exc) from None
    if case.requester_id != request.user.pk or case.status != Status.DRAFT:
        raise not_found(CaseNotFound("No such draft."))
    return case


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _intake_page(request, _own_draft(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def case_delete(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_draft(request, pk)
    if request.method == "POST":
        try:
            case_services.case_delete_draft(
                case_id=case.pk,
                actor=request.user,
                version=int(request.POST.get("version") or case.version),
                client_ip=client_ip(request),
            )
        except (CaseError, ValueError) as exc:
            messages.error(request, str(exc))
            return redirect("case-detail", pk=case.pk)
        messages.success(request, _("The draft is deleted."))
        return redirect("my-cases")
    return render(request, "workflow/confirm_delete.html", {"case": case})
