"""The viewflow process follows every case transition, in the same transaction."""

from __future__ import annotations

import pytest
from viewflow.workflow import STATUS, chart
from viewflow.workflow.models import Task

from rebuttal import services
from rebuttal.models import RebuttalCase
from tests.factories import advance, make_case, reviewer_profile
from workflow.flows import RebuttalFlow
from workflow.models import RebuttalProcess
from workflow.process import ProcessOutOfStep, open_task
from workflow.services import case_act


def where(case: RebuttalCase) -> tuple[str, str | None]:
    process = RebuttalProcess.objects.get(case_id=case.pk)
    task = open_task(process)
    return process.status, task.flow_task.name if task else None


@pytest.fixture
def cast(requester, hr, reviewer, endorser, decision_maker):
    return {
        "requester": requester,
        "hr": hr,
        "reviewer": reviewer,
        "endorser": endorser,
        "decision_maker": decision_maker,
    }


def test_a_draft_has_no_process_and_submitting_starts_one(requester):
    case = make_case(requester)
    assert not RebuttalProcess.objects.filter(case_id=case.pk).exists()
    case = advance(case, to="submitted", requester=requester)
    assert where(case) == (STATUS.NEW, "intake")


@pytest.mark.parametrize(
    ("state", "node"),
    [
        ("submitted", "intake"),
        ("screening", "screening"),
        ("awaiting_assignment", "assignment"),
        ("reviewer_invited", "acceptance"),
        ("under_review", "review"),
        ("recommendation_submitted", "quality_check"),
        ("awaiting_endorsement", "endorsement"),
        ("awaiting_decision", "decision"),
        ("decided", "outcome"),
    ],
)
def test_each_state_has_exactly_its_task_open(cast, state, node):
    case = advance(make_case(cast["requester"]), to=state, **cast)
    process = RebuttalProcess.objects.get(case_id=case.pk)
    open_tasks = process.task_set.filter(flow_task_type="HUMAN").exclude(
        status__in=[STATUS.DONE, STATUS.CANCELED]
    )
    assert [t.flow_task.name for t in open_tasks] == [node]


@pytest.mark.parametrize(
    ("state", "status"),
    [("closed", STATUS.DONE), ("not_receivable", STATUS.DONE), ("withdrawn", STATUS.CANCELED)],
)
def test_a_finished_case_has_a_finished_process_with_no_open_task(cast, state, status):
    case = advance(make_case(cast["requester"]), to=state, **cast)
    assert where(case) == (status, None)


def test_loops_go_back_to_the_right_task(cast):
    hr, reviewer = cast["hr"], cast["reviewer"]
    case = advance(make_case(cast["requester"]), to="reviewer_invited", **cast)
    case = case_act(
        case_id=case.pk,
        name="reviewer_decline",
        actor=reviewer,
        version=case.version,
        data={"reason": "Busy."},
    )
    assert where(case) == (STATUS.NEW, "assignment")
    other = reviewer_profile(type(reviewer).objects.create(username="rex", email="rex@example.org"))
    case = case_act(
        case_id=case.pk, name="invite_reviewer", actor=hr, version=case.version, data={"reviewer": other.pk}
    )
    case = case_act(
        case_id=case.pk,
        name="reviewer_accept",
        actor=other.user,
        version=case.version,
        data={"no_conflict_declaration": True},
    )
    assert where(case) == (STATUS.NEW, "review")
    report = {"findings": "f", "recommendation": "maintain", "reasons": "r"}
    case = case_act(
        case_id=case.pk, name="submit_recommendation", actor=other.user, version=case.version, data=report
    )
    case = case_act(
        case_id=case.pk,
        name="return_to_reviewer",
        actor=hr,
        version=case.version,
        data={"reason": "Clarify."},
    )
    assert where(case) == (STATUS.NEW, "review")


def test_the_reviewers_tasks_are_in_their_inbox_and_hr_tasks_in_the_hr_queue(cast):
    invited = advance(make_case(cast["requester"]), to="reviewer_invited", **cast)
    assert where(invited)[1] == "acceptance"
    inbox = Task.objects.inbox([RebuttalFlow], cast["reviewer"])
    assert [t.flow_task.name for t in inbox] == ["acceptance"]
    submitted = advance(
        make_case(cast["requester"], appraisal_cycle=2025), to="submitted", requester=cast["requester"]
    )
    queue = Task.objects.queue([RebuttalFlow], cast["hr"])
    assert [t.process.coerced.case_id for t in queue] == [submitted.pk]
    assert not Task.objects.queue([RebuttalFlow], cast["requester"]).exists()
    assert not Task.objects.queue([RebuttalFlow], cast["endorser"]).exists()


def test_a_transition_made_by_a_service_directly_moves_the_process_too(cast):
    case = advance(make_case(cast["requester"]), to="under_review", **cast)
    services.case_release_reviewer(
        case_id=case.pk, actor=cast["hr"], version=case.version, reason="Conflict found."
    )
    assert where(case) == (STATUS.NEW, "assignment")


def test_a_process_out_of_step_rolls_back_the_transition(cast):
    case = advance(make_case(cast["requester"]), to="submitted", requester=cast["requester"])
    # Someone cancels the open task behind the service's back.
    Task.objects.filter(process__rebuttalprocess__case_id=case.pk, status=STATUS.NEW).update(
        status=STATUS.CANCELED
    )
    with pytest.raises(ProcessOutOfStep):
        case_act(case_id=case.pk, name="start_screening", actor=cast["hr"], version=case.version)
    stored = RebuttalCase.objects.get(pk=case.pk)
    assert (stored.status, stored.version, stored.events.count()) == (
        "submitted",
        case.version,
        case.events.count(),
    )


def test_undo_and_revive_are_refused_on_every_finished_task(cast):
    case = advance(make_case(cast["requester"]), to="awaiting_decision", **cast)
    process = RebuttalProcess.objects.get(case_id=case.pk)
    done = process.task_set.filter(status=STATUS.DONE)
    assert done.count() > 5
    for task in done:
        activation = task.flow_task.activation_class(task)
        assert not activation.undo.can_proceed()
        assert not activation.revive.can_proceed()


def test_the_flow_chart_renders_every_stage():
    svg = chart.grid_to_svg(chart.calc_layout_data(RebuttalFlow)).lower()
    for title in (
        "receivability check",
        "invite a reviewer",
        "review",
        "quality check",
        "endorsement",
        "decision",
    ):
        assert title in svg
