"""The reviewer pool: reviewers on retainer, their contracts, declared conflicts,
assignments to cases and the fee lines of completed reviews."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rebuttal.audit import AppendOnlyHistoricalQuerySet, AppendOnlyModel


def _history() -> HistoricalRecords:
    return HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])


class Reviewer(models.Model):
    """An independent consultant on retainer; logs in with the account of the same e-mail."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviewer_profile"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    # Language codes (en, fr, es) the reviewer reads, and regions of experience.
    languages = models.JSONField(default=list)
    regions = models.JSONField(default=list, blank=True)
    affiliation = models.CharField(
        max_length=200, blank=True, help_text="Organisation or office the reviewer belongs to, if any."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    history = _history()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class RetainerContract(models.Model):
    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(max_length=60, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    max_concurrent_cases = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    fee_per_review = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=10, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)

    history = _history()

    class Meta:
        ordering = ["reviewer_id", "-ends_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(max_concurrent_cases__gte=1), name="contract_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def covers(self, start: dt.date, end: dt.date) -> bool:
        """Active, and in force every day from ``start`` through ``end``."""
        return self.status == ContractStatus.ACTIVE and self.starts_on <= start and self.ends_on >= end


class Conflict(models.Model):
    """A conflict a reviewer declared: with a requester (by e-mail) or with a whole office."""

    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="conflicts")
    requester_email = models.EmailField(blank=True)
    office = models.CharField(max_length=120, blank=True)
    reason = models.TextField(blank=True)
    declared_at = models.DateTimeField(default=timezone.now)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = _history()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(requester_email="") | ~Q(office=""), name="conflict_names_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.requester_email or self.office}"


class AssignmentStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Invitation expired")
    RELEASED = "released", _("Released")
    REPORTED = "reported", _("Report submitted")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Case withdrawn")


# An assignment that still holds the case (and a place in the contract's capacity).
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED, AssignmentStatus.REPORTED)
# Ended in a way that bars the reviewer from this case for good.
EXCLUDING_STATUSES = (AssignmentStatus.DECLINED, AssignmentStatus.RELEASED)


class Assignment(models.Model):
    """One reviewer's invitation to, and work on, one case."""

    case = models.ForeignKey("rebuttal.RebuttalCase", on_delete=models.PROTECT, related_name="assignments")
    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="assignments")
    contract = models.ForeignKey(RetainerContract, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(
        max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.INVITED
    )
    invited_at = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    expected_end_on = models.DateField(help_text="Invitation date plus the policy's review target.")
    responded_at = models.DateTimeField(null=True, blank=True)
    declaration_text = models.TextField(blank=True)
    declaration_signed_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    report_submitted_at = models.DateTimeField(null=True, blank=True)
    # The report as submitted (the case holds the current one; a returned and
    # re-submitted report overwrites this copy).
    report = models.JSONField(null=True, blank=True)

    history = _history()

    class Meta:
        ordering = ["-invited_at", "-id"]
        constraints = [
            # The database itself guarantees one live assignment per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["invited", "accepted", "reported"]),
                name="one_open_assignment_per_case",
            ),
        ]
        indexes = [models.Index(fields=["reviewer", "status"])]

    def __str__(self) -> str:
        return f"{self.reviewer} on case {self.case_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASSIGNMENT_STATUSES


class FeeLine(models.Model):
    """A completed review's fee, for monthly certification and payment."""

    contract = models.ForeignKey(RetainerContract, on_delete=models.PROTECT, related_name="fee_lines")
    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="fee_line")
    amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    earned_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    history = _history()

    class Meta:
        ordering = ["earned_on", "id"]
        indexes = [
            # The reports sum the fees earned in a period.
            models.Index(fields=["earned_on"], name="fee_line_earned_on"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.amount} {self.currency} ({self.earned_on})"


class Interview(models.Model):
    """An interview the reviewer held: who, when, and the notes."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="interviews")
    case = models.ForeignKey("rebuttal.RebuttalCase", on_delete=models.PROTECT, related_name="interviews")
    interviewee = models.CharField(
        max_length=200, help_text="Name and role, e.g. 'J. Doe, first reporting officer'"
    )
    held_on = models.DateField()
    notes = models.TextField()
    recorded_at = models.DateTimeField(default=timezone.now)

    history = _history()

    class Meta:
        ordering = ["case_id", "held_on", "id"]

    def __str__(self) -> str:
        return f"{self.interviewee} on {self.held_on}"
