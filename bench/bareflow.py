"""viewflow's own minimal flow, Start -> View -> End, for the human-step floor.

``process_class`` is left to viewflow's default, ``viewflow.workflow.models.Process``
(the concrete model of viewflow's own installed app), so the flow needs no app,
model or migration of its own. Two side effects, harmless in the bench's
throw-away process: ``Flow.__init_subclass__`` adds a ``manage`` permission to
``Process._meta.default_permissions`` (after ``migrate`` has run, so no row is
written for it), and the processes' ``flow_class`` column stores
``bench.bareflow.BareFlow``, which only this process can load. The flow keeps
viewflow's default lock (none), as a minimal flow does; nothing in it is wired
to URLs.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.db import transaction
from viewflow import this
from viewflow.workflow import flow

from workflow.process import OPEN


def no_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """The View node's page: never served, the task is completed from code."""
    raise Http404("The bench flow has no pages.")


class BareFlow(flow.Flow):
    """Bare flow

    One human task between a start and an end: viewflow's bookkeeping and nothing else.
    """

    start = flow.StartHandle().Next(this.task)
    task = flow.View(no_page).Next(this.end)
    end = flow.End()


def start_process() -> int:
    """A new process, waiting at its one human task; its id."""
    return BareFlow.start.run().pk


def complete_task(process_id: int, user: Any) -> None:
    """Complete the process's open human task as ``workflow.process`` completes a case's, in one transaction.

    The case's step also finds its process by the case first (one more query); the task
    lookup and the activation calls here are the same as there.
    """
    with transaction.atomic():
        task = BareFlow.task_class.objects.filter(
            process_id=process_id, flow_task_type="HUMAN", status__in=OPEN
        ).first()
        with task.activation() as activation:
            activation.assign(user)
            activation.start(None)
            activation.execute()
