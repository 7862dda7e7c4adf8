"""``manage.py expire_invitations``: lapse reviewer invitations older than the policy allows.

Idempotent: an invitation already expired (or answered) is left alone, so
running it twice changes nothing the second time. The workflow's scheduler
will run it; cron can too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rebuttal.exceptions import CaseError
from reviewers.services import invitations_due_for_expiry
from workflow.services import case_act


class Command(BaseCommand):
    help = "Expire reviewer invitations left unanswered past the policy's limit."

    def handle(self, *args: Any, **options: Any) -> None:
        expired = 0
        for case_id in invitations_due_for_expiry():
            try:
                case_act(case_id=case_id, name="invitation_expire", actor=None, version=None)
            except CaseError as exc:  # answered or changed meanwhile
                self.stderr.write(f"case {case_id}: {exc}")
                continue
            expired += 1
        self.stdout.write(f"{expired} invitation(s) expired.")
