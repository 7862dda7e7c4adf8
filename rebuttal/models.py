"""The rebuttal case, its state machine, the versioned policy and the audit trail.

Transition methods only set fields: services (``rebuttal/services.py``) lock the
row, call them, save and record the event in one transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from rebuttal import permissions
from rebuttal.audit import AppendOnlyHistoricalQuerySet, AppendOnlyModel, AppendOnlyQuerySet


class Status(models.TextChoices):
    """The lifecycle states; their values are part of the public interface."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SCREENING = "screening", _("Receivability check")
    NOT_RECEIVABLE = "not_receivable", _("Not receivable")
    AWAITING_ASSIGNMENT = "awaiting_assignment", _("Awaiting reviewer assignment")
    REVIEWER_INVITED = "reviewer_invited", _("Reviewer invited")
    UNDER_REVIEW = "under_review", _("Under review")
    RECOMMENDATION_SUBMITTED = "recommendation_submitted", _("Recommendation submitted")
    AWAITING_ENDORSEMENT = "awaiting_endorsement", _("Awaiting endorsement")
    AWAITING_DECISION = "awaiting_decision", _("Awaiting decision")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


TERMINAL_STATES = frozenset({Status.NOT_RECEIVABLE, Status.CLOSED, Status.WITHDRAWN})
WITHDRAWABLE_STATES = [
    Status.SUBMITTED,
    Status.SCREENING,
    Status.AWAITING_ASSIGNMENT,
    Status.REVIEWER_INVITED,
    Status.UNDER_REVIEW,
]


class ContractType(models.TextChoices):
    PERMANENT = "permanent", _("Permanent appointment")
    CONTINUING = "continuing", _("Continuing appointment")
    FIXED_TERM = "fixed_term", _("Fixed-term appointment")
    TEMPORARY = "temporary", _("Temporary appointment")
    ICA = "ica", _("Individual contractor agreement")


class Language(models.TextChoices):
    EN = "en", "English"
    FR = "fr", "Français"
    ES = "es", "Español"


class Recommendation(models.TextChoices):
    MAINTAIN = "maintain", _("Maintain the rating")
    REVISE = "revise", _("Revise the rating")


class Policy(AppendOnlyModel):
    """One version of every policy default of the rulebook.

    Versions are append-only: publishing a change inserts a new version, so a
    case screened under version N can always be re-checked under version N.
    """

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    # [{"key": "exceeds", "label": "Exceeds expectations"}, ...], highest first.
    rating_scale = models.JSONField()
    rebuttable_ratings = models.JSONField()
    filing_window_days = models.PositiveIntegerField()
    eligible_contract_types = models.JSONField()
    fixed_term_min_months = models.PositiveIntegerField()
    # {"receivability": {"days": 5, "unit": "business"}, ...}
    stage_targets = models.JSONField()
    case_target_days = models.PositiveIntegerField()
    reminder_thresholds = models.JSONField()
    invitation_expiry_days = models.PositiveIntegerField()
    supervisor_comment_days = models.PositiveIntegerField()
    management_evaluation_days = models.PositiveIntegerField()
    small_count_threshold = models.PositiveIntegerField()
    # Uploads: the largest file, and the most a case may hold in all (megabytes).
    max_document_mb = models.PositiveIntegerField(default=10)
    max_case_documents_mb = models.PositiveIntegerField(default=50)
    # The longest statement the intake form accepts: it bounds the time a letter takes to render.
    statement_max_chars = models.PositiveIntegerField(default=20_000)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Policy v{self.version}"

    @property
    def rating_keys(self) -> list[str]:
        return [item["key"] for item in self.rating_scale]

    def rating_label(self, key: str | None) -> str:
        for item in self.rating_scale:
            if item["key"] == key:
                return item["label"]
        return key or ""


