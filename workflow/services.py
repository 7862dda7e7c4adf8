"""The one entry point for every action on a case, and who holds which task.

The API's transition endpoint and the pages' forms call ``case_act``; it calls
the service that performs the transition, and the services of other apps that
must move with it, in one transaction. The transition hooks registered in
``workflow.apps`` then complete the matching viewflow task and queue the
notifications, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from viewflow.workflow import STATUS
from viewflow.workflow.models import Task

from rebuttal import services as case_services
from rebuttal.exceptions import ActionForbidden, TransitionRefused
from rebuttal.models import RebuttalCase
from reports.models import Letter, LetterKind
from reviewers import services as reviewer_services
from workflow import selectors


def _invite(*, reviewer: Any, **kwargs: Any) -> RebuttalCase:
    return reviewer_services.assignment_invite(reviewer_id=getattr(reviewer, "pk", reviewer), **kwargs)


def _decide(**kwargs: Any) -> RebuttalCase:
    case = case_services.case_decide(**kwargs)
    reviewer_services.assignment_complete(case=case, actor=kwargs["actor"])
    return case


def _withdraw(**kwargs: Any) -> RebuttalCase:
    case = case_services.case_withdraw(**kwargs)
    reviewer_services.assignment_cancel(case=case, actor=kwargs["actor"])
    return case


def _issue_outcome(**kwargs: Any) -> RebuttalCase:
    # A case closes when its outcome letter is in the archive (``workflow.letters``), never before.
    # The usual refusals (who, version, state) come first.
    case_services.case_lock_for_transition(
        case_id=kwargs["case_id"], name="issue_outcome", actor=kwargs["actor"], version=kwargs["version"]
    )
    if not Letter.objects.filter(case_id=kwargs["case_id"], kind=LetterKind.OUTCOME).exists():
        raise TransitionRefused(
            "The outcome letter has not been issued yet; the case closes when it is (this is automatic)."
        )
    return case_services.case_issue_outcome(**kwargs)


# Transition name -> what performs it. Each takes ``case_id``, ``actor``,
# ``version`` and ``client_ip`` plus the transition's own fields.
ACTIONS: dict[str, Callable[..., RebuttalCase]] = {
    "submit": case_services.case_submit,
    "start_screening": case_services.case_start_screening,
    "accept_receivable": case_services.case_accept_receivable,
    "reject_not_receivable": case_services.case_reject_not_receivable,
    "withdraw": _withdraw,
    "invite_reviewer": _invite,
    "reviewer_accept": reviewer_services.assignment_accept,
    "reviewer_decline": reviewer_services.assignment_decline,
    "invitation_expire": reviewer_services.assignment_expire,
    "release_reviewer": reviewer_services.assignment_release,
    "submit_recommendation": reviewer_services.recommendation_submit,
    "forward_for_endorsement": case_services.case_forward_for_endorsement,
    "return_to_reviewer": case_services.case_return_to_reviewer,
    "endorse": case_services.case_endorse,
    "decide": _decide,
    "issue_outcome": _issue_outcome,
}


@transaction.atomic
def case_act(
    *,
    case_id: int,
    name: str,
    actor: Any,
    version: int | None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> RebuttalCase:
    """Perform transition ``name`` on a case, with the transition's own fields in ``data``."""
    service = ACTIONS[name]
    return service(case_id=case_id, actor=actor, version=version, client_ip=client_ip, **(data or {}))


# --- who holds a task -------------------------------------------------------------


class TaskTaken(TransitionRefused):
    """Someone else holds the task, or it is finished."""


def task_claim(*, task_id: int, user: Any) -> Task:
    """Assign an unassigned task to ``user`` (claiming one already yours changes nothing).

    The flow lock is taken first and the task re-read under it, so a concurrent
    claim that won is seen here: ``TaskTaken``.
    """
    task = selectors.task_get_for_action(user=user, pk=task_id)
    with transaction.atomic(), task.activation() as activation:
        task = activation.task
        if task.status == STATUS.ASSIGNED and task.owner_id == user.pk:
            return task
        if task.status != STATUS.NEW:
            raise TaskTaken("Someone else has taken this task, or it is finished.")
        activation.assign(user)
    return task


def task_unclaim(*, task_id: int, user: Any) -> Task:
    """Put a task ``user`` holds back in its queue (not a reviewer's: the flow assigns those)."""
    task = selectors.task_get_for_action(user=user, pk=task_id)
    if task.flow_task.name in selectors.REVIEWER_NODES:
        raise ActionForbidden("A reviewer's task is assigned by the flow and cannot be handed back.")
    with transaction.atomic(), task.activation() as activation:
        task = activation.task
        if task.status == STATUS.NEW:
            raise TaskTaken("Nobody holds this task.")
        if not selectors.task_is_open(task):
            raise TaskTaken("This task is finished.")
        if task.owner_id != user.pk:
            raise ActionForbidden("Only the person holding a task may hand it back.")
        activation.unassign()
    return task
