"""The scheduler: reminders at 50 % and 75 % of a stage, escalation on breach, each once per
stage however often it runs; nothing for a paused case; invitations expire exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from rebuttal import services as case_services
from rebuttal.models import CaseEvent, RebuttalCase
from reviewers.models import Assignment
from tests.factories import UserFactory, advance, make_case
from workflow import scheduler
from workflow.models import Notification
from workflow.services import case_act

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)  # a Monday


@pytest.fixture
def people(requester, hr, reviewer, endorser, decision_maker, hr_admin) -> dict[str, Any]:  # noqa: ANN001
    return {
        "requester": requester,
        "hr": hr,
        "reviewer": reviewer,
        "endorser": endorser,
        "decision_maker": decision_maker,
    }


@pytest.fixture
def run_at(django_capture_on_commit_callbacks):  # noqa: ANN001, ANN201
    """Run the scheduler at a moment, sending what it commits."""

    def run(moment: dt.datetime) -> scheduler.Summary:
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            return scheduler.run()

    return run


def drive(people: dict[str, Any], to: str, capture: Any, **case_fields: Any) -> RebuttalCase:
    """A case driven to ``to`` at START, its own e-mails sent and cleared."""
    with time_machine.travel(START, tick=False), capture(execute=True):
        case = advance(
            make_case(people["requester"], **case_fields),
            to=to,
            requester=people["requester"],
            hr=people["hr"],
            reviewer=people["reviewer"],
            endorser=people["endorser"],
            decision_maker=people["decision_maker"],
        )
    mail.outbox.clear()
    return case


def moment(case: RebuttalCase, percent: float) -> dt.datetime:
    """The moment ``percent`` of the case's current stage time has passed."""
    case.refresh_from_db()
    return case.stage_started_at + (scheduler._deadline(case) - case.stage_started_at) * percent / 100


def sent() -> Counter[tuple[str, str]]:
    """(kind, recipient) of every reminder and escalation sent."""
    return Counter(
        (n.kind, n.email) for n in Notification.objects.filter(status="sent", kind__startswith="stage_")
    )


def test_reminders_at_50_and_75_percent_and_the_escalation_are_each_sent_once(
    people, run_at, django_capture_on_commit_callbacks
):
    case = drive(people, "under_review", django_capture_on_commit_callbacks)
    for percent in (10, 49, 50, 51, 60, 74, 75, 76, 90, 99, 100, 101, 150, 200):
        run_at(moment(case, percent))
        run_at(moment(case, percent))  # a second run at once changes nothing

    assert sent() == Counter(
        {
            ("stage_reminder", "rita@example.org"): 2,
            ("stage_escalation", "adam@example.org"): 1,
        }
    )
    thresholds = sorted(n.context["threshold"] for n in Notification.objects.filter(kind="stage_reminder"))
    assert thresholds == [50, 75]
    assert len(mail.outbox) == 3
    escalation = next(m for m in mail.outbox if m.to == ["adam@example.org"])
    assert case.reference in escalation.subject
    assert "rita" in escalation.body  # who holds the overdue task


def test_a_run_reports_what_it_did_and_a_second_run_reports_nothing(
    people, run_at, django_capture_on_commit_callbacks
):
    case = drive(people, "under_review", django_capture_on_commit_callbacks)
    first = run_at(moment(case, 80))
    again = run_at(moment(case, 80))
    assert (first.reminders, first.escalations) == (1, 0)
    assert (again.reminders, again.escalations, again.expired) == (0, 0, [])


def test_a_paused_case_gets_no_reminder_and_no_escalation(people, run_at, django_capture_on_commit_callbacks):
    case = drive(people, "under_review", django_capture_on_commit_callbacks)
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        case_services.case_pause_clock(
            case_id=case.pk, actor=people["reviewer"], reason="Waiting for the supervisor's comments."
        )
    for percent in (50, 75, 100, 200):
        run_at(moment(case, percent))

    assert not Notification.objects.filter(kind__startswith="stage_").exists()
    assert mail.outbox == []


def test_a_new_stage_starts_the_thresholds_afresh(people, run_at, django_capture_on_commit_callbacks):
    case = drive(people, "under_review", django_capture_on_commit_callbacks)
    run_at(moment(case, 60))
    first_stage = case.stage_started_at
    # The report goes in and comes back: the reviewer holds a new review stage.
    with time_machine.travel(moment(case, 61), tick=False):
        case = case_act(
            case_id=case.pk,
            name="submit_recommendation",
            actor=people["reviewer"],
            version=case.version,
            data={"findings": "F.", "recommendation": "maintain", "reasons": "R."},
        )
        case = case_act(
            case_id=case.pk,
            name="return_to_reviewer",
            actor=people["hr"],
            version=case.version,
            data={"reason": "Clarify."},
        )
    assert case.stage_started_at > first_stage
    run_at(moment(case, 10))
    run_at(moment(case, 60))
    run_at(moment(case, 60))

    reminders = Notification.objects.filter(kind="stage_reminder", email="rita@example.org").order_by("pk")
    assert [n.context["threshold"] for n in reminders] == [50, 50]
    assert [first_stage.isoformat() in n.dedupe_key for n in reminders] == [True, False]
    assert [case.stage_started_at.isoformat() in n.dedupe_key for n in reminders] == [False, True]


