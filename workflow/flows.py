"""The rebuttal process as a viewflow flow.

The flow routes work and never holds business state: every human task is
completed by exactly one service (``workflow.process.follow_transition`` runs in
the transaction of each case transition), and every gateway reads the case.
Undo and revive are disabled on every node: a finished step is undone only by
another transition, which the audit trail records.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from viewflow import this
from viewflow.workflow import STATUS, flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes import end, if_gate, start, switch
from viewflow.workflow.nodes import view as view_nodes

from rebuttal.models import Status
from workflow.models import RebuttalProcess


def _never(activation: Any) -> bool:
    return False


_never.__name__ = "undo_and_revive_disabled"


def _no_undo(activation_class: type) -> type:
    """The node's activation, with undo and revive refused (a condition that never holds)."""

    class NoUndo(activation_class):  # type: ignore[misc, valid-type]
        @Activation.status.transition(source=STATUS.DONE, target=STATUS.CANCELED, conditions=[_never])
        def undo(self) -> None:
            raise AssertionError("undo is disabled")

        @Activation.status.transition(
            source=[STATUS.CANCELED, STATUS.ERROR], target=STATUS.REVIVED, conditions=[_never]
        )
        def revive(self) -> None:
            raise AssertionError("revive is disabled")

    NoUndo.__name__ = "NoUndo" + activation_class.__name__
    return NoUndo


class Human(flow.View):
    activation_class = _no_undo(view_nodes.ViewActivation)
    undo_view_class = revive_view_class = cancel_view_class = None


class Route(flow.Switch):
    activation_class = _no_undo(switch.SwitchActivation)
    undo_view_class = revive_view_class = None


class Decide(flow.If):
    activation_class = _no_undo(if_gate.IfActivation)
    undo_view_class = revive_view_class = None


class Finish(flow.End):
    activation_class = _no_undo(end.EndActivation)
    undo_view_class = revive_view_class = None


class Begin(flow.StartHandle):
    activation_class = _no_undo(start.StartHandleActivation)
    undo_view_class = None


def status_is(*values: str) -> Any:
    """A gateway condition: the case (read fresh) is in one of ``values``."""

    def condition(activation: Any) -> bool:
        return activation.process.case.status in values

    condition.__name__ = "case_is_" + "_or_".join(values)
    return condition


def task_page(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """viewflow's own task pages are not wired: tasks are done on the case pages and the API."""
    raise Http404("Tasks are done from the case.")


def _reviewer(activation: Any) -> Any:
    return activation.process.case.reviewer_user


HR = "workflow.act_as_hr"


class RebuttalFlow(flow.Flow):
    """Performance rebuttal

    Routes a rebuttal case from filing to its outcome; the case holds all business state.
    """

    process_class = RebuttalProcess
    # Blocking row lock on the process (NOWAIT would abort the surrounding
    # transaction under contention). SQLite ignores it; its writers are serialised.
    lock_impl = lock.SelectForUpdateLock(nowait=False)

    start = Begin(this.start_case).Annotation(title="Filed").Next(this.intake)
    intake = (
        Human(task_page).Annotation(title="Start the receivability check").Permission(HR).Next(this.screening)
    )
    screening = Human(task_page).Annotation(title="Receivability check").Permission(HR).Next(this.receivable)
    receivable = Decide(status_is(Status.AWAITING_ASSIGNMENT)).Then(this.assignment).Else(this.not_receivable)
    assignment = Human(task_page).Annotation(title="Invite a reviewer").Permission(HR).Next(this.acceptance)
    acceptance = (
        Human(task_page).Annotation(title="Accept or decline").Assign(_reviewer).Next(this.after_acceptance)
    )
    after_acceptance = (
        Route()
        .Case(this.review, status_is(Status.UNDER_REVIEW))
        .Case(this.assignment, status_is(Status.AWAITING_ASSIGNMENT))
    )
    review = Human(task_page).Annotation(title="Review").Assign(_reviewer).Next(this.after_review)
    after_review = (
        Route()
        .Case(this.quality_check, status_is(Status.RECOMMENDATION_SUBMITTED))
        .Case(this.assignment, status_is(Status.AWAITING_ASSIGNMENT))
    )
    quality_check = (
        Human(task_page).Annotation(title="Quality check").Permission(HR).Next(this.after_quality_check)
    )
    after_quality_check = (
        Route()
        .Case(this.endorsement, status_is(Status.AWAITING_ENDORSEMENT))
        .Case(this.review, status_is(Status.UNDER_REVIEW))
    )
    endorsement = (
        Human(task_page)
        .Annotation(title="Endorsement")
        .Permission("workflow.act_as_endorser")
        .Next(this.after_endorsement)
    )
    after_endorsement = (
        Route()
        .Case(this.decision, status_is(Status.AWAITING_DECISION))
        .Case(this.review, status_is(Status.UNDER_REVIEW))
    )
    decision = (
        Human(task_page)
        .Annotation(title="Decision")
        .Permission("workflow.act_as_decision_maker")
        .Next(this.outcome)
    )
    outcome = Human(task_page).Annotation(title="Issue the outcome letter").Permission(HR).Next(this.closed)
    closed = Finish().Annotation(title="Closed")
    not_receivable = Finish().Annotation(title="Not receivable")

    def start_case(self, activation: Any, case: Any) -> RebuttalProcess:
        activation.process.case = case
        return activation.process
