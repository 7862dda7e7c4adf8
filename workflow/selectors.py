"""Reads of the process's human tasks (inbox, queue, archive), with the rulebook's visibility.

viewflow decides which tasks a user's roles let them hold (``Task.objects.inbox``,
``queue``, ``archive``); on top of that a task is listed only when its case is
one the user may see (``rebuttal.selectors.case_visible_qs``) and is not the
user's own request: nobody handles, or learns of the handling of, their own case.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, LPad, Replace
from django.utils import timezone
from viewflow.workflow import STATUS
from viewflow.workflow.models import Task

from rebuttal.exceptions import CaseNotFound
from rebuttal.models import TERMINAL_STATES
from rebuttal.selectors import case_visible_qs
from workflow.flows import RebuttalFlow

BOXES = ("inbox", "queue", "archive")
CASE = "process__rebuttalprocess__case"
# Human tasks the flow assigns to the case's reviewer: never in a queue, never handed back.
REVIEWER_NODES = frozenset({"acceptance", "review"})
HUMAN_NODES = tuple(sorted(node.name for node in RebuttalFlow.instance.nodes() if node.task_type == "HUMAN"))


def task_node(name: str) -> Any:
    """The flow's human node called ``name`` (a ``KeyError`` otherwise)."""
    if name not in HUMAN_NODES:
        raise KeyError(name)
    return getattr(RebuttalFlow, name)


def _overdue() -> Q:
    """The case's stage is late: past its due date, clock running, case still open (as the case list)."""
    return Q(**{f"{CASE}__stage_due_on__lt": timezone.localdate(), f"{CASE}__paused_at__isnull": True}) & ~Q(
        **{f"{CASE}__status__in": TERMINAL_STATES}
    )


def _visible(qs: QuerySet[Task], user: Any) -> QuerySet[Task]:
    """Only human tasks of cases ``user`` may see, never of their own request."""
    return (
        qs.filter(flow_task_type="HUMAN", **{f"{CASE}__in": case_visible_qs(user).values("pk")})
        .exclude(**{f"{CASE}__requester_id": user.pk})
        .select_related(CASE, "owner")
    )


def task_list(*, user: Any, box: str = "inbox") -> QuerySet[Task]:
    """The user's tasks in ``box``: ``inbox`` (assigned to them, open), ``queue``
    (unassigned, theirs to take) or ``archive`` (finished by them).

    Each task carries ``overdue`` and ``sort_key``. ``sort_key`` orders the list:
    overdue first, then by the stage's due date (none last), then oldest first
    (task ids grow with creation). It is one digits-only string, unique per task,
    so keyset paging on it alone is exact: ``0`` when overdue, else ``1``; the due
    date as ``YYYYMMDD`` (``99991231`` when none); the task id zero-padded to 12
    digits. Digits only, so every collation orders it the same way.
    """
    if box not in BOXES:
        raise ValueError(f"Unknown box '{box}'.")
    if user is None or not user.is_authenticated:
        return Task.objects.none()
    source = getattr(Task.objects, box)([RebuttalFlow], user)
    due = Coalesce(
        Replace(Cast(f"{CASE}__stage_due_on", CharField()), Value("-"), Value("")),
        Value("99991231"),
        output_field=CharField(),
    )
    return _visible(source, user).annotate(
        overdue=Case(When(_overdue(), then=Value(True)), default=Value(False), output_field=BooleanField()),
        sort_key=Concat(
            Case(When(_overdue(), then=Value("0")), default=Value("1"), output_field=CharField()),
            due,
            LPad(Cast("pk", CharField()), 12, Value("0")),
            output_field=CharField(),
        ),
    )


def task_get_for_action(*, user: Any, pk: Any) -> Task:
    """A task ``user`` may claim or hand back, in any status, or ``CaseNotFound``.

    It must be a human task of a case the user may see (not their own), that
    their roles let them hold (the task's permission is theirs, or it is theirs).
    A task taken by someone else since is still found, so the caller can say 409.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise CaseNotFound("No such task.") from None
    if user is None or not user.is_authenticated:
        raise CaseNotFound("No such task.")
    candidates = Task.objects.filter_available([RebuttalFlow], user).user_queue(user)
    task = _visible(candidates, user).filter(pk=pk).first()
    if task is None:
        raise CaseNotFound("No such task.")
    return task


def task_is_open(task: Task) -> bool:
    return task.status in (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
