"""The periodic pass: invitation expiry, stage reminders, breach escalations, mail retries.

``run(now)`` is idempotent; cron or Celery beat runs it (``manage.py run_scheduler``)
every few minutes. Each reminder or escalation is a ``Notification`` whose
``dedupe_key`` names the case, the stage (by its start time), the threshold and
the person, so running the scheduler again sends nothing twice, while a new
stage (a transition restarts ``stage_started_at``) starts its thresholds afresh.

- Reminders go at each of the policy's ``reminder_thresholds`` (percent of the
  stage's time, from ``stage_started_at`` to the end of ``stage_due_on``) to whoever
  holds the open task: its owner, or for an unassigned task every member of the
  role group that takes it. A paused case gets none (its due date moves on resume).
- Escalation on breach (``stage_due_on`` has passed) goes to the HR lead: the
  addresses in the ``HR_LEAD_EMAILS`` setting, or when it is empty the members
  of the ``hr_admin`` group. A setting rather than a new group: the lead is one
  mailbox in most offices, and it needs no account.
- Reviewer invitations older than the policy's ``invitation_expiry_days`` expire
  through ``case_act`` (the same path as every other action).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.models import Task

from rebuttal import clocks, idempotency
from rebuttal.exceptions import CaseError
from rebuttal.models import TERMINAL_STATES, RebuttalCase
from rebuttal.permissions import DECISION_MAKER, ENDORSER, HR_SPECIALIST
from rebuttal.selectors import policy_current
from reports import tally
from reviewers.services import invitations_due_for_expiry
from workflow import letters, notifications
from workflow.models import Notification, NotificationStatus
from workflow.process import OPEN
from workflow.services import case_act

logger = logging.getLogger(__name__)

# The role group that takes each human task when nobody owns it yet.
GROUP_OF_NODE: dict[str, str] = {
    "intake": HR_SPECIALIST,
    "screening": HR_SPECIALIST,
    "assignment": HR_SPECIALIST,
    "quality_check": HR_SPECIALIST,
    "endorsement": ENDORSER,
    "decision": DECISION_MAKER,
    "outcome": HR_SPECIALIST,
}
# The reviewer's own tasks are assigned to them; the case names them too.
_REVIEWER_STATES = frozenset({"reviewer_invited", "under_review"})
# Cases filed before the workflow existed have no process: the group by state.
GROUP_OF_STATUS: dict[str, str] = {
    "submitted": HR_SPECIALIST,
    "screening": HR_SPECIALIST,
    "awaiting_assignment": HR_SPECIALIST,
    "recommendation_submitted": HR_SPECIALIST,
    "awaiting_endorsement": ENDORSER,
    "awaiting_decision": DECISION_MAKER,
    "decided": HR_SPECIALIST,
}
# A pending e-mail older than this was not queued, or its send failed: queue it again.
RETRY_AFTER = dt.timedelta(minutes=10)


@dataclass
class Summary:
    expired: list[int] = field(default_factory=list)
    reminders: int = 0
    escalations: int = 0
    retried: int = 0
    letters_retried: int = 0


def run(now: dt.datetime | None = None) -> Summary:
    """One pass of the scheduler at ``now``."""
    now = now or timezone.now()
    summary = Summary()
    summary.expired = expire_invitations(now)
    summary.reminders, summary.escalations = remind_and_escalate(now)
    summary.retried = retry_unsent(now)
    summary.letters_retried = letters.retry_pending(now)
    idempotency.purge_expired(now)
    # The rows transitions appended to the reports' running totals, merged into one per fact.
    tally.compact()
    return summary


def expire_invitations(now: dt.datetime) -> list[int]:
    """Expire each invitation past the policy's limit, one transaction per case."""
    expired = []
    for case_id in invitations_due_for_expiry(now=now):
        try:
            case_act(case_id=case_id, name="invitation_expire", actor=None, version=None)
        except CaseError as exc:  # answered or changed meanwhile
            logger.info("case %s: invitation not expired: %s", case_id, exc)
            continue
        expired.append(case_id)
    return expired


def _deadline(case: RebuttalCase) -> dt.datetime:
    """The end of the due day, in the server's time zone."""
    next_day = case.stage_due_on + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(next_day, dt.time.min))


