"""Stage clocks: which stage a state belongs to, and when that stage is due.

Targets come from the policy (``stage_targets``). A target counts calendar days
(statutory clocks) or business days: Monday to Friday, less the public holidays
of the office's country (the ``holidays`` package) and the organisation holidays
an HR administrator adds (``Holiday``, for one office or all).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import holidays as public_holidays
from django.db.models import Q
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


@dataclass(frozen=True)
class Calendar:
    """The days off of one office (weekends are always off for business days)."""

    days_off: frozenset[dt.date] = frozenset()

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.days_off

    def next_business_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a business day, else the next one."""
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day


WEEKENDS_ONLY = Calendar()


def add_days(start: dt.date, days: int, unit: str, calendar: Calendar = WEEKENDS_ONLY) -> dt.date:
    """``start`` plus ``days`` calendar days, or plus ``days`` business days of ``calendar``."""
    if unit == CALENDAR:
        return start + dt.timedelta(days=days)
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if calendar.is_business_day(current):
            remaining -= 1
    return current


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """Public holidays are fixed data: computed once per process and year."""
    try:
        found = public_holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:  # a country or subdivision the package does not know
        return frozenset()
    return frozenset(found)


def calendar_for(office_name: str, start: dt.date) -> Calendar:
    """The calendar of the office named ``office_name`` for this year and the next."""
    from rebuttal.models import Holiday, Office

    years = (start.year, start.year + 1)
    office = Office.objects.filter(name__iexact=office_name.strip()).first()
    days: set[dt.date] = set()
    if office is not None and office.country:
        for year in years:
            days |= _public_holidays(office.country.upper(), office.subdivision, year)
    own = Q(office__isnull=True) | Q(office=office) if office is not None else Q(office__isnull=True)
    days |= set(Holiday.objects.filter(own, date__year__in=years).values_list("date", flat=True))
    return Calendar(frozenset(days))


def target_of(policy: Policy, status: str) -> dict[str, object] | None:
    stage = STAGE_OF_STATUS.get(status)
    return policy.stage_targets.get(stage) if stage else None


def stage_due_on(
    policy: Policy, status: str, started: dt.datetime, calendar: Calendar = WEEKENDS_ONLY
) -> dt.date | None:
    target = target_of(policy, status)
    if not target:
        return None
    return add_days(timezone.localtime(started).date(), int(target["days"]), str(target["unit"]), calendar)


def pushed_due_on(due: dt.date, paused_days: int, unit: str, calendar: Calendar = WEEKENDS_ONLY) -> dt.date:
    """The due date after a pause of ``paused_days`` calendar days.

    The clock stood still for that time, so the due date moves by as many days;
    a business-day target then lands on the next business day.
    """
    moved = due + dt.timedelta(days=paused_days)
    return calendar.next_business_day(moved) if unit == BUSINESS else moved
