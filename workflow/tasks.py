"""Celery tasks of the workflow app (eager in-process when no broker is configured)."""

from __future__ import annotations

from celery import shared_task

from workflow import notifications


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_notification(notification_id: int) -> bool:
    """Send one notification row; safe to run twice (the row is claimed before sending)."""
    return notifications.deliver(notification_id)
