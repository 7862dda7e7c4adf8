"""Work lists: the home page by role, HR's case queue, the endorser's and decision-maker's inbox,
the reviewer's assignments and the reporting officers' invitations."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_filters import rest_framework as filters
from viewflow.workflow.models import Task

from rebuttal import consultation, permissions
from rebuttal.exceptions import CaseError, CaseNotFound
from rebuttal.filters import CaseFilter
from rebuttal.models import (
    TERMINAL_STATES,
    DocumentRequest,
    Office,
    RebuttalCase,
    Status,
    SupervisorInvitation,
)
from rebuttal.selectors import case_visible_qs
from reviewers.models import Assignment, AssignmentStatus
from reviewers.selectors import reviewer_for_user
from workflow import selectors as task_selectors
from workflow.forms import AnswerForm, SupervisorCommentForm
from workflow.pages.common import apply_errors, client_ip, in_group, is_hr
from workflow.process import OPEN

QUEUE_PAGE_SIZE = 25
# Counts per state are read at most this often (seconds): no COUNT over the table per request.
STATE_COUNTS_TTL = 60


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each person lands on their own work list."""
    user = request.user
    if is_hr(user):
        return redirect("queue")
    if in_group(user, permissions.REVIEWER):
        return redirect("assignments")
    if in_group(user, permissions.ENDORSER, permissions.DECISION_MAKER):
        return redirect("inbox")
    if SupervisorInvitation.objects.filter(officer=user, commented_at__isnull=True).exists():
        return redirect("invitations")
    return redirect("my-cases")


class QueueFilter(CaseFilter):
    """The API's case filters; "assigned to me" means a task this HR specialist holds."""

    # A column of the case itself: no join to de-duplicate. SELECT DISTINCT over whole rows
    # would keep the database from reading the page straight off the queue's index.
    status = filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)

    def filter_assigned_to_me(self, qs: QuerySet[RebuttalCase], name: str, value: bool | None) -> Any:
        if not value:
            return qs
        held = Task.objects.filter(
            process__rebuttalprocess__case_id=OuterRef("pk"), owner_id=self.request.user.pk, status__in=OPEN
        )
        return qs.filter(Exists(held))


def _encode(due: dt.date | None, pk: int) -> str:
    raw = f"{due.isoformat() if due else '-'}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[dt.date | None, int] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        due, pk = raw.split("|")
        return (None if due == "-" else dt.date.fromisoformat(due)), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def _page(qs: QuerySet[RebuttalCase], token: str | None, size: int) -> list[RebuttalCase]:
    """Up to ``size`` cases after ``token`` in (stage due date, nulls last; id) order: keyset paging.

    Cases with a due date and those without are read apart, each as a range of the
    (stage_due_on, id) index, so that page 4,000 costs what page 1 costs whatever
    the database's place for NULLs (SQLite sorts them first: there the closed
    cases, which have no due date, would be walked through before any open one).
    """
    position = _decode(token) if token else None
    dated = qs.filter(stage_due_on__isnull=False).order_by("stage_due_on", "pk")
    undated = qs.filter(stage_due_on__isnull=True).order_by("pk")
    if position is not None:
        due, pk = position
        if due is None:
            dated, undated = dated.none(), undated.filter(pk__gt=pk)
        else:
            dated = dated.filter(Q(stage_due_on__gt=due) | Q(pk__gt=pk), stage_due_on__gte=due)
    page = list(dated[:size])
    if len(page) < size:
        page += undated[: size - len(page)]
    return page


def _without(request: HttpRequest, name: str) -> str:
    params = request.GET.copy()
    params.pop(name, None)
    return params.urlencode()


STATE_COUNTS_KEY = "queue:state-counts"


def forget_state_counts(case: RebuttalCase, name: str, actor: Any) -> None:
    """After a transition commits, the counts are read afresh (a hook of ``rebuttal.services``)."""
    transaction.on_commit(lambda: cache.delete(STATE_COUNTS_KEY))


