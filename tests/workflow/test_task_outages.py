"""Letters and notifications through a database outage: nothing waits ten minutes for the scheduler.

Found by ``verify/faults.py`` (PostgreSQL restarted under load). A task that met the
outage caught it like any failure, could not record it (the database was down) and
ended, so the letter or e-mail waited ten minutes for the scheduler; a letter that met
``MAX_ATTEMPTS`` outages would have waited for HR. It now runs again a few seconds later.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.db.models import QuerySet

from reports import services as letter_services
from reports.models import Letter, LetterKind, LetterRequest, RequestStatus
from tests.factories import advance, make_case
from workflow import letters, notifications, tasks
from workflow.models import Notification, NotificationStatus
from workflow.services import case_act

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def retries_run_eagerly(monkeypatch):
    """As in a worker, a retry is not raised to the caller: eager ``apply`` then runs it at once."""
    monkeypatch.setitem(tasks.issue_letter.app.conf, "task_eager_propagates", False)


def database_restarting() -> OperationalError:
    """What Django raises when PostgreSQL is shutting down (psycopg's error, no SQLSTATE kept)."""
    return OperationalError("terminating connection due to administrator command")


def failing_first(function: Any, times: int) -> Any:
    """``function``, raising a database outage on its first ``times`` calls."""
    calls = {"n": 0}

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise database_restarting()
        return function(*args, **kwargs)

    wrapped.calls = calls  # type: ignore[attr-defined]
    return wrapped


def test_a_letter_task_that_meets_a_database_outage_is_retried_without_counting_a_failure(
    requester, monkeypatch
):
    with letters.letters_held() as held:
        advance(make_case(requester), to="submitted", requester=requester)
    request = LetterRequest.objects.get(pk=held[0])
    render = failing_first(letter_services.letter_render, times=letter_services.MAX_ATTEMPTS + 1)
    monkeypatch.setattr(letter_services, "letter_render", render)

    # Eagerly, Celery runs each retry at once: more outages than MAX_ATTEMPTS, then the render works.
    result = tasks.issue_letter.apply(args=[request.pk])

    letter = Letter.objects.get(request=request)
    assert result.get() == letter.pk
    assert render.calls["n"] == letter_services.MAX_ATTEMPTS + 2
    request.refresh_from_db()
    assert (request.status, request.attempts, request.last_error) == (RequestStatus.ISSUED, 1, "")
    assert letter.kind == LetterKind.ACKNOWLEDGEMENT
    assert letter.hash_matches()


def test_a_letter_task_that_fails_otherwise_still_counts_the_failure(requester, monkeypatch):
    with letters.letters_held() as held:
        advance(make_case(requester), to="submitted", requester=requester)

    def broken(request: LetterRequest, **kwargs: Any) -> None:
        raise RuntimeError("the renderer ran out of memory")

    monkeypatch.setattr(letter_services, "letter_render", broken)
    assert tasks.issue_letter.apply(args=[held[0]]).get() is None
    request = LetterRequest.objects.get(pk=held[0])
    assert (request.status, request.attempts) == (RequestStatus.PENDING, 1)


def test_a_notification_task_that_meets_a_database_outage_is_retried_and_sends_once(
    requester, monkeypatch, mailoutbox
):
    case = make_case(requester)
    person = notifications.Recipient(email="someone@example.org", name="Someone")
    row = notifications.build(case=case, kind="case_submitted", person=person, dedupe_key="outage-test")
    row.save()
    deliver = failing_first(tasks.deliver, times=3)
    monkeypatch.setattr(tasks, "deliver", deliver)

    assert tasks.send_notification.apply(args=[row.pk]).get() is True

    assert deliver.calls["n"] == 4
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(dedupe_key="outage-test").count() == 1


def test_a_transitions_notifications_are_queued_after_commit_without_a_query(
    requester, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    """Found by the same check: the queueing after commit read the rows again, and a database
    going down just after the commit left them to the scheduler's retry, ten minutes on."""
    case = make_case(requester)
    queued: list[int] = []
    monkeypatch.setattr(tasks.send_notification, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_act(case_id=case.pk, name="submit", actor=requester, version=case.version)
    rows = sorted(Notification.objects.filter(case=case).values_list("pk", flat=True))
    names = [getattr(callback, "__qualname__", "") for callback in callbacks]
    sending = [
        callback for callback, name in zip(callbacks, names, strict=True) if name.startswith("enqueue.")
    ]
    assert len(sending) == 1

    with django_assert_num_queries(0):  # the database may be gone by now
        sending[0]()

    assert rows
    assert sorted(queued) == rows


def test_a_database_lost_while_the_message_is_rendered_sends_nothing(requester, monkeypatch, mailoutbox):
    """Found by the same check: a restart while a message was rendered let it go out, then the commit
    that marked it sent failed, and the retry sent it again (half the restarts made one duplicate).
    The row is now marked sent before the hand-over, in the transaction committed after it."""
    case = make_case(requester)
    person = notifications.Recipient(email="someone@example.org", name="Someone")
    row = notifications.build(case=case, kind="case_submitted", person=person, dedupe_key="lost-test")
    row.save()
    update = QuerySet.update

    def database_gone_when_marking_sent(self: QuerySet, **kwargs: Any) -> int:
        if kwargs.get("status") == NotificationStatus.SENT:
            raise database_restarting()
        return update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", database_gone_when_marking_sent)
    with pytest.raises(OperationalError):
        tasks.deliver(row.pk)

    assert mailoutbox == []
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.PENDING, 0, "")
