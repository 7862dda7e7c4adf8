"""Stage durations and end-to-end days, against numbers worked out by hand.

The fixture drives 24 cases through the services at known moments (09:00 UTC,
``TIME_ZONE`` is UTC in the tests). All are submitted and screened on Monday
1 March 2027 (day 0). The receivability target is 5 business days; the Geneva
Office is closed on Friday 5 March (an office ``Holiday``), so it is due on
Tuesday 9 March (2, 3, 4, 8, 9 March) instead of Monday 8 March.

A full case with receivability days ``r``, review days ``v`` and a review pause
of ``p`` days goes: accepted as receivable on day r, reviewer invited on r+1, review
accepted on r+2, documents requested on r+4 (the clock pauses) and answered on
r+4+p, recommendation on r+2+v, forwarded on r+3+v, endorsed on r+5+v, decided on
r+7+v, closed on r+8+v. So assignment and acceptance take 1 day, quality check 1,
endorsement 2, decision 2, outcome 1; review takes v - p days; end to end is
r + 8 + v - p days.
"""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rebuttal import consultation
from rebuttal.models import Holiday, Office, RebuttalCase
from reports.models import StageVisit
from reports.stage_figures import end_to_end, stage_durations
from tests.factories import UserFactory, advance, make_case
from workflow.services import case_act

UTC = zoneinfo.ZoneInfo("UTC")
DAY0 = dt.date(2027, 3, 1)
YEAR = {"start": dt.date(2027, 1, 1), "end": dt.date(2027, 12, 31)}

# (office, r, v, p) of the 20 cases that run to the end.
FULL = [
    ("Geneva Office", 1, 10, 0),
    ("Geneva Office", 1, 12, 0),
    ("Geneva Office", 2, 15, 0),
    ("Geneva Office", 2, 20, 0),
    ("Geneva Office", 2, 25, 0),
    ("Geneva Office", 3, 28, 0),
    ("Geneva Office", 3, 30, 0),  # review left on its due date: within
    ("Geneva Office", 4, 31, 0),  # one day late
    ("Geneva Office", 4, 35, 0),
    ("Geneva Office", 7, 40, 0),
    ("Geneva Office", 8, 36, 6),  # late without the pause; the pause pushed the due date 6 days
    ("Geneva Office", 8, 40, 5),
    ("Geneva Office", 9, 20, 4),
    ("Geneva Office", 10, 33, 10),
    ("Geneva Office", 14, 18, 0),
    ("Geneva Office", 2, 22, 2),
    ("Nairobi Hub", 3, 14, 0),
    ("Nairobi Hub", 8, 26, 0),
    ("Nairobi Hub", 9, 95, 3),  # the one case over the 90-day case target
    ("Nairobi Hub", 1, 29, 0),
]


def at(day: int) -> time_machine.travel:
    """Travel to 09:00 UTC on day ``day`` after 1 March 2027; time stands still there."""
    moment = dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(9), tzinfo=UTC)
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def cases(hr, reviewer, endorser, decision_maker) -> dict[str, Any]:
    geneva = Office.objects.create(name="Geneva Office", region="Europe")
    Office.objects.create(name="Nairobi Hub", region="Africa")
    Holiday.objects.create(date=dt.date(2027, 3, 5), name="Office closure", office=geneva)

    def start(office: str) -> tuple[RebuttalCase, dict[str, Any]]:
        # One requester per case: a reviewer may not review two cases of the same requester.
        person = UserFactory()
        with at(0):
            region = "Europe" if office == "Geneva Office" else "Africa"
            case = make_case(person, office=office, region=region)
            return advance(case, to="screening", requester=person, hr=hr), {
                "requester": person,
                "hr": hr,
                "reviewer": reviewer,
                "endorser": endorser,
                "decision_maker": decision_maker,
            }

    full = []
    for office, r, v, p in FULL:
        case, people = start(office)
        with at(r):
            case = advance(case, to="awaiting_assignment", **people)
        with at(r + 1):
            case = advance(case, to="reviewer_invited", **people)
        with at(r + 2):
            case = advance(case, to="under_review", **people)
        if p:
            with at(r + 4):
                request = consultation.document_request_create(
                    case_id=case.pk, actor=reviewer, addressee="requester", what="The workplan."
                )
            with at(r + 4 + p):
                consultation.document_request_answer(
                    request_id=request.pk, actor=people["requester"], answer="Attached."
                )
            case.refresh_from_db()
        for day, state in (
            (r + 2 + v, "recommendation_submitted"),
            (r + 3 + v, "awaiting_endorsement"),
            (r + 5 + v, "awaiting_decision"),
            (r + 7 + v, "decided"),
            (r + 8 + v, "closed"),
        ):
            with at(day):
                case = advance(case, to=state, **people)
        full.append(case)

    withdrawn = []
    for day in (3, 12):
        case, people = start("Geneva Office")
        with at(day):
            withdrawn.append(
                case_act(
                    case_id=case.pk,
                    name="withdraw",
                    actor=people["requester"],
                    version=case.version,
                    data={"reason": "Resolved informally."},
                )
            )
    waiting, people = start("Geneva Office")
    with at(2):
        waiting = advance(waiting, to="awaiting_assignment", **people)
    reviewing, people = start("Geneva Office")
    with at(1):
        reviewing = advance(reviewing, to="awaiting_assignment", **people)
    with at(2):
        reviewing = advance(reviewing, to="reviewer_invited", **people)
    with at(3):
        reviewing = advance(reviewing, to="under_review", **people)
    with at(5):
        consultation.document_request_create(
            case_id=reviewing.pk, actor=reviewer, addressee="requester", what="The workplan."
        )
    return {"full": full, "withdrawn": withdrawn, "open": [waiting, reviewing]}


