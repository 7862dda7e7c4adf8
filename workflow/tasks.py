"""Celery tasks of the workflow app (eager in-process when no broker is configured).

Delivery survives a worker killed at any moment (SIGKILL, OOM, lost host):
``deliver`` locks the notification row, sends the e-mail and marks the row
``sent`` in one transaction. A worker that dies before the commit leaves the
row ``pending`` (its connection closes, the database rolls back and releases
the lock), and the message comes back: the broker redelivers an unacknowledged
task (``acks_late`` + ``reject_on_worker_lost``; on Redis after the transport's
``visibility_timeout``), and the scheduler queues again rows pending too long.

A task that meets an outage of the database (a restart, a failover) is
retried by Celery a few seconds later, without counting a failed attempt: the
outage is not the letter's or the message's fault, and the scheduler's retry
(ten minutes on) would otherwise be the next chance, or, for a letter after
``MAX_ATTEMPTS`` outages, HR's.

The one moment that cannot be made exact is a death after the mail server
accepted the message and before the commit: the row is sent again. Every
e-mail of a notification carries the same Message-ID, so such a resend is the
same message to the mail system and recognisable as a duplicate.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from reports.services import letter_request_failed
from workflow import letters, notifications
from workflow.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

# Seconds before a task that met a database outage runs again, and how often it may (then the scheduler).
OUTAGE_RETRY_SECONDS = 5
OUTAGE_MAX_RETRIES = 60


def _is_outage(error: BaseException) -> bool:
    from config.outages import is_outage

    return is_outage(error)


def message_id(notification_id: int) -> str:
    """The Message-ID of every send of one notification."""
    domain = urlsplit(settings.SITE_URL).hostname or "rebuttal"
    return f"<notification-{notification_id}@{domain}>"


def deliver(notification_id: int) -> bool:
    """Send one notification if it is still pending; True if this call sent it.

    The row stays locked (``SELECT ... FOR UPDATE SKIP LOCKED``) from the claim to
    the commit that marks it sent: a second worker skips it meanwhile and finds it
    sent afterwards. A failed send commits the row back to pending (or failed,
    after ``MAX_ATTEMPTS``) with its error, for the scheduler to retry. A database
    outage is not counted as a failed send: it is raised, for the task to run again.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=NotificationStatus.PENDING)
            .first()
        )
        if notification is None:
            return False
        attempts = notification.attempts + 1
        try:
            subject, text, html = notifications.render(notification)
            message = EmailMultiAlternatives(
                subject=subject,
                body=text,
                to=[notification.email],
                headers={"Message-ID": message_id(notification.pk)},
            )
            message.attach_alternative(html, "text/html")
            with transaction.atomic():
                # Marked sent before the hand-over, committed after it: a database that went away
                # meanwhile (a restart while the message was rendered) fails here, before anything
                # is sent. Only a failure between the hand-over and the commit can send it twice.
                Notification.objects.filter(pk=notification.pk).update(
                    status=NotificationStatus.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
                )
                message.send()
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried later
            if _is_outage(exc):
                raise  # the task runs again shortly; not the message's failure
            status = (
                NotificationStatus.FAILED
                if attempts >= notifications.MAX_ATTEMPTS
                else NotificationStatus.PENDING
            )
            Notification.objects.filter(pk=notification.pk).update(
                status=status, attempts=attempts, last_error=repr(exc)[:2000]
            )
            return False
    return True


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=OUTAGE_MAX_RETRIES)
def send_notification(self: Any, notification_id: int) -> bool:
    """Send one notification row; safe to run twice, and to kill at any moment (see ``deliver``)."""
    try:
        return deliver(notification_id)
    except Exception as exc:
        if _is_outage(exc):
            raise self.retry(exc=exc, countdown=OUTAGE_RETRY_SECONDS) from exc
        raise


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.LETTER_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.LETTER_TASK_SOFT_TIME_LIMIT + 30,
    max_retries=OUTAGE_MAX_RETRIES,
)
def issue_letter(self: Any, request_id: int) -> int | None:
    """Render and archive one requested letter; safe to run twice and to kill at any moment.

    The PDF and its hash are stored by one INSERT in the transaction that marks
    the request issued (and closes the case, for the outcome letter): a worker
    killed before that commit leaves the request pending, and the redelivered
    task, or the scheduler, issues it then. A failure is recorded on the request
    for the scheduler to retry; after ``MAX_ATTEMPTS`` HR is asked to look.
    """
    try:
        letter = letters.letter_issue(request_id)
    except SoftTimeLimitExceeded:
        letter_request_failed(request_id=request_id, error="Rendering took longer than the time limit.")
        logger.error("letter request %s: rendering exceeded the time limit", request_id)
        return None
    except Exception as exc:  # noqa: BLE001 - recorded on the request and retried by the scheduler
        if _is_outage(exc):
            # Not the letter's failure: nothing was stored; run again shortly, no attempt counted.
            raise self.retry(exc=exc, countdown=OUTAGE_RETRY_SECONDS) from exc
        letter_request_failed(request_id=request_id, error=repr(exc))
        logger.exception("letter request %s failed", request_id)
        return None
    return letter.pk if letter else None


@shared_task(ignore_result=True)
def run_scheduler() -> str:
    """One pass of the workflow scheduler, queued by Celery beat every ``SCHEDULER_INTERVAL_SECONDS``.

    Idempotent (``workflow.scheduler``): two passes at once, or one queued twice, send nothing twice.
    """
    from workflow import scheduler

    line = scheduler.summary_line(scheduler.run())
    logger.info("scheduler: %s", line)
    return line


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Tell ``/healthz`` that a worker is taking tasks (queued by beat every ``HEARTBEAT_SECONDS``)."""
    from config.health import record_heartbeat

    record_heartbeat()
