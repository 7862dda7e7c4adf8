"""HR's pages of the reviewer pool: the pool, one reviewer (and releasing all their cases),
contracts ending soon, and the monthly fee certification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from rebuttal import permissions, web
from rebuttal.exceptions import ActionForbidden, CaseError, CaseNotFound
from reviewers import selectors, services
from reviewers.forms import EXPIRY_WINDOW_DEFAULT, ExpiryWindowForm, MonthForm, ReleaseAllForm
from reviewers.models import OPEN_ASSIGNMENT_STATUSES, Assignment, ContractStatus, RetainerContract, Reviewer

# A contract ending within this many days is flagged on the pool and reviewer pages.
EXPIRING_DAYS = EXPIRY_WINDOW_DEFAULT


def _require_hr(request: HttpRequest) -> None:
    """HR specialists and administrators only."""
    if not permissions.is_hr(request.user):
        raise PermissionDenied


def _is_expiring(contract: RetainerContract, today: dt.date, within: int = EXPIRING_DAYS) -> bool:
    """Active and ending between today and ``within`` days from now."""
    return contract.status == ContractStatus.ACTIVE and today <= contract.ends_on <= today + dt.timedelta(
        days=within
    )


@login_required
@require_GET
def pool(request: HttpRequest) -> HttpResponse:
    """Every reviewer with their open case count and current contract, in a fixed number of queries."""
    _require_hr(request)
    today = timezone.localdate()
    in_force = RetainerContract.objects.filter(
        status=ContractStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today
    ).order_by("-ends_on", "-id")
    reviewers = list(
        selectors.reviewer_list().prefetch_related(
            Prefetch("contracts", queryset=in_force, to_attr="contracts_in_force")
        )
    )
    rows = []
    for reviewer in reviewers:
        # The contract in force that runs longest is the one the reviewer works under.
        contract = reviewer.contracts_in_force[0] if reviewer.contracts_in_force else None
        rows.append(
            {
                "reviewer": reviewer,
                "contract": contract,
                "expiring": contract is not None and _is_expiring(contract, today),
            }
        )
    return render(request, "reviewers/pool.html", {"rows": rows, "expiring_days": EXPIRING_DAYS})


def _reviewer_or_404(pk: int) -> Reviewer:
    reviewer = selectors.reviewer_list().filter(pk=pk).first()
    if reviewer is None:
        raise Http404("No such reviewer.")
    return reviewer


def _detail_context(reviewer: Reviewer, form: ReleaseAllForm) -> dict[str, Any]:
    today = timezone.localdate()
    contracts = list(reviewer.contracts.order_by("-ends_on", "-id"))
    return {
        "reviewer": reviewer,
        "contracts": contracts,
        "expiring_ids": {contract.pk for contract in contracts if _is_expiring(contract, today)},
        "conflicts": list(reviewer.conflicts.select_related("declared_by").order_by("-declared_at", "-id")),
        "assignments": list(
            Assignment.objects.filter(reviewer=reviewer, status__in=OPEN_ASSIGNMENT_STATUSES)
            .select_related("case", "contract")
            .order_by("expected_end_on", "id")
        ),
        "form": form,
        "expiring_days": EXPIRING_DAYS,
        "today": today,
    }


@login_required
@require_GET
def reviewer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One reviewer: facts, contracts, declared conflicts, open assignments and the release form."""
    _require_hr(request)
    reviewer = _reviewer_or_404(pk)
    return render(request, "reviewers/reviewer_detail.html", _detail_context(reviewer, ReleaseAllForm()))


@login_required
@require_POST
def release_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Release every open case of the reviewer; an invalid form comes back (400) with what was typed."""
    _require_hr(request)
    reviewer = _reviewer_or_404(pk)
    form = ReleaseAllForm(request.POST)
    if form.is_valid():
        try:
            released = services.reviewer_release_all(
                reviewer_id=reviewer.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                client_ip=web.client_ip(request),
            )
        except ValidationError as exc:
            web.apply_errors(form, exc)
        except CaseNotFound as exc:
            raise Http404(str(exc)) from None
        except ActionForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        except CaseError as exc:
            messages.error(request, str(exc))
            return redirect("reviewer-detail", pk=reviewer.pk)
        else:
            if released:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d case went back to assignment: %(references)s.",
                        "%(count)d cases went back to assignment: %(references)s.",
                        len(released),
                    )
                    % {"count": len(released), "references": ", ".join(case.reference for case in released)},
                )
            else:
                messages.info(
                    request,
                    _("No case was released: the reviewer holds none that can go back to assignment."),
                )
            return redirect("reviewer-detail", pk=reviewer.pk)
    return render(request, "reviewers/reviewer_detail.html", _detail_context(reviewer, form), status=400)


@login_required
@require_GET
def contracts(request: HttpRequest) -> HttpResponse:
    """Contracts ending within ``?within=`` days that still carry open cases, and every active contract."""
    _require_hr(request)
    today = timezone.localdate()
    form = ExpiryWindowForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    within = form.window() if form.is_bound and valid else EXPIRY_WINDOW_DEFAULT
    expiring = list(selectors.contracts_expiring(within_days=within, today=today)) if valid else None
    active = list(
        RetainerContract.objects.filter(status=ContractStatus.ACTIVE)
        .select_related("reviewer")
        .order_by("ends_on", "number")
    )
    if not form.is_bound:
        form = ExpiryWindowForm(initial={"within": EXPIRY_WINDOW_DEFAULT})
    context = {
        "form": form,
        "within": within,
        "expiring": expiring,
        "active": active,
        # Active contracts ending within the window are marked, whether or not they carry open cases.
        "expiring_ids": {contract.pk for contract in active if _is_expiring(contract, today, within)},
        "today": today,
    }
    return render(request, "reviewers/contracts.html", context)


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@login_required
@require_GET
def fees(request: HttpRequest) -> HttpResponse:
    """The fee certification of a month (``?month=YYYY-MM``, default the previous month)."""
    _require_hr(request)
    form = MonthForm(request.GET or None)
    month: dt.date | None = None
    if form.is_bound:
        if form.is_valid():
            month = form.cleaned_data["month"] or _previous_month(timezone.localdate())
    else:
        month = _previous_month(timezone.localdate())
        form = MonthForm(initial={"month": month})
    listing = selectors.fee_certification(month=month) if month else None
    return render(request, "reviewers/fees.html", {"form": form, "month": month, "listing": listing})