def _holders(cases: list[RebuttalCase]) -> dict[int, list[notifications.Recipient]]:
    """Who holds each case's open task: its owner, or the members of the group that takes it."""
    tasks = (
        Task.objects.filter(
            process__rebuttalprocess__case__in=[c.pk for c in cases],
            flow_task_type="HUMAN",
            status__in=OPEN,
        )
        .select_related("owner", "process__rebuttalprocess")
        .order_by("pk")
    )
    open_tasks = {task.process.rebuttalprocess.case_id: task for task in tasks}
    members = {
        group: notifications.role_members(None, group) for group in (HR_SPECIALIST, ENDORSER, DECISION_MAKER)
    }
    holders: dict[int, list[notifications.Recipient]] = {}
    for case in cases:
        task = open_tasks.get(case.pk)
        owner = task.owner if task is not None else None
        if owner is None and case.status in _REVIEWER_STATES:
            owner = case.reviewer_user
        if owner is not None:
            person = notifications._person(owner)
            holders[case.pk] = [person] if person else []
            continue
        group = (
            GROUP_OF_NODE.get(task.flow_task.name) if task is not None else GROUP_OF_STATUS.get(case.status)
        )
        # Nobody acts in an official role on their own case.
        holders[case.pk] = [
            p for p in members.get(group or "", []) if getattr(p.user, "pk", None) != case.requester_id
        ]
    return holders


def remind_and_escalate(now: dt.datetime) -> tuple[int, int]:
    """Reminders at each threshold reached and an escalation on breach; each sent once per stage."""
    thresholds = sorted(int(t) for t in policy_current().reminder_thresholds)
    cases = list(
        RebuttalCase.objects.filter(
            deleted_at__isnull=True,
            stage_started_at__isnull=False,
            stage_due_on__isnull=False,
            paused_at__isnull=True,
        )
        .exclude(status__in=TERMINAL_STATES)
        .select_related("reviewer_user")
        .order_by("pk")
    )
    holders = _holders(cases) if cases else {}
    leads = notifications.hr_leads() if cases else []
    rows: list[Notification] = []
    for case in cases:
        start, end = case.stage_started_at, _deadline(case)
        stage = str(clocks.STAGE_OF_STATUS.get(case.status, case.status)).replace("_", " ")
        common = {"due_on": case.stage_due_on.isoformat(), "stage": stage}
        stage_key = f"{case.pk}:{start.isoformat()}"
        if now >= end:
            names = ", ".join(p.name for p in holders[case.pk]) or "nobody"
            for person in leads:
                if getattr(person.user, "pk", None) == case.requester_id:
                    continue  # not told of their own case
                key = f"escalation:{stage_key}:{person.email.lower()}"
                rows.append(
                    notifications.build(
                        case=case,
                        kind="stage_escalation",
                        person=person,
                        dedupe_key=key,
                        holders=names,
                        **common,
                    )
                )
            continue
        elapsed = (now - start) / (end - start) * 100 if end > start else 100
        reached = [t for t in thresholds if elapsed >= t]
        if not reached:
            continue
        # Only the highest threshold reached: a scheduler that was down does not send a backlog.
        threshold = reached[-1]
        for person in holders[case.pk]:
            key = f"reminder:{stage_key}:{threshold}:{person.email.lower()}"
            rows.append(
                notifications.build(
                    case=case,
                    kind="stage_reminder",
                    person=person,
                    dedupe_key=key,
                    threshold=threshold,
                    **common,
                )
            )
    with transaction.atomic():
        created = notifications.enqueue(rows)
    escalations = sum(1 for key in created if key.startswith("escalation:"))
    return len(created) - escalations, escalations


def retry_unsent(now: dt.datetime) -> int:
    """Queue again e-mails left pending (a failed send, a lost queue message, a killed worker).

    A worker that dies mid-send leaves its row pending: the send and the mark
    ``sent`` commit together (``workflow.tasks.deliver``).
    """
    ids = list(
        Notification.objects.filter(
            status=NotificationStatus.PENDING, created_at__lt=now - RETRY_AFTER
        ).values_list("pk", flat=True)
    )
    if ids:
        notifications.send_pending(ids=ids)
    return len(ids)


def summary_line(summary: Summary) -> str:
    return (
        f"{len(summary.expired)} invitation(s) expired, {summary.reminders} reminder(s), "
        f"{summary.escalations} escalation(s), {summary.retried} e-mail(s) retried, "
        f"{summary.letters_retried} letter(s) retried."
    )
