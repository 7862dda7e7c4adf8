"""``manage.py expire_invitations``: lapse reviewer invitations older than the policy allows.

Idempotent: an invitation already expired (or answered) is left alone, so
running it twice changes nothing the second time. The workflow's scheduler
will run it; cron can too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from workflow.scheduler import expire_invitations


class Command(BaseCommand):
    help = "Expire reviewer invitations left unanswered past the policy's limit."

    def handle(self, *args: Any, **options: Any) -> None:
        # The scheduler's own step, on its own (run_scheduler runs it too).
        expired = expire_invitations(timezone.now())
        self.stdout.write(f"{len(expired)} invitation(s) expired.")
