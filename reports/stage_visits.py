"""Stage visits, case durations and failed rules, written by a hook inside every transition's transaction.

``record_report_rows`` is registered with ``rebuttal.services.on_transition``.
The service holds the case row locked, so the case's open visit cannot change
under it. It closes the open visit and opens the next one in at most three
queries: read the open visit (with its paused days and the due date it had when
the case left it, both as subqueries), update it, insert the next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from rebuttal.clocks import STAGE_OF_STATUS
from rebuttal.models import ClockPause, RebuttalCase, Status
from reports import tally
from reports.models import CaseDuration, FailedRule, StageVisit

# The transitions that record the screening's result on the case.
SCREENING_TRANSITIONS = ("accept_receivable", "reject_not_receivable")


def close_figures(
    *, entered_at: dt.datetime, left_at: dt.datetime, paused_days: int, due_when_left: dt.date | None
) -> dict[str, Any]:
    """The fields of a visit that are known once it ends (shared with the backfill migration)."""
    left_on = timezone.localdate(left_at)
    calendar_days = (left_on - timezone.localdate(entered_at)).days
    return {
        "left_at": left_at,
        "paused_days": paused_days,
        "elapsed_days": max(calendar_days - paused_days, 0),
        "within_target": None if due_when_left is None else left_on <= due_when_left,
    }


def record_report_rows(case: RebuttalCase, name: str, actor: Any) -> None:
    """Everything the figures keep about a transition: the stage visit, the failed rules of a
    screening, the whole case's duration when it closes with an outcome, and what all of it
    adds to the running totals (``reports.tally``)."""
    visit = record_stage_visit(case, name, actor)
    failed: list[str] = []
    if name in SCREENING_TRANSITIONS:
        failed = failed_rules(case.receivability_result)
        FailedRule.objects.bulk_create(
            [FailedRule(case_id=case.pk, rule=rule) for rule in failed], ignore_conflicts=True
        )
    duration = None
    if case.status == Status.CLOSED and case.last_transition.source != Status.CLOSED:
        duration = record_case_duration(case)
    tally.add(tally.transition_facts(case, failed=failed, visit=visit, duration=duration))


def failed_rules(result: Any) -> list[str]:
    """The names of the rules a stored screening result shows as failed (shared with the backfill)."""
    return sorted(
        {
            entry["rule"]
            for entry in result or []
            if isinstance(entry, dict) and entry.get("passed") is False and entry.get("rule")
        }
    )


def duration_figures(
    *, submitted_at: dt.datetime, closed_at: dt.datetime, paused_days: int, target_days: int | None
) -> dict[str, Any]:
    """The fields of a case's duration (shared with the backfill migration)."""
    calendar_days = (timezone.localdate(closed_at) - timezone.localdate(submitted_at)).days
    days = max(calendar_days - paused_days, 0)
    return {
        "closed_at": closed_at,
        "paused_days": paused_days,
        "days": days,
        "within_target": None if target_days is None else days <= target_days,
    }


def record_case_duration(case: RebuttalCase) -> dict[str, Any]:
    """Keep the duration of a case that has just closed with its outcome (and return its figures).
    One aggregate, one insert."""
    paused = ClockPause.objects.filter(case_id=case.pk).aggregate(days=Sum("days_added"))["days"] or 0
    policy = case.policy
    figures = duration_figures(
        submitted_at=case.submitted_at,
        closed_at=case.closed_at,
        paused_days=paused,
        target_days=policy.case_target_days if policy is not None else None,
    )
    CaseDuration.objects.update_or_create(case_id=case.pk, defaults=figures)
    return figures


def record_stage_visit(case: RebuttalCase, name: str, actor: Any) -> dict[str, Any] | None:
    """Close the case's open stage visit and open one for the stage it has entered, if any;
    the closed visit's figures (with its ``stage``), ``None`` when none was closed.

    Submitted and screening are one stay in the receivability stage (screening does
    not restart its clock), so a transition that stays in the same stage changes nothing.
    """
    now = timezone.now()
    stage = STAGE_OF_STATUS.get(case.status)
    pauses = (
        ClockPause.objects.filter(case=OuterRef("case_id"), ended_at__gte=OuterRef("entered_at"))
        .values("case")
        .annotate(days=Sum("days_added"))
        .values("days")
    )
    # The case's history row before the one this transition just saved holds the due date
    # as pauses had pushed it when the case left the stage (the transition has reset it).
    before = (
        RebuttalCase.history.model.objects.filter(id=OuterRef("case_id"))
        .order_by("-history_id")
        .values("stage_due_on")[1:2]
    )
    visit = (
        StageVisit.objects.filter(case_id=case.pk, left_at__isnull=True)
        .annotate(
            paused=Coalesce(Subquery(pauses, output_field=IntegerField()), 0),
            due_when_left=Subquery(before),
        )
        .first()
    )
    if visit is not None and visit.stage == stage:
        return None
    closed = None
    if visit is not None:
        figures = close_figures(
            entered_at=visit.entered_at,
            left_at=now,
            paused_days=visit.paused,
            due_when_left=visit.due_when_left,
        )
        StageVisit.objects.filter(pk=visit.pk).update(**figures)
        closed = {"stage": visit.stage, **figures}
    if stage is not None:
        StageVisit.objects.create(
            case_id=case.pk, stage=stage, status=case.status, entered_at=now, due_on=case.stage_due_on
        )
    return closed
