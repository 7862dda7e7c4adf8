"""Stage clocks: which stage a state belongs to, and when that stage is due.

Targets come from the policy (``stage_targets``); a target counts calendar days
or business days (Monday to Friday here; office holiday calendars come with the
workflow's clocks).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from rebuttal.models import Policy

# The stage whose clock runs while a case is in each state (terminal states and
# drafts have none).
STAGE_OF_STATUS: dict[str, str] = {
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

CALENDAR = "calendar"
BUSINESS = "business"


def add_days(start: dt.date, days: int, unit: str) -> dt.date:
    """``start`` plus ``days`` calendar days, or plus ``days`` working days."""
    if unit == CALENDAR:
        return start + dt.timedelta(days=days)
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def stage_due_on(policy: Policy, status: str, started: dt.datetime) -> dt.date | None:
    stage = STAGE_OF_STATUS.get(status)
    if stage is None:
        return None
    target = policy.stage_targets.get(stage)
    if not target:
        return None
    return add_days(timezone.localtime(started).date(), int(target["days"]), target["unit"])