def test_an_unassigned_task_reminds_every_member_of_the_role_that_takes_it(
    people, groups, run_at, django_capture_on_commit_callbacks
):
    second = UserFactory(username="diego", email="diego@example.org")
    second.groups.add(groups["decision_maker"])
    case = drive(people, "awaiting_decision", django_capture_on_commit_callbacks)
    run_at(moment(case, 55))

    assert sent() == Counter(
        {("stage_reminder", "dora@example.org"): 1, ("stage_reminder", "diego@example.org"): 1}
    )


def test_a_reminder_never_goes_to_the_requester_in_an_official_role(
    people, groups, run_at, django_capture_on_commit_callbacks
):
    people["requester"].groups.add(groups["hr_specialist"])
    case = drive(people, "submitted", django_capture_on_commit_callbacks)
    run_at(moment(case, 55))
    assert sent() == Counter({("stage_reminder", "hana@example.org"): 1})


@override_settings(HR_LEAD_EMAILS=["lead@example.org"])
def test_the_escalation_goes_to_the_hr_lead_addresses_when_set(
    people, run_at, django_capture_on_commit_callbacks
):
    case = drive(people, "screening", django_capture_on_commit_callbacks)
    run_at(moment(case, 101))
    assert sent()[("stage_escalation", "lead@example.org")] == 1
    assert not Notification.objects.filter(kind="stage_escalation", email="adam@example.org").exists()


def test_an_unanswered_invitation_expires_exactly_once(people, run_at, django_capture_on_commit_callbacks):
    case = drive(people, "reviewer_invited", django_capture_on_commit_callbacks)
    assert run_at(START + dt.timedelta(days=4, hours=23)).expired == []
    summaries = [run_at(START + dt.timedelta(days=5, hours=h)) for h in (0, 1, 2)]

    assert [s.expired for s in summaries] == [[case.pk], [], []]
    case.refresh_from_db()
    assert case.status == "awaiting_assignment"
    assert case.reviewer_user is None
    assert Assignment.objects.get(case=case).status == "expired"
    assert CaseEvent.objects.filter(case=case, transition="invitation_expire").count() == 1
    expired_mail = Counter(
        (n.kind, n.email) for n in Notification.objects.filter(kind__startswith="invitation_", status="sent")
    )
    assert expired_mail == Counter(
        {("invitation_expired", "hana@example.org"): 1, ("invitation_lapsed", "rita@example.org"): 1}
    )


def test_an_email_left_pending_is_sent_by_a_later_run(people, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        case = advance(make_case(people["requester"]), to="submitted", requester=people["requester"])
    # Committed, but the queue lost the message: the rows are still pending.
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        assert scheduler.retry_unsent(timezone.now()) == 0
    with time_machine.travel(START + dt.timedelta(minutes=15), tick=False):
        assert scheduler.retry_unsent(timezone.now()) == 2
        assert scheduler.retry_unsent(timezone.now()) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "hana@example.org"]
    assert case.reference in mail.outbox[0].subject


def test_the_command_runs_one_pass_and_says_what_it_did(people, django_capture_on_commit_callbacks):
    case = drive(people, "under_review", django_capture_on_commit_callbacks)
    out = StringIO()
    with time_machine.travel(moment(case, 80), tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduler", stdout=out)
    assert out.getvalue().strip() == (
        "0 invitation(s) expired, 1 reminder(s), 0 escalation(s), 0 e-mail(s) retried, 0 letter(s) retried."
    )
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]


def test_the_scheduler_costs_the_same_for_few_and_many_cases(people, django_assert_max_num_queries):
    def file(n: int) -> RebuttalCase:
        requester = UserFactory(username=f"req{n}")
        with time_machine.travel(START, tick=False):
            return advance(make_case(requester), to="screening", requester=requester, hr=people["hr"])

    counts = []
    cases: list[RebuttalCase] = []
    for total in (2, 12):
        already_escalated = len(cases)
        while len(cases) < total:
            cases.append(file(len(cases)))
        with (
            time_machine.travel(moment(cases[0], 300), tick=False),
            django_assert_max_num_queries(20) as captured,
        ):
            # Every case is overdue: one escalation each, the earlier ones not again.
            assert scheduler.remind_and_escalate(timezone.now()) == (0, total - already_escalated)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