class ReferenceCounter(models.Model):
    """Last reference number handed out per year (row-locked while incremented)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


def _may(name: str):  # noqa: ANN202 - returns a django-fsm permission callable
    def check(case: RebuttalCase, user: Any) -> bool:
        return permissions.may_perform(case, user, name)

    check.__name__ = f"may_{name}"
    return check


class RebuttalCase(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A request to rebut the overall rating of one performance appraisal."""

    reference = models.CharField(max_length=20, unique=True, editable=False)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rebuttal_cases"
    )
    status = FSMField(
        default=Status.DRAFT, choices=Status.choices, protected=True, db_index=True, max_length=32
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    # Intake, as filed by the requester.
    appraisal_cycle = models.PositiveIntegerField()
    original_rating = models.CharField(max_length=40)
    appraisal_signed_on = models.DateField()
    first_reporting_officer_email = models.EmailField()
    second_reporting_officer_email = models.EmailField()
    office = models.CharField(max_length=120)
    region = models.CharField(max_length=120)
    contract_type = models.CharField(max_length=20, choices=ContractType.choices)
    appointment_months = models.PositiveIntegerField(null=True, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.EN)
    statement = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Stage clock: when the current stage began and when it is due.
    stage_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stage_due_on = models.DateField(null=True, blank=True, db_index=True, editable=False)
    # Set while the stage clock is paused (waiting on the requester or a supervisor).
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Receivability: the policy version the case was screened under, and the outcome.
    policy = models.ForeignKey(Policy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    receivability_result = models.JSONField(null=True, blank=True, editable=False)
    override_justification = models.TextField(blank=True, editable=False)
    not_receivable_reason = models.TextField(blank=True, editable=False)
    withdrawn_from = models.CharField(max_length=32, blank=True, editable=False)
    withdrawal_reason = models.TextField(blank=True, editable=False)

    # Review: the account holding the review now (the pool record lives in reviewers/).
    reviewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    findings = models.TextField(blank=True, editable=False)
    recommendation = models.CharField(
        max_length=10, choices=Recommendation.choices, blank=True, editable=False
    )
    recommended_rating = models.CharField(max_length=40, blank=True, editable=False)
    recommendation_reasons = models.TextField(blank=True, editable=False)

    # Endorsement and decision.
    endorsement_comment = models.TextField(blank=True, editable=False)
    final_rating = models.CharField(max_length=40, blank=True, editable=False)
    follows_recommendation = models.BooleanField(null=True, blank=True, editable=False)
    decision_reasons = models.TextField(blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Head of this case's event hash chain, kept on the (locked) case row so that
    # appending an event needs no extra read.
    event_count = models.PositiveIntegerField(default=0, editable=False)
    last_event_hash = models.CharField(max_length=64, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["event_count", "last_event_hash"],
        historical_queryset=AppendOnlyHistoricalQuerySet,
        bases=[AppendOnlyModel],
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requester", "appraisal_cycle"]),
            models.Index(fields=["-created_at", "-id"], name="case_newest_first"),
            # The HR queue: earliest due date first, keyset-paged on (due date, id).
            models.Index(fields=["stage_due_on", "id"], name="case_queue_order"),
            # The reports count cases received, decided and open in a period; each index holds
            # every column its counts read, so they are counted in the index (no table rows,
            # which carry the statements) when no filter beyond the period is set.
            models.Index(
                fields=["submitted_at", "deleted_at", "appraisal_cycle", "office", "status"],
                name="case_report_received",
            ),
            models.Index(
                fields=["decided_at", "deleted_at", "original_rating", "final_rating"],
                name="case_report_decided",
            ),
            models.Index(fields=["status", "submitted_at", "deleted_at"], name="case_report_open"),
            # ... and its tail, open cases without a due date: few, among many closed ones.
            models.Index(
                fields=["id"],
                name="case_queue_undated",
                condition=models.Q(stage_due_on__isnull=True)
                & ~models.Q(status__in=["draft", "closed", "withdrawn", "not_receivable"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="case_status_is_known"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every write of an existing case bumps the version clients use for
        # optimistic concurrency (the API's ``version`` field).
        if not self._state.adding:
            self.version += 1
        super().save(*args, **kwargs)

    # --- helpers used by transitions -------------------------------------

    def _enter_stage(self, policy: Policy, status: str) -> None:
        """Start the clock of the stage ``status`` belongs to.

        The service then sets ``stage_due_on`` from the policy's target and the
        office's holiday calendar (a read this method must not do).
        """
        self.stage_started_at = timezone.now()
        self.stage_due_on = None
        self.paused_at = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATES

    @property
    def is_overdue(self) -> bool:
        # A paused clock does not run late.
        return bool(self.stage_due_on and not self.paused_at and self.stage_due_on < timezone.localdate())

    # --- transitions (set fields only) -----------------------------------

    @transition(field=status, source=Status.DRAFT, target=Status.SUBMITTED, permission=_may("submit"))
    def submit(self, *, policy: Policy) -> None:
        self.submitted_at = timezone.now()
        self._enter_stage(policy, Status.SUBMITTED)

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.SCREENING,
        permission=_may("start_screening"),
    )
    def start_screening(self, *, policy: Policy) -> None:
        # The case is screened under the policy in force now, whatever comes later.
        self.policy = policy

    @transition(
        field=status,
        source=Status.SCREENING,
        target=Status.AWAITING_ASSIGNMENT,
        permission=_may("accept_receivable"),
    )
    def accept_receivable(
        self, *, policy: Policy, result: list[dict[str, Any]], override_justification: str
    ) -> None:
        self.receivability_result = result
        self.override_justification = override_justification
        self._enter_stage(policy, Status.AWAITING_ASSIGNMENT)

    @transition(
        field=status,
        source=Status.SCREENING,
        target=Status.NOT_RECEIVABLE,
        permission=_may("reject_not_receivable"),
    )
    def reject_not_receivable(self, *, policy: Policy, result: list[dict[str, Any]], reason: str) -> None:
        self.receivability_result = result
        self.not_receivable_reason = reason
        self._close()

    @transition(
        field=status,
        source=Status.AWAITING_ASSIGNMENT,
        target=Status.REVIEWER_INVITED,
        permission=_may("invite_reviewer"),
    )
    def invite_reviewer(self, *, policy: Policy, reviewer_user: Any) -> None:
        self.reviewer_user = reviewer_user
        self._enter_stage(policy, Status.REVIEWER_INVITED)

    @transition(
        field=status,
        source=Status.REVIEWER_INVITED,
        target=Status.UNDER_REVIEW,
        permission=_may("reviewer_accept"),
    )
    def reviewer_accept(self, *, policy: Policy) -> None:
        self._enter_stage(policy, Status.UNDER_REVIEW)

    @transition(
        field=status,
        source=Status.REVIEWER_INVITED,
        target=Status.AWAITING_ASSIGNMENT,
        permission=_may("reviewer_decline"),
    )
    def reviewer_decline(self, *, policy: Policy) -> None:
        self.reviewer_user = None
        self._enter_stage(policy, Status.AWAITING_ASSIGNMENT)

    @transition(
        field=status,
        source=Status.REVIEWER_INVITED,
        target=Status.AWAITING_ASSIGNMENT,
        permission=_may("invitation_expire"),
    )
    def invitation_expire(self, *, policy: Policy) -> None:
        self.reviewer_user = None
        self._enter_stage(policy, Status.AWAITING_ASSIGNMENT)

    @transition(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.AWAITING_ASSIGNMENT,
        permission=_may("release_reviewer"),
    )
    def release_reviewer(self, *, policy: Policy) -> None:
        self.reviewer_user = None
        self._enter_stage(policy, Status.AWAITING_ASSIGNMENT)

    @transition(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.RECOMMENDATION_SUBMITTED,
        permission=_may("submit_recommendation"),
    )
    def submit_recommendation(
        self,
        *,
        policy: Policy,
        findings: str,
        recommendation: str,
        recommended_rating: str,
        reasons: str,
    ) -> None:
        self.findings = findings
        self.recommendation = recommendation
        self.recommended_rating = recommended_rating
        self.recommendation_reasons = reasons
        self._enter_stage(policy, Status.RECOMMENDATION_SUBMITTED)

    @transition(
        field=status,
        source=Status.RECOMMENDATION_SUBMITTED,
        target=Status.AWAITING_ENDORSEMENT,
        permission=_may("forward_for_endorsement"),
    )
    def forward_for_endorsement(self, *, policy: Policy) -> None:
        self._enter_stage(policy, Status.AWAITING_ENDORSEMENT)

    @transition(
        field=status,
        source=[Status.RECOMMENDATION_SUBMITTED, Status.AWAITING_ENDORSEMENT],
        target=Status.UNDER_REVIEW,
        permission=_may("return_to_reviewer"),
    )
    def return_to_reviewer(self, *, policy: Policy) -> None:
        self._enter_stage(policy, Status.UNDER_REVIEW)

    @transition(
        field=status,
        source=Status.AWAITING_ENDORSEMENT,
        target=Status.AWAITING_DECISION,
        permission=_may("endorse"),
    )
    def endorse(self, *, policy: Policy, comment: str) -> None:
        self.endorsement_comment = comment
        self._enter_stage(policy, Status.AWAITING_DECISION)

    @transition(
        field=status,
        source=Status.AWAITING_DECISION,
        target=Status.DECIDED,
        permission=_may("decide"),
    )
    def decide(
        self, *, policy: Policy, final_rating: str, follows_recommendation: bool, reasons: str
    ) -> None:
        # The final rating replaces the original for the HR system of record;
        # the original stays on the case.
        self.final_rating = final_rating
        self.follows_recommendation = follows_recommendation
        self.decision_reasons = reasons
        self.decided_at = timezone.now()
        # The review is finished: the reviewer's access to the case ends.
        self.reviewer_user = None
        self._enter_stage(policy, Status.DECIDED)

    @transition(
        field=status,
        source=Status.DECIDED,
        target=Status.CLOSED,
        permission=_may("issue_outcome"),
    )
    def issue_outcome(self, *, policy: Policy) -> None:
        self._close()

    @transition(
        field=status,
        source=WITHDRAWABLE_STATES,
        target=Status.WITHDRAWN,
        permission=_may("withdraw"),
    )
    def withdraw(self, *, policy: Policy, reason: str) -> None:
        self.withdrawn_from = self.status
        self.withdrawal_reason = reason
        self.reviewer_user = None
        self._close()

    def _close(self) -> None:
        self.closed_at = timezone.now()
        self.stage_started_at = None
        self.stage_due_on = None
        self.paused_at = None


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    TRANSITION = "transition", _("Status changed")
    DELETED = "deleted", _("Draft deleted")
    VIEWED = "viewed", _("Opened")
    PAUSED = "paused", _("Clock paused")
    RESUMED = "resumed", _("Clock resumed")
    DOCUMENT_ADDED = "document_added", _("Document added")
    LETTER_ISSUED = "letter_issued", _("Letter issued")


class Office(models.Model):
    """An office whose holiday calendar business-day targets count on."""

    name = models.CharField(max_length=120, unique=True)
    region = models.CharField(max_length=120, blank=True)
    # ISO 3166 country (and optional subdivision) of the public holidays observed.
    country = models.CharField(max_length=2, blank=True, help_text="e.g. CH, KE, US; blank: none")
    subdivision = models.CharField(max_length=10, blank=True, help_text="e.g. GE for Geneva; optional")

    history = HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """An organisation holiday an HR administrator adds: for one office, or all (no office)."""

    date = models.DateField(db_index=True)
    name = models.CharField(max_length=120)
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.CASCADE, related_name="holidays"
    )

    history = HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["date", "office"], name="one_holiday_per_office_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class ClockPause(models.Model):
    """One pause of a case's stage clock, with why it stopped and why it resumed."""

    case = models.ForeignKey("RebuttalCase", on_delete=models.PROTECT, related_name="pauses")
    stage = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resume_reason = models.TextField(blank=True)
    days_added = models.PositiveIntegerField(default=0)

    history = HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])

    class Meta:
        ordering = ["case_id", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(ended_at__isnull=True), name="one_open_pause_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} paused {self.started_at:%Y-%m-%d}"


class CaseEvent(AppendOnlyModel):
    """One entry of a case's audit trail, hash-chained to the one before it."""

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    transition = models.CharField(max_length=40, blank=True)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique"),
        ]
        indexes = [
            # The reports count one transition's events in a period (receivability decisions).
            models.Index(fields=["transition", "at"], name="case_event_transition_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind} {self.transition}".strip()


class CaseAccess(AppendOnlyModel):
    """Who opened a case, and when (read access is part of the record too)."""

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="accesses")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=40, default="case")
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "at", "id"]
        verbose_name_plural = "case accesses"

    def __str__(self) -> str:
        return f"{self.case_id} opened by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"


class DocumentKind(models.TextChoices):
    APPRAISAL = "appraisal", _("Performance appraisal")
    EVIDENCE = "evidence", _("Supporting evidence")


def document_path(document: Document, filename: str) -> str:
    """A name the server makes up: nothing of the uploader's file name reaches the disk."""
    return f"documents/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{document.extension}"


class Document(AppendOnlyModel):
    """A file added to a case (the appraisal or evidence), checked before it was stored.

    Append-only: a document is evidence, so it is never replaced or removed; a
    better copy is a new document. ``display_name`` is the checked original name,
    used only in lists and in the download's Content-Disposition.
    """

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_path, max_length=200)
    display_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.display_name} on case {self.case_id}"


