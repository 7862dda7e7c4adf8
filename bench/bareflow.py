"""viewflow's own minimal flow, Start -> View -> End, for the human-step floor.

``process_class`` is viewflow's concrete ``viewflow.workflow.models.Process`` (its
default), so the flow needs no model or migration of its own: a proxy or subclass
would need an app with migrations. viewflow still requires every flow to live in
an installed app (it stores ``app_label/module.Flow`` in ``Process.flow_class``
and ``Task.flow_task``), so ``python -m bench`` adds ``bench`` (no models) to
``INSTALLED_APPS`` in its own process only. ``Flow.__init_subclass__`` also adds a
``manage`` permission to ``Process._meta.default_permissions``: this module is
imported after ``migrate``, so no row is written for it, and the bench's
throw-away process is the only one that sees it. The flow keeps viewflow's
default lock (none), as a minimal flow does; none of it is wired to URLs.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.models import Process

from workflow.process import OPEN


def no_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """The View node's page: never served, the task is completed from code."""
    raise Http404("The bench flow has no pages.")


class BareFlow(flow.Flow):
    """Bare flow

    One human task between a start and an end: viewflow's bookkeeping and nothing else.
    """

    process_class = Process

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
