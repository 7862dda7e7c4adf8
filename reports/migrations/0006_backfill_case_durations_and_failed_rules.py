"""Fill the case durations and failed rules of cases closed or screened before they were kept.

The rules are those of ``reports.stage_visits.duration_figures`` and
``failed_rules``, copied here so that this migration keeps meaning what it meant
when it was written. Reversing deletes the rows.
"""

from django.db import migrations
from django.db.models import Sum
from django.utils import timezone

CHUNK = 500


def _failed(result):
    return sorted(
        {
            entry["rule"]
            for entry in result or []
            if isinstance(entry, dict) and entry.get("passed") is False and entry.get("rule")
        }
    )


def forwards(apps, schema_editor):
    RebuttalCase = apps.get_model("rebuttal", "RebuttalCase")
    ClockPause = apps.get_model("rebuttal", "ClockPause")
    CaseDuration = apps.get_model("reports", "CaseDuration")
    FailedRule = apps.get_model("reports", "FailedRule")

    paused = dict(
        ClockPause.objects.values("case_id").annotate(days=Sum("days_added")).values_list("case_id", "days")
    )
    durations = []
    closed = RebuttalCase.objects.filter(status="closed", closed_at__isnull=False, submitted_at__isnull=False)
    for case in closed.select_related("policy").iterator(chunk_size=CHUNK):
        pause = paused.get(case.pk) or 0
        days = max(
            (timezone.localdate(case.closed_at) - timezone.localdate(case.submitted_at)).days - pause, 0
        )
        durations.append(
            CaseDuration(
                case_id=case.pk,
                closed_at=case.closed_at,
                paused_days=pause,
                days=days,
                within_target=None if case.policy is None else days <= case.policy.case_target_days,
            )
        )
    CaseDuration.objects.bulk_create(durations, batch_size=CHUNK, ignore_conflicts=True)

    failed = []
    screened = RebuttalCase.objects.filter(receivability_result__isnull=False)
    for case_id, result in screened.values_list("pk", "receivability_result").iterator(chunk_size=CHUNK):
        failed.extend(FailedRule(case_id=case_id, rule=rule) for rule in _failed(result))
    FailedRule.objects.bulk_create(failed, batch_size=CHUNK, ignore_conflicts=True)


def backwards(apps, schema_editor):
    apps.get_model("reports", "CaseDuration").objects.all().delete()
    apps.get_model("reports", "FailedRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_case_durations_and_failed_rules"),
        ("rebuttal", "0010_case_queue_undated_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