class Addressee(models.TextChoices):
    REQUESTER = "requester", _("The requester")
    SUPERVISOR = "supervisor", _("A reporting officer")


class DocumentRequest(models.Model):
    """A request for documents during the review; while any is open the stage clock is paused."""

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="document_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    addressee = models.CharField(max_length=12, choices=Addressee.choices)
    # The account that answers: the requester, or the reporting officer matched by e-mail.
    addressed_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.TextField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(blank=True)

    history = HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])

    class Meta:
        ordering = ["case_id", "requested_at", "id"]

    def __str__(self) -> str:
        return f"Request {self.pk} on case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class OfficerRole(models.TextChoices):
    FIRST = "first", _("First reporting officer")
    SECOND = "second", _("Second reporting officer")


class SupervisorInvitation(models.Model):
    """A reporting officer's invitation to comment on the requester's statement.

    While it is open the officer sees the statement and their own comment, and
    nothing else of the case; it closes when they answer or the window ends.
    """

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="supervisor_invitations")
    role = models.CharField(max_length=6, choices=OfficerRole.choices)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    closes_on = models.DateField(help_text="The last day a comment is accepted (policy window).")
    comment = models.TextField(blank=True)
    commented_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(historical_queryset=AppendOnlyHistoricalQuerySet, bases=[AppendOnlyModel])

    class Meta:
        ordering = ["case_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["case", "role"], name="one_invitation_per_officer_role")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on case {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.commented_at is None and timezone.localdate() <= self.closes_on


class IdempotencyRecord(models.Model):
    """The first answer to an API request sent with an ``Idempotency-Key`` (``rebuttal.idempotency``).

    Written in the transaction of the work it answers, so neither exists without the other;
    a retry with the same key, user, method and path gets this answer back instead of
    doing the work again. Records are purged after ``IDEMPOTENCY_KEY_TTL_HOURS``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    # Percent-encoded (``escape_uri_path``): ASCII only, so no NUL reaches the database.
    path = models.CharField(max_length=1024)
    # SHA-256 of the canonical request body: a reused key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The JSON text as first rendered: a jsonb column would reorder the keys of the replay.
    response_body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key", "method", "path"], name="one_idempotency_record_per_request"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] -> {self.status_code}"
