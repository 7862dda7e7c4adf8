"""E-mail notifications: one per person concerned by a transition, sent only once it commits,
never carrying the case's content, sent once however often the task runs."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from rebuttal.models import RebuttalCase
from tests.factories import UserFactory, advance, make_case
from workflow import notifications
from workflow.models import Notification, NotificationStatus
from workflow.services import case_act
from workflow.tasks import send_notification

STATEMENT = "Zanzibar-quokka-7731: my supervisor ignored the documented results of the Lagos mission."


@pytest.fixture
def people(requester, hr, reviewer, endorser, decision_maker, hr_admin, outsider) -> dict[str, Any]:  # noqa: ANN001
    return {
        "requester": requester,
        "hr": hr,
        "reviewer": reviewer,
        "endorser": endorser,
        "decision_maker": decision_maker,
    }


def drive(case: RebuttalCase, to: str, people: dict[str, Any]) -> RebuttalCase:
    return advance(
        case,
        to=to,
        requester=people["requester"],
        hr=people["hr"],
        reviewer=people["reviewer"],
        endorser=people["endorser"],
        decision_maker=people["decision_maker"],
    )


def recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_submission_mails_the_requester_and_each_hr_specialist_exactly_once(
    people, groups, django_capture_on_commit_callbacks
):
    second_hr = UserFactory(username="henri", email="henri@example.org")
    second_hr.groups.add(groups["hr_specialist"])
    case = make_case(people["requester"])
    with django_capture_on_commit_callbacks(execute=True):
        case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)

    assert recipients() == ["alice@example.org", "hana@example.org", "henri@example.org"]
    kinds = {n.email: n.kind for n in Notification.objects.all()}
    assert kinds["alice@example.org"] == "case_submitted"
    assert kinds["hana@example.org"] == "case_filed"
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_an_hr_specialist_filing_their_own_request_gets_only_the_acknowledgement(
    hr, django_capture_on_commit_callbacks
):
    case = make_case(hr)
    with django_capture_on_commit_callbacks(execute=True):
        case_act(case_id=case.pk, name="submit", actor=hr, version=case.version)
    assert [(m.to, n.kind) for m, n in zip(mail.outbox, Notification.objects.all(), strict=True)] == [
        (["hana@example.org"], "case_submitted")
    ]


# (state to start from, transition, who acts, its fields, who is mailed)
TRANSITIONS = [
    ("submitted", "start_screening", "hr", {}, []),
    ("screening", "accept_receivable", "hr", {"override_justification": "ok"}, []),
    ("screening", "reject_not_receivable", "hr", {"reason": "Out of time."}, ["alice"]),
    ("awaiting_assignment", "invite_reviewer", "hr", {"reviewer": "profile"}, ["rita"]),
    ("reviewer_invited", "reviewer_accept", "reviewer", {"no_conflict_declaration": True}, []),
    ("reviewer_invited", "reviewer_decline", "reviewer", {"reason": "Too busy."}, ["hana"]),
    ("reviewer_invited", "invitation_expire", None, {}, ["hana", "rita"]),
    ("under_review", "release_reviewer", "hr", {"reason": "Unavailable."}, ["rita"]),
    (
        "under_review",
        "submit_recommendation",
        "reviewer",
        {"findings": "F.", "recommendation": "maintain", "reasons": "R."},
        ["hana"],
    ),
    ("recommendation_submitted", "forward_for_endorsement", "hr", {}, ["ethan"]),
    ("recommendation_submitted", "return_to_reviewer", "hr", {"reason": "Clarify."}, ["rita"]),
    ("awaiting_endorsement", "return_to_reviewer", "endorser", {"reason": "Clarify."}, ["rita"]),
    ("awaiting_endorsement", "endorse", "endorser", {"comment": "Yes."}, ["dora"]),
    (
        "awaiting_decision",
        "decide",
        "decision_maker",
        {"final_rating": "successfully_meets", "follows_recommendation": True, "reasons": "R."},
        ["alice"],
    ),
    ("submitted", "withdraw", "requester", {"reason": ""}, ["alice"]),
    ("reviewer_invited", "withdraw", "requester", {"reason": ""}, ["alice", "rita"]),
    ("under_review", "withdraw", "requester", {"reason": ""}, ["alice", "rita"]),
]


@pytest.mark.parametrize(
    ("start", "name", "role", "data", "expected"),
    TRANSITIONS,
    ids=[f"{t[1]}-from-{t[0]}" for t in TRANSITIONS],
)
def test_each_person_concerned_by_a_transition_gets_exactly_one_email(
    people, start, name, role, data, expected, django_capture_on_commit_callbacks
):
    case = drive(make_case(people["requester"]), start, people)
    if data.get("reviewer") == "profile":
        from reviewers.models import Reviewer

        data = {"reviewer": Reviewer.objects.get(user=people["reviewer"]).pk}
    mail.outbox.clear()
    actor = people[role] if role else None
    with django_capture_on_commit_callbacks(execute=True):
        case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)

    assert recipients() == sorted(f"{username}@example.org" for username in expected)


def test_a_transition_that_rolls_back_sends_nothing_and_leaves_no_notification(
    people, django_capture_on_commit_callbacks
):
    case = make_case(people["requester"])
    written_inside: list[int] = []

    def submit_then_fail() -> None:
        with transaction.atomic():
            case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)
            written_inside.append(Notification.objects.count())
            raise RuntimeError("something later in the same transaction failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        submit_then_fail()

    assert written_inside == [2]  # the rows were written inside the transaction...
    assert Notification.objects.count() == 0  # ...and went with it
    assert callbacks == []
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.status == "draft"


def test_no_email_of_a_whole_lifecycle_contains_the_statement(people, django_capture_on_commit_callbacks):
    cases = [
        (make_case(people["requester"], statement=STATEMENT), "closed"),
        (make_case(people["requester"], statement=STATEMENT, appraisal_cycle=2025), "withdrawn"),
        (make_case(people["requester"], statement=STATEMENT, appraisal_cycle=2024), "not_receivable"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for case, to in cases:
            drive(case, to, people)

    assert len(mail.outbox) >= 10
    for message in mail.outbox:
        (html, mimetype) = message.alternatives[0]
        assert mimetype == "text/html"
        for text in (message.subject, message.body, html):
            assert "Zanzibar" not in text
            assert STATEMENT not in text
    for notification in Notification.objects.all():
        assert "Zanzibar" not in str(notification.context)


@override_settings(SITE_URL="https://rebuttals.example.org/")
def test_an_email_names_the_case_and_links_to_it(people, django_capture_on_commit_callbacks):
    case = make_case(people["requester"])
    with django_capture_on_commit_callbacks(execute=True):
        case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)

    message = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    link = f"https://rebuttals.example.org/cases/{case.pk}/"
    assert case.reference in message.subject
    assert "\n" not in message.subject
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]
    assert "Dear Alice Abara," in message.body


def test_running_the_send_task_twice_sends_the_email_once(people):
    case = make_case(people["requester"])
    # Inside the test's transaction nothing commits, so nothing is sent yet.
    case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)
    notification = Notification.objects.get(email="alice@example.org")
    assert notification.status == NotificationStatus.PENDING

    assert send_notification.delay(notification.pk).get() is True
    assert send_notification.delay(notification.pk).get() is False
    send_notification(notification.pk)

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 1)
    assert notification.sent_at is not None


def test_a_french_requester_is_written_to_in_french(people, monkeypatch, django_capture_on_commit_callbacks):
    rendered_in = []
    real_render = notifications.render_to_string

    def spy(name: str, context: dict[str, Any]) -> str:
        rendered_in.append((name, translation.get_language()))
        return real_render(name, context)

    monkeypatch.setattr(notifications, "render_to_string", spy)
    case = make_case(people["requester"], language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)

    requester_mail = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    hr_mail = next(m for m in mail.outbox if m.to == ["hana@example.org"])
    assert '<html lang="fr">' in requester_mail.alternatives[0][0]
    assert '<html lang="en">' in hr_mail.alternatives[0][0]
    assert Notification.objects.get(email="alice@example.org").language == "fr"
    requester_templates = {lang for name, lang in rendered_in if name.startswith("emails/case_submitted")}
    assert requester_templates == {"fr"}
    # The override ends with the rendering.
    assert translation.get_language() != "fr"


def test_a_failed_send_stays_pending_with_its_error_and_a_retry_sends_it(people, monkeypatch):
    case = make_case(people["requester"])
    case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)
    notification = Notification.objects.get(email="alice@example.org")

    def refuse(self: Any, fail_silently: bool = False) -> int:
        raise ConnectionRefusedError("SMTP server down")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        assert notifications.deliver(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 1
    assert "SMTP server down" in notification.last_error

    assert notifications.deliver(notification.pk) is True
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1


def test_a_send_that_keeps_failing_is_marked_failed(people, monkeypatch):
    case = make_case(people["requester"])
    case_act(case_id=case.pk, name="submit", actor=people["requester"], version=case.version)
    notification = Notification.objects.get(email="alice@example.org")
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send",
        lambda self, fail_silently=False: 1 / 0,
    )
    for _ in range(notifications.MAX_ATTEMPTS + 2):
        notifications.deliver(notification.pk)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_notification_at_once_send_it_once(requester):
    from django.db import connection

    case = make_case(requester)
    # Committed for real: the eager task runs at once; make the row pending again to race on it.
    case_act(case_id=case.pk, name="submit", actor=requester, version=case.version)
    notification = Notification.objects.get(email="alice@example.org")
    Notification.objects.filter(pk=notification.pk).update(status="pending", attempts=0)
    mail.outbox.clear()
    barrier = threading.Barrier(8, timeout=30)
    results: list[bool] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(notifications.deliver(notification.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
