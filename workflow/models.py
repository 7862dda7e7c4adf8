"""The viewflow process of a case. It routes work; it stores no business state."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from viewflow.workflow.models import Process


class RebuttalProcess(Process):
    """One process per case (the database enforces it)."""

    case = models.OneToOneField("rebuttal.RebuttalCase", on_delete=models.PROTECT, related_name="process")

    class Meta:
        verbose_name = "rebuttal process"
        permissions = [
            ("act_as_hr", "Takes HR specialists' tasks (screening, assignment, quality check, outcome)"),
            ("act_as_endorser", "Takes endorsement tasks"),
            ("act_as_decision_maker", "Takes decision tasks"),
        ]

    def __str__(self) -> str:
        return f"Process of case {self.case_id}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One e-mail to one person, written in the transaction that causes it and sent after commit.

    ``context`` holds only what the template may show: the case reference, a link
    path and names. Never the statement or any other personal content of the case.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email = models.EmailField()
    # The template name: templates/emails/<kind>-subject.txt, -body.txt, -body.html.
    kind = models.CharField(max_length=60)
    case = models.ForeignKey(
        "rebuttal.RebuttalCase", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    language = models.CharField(max_length=8, default="en")
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # What makes this e-mail unique (e.g. one reminder per stage, threshold and person):
    # inserting it twice is a no-op, so the scheduler may run as often as it likes.
    dedupe_key = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.email} ({self.status})"