def by_stage(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        row["stage"]: (
            row["count"],
            row["median_days"],
            row["p90_days"],
            row["within_target"],
            row["with_target"],
        )
        for row in rows
    }


def test_stage_durations_over_the_year(cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = stage_durations(**YEAR)
    assert [row["stage"] for row in rows] == [
        "receivability",
        "assignment",
        "acceptance",
        "review",
        "quality_check",
        "endorsement",
        "decision",
        "outcome",
    ]
    figures = by_stage(rows)
    # Receivability, 24 visits: the 20 full cases' r, the withdrawals on days 3 and 12, and the
    # two open cases accepted on days 2 and 1. Sorted:
    #   1 1 1 1 | 2 2 2 2 2 | 3 3 3 3 | 4 4 | 7 | 8 8 8 | 9 9 | 10 | 12 | 14   (ranks 1-4, 5-9, 10-13, ...)
    # median: rank ceil(24/2) = 12 -> 3; p90: rank ceil(0.9*24) = ceil(21.6) = 22 -> 10.
    # Within target: Geneva's cases are due on 9 March (the holiday), Nairobi's on 8 March (the
    # Geneva closure is not theirs). Late: Geneva's r = 9, 10, 12, 14 and Nairobi's r = 8, 9 ->
    # 24 - 6 = 18 within (Geneva's two r = 8 only thanks to the holiday).
    assert figures["receivability"] == (24, 3, 10, 18, 24)
    # Assignment: the 20 full cases and the one now reviewing, 1 day each (the other open case
    # is still in assignment and does not count). Acceptance: the same 21, 1 day each.
    assert figures["assignment"] == (21, 1, 1, 21, 21)
    assert figures["acceptance"] == (21, 1, 1, 21, 21)
    # Review, v - p of the 20 full cases:
    #   10 12 15 20 25 28 30 31 35 40 30 35 16 23 18 20 14 26 92 29
    # sorted: 10 12 14 15 16 18 20 20 23 25 | 26 28 29 30 30 31 35 35 | 40 92
    # median: rank 10 -> 25; p90: rank ceil(18) = 18 -> 35.
    # Within (30 calendar days, moved by the pauses: v - p <= 30): the first 15 -> 15 of 20.
    assert figures["review"] == (20, 25, 35, 15, 20)
    assert figures["quality_check"] == (20, 1, 1, 20, 20)
    assert figures["endorsement"] == (20, 2, 2, 20, 20)
    assert figures["decision"] == (20, 2, 2, 20, 20)
    assert figures["outcome"] == (20, 1, 1, 20, 20)
    assert {row["stage"]: row["share"] for row in rows}["review"] == 15 / 20


def test_stage_durations_count_only_visits_that_left_in_the_period(cases):
    rows = stage_durations(start=dt.date(2027, 3, 1), end=dt.date(2027, 3, 9))
    # Receivability visits that left by 9 March: r <= 8, the first 19 of the sorted list above:
    #   1 1 1 1 | 2 2 2 2 2 | 3 3 3 3 | 4 4 | 7 | 8 8 8
    # median: rank ceil(19/2) = 10 -> 3; p90: rank ceil(17.1) = 18 -> 8; within: all but
    # Nairobi's r = 8 (due 8 March) -> 18 of 19.
    assert by_stage(rows)["receivability"] == (19, 3, 8, 18, 19)


def test_stage_durations_filter_on_the_case(cases):
    rows = by_stage(stage_durations(**YEAR, office="Nairobi Hub"))
    # Nairobi's receivability days 3, 8, 9, 1 -> sorted 1 3 8 9: median rank 2 -> 3, p90 rank
    # ceil(3.6) = 4 -> 9; within (due 8 March, no holiday in Nairobi: r <= 7): 2 of 4.
    assert rows["receivability"] == (4, 3, 9, 2, 4)
    # Review 14, 26, 92, 29 -> 14 26 29 92: median rank 2 -> 26, p90 rank 4 -> 92; within 3 of 4.
    assert rows["review"] == (4, 26, 92, 3, 4)
    assert by_stage(stage_durations(**YEAR, region="Africa")) == rows
    assert by_stage(stage_durations(**YEAR, cycle=2025))["review"] == (0, None, None, 0, 0)


def test_end_to_end_counts_closed_cases_less_their_pauses(cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        figures = end_to_end(**YEAR)
    # r + 8 + v - p for the 20 full cases (withdrawn and open cases do not count):
    #   19 21 25 30 35 39 41 43 47 55 46 51 33 41 40 30 25 42 109 38
    # sorted: 19 21 25 25 30 30 33 35 38 39 | 40 41 41 42 43 46 47 51 | 55 109
    # median: rank 10 -> 39; p90: rank 18 -> 51; within the 90-day case target: 19 of 20.
    assert (figures["count"], figures["median_days"], figures["p90_days"]) == (20, 39, 51)
    assert (figures["within_target"], figures["with_target"], figures["share"]) == (19, 20, 19 / 20)
    nairobi = end_to_end(**YEAR, office="Nairobi Hub", contract_type="fixed_term")
    # 25 42 109 38 -> 25 38 42 109: median rank 2 -> 38, p90 rank 4 -> 109; 3 of 4 within.
    assert (nairobi["count"], nairobi["median_days"], nairobi["p90_days"], nairobi["within_target"]) == (
        4,
        38,
        109,
        3,
    )
    # Closed by 20 March: only the first case (day 1 + 8 + 10 = 19 is 20 March; the next is day 21).
    march = end_to_end(start=dt.date(2027, 3, 1), end=dt.date(2027, 3, 20))
    assert (march["count"], march["median_days"], march["p90_days"]) == (1, 19, 19)
    assert end_to_end(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))["count"] == 0


def test_each_open_case_has_exactly_one_open_visit(cases):
    open_visits = dict(
        StageVisit.objects.filter(left_at__isnull=True).values_list("case_id", "stage").order_by("case_id")
    )
    waiting, reviewing = cases["open"]
    assert open_visits == {waiting.pk: "assignment", reviewing.pk: "review"}
    # Submitted and screening are one stay in receivability; each case's visits follow each other.
    first = cases["full"][10]
    visits = list(StageVisit.objects.filter(case=first).order_by("entered_at"))
    assert [v.status for v in visits] == [
        "submitted",
        "awaiting_assignment",
        "reviewer_invited",
        "under_review",
        "recommendation_submitted",
        "awaiting_endorsement",
        "awaiting_decision",
        "decided",
    ]
    assert all(a.left_at == b.entered_at for a, b in zip(visits, visits[1:], strict=False))
    review = visits[3]
    # Entered on day 10 (11 March), due 30 days later (10 April), left on day 8 + 2 + 36 = 46
    # (16 April): 36 days less the 6 paused -> 30, within the due date pushed to 16 April.
    assert (review.due_on, review.paused_days, review.elapsed_days, review.within_target) == (
        dt.date(2027, 4, 10),
        6,
        30,
        True,
    )
    assert (visits[0].due_on, visits[0].elapsed_days, visits[0].within_target) == (
        dt.date(2027, 3, 9),
        8,
        True,
    )


def test_the_backfill_rebuilds_the_visits_the_hook_wrote(cases):
    fields = (
        "case_id",
        "stage",
        "status",
        "entered_at",
        "left_at",
        "due_on",
        "paused_days",
        "elapsed_days",
        "within_target",
    )
    written = list(StageVisit.objects.order_by("case_id", "entered_at").values_list(*fields))
    assert len(written) == 20 * 8 + 2 + 2 + 4
    StageVisit.objects.all().delete()
    migration = importlib.import_module("reports.migrations.0004_backfill_stage_visits")
    migration.rebuild_stage_visits(apps, None)
    assert list(StageVisit.objects.order_by("case_id", "entered_at").values_list(*fields)) == written


def test_the_hook_reads_closes_and_opens_a_visit_in_three_queries(requester, hr):
    case = advance(make_case(requester), to="screening", requester=requester, hr=hr)
    with CaptureQueriesContext(connection) as queries:
        advance(case, to="awaiting_assignment", requester=requester, hr=hr)
    assert len([q for q in queries if "reports_stagevisit" in q["sql"]]) == 3
    visits = StageVisit.objects.filter(case=case).order_by("entered_at")
    assert [(v.stage, v.left_at is None) for v in visits] == [("receivability", False), ("assignment", True)]
