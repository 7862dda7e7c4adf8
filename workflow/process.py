"""Keeps each case's viewflow process in step with the case, in the same transaction.

``follow_transition`` is registered with ``rebuttal.services.on_transition``:
after every transition, whatever performed it (API, page, scheduler, another
service), it starts the process on submission, cancels it on withdrawal, and
otherwise completes the one open human task that the transition finishes. A
transition the process does not expect raises, rolling back both.

Lock order: the case row (locked by the service), then the process row (the
flow's lock). viewflow's own task views, which lock the other way round, are
not wired.
"""

from __future__ import annotations

from typing import Any

from viewflow.workflow import STATUS

from rebuttal.models import RebuttalCase
from workflow.flows import RebuttalFlow
from workflow.models import RebuttalProcess

# Transition name -> the node(s) whose open task it completes.
NODE_FOR: dict[str, frozenset[str]] = {
    "start_screening": frozenset({"intake"}),
    "accept_receivable": frozenset({"screening"}),
    "reject_not_receivable": frozenset({"screening"}),
    "invite_reviewer": frozenset({"assignment"}),
    "reviewer_accept": frozenset({"acceptance"}),
    "reviewer_decline": frozenset({"acceptance"}),
    "invitation_expire": frozenset({"acceptance"}),
    "submit_recommendation": frozenset({"review"}),
    "release_reviewer": frozenset({"review"}),
    "forward_for_endorsement": frozenset({"quality_check"}),
    "return_to_reviewer": frozenset({"quality_check", "endorsement"}),
    "endorse": frozenset({"endorsement"}),
    "decide": frozenset({"decision"}),
    "issue_outcome": frozenset({"outcome"}),
}
OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class ProcessOutOfStep(RuntimeError):
    """The process is not where the case's transition says it should be (a bug, never user error)."""


def follow_transition(case: RebuttalCase, name: str, actor: Any) -> None:
    if name == "submit":
        RebuttalFlow.start.run(case=case)
        return
    process = RebuttalProcess.objects.filter(case_id=case.pk).first()
    if process is None:
        # Filed before the workflow was installed: nothing to keep in step.
        return
    if name == "withdraw":
        RebuttalFlow.instance.cancel(process)
        return
    complete_open_task(process, name, actor)


def open_task(process: RebuttalProcess) -> Any:
    return process.task_set.filter(flow_task_type="HUMAN", status__in=OPEN).first()


def complete_open_task(process: RebuttalProcess, name: str, actor: Any) -> None:
    task = open_task(process)
    if task is None or task.flow_task.name not in NODE_FOR[name]:
        where = task.flow_task.name if task is not None else "no open task"
        raise ProcessOutOfStep(f"'{name}' finishes {sorted(NODE_FOR[name])}, but the process is at {where}.")
    with task.activation() as activation:
        if activation.status == STATUS.NEW:
            activation.assign(actor)
        elif task.owner_id != getattr(actor, "pk", None):
            activation.reassign(actor)
        activation.start(None)
        activation.execute()
