"""The letter archive: what was asked to be issued, and the immutable letters themselves.

A ``LetterRequest`` is the row written first, in the transaction of the
transition that calls for a letter (style rule 3); a Celery task renders it and
stores the ``Letter``. A ``Letter`` is append-only: its PDF bytes, their SHA-256,
the template version and the language never change (the model refuses updates
and deletes, and on PostgreSQL a trigger refuses them for anyone going around the
ORM). A correction is a new letter that supersedes the old one.

The PDF is kept in the database row, beside its hash, so that the bytes and the
hash are written by one INSERT: no file can exist without its record or the
other way round, whatever moment a worker dies at, and the archive is in every
database backup. Letters are a few tens of kilobytes.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rebuttal.audit import AppendOnlyModel, AppendOnlyQuerySet
from rebuttal.models import Language, RebuttalCase


class LetterKind(models.TextChoices):
    """Letter kinds; their values are part of the public interface (API)."""

    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of receipt")
    NOT_RECEIVABLE = "not_receivable", _("Request not receivable")
    WITHDRAWN = "withdrawn", _("Withdrawal confirmed")
    OUTCOME = "outcome", _("Outcome of the rebuttal")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be issued")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed; HR must retry")


class LetterRequest(models.Model):
    """A letter that must be issued; the task that issues it can run any number of times.

    Each case has at most one original request per kind (so exactly one outcome
    letter per decision); a correction is a request that names the letter it
    supersedes.
    """

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="letter_requests")
    kind = models.CharField(max_length=20, choices=LetterKind.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    supersedes = models.OneToOneField(
        "Letter", null=True, blank=True, on_delete=models.PROTECT, related_name="correction_request"
    )
    reason = models.TextField(blank=True, help_text="Why a correction was issued.")
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["case_id", "requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(supersedes__isnull=True),
                name="one_original_letter_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for case {self.case_id} ({self.status})"


class Letter(AppendOnlyModel):
    """An issued letter, exactly as it was sent; never changed, only superseded."""

    request = models.OneToOneField(LetterRequest, on_delete=models.PROTECT, related_name="letter")
    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=20, choices=LetterKind.choices)
    language = models.CharField(max_length=2, choices=Language.choices)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "<kind>@<first 12 hex of the SHA-256 of the template sources>": changes whenever a template does.
    template_version = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    # The rendered HTML, kept so that a re-render can be compared with what was issued.
    html = models.TextField()
    pdf = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["case_id", "issued_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language}) for case {self.case_id}"

    @property
    def filename(self) -> str:
        return f"{self.case.reference}-{self.kind}-{self.pk}.pdf"

    def hash_matches(self) -> bool:
        """Whether the stored bytes are still the ones hashed at issue."""
        return hashlib.sha256(bytes(self.pdf)).hexdigest() == self.sha256


class StageVisit(models.Model):
    """One stay of a case in one stage, kept so that stage durations are a database aggregation.

    The ``reports.stage_visits`` hook writes it inside every transition's
    transaction: it closes the open visit and opens the next. ``elapsed_days``
    counts calendar days between the local dates of entering and leaving, less
    the days the clock stood still; ``within_target`` compares the day of leaving
    with the due date as pauses had pushed it by then.
    """

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="stage_visits")
    # A value of ``rebuttal.clocks.STAGE_OF_STATUS``.
    stage = models.CharField(max_length=20)
    # The state the case entered the stage with (``submitted`` for the receivability stage).
    status = models.CharField(max_length=32)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="The stage's due date when it was entered.")
    paused_days = models.PositiveIntegerField(default=0)
    elapsed_days = models.PositiveIntegerField(null=True, blank=True)
    within_target = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "entered_at", "id"]
        indexes = [
            # The figures read the visits that left in a period (all stages, then partitioned
            # by stage), or one stage's visits in a period.
            models.Index(fields=["left_at", "stage"], name="stage_visit_left"),
            models.Index(fields=["stage", "left_at"], name="stage_visit_stage_left"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(left_at__isnull=True),
                name="one_open_stage_visit_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} of case {self.case_id} from {self.entered_at:%Y-%m-%d}"


class CaseDuration(models.Model):
    """A case's whole duration, from submission to the outcome letter, kept when it closes.

    Written by the ``reports.stage_visits`` hook when a case is closed with an
    outcome, so that the end-to-end figures read one narrow row per case instead of
    working out every case's pauses and local dates on each request. ``days``
    counts calendar days between the local dates of submission and closure, less
    every day the case's clocks stood still; ``within_target`` compares them with
    the case's policy ``case_target_days`` (``None`` for a case without a policy).
    """

    case = models.OneToOneField(
        RebuttalCase, on_delete=models.PROTECT, primary_key=True, related_name="duration"
    )
    closed_at = models.DateTimeField()
    paused_days = models.PositiveIntegerField(default=0)
    days = models.PositiveIntegerField()
    within_target = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["closed_at", "case_id"]
        indexes = [
            # The figures read the cases closed in a period and rank them by days.
            models.Index(fields=["closed_at", "days", "within_target"], name="case_duration_closed"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.days} days"


class FailedRule(models.Model):
    """One receivability rule a screened case failed, kept so that recurring reasons are counted in SQL.

    Written by the ``reports.stage_visits`` hook when HR records the screening
    (whether the case was found receivable with an override or not receivable),
    from the result the case stores; one row per failed rule.
    """

    case = models.ForeignKey(RebuttalCase, on_delete=models.PROTECT, related_name="failed_rules")
    # A name of ``rebuttal.receivability.RULES``.
    rule = models.CharField(max_length=64)

    class Meta:
        ordering = ["case_id", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["case", "rule"], name="one_failed_rule_row_per_case"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} failed {self.rule}"


class Tally(models.Model):
    """How many cases share one fact on one day (or in one month): the figures' running totals.

    ``reports.tally`` appends rows inside every transition's transaction (one
    INSERT of +1/-1 rows, which never waits for another transaction) and
    ``tally.compact`` merges the rows of each fact into one now and then (the
    scheduler's pass); a figure sums ``n`` over whatever rows there are. Each fact
    is counted four times: per local day (``grain`` "d") and per month ("m",
    ``day`` its first day), each for every case (``level`` 0, the dimensions blank)
    and per office, region, cycle and contract type (``level`` 1). A period's
    figures then read its whole months and the days at its edges, so the rows a
    request reads depend on the period and the filters, not on how many cases there are.

    ``measure`` names the fact (``reports.tally.MEASURES``); ``key``, ``days``
    and ``within`` say which one ("" and 0 where the fact has none).
    """

    grain = models.CharField(max_length=1)
    day = models.DateField()
    # 0: every case (the dimensions blank); 1: the cases of one office, region, cycle and contract type.
    level = models.PositiveSmallIntegerField()
    office = models.CharField(max_length=120, default="")
    region = models.CharField(max_length=120, default="")
    cycle = models.PositiveIntegerField(default=0)
    contract_type = models.CharField(max_length=20, default="")
    measure = models.CharField(max_length=12)
    key = models.CharField(max_length=100, default="")
    days = models.IntegerField(default=0)
    # "y" within target, "n" over it, "" without a target (or not a duration).
    within = models.CharField(max_length=1, default="")
    n = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            # Every fact's identity, in the order the figures filter by: one measure at one
            # level and grain, a range of days, then the dimensions and what is grouped by.
            models.Index(
                fields=[
                    "measure",
                    "level",
                    "grain",
                    "day",
                    "office",
                    "region",
                    "cycle",
                    "contract_type",
                    "key",
                    "days",
                    "within",
                ],
                name="tally_fact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.key} {self.day} ({self.grain}): {self.n}"
