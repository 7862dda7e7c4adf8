"""Rebuild the stage visits of existing cases from their audit trail.

The transitions come from the case's ``transition`` events (in ``seq`` order);
the due date a stage had when it was entered, and when it was left, from the
case's history rows that those transitions saved; the paused days from its clock
pauses. The rules are those of ``reports.stage_visits.record_stage_visit``,
copied here so that this migration keeps meaning what it meant when it was written.
Reversing deletes the visits.
"""

from django.db import migrations
from django.utils import timezone

# rebuttal.clocks.STAGE_OF_STATUS when this migration was written.
STAGE_OF_STATUS = {
    "submitted": "receivability",
    "screening": "receivability",
    "awaiting_assignment": "assignment",
    "reviewer_invited": "acceptance",
    "under_review": "review",
    "recommendation_submitted": "quality_check",
    "awaiting_endorsement": "endorsement",
    "awaiting_decision": "decision",
    "decided": "outcome",
}
CHUNK = 500


def _close(visit, *, left_at, pauses, due_when_left):
    paused = sum(days for ended_at, days in pauses if visit.entered_at <= ended_at <= left_at)
    left_on = timezone.localdate(left_at)
    calendar_days = (left_on - timezone.localdate(visit.entered_at)).days
    visit.left_at = left_at
    visit.paused_days = paused
    visit.elapsed_days = max(calendar_days - paused, 0)
    visit.within_target = None if due_when_left is None else left_on <= due_when_left


def _visits_of_case(StageVisit, case_id, events, history, pauses):
    """The visits of one case: ``events`` its transitions, ``history`` its history rows, oldest first."""
    visits = []
    current = None
    row_index = -1
    for event in events:
        # The history row this transition saved: the next one with its name and target state.
        found = next(
            (
                i
                for i in range(row_index + 1, len(history))
                if history[i]["history_change_reason"] == event["transition"]
                and history[i]["status"] == event["to_status"]
            ),
            None,
        )
        due_on = due_when_left = None
        if found is not None:
            due_on = history[found]["stage_due_on"]
            due_when_left = history[found - 1]["stage_due_on"] if found > 0 else None
            row_index = found
        stage = STAGE_OF_STATUS.get(event["to_status"])
        if current is not None and current.stage == stage:
            continue
        if current is not None:
            _close(current, left_at=event["at"], pauses=pauses, due_when_left=due_when_left)
        current = None
        if stage is not None:
            current = StageVisit(
                case_id=case_id, stage=stage, status=event["to_status"], entered_at=event["at"], due_on=due_on
            )
            visits.append(current)
    return visits


def rebuild_stage_visits(apps, schema_editor):
    StageVisit = apps.get_model("reports", "StageVisit")
    CaseEvent = apps.get_model("rebuttal", "CaseEvent")
    ClockPause = apps.get_model("rebuttal", "ClockPause")
    HistoricalRebuttalCase = apps.get_model("rebuttal", "HistoricalRebuttalCase")
    case_ids = list(
        CaseEvent.objects.filter(kind="transition").order_by("case_id").values_list("case_id", flat=True).distinct()
    )
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start : start + CHUNK]
        events, history, pauses = {}, {}, {}
        for row in (
            CaseEvent.objects.filter(case_id__in=chunk, kind="transition")
            .order_by("case_id", "seq")
            .values("case_id", "at", "transition", "to_status")
        ):
            events.setdefault(row["case_id"], []).append(row)
        for row in (
            HistoricalRebuttalCase.objects.filter(id__in=chunk)
            .order_by("id", "history_id")
            .values("id", "status", "stage_due_on", "history_change_reason")
        ):
            history.setdefault(row["id"], []).append(row)
        for case_id, ended_at, days in ClockPause.objects.filter(
            case_id__in=chunk, ended_at__isnull=False
        ).values_list("case_id", "ended_at", "days_added"):
            pauses.setdefault(case_id, []).append((ended_at, days))
        StageVisit.objects.filter(case_id__in=chunk).delete()
        visits = []
        for case_id in chunk:
            visits += _visits_of_case(
                StageVisit, case_id, events.get(case_id, []), history.get(case_id, []), pauses.get(case_id, [])
            )
        StageVisit.objects.bulk_create(visits)


def delete_stage_visits(apps, schema_editor):
    apps.get_model("reports", "StageVisit").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_stage_visits"),
        ("rebuttal", "0010_case_queue_undated_index"),
    ]

    operations = [migrations.RunPython(rebuild_stage_visits, delete_stage_visits)]