def state_counts() -> dict[str, int]:
    """How many filed cases are in each state (cached for a minute, and forgotten on every transition)."""
    counts = cache.get(STATE_COUNTS_KEY)
    if counts is None:
        rows = RebuttalCase.objects.filter(deleted_at__isnull=True).exclude(status=Status.DRAFT)
        counts = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        cache.set(STATE_COUNTS_KEY, counts, STATE_COUNTS_TTL)
    return counts


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """HR's case queue: filters, overdue first (earliest due date first), keyset pages."""
    if not is_hr(request.user):
        raise PermissionDenied
    data = request.GET.copy()
    if not data.getlist("status"):
        data.setlist("status", [s for s in Status.values if s not in TERMINAL_STATES and s != Status.DRAFT])
    base = case_visible_qs(request.user).exclude(requester_id=request.user.pk)
    filterset = QueueFilter(data=data, queryset=base, request=request)
    # Invalid filters are named on the page and match nothing (rather than everything).
    cases_qs = filterset.qs if filterset.is_valid() else base.none()
    page = _page(cases_qs.select_related("requester"), request.GET.get("after"), QUEUE_PAGE_SIZE + 1)
    more = len(page) > QUEUE_PAGE_SIZE
    page = page[:QUEUE_PAGE_SIZE]
    next_query = None
    if more:
        params = request.GET.copy()
        params["after"] = _encode(page[-1].stage_due_on, page[-1].pk)
        next_query = params.urlencode()
    counts = state_counts()
    offices = cache.get_or_set(
        "queue:offices", lambda: list(Office.objects.values_list("name", "region")), 300
    )
    context = {
        "cases": page,
        "next_query": next_query,
        "first_page": not request.GET.get("after"),
        "first_query": _without(request, "after"),
        "filterset": filterset,
        "selected_states": data.getlist("status"),
        "states": [
            (value, label, counts.get(value, 0)) for value, label in Status.choices if value != "draft"
        ],
        "offices": sorted({name for name, _region in offices}),
        "regions": sorted({region for _name, region in offices if region}),
    }
    return render(request, "workflow/queue.html", context)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The endorser's or decision-maker's cases: waiting for them, and those they acted on."""
    if not in_group(request.user, permissions.ENDORSER, permissions.DECISION_MAKER):
        raise PermissionDenied
    waiting = list(
        task_selectors.task_list(user=request.user, box="inbox").order_by("sort_key")[:100]
    ) + list(task_selectors.task_list(user=request.user, box="queue").order_by("sort_key")[:100])
    done = list(task_selectors.task_list(user=request.user, box="archive").order_by("-finished")[:50])
    return render(request, "workflow/inbox.html", {"waiting": waiting, "done": done})


@login_required
def assignments(request: HttpRequest) -> HttpResponse:
    """The reviewer's assignments: invitations to answer, reviews in progress, reports submitted."""
    reviewer = reviewer_for_user(request.user)
    if reviewer is None:
        raise PermissionDenied
    rows = (
        Assignment.objects.filter(reviewer=reviewer)
        .select_related("case")
        .order_by("-invited_at", "-id")[:200]
    )
    current = [a for a in rows if a.status in (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED)]
    past = [a for a in rows if a not in current]
    return render(request, "workflow/assignments.html", {"current": current, "past": past})


@login_required
def invitations(request: HttpRequest) -> HttpResponse:
    """A reporting officer's invitations to comment (open ones only show the case)."""
    mine = list(
        SupervisorInvitation.objects.filter(officer=request.user)
        .select_related("case")
        .order_by("-invited_at")
    )
    open_ones = [invitation for invitation in mine if invitation.is_open]
    requests_for_me = list(
        DocumentRequest.objects.filter(addressed_to=request.user, answered_at__isnull=True)
        .exclude(case__requester=request.user)
        .order_by("requested_at")
    )
    return render(
        request,
        "workflow/invitations.html",
        {
            "open_invitations": open_ones,
            "closed_count": len(mine) - len(open_ones),
            "requests": requests_for_me,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporting officer's page: the statement and their comment, only while the invitation is open."""
    try:
        found = consultation.supervisor_invitation_open_for(invitation_id=pk, user=request.user)
    except CaseNotFound as exc:
        raise Http404(str(exc)) from None
    form = SupervisorCommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation.supervisor_comment(
                invitation_id=found.pk, actor=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except CaseNotFound as exc:
            raise Http404(str(exc)) from None
        else:
            messages.success(request, _("Thank you: your comment was sent to the reviewer."))
            return redirect("invitations")
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/invitation.html", {"invitation": found, "form": form}, status=status)


@login_required
@require_POST
def document_request_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester or reporting officer answers a request for documents."""
    found = DocumentRequest.objects.filter(pk=pk).first()
    if found is None or (found.addressed_to_id != request.user.pk and not is_hr(request.user)):
        raise Http404("No such request.")
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            consultation.document_request_answer(
                request_id=found.pk,
                actor=request.user,
                answer=form.cleaned_data["answer"],
                client_ip=client_ip(request),
            )
        except CaseNotFound as exc:
            raise Http404(str(exc)) from None
        except CaseError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Your answer was sent."))
    else:
        messages.error(request, _("Write an answer before sending it."))
    if found.case.requester_id == request.user.pk or is_hr(request.user):
        return redirect("case-detail", pk=found.case_id)
    return redirect("invitations")
