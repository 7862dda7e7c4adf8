"""Stage clocks at their edges: weekends, office holidays, organisation holidays, pauses."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from rebuttal import clocks, services
from rebuttal.exceptions import ActionForbidden, TransitionRefused
from rebuttal.models import CaseEvent, ClockPause, Holiday, Office, RebuttalCase
from rebuttal.selectors import case_visible_qs
from tests.factories import advance, make_case

UTC = zoneinfo.ZoneInfo("UTC")


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def geneva(db):
    return Office.objects.create(name="Geneva Office", region="Europe", country="CH", subdivision="GE")


# --- arithmetic ---------------------------------------------------------------------


def test_one_business_day_after_a_friday_is_the_monday():
    assert clocks.add_days(dt.date(2026, 11, 27), 1, clocks.BUSINESS) == dt.date(2026, 11, 30)


def test_calendar_days_count_weekends():
    assert clocks.add_days(dt.date(2026, 11, 27), 3, clocks.CALENDAR) == dt.date(2026, 11, 30)


def test_a_business_day_target_skips_the_offices_public_holiday(geneva):
    calendar = clocks.calendar_for("Geneva Office", dt.date(2026, 12, 21))
    # Monday 21 December + 5 business days: Christmas (Friday 25) and the weekend are off.
    assert clocks.add_days(dt.date(2026, 12, 21), 5, clocks.BUSINESS, calendar) == dt.date(2026, 12, 29)
    # Without the office's calendar, Christmas would count.
    assert clocks.add_days(dt.date(2026, 12, 21), 5, clocks.BUSINESS) == dt.date(2026, 12, 28)


def test_an_organisation_holiday_moves_the_due_date(geneva):
    Holiday.objects.create(date=dt.date(2026, 12, 28), name="Office closure", office=geneva)
    calendar = clocks.calendar_for("geneva office", dt.date(2026, 12, 21))
    assert clocks.add_days(dt.date(2026, 12, 21), 5, clocks.BUSINESS, calendar) == dt.date(2026, 12, 30)


def test_an_organisation_wide_holiday_applies_to_every_office(geneva):
    Office.objects.create(name="Nairobi Hub", country="KE")
    Holiday.objects.create(date=dt.date(2026, 11, 30), name="Staff day")
    for office in ("Geneva Office", "Nairobi Hub", "An office nobody configured"):
        calendar = clocks.calendar_for(office, dt.date(2026, 11, 27))
        assert clocks.add_days(dt.date(2026, 11, 27), 1, clocks.BUSINESS, calendar) == dt.date(2026, 12, 1)


def test_one_offices_holiday_does_not_move_another_offices_clock(geneva):
    Office.objects.create(name="Panama Hub", country="PA")
    Holiday.objects.create(date=dt.date(2026, 11, 30), name="Geneva closure", office=geneva)
    calendar = clocks.calendar_for("Panama Hub", dt.date(2026, 11, 27))
    assert clocks.add_days(dt.date(2026, 11, 27), 1, clocks.BUSINESS, calendar) == dt.date(2026, 11, 30)


def test_an_unknown_country_code_means_no_public_holidays(db):
    Office.objects.create(name="Nowhere", country="ZZ")
    assert clocks.calendar_for("Nowhere", dt.date(2026, 12, 21)).days_off == frozenset()


def test_a_target_running_into_next_year_uses_next_years_holidays(geneva):
    calendar = clocks.calendar_for("Geneva Office", dt.date(2026, 12, 30))
    # Wed 30 Dec + 1 business day: 31 Dec (Geneva), 1 Jan and the weekend are off -> Mon 4 Jan 2027.
    assert clocks.add_days(dt.date(2026, 12, 30), 1, clocks.BUSINESS, calendar) == dt.date(2027, 1, 4)


# --- due dates set by the services --------------------------------------------------------


def test_entering_a_stage_sets_its_due_date_on_the_offices_calendar(geneva, requester, hr):
    with time_machine.travel(at("2026-12-21"), tick=False):
        case = make_case(requester, appraisal_signed_on=dt.date(2026, 12, 18))
        case = advance(case, to="awaiting_assignment", requester=requester, hr=hr)
    # Assignment: 5 business days from Monday 21 December, Christmas off.
    assert case.stage_due_on == dt.date(2026, 12, 29)


# --- pauses ----------------------------------------------------------------------------


@pytest.fixture
def under_review(geneva, requester, hr, reviewer):
    with time_machine.travel(at("2027-01-04"), tick=False):
        case = make_case(requester, appraisal_signed_on=dt.date(2026, 12, 30))
        return advance(case, to="under_review", requester=requester, hr=hr, reviewer=reviewer)


def test_a_pause_across_a_month_end_pushes_the_due_date_by_the_days_it_stood_still(under_review, reviewer):
    case = under_review
    assert case.stage_due_on == dt.date(2027, 2, 3)  # review: 30 calendar days from 4 January
    with time_machine.travel(at("2027-01-28"), tick=False):
        services.case_pause_clock(case_id=case.pk, actor=reviewer, reason="Waiting for the workplan.")
    with time_machine.travel(at("2027-02-03"), tick=False):
        case = services.case_resume_clock(case_id=case.pk, actor=reviewer, reason="Workplan received.")
    assert case.stage_due_on == dt.date(2027, 2, 9)
    pause = ClockPause.objects.get(case=case)
    assert (pause.reason, pause.resume_reason, pause.days_added) == (
        "Waiting for the workplan.",
        "Workplan received.",
        6,
    )
    events = list(CaseEvent.objects.filter(case=case, kind__in=["paused", "resumed"]).order_by("seq"))
    assert [e.kind for e in events] == ["paused", "resumed"]
    assert events[1].changes == {"stage_due_on": ["2027-02-03", "2027-02-09"], "paused_days": 6}


def test_a_business_day_stage_resumes_onto_a_business_day(geneva, requester, hr):
    with time_machine.travel(at("2026-12-14"), tick=False):
        case = advance(
            make_case(requester, appraisal_signed_on=dt.date(2026, 12, 11)),
            to="screening",
            requester=requester,
            hr=hr,
        )
        case = services.case_pause_clock(
            case_id=case.pk, actor=hr, reason="Asked the requester for the appraisal."
        )
    due = case.stage_due_on  # receivability: 5 business days from submission on Monday 14 December
    assert due == dt.date(2026, 12, 21)
    with time_machine.travel(at("2026-12-18"), tick=False):
        case = services.case_resume_clock(case_id=case.pk, actor=hr, reason="Appraisal received.")
    # 21 Dec + 4 days = Friday 25 December, Christmas in Geneva -> Monday 28.
    assert case.stage_due_on == dt.date(2026, 12, 28)


def test_a_paused_case_is_not_overdue(under_review, hr):
    with time_machine.travel(at("2027-01-10"), tick=False):
        services.case_pause_clock(case_id=under_review.pk, actor=hr, reason="Waiting for the supervisor.")
    with time_machine.travel(at("2027-03-01"), tick=False):
        case = RebuttalCase.objects.get(pk=under_review.pk)
        assert not case.is_overdue
        assert not case_visible_qs(hr).filter(
            pk=case.pk, stage_due_on__lt=dt.date(2027, 3, 1), paused_at=None
        )


def test_pausing_twice_or_resuming_a_running_clock_is_refused(under_review, hr):
    with pytest.raises(TransitionRefused):
        services.case_resume_clock(case_id=under_review.pk, actor=hr, reason="Nothing to resume.")
    services.case_pause_clock(case_id=under_review.pk, actor=hr, reason="Waiting.")
    version = RebuttalCase.objects.get(pk=under_review.pk).version
    with pytest.raises(TransitionRefused):
        services.case_pause_clock(case_id=under_review.pk, actor=hr, reason="Waiting again.")
    assert RebuttalCase.objects.get(pk=under_review.pk).version == version
    assert ClockPause.objects.filter(case_id=under_review.pk).count() == 1


def test_a_pause_needs_a_reason_and_someone_working_the_case(under_review, requester, outsider, hr):
    with pytest.raises(ValidationError):
        services.case_pause_clock(case_id=under_review.pk, actor=hr, reason="  ")
    with pytest.raises(ActionForbidden):
        services.case_pause_clock(case_id=under_review.pk, actor=requester, reason="I want more time.")
    with pytest.raises(ActionForbidden):
        services.case_pause_clock(case_id=under_review.pk, actor=outsider, reason="Curious.")
    assert not ClockPause.objects.exists()


def test_moving_on_to_another_stage_ends_the_pause(under_review, hr):
    services.case_pause_clock(case_id=under_review.pk, actor=hr, reason="Waiting.")
    case = RebuttalCase.objects.get(pk=under_review.pk)
    case = services.case_release_reviewer(
        case_id=case.pk, actor=hr, version=case.version, reason="Conflict found."
    )
    assert case.paused_at is None
    pause = ClockPause.objects.get(case=case)
    assert pause.ended_at is not None
    assert "release_reviewer" in pause.resume_reason
