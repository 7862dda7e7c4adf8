"""``manage.py run_scheduler``: one pass of the workflow scheduler (cron or Celery beat runs it).

Expires stale reviewer invitations, sends stage reminders and breach escalations,
and retries unsent e-mail. Idempotent: a second run at once sends nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from workflow import scheduler


class Command(BaseCommand):
    help = "Expire invitations, send stage reminders and escalations, retry unsent e-mail."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(scheduler.summary_line(scheduler.run()))
