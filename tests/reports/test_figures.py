"""Every report figure (``reports.figures``, and days per stage and end to end from
``reports.stage_figures``) against values counted by hand on one fixture.

The fixture files 62 requests through the services, each step on a known day
(10:00 UTC unless a time is given), in four offices, two regions, two appraisal
cycles and five contract types. Cases 1-42 stop at every state along the way;
cases 43-62 run the whole path to closure, one step a day or more, eight of them
with document requests that pause the review clock (answered before the case
moves on), and the Geneva Office is closed on Friday 6 March 2026, which moves
one receivability due date (43 against Nairobi's 44). The main period is March
2026; "today" for open cases is 30 April 2026. Every expected number below is
counted from the table ``ROWS`` by hand, with the case numbers that make it up
(and the arithmetic) in a comment.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rebuttal import consultation
from rebuttal.models import ClockPause, Holiday, Office, RebuttalCase
from rebuttal.permissions import ROLE_GROUPS
from reports import exports, figures, tally
from reports.figures import Scope
from reports.models import CaseDuration, FailedRule, StageVisit, Tally
from reports.stage_figures import end_to_end, stage_durations
from reviewers.models import RetainerContract
from tests.factories import UserFactory, advance, ensure_default_policy, make_case, reviewer_profile
from workflow.services import case_act

GVA = ("Geneva Office", "Europe")
VIE = ("Vienna Office", "Europe")
NBO = ("Nairobi Office", "Africa")
NYC = ("New York Office", "Americas")

MARCH = Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
TODAY = dt.date(2026, 4, 30)


def when(stamp: str) -> dt.datetime:
    """``"03-05"`` is 5 March 2026 at 10:00 UTC; ``"03-31T23:30"`` gives the time too."""
    day, _, time = stamp.partition("T")
    hour, minute = (int(part) for part in (time or "10:00").split(":"))
    month, date = (int(part) for part in day.split("-"))
    return dt.datetime(2026, month, date, hour, minute, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Row:
    """One request: filed on ``filed`` (submitted unless ``draft``), then each ``(day, state)`` step.

    ``late``: the appraisal was signed 30 days before filing (the filing window fails).
    ``decided`` reaches a decision of ``final``; ``closed`` issues the outcome letter.
    ``pauses``: ``(asked, answered)`` days of document requests to the requester while under
    review; the stage clock stands still from one to the other.
    """

    n: int
    filed: str
    office: tuple[str, str]
    cycle: int
    steps: tuple[tuple[str, str], ...] = ()
    contract: str = "permanent"
    months: int = 24
    rating: str = "partially_meets"
    late: bool = False
    reviewer: str = "rita"
    final: str = "successfully_meets"
    draft: bool = False
    pauses: tuple[tuple[str, str], ...] = ()


def _day(stamp: str, plus: int = 0) -> str:
    moved = when(stamp).date() + dt.timedelta(days=plus)
    return f"{moved.month:02d}-{moved.day:02d}"


def full(accepted: str, invited: str, reviewing: str, recommended: str) -> tuple[tuple[str, str], ...]:
    """The whole path to closure: accepted as receivable, reviewer invited, review accepted,
    recommendation in; then forwarded 1 day after it, endorsed 3, decided 5, closed 6.

    So quality check takes 1 day, endorsement 2, decision 2 and the outcome letter 1.
    """
    return (
        (accepted, "awaiting_assignment"),
        (invited, "reviewer_invited"),
        (reviewing, "under_review"),
        (recommended, "recommendation_submitted"),
        (_day(recommended, 1), "awaiting_endorsement"),
        (_day(recommended, 3), "awaiting_decision"),
        (_day(recommended, 5), "decided"),
        (_day(recommended, 6), "closed"),
    )


# fmt: off
ROWS = [
    # Filed before the period.
    Row(1, "02-10", GVA, 2025,
        (("02-12", "awaiting_assignment"), ("03-05", "decided"), ("03-06", "closed"))),  # +1
    Row(2, "02-12", NBO, 2025, (("02-13", "awaiting_assignment"), ("03-10", "decided")),
        contract="continuing", rating="does_not_meet"),  # +2
    Row(3, "02-14", NYC, 2025, (("02-16", "awaiting_assignment"), ("03-12", "decided")),
        reviewer="ruth", final="partially_meets"),  # maintained
    Row(4, "02-20", GVA, 2025, (("02-27", "under_review"),), contract="fixed_term"),
    Row(5, "02-26", VIE, 2024, (("03-02", "not_receivable"),), late=True),
    Row(6, "02-28T23:00", NBO, 2025, (("03-01", "awaiting_assignment"),), contract="ica"),  # the day before
    # Filed in March.
    Row(7, "03-01T00:30", GVA, 2025,
        (("03-03", "awaiting_assignment"), ("03-25", "decided"))),  # +1, the first day just past midnight
    Row(8, "03-02", GVA, 2025, (("03-04", "awaiting_assignment"), ("03-26", "decided")),
        rating="does_not_meet", reviewer="ruth", final="partially_meets"),  # +1
    Row(9, "03-03", GVA, 2024, (("03-05", "awaiting_assignment"), ("03-27", "decided")),
        contract="fixed_term", final="partially_meets"),  # maintained
    Row(10, "03-04", VIE, 2025, (("03-06", "awaiting_assignment"), ("03-30", "decided")),
        contract="continuing", rating="does_not_meet", reviewer="ruth"),  # +2
    Row(11, "03-05", VIE, 2025, (("03-06", "awaiting_assignment"), ("04-02", "decided"))),  # +1, in April
    Row(12, "03-06", NBO, 2025, (("03-09", "not_receivable"),), contract="temporary"),
    Row(13, "03-07", NBO, 2025, (("03-10", "not_receivable"),), contract="temporary", late=True),
    Row(14, "03-08", NBO, 2024, (("03-11", "not_receivable"),), late=True),
    Row(15, "03-09", NYC, 2025, (("03-12", "not_receivable"),), late=True),
    Row(16, "03-10", NYC, 2025, (("03-11", "withdrawn"),)),
    Row(17, "03-11", GVA, 2025, (("03-12", "reviewer_invited"), ("03-20", "withdrawn"))),
    Row(18, "03-12", VIE, 2024, (("03-13", "under_review"), ("04-03", "withdrawn")),
        contract="continuing", reviewer="ruth"),
    Row(19, "03-13", NYC, 2025, (("03-16", "under_review"),), contract="fixed_term"),
    Row(20, "03-14", NYC, 2025, (("03-16", "awaiting_assignment"),), contract="fixed_term", months=6),
    Row(21, "03-15", GVA, 2025, (("03-17", "recommendation_submitted"),),
        contract="ica", rating="does_not_meet"),
    Row(22, "03-16", GVA, 2025, (("03-18", "screening"),)),
    Row(23, "03-17", VIE, 2025),
    Row(24, "03-18", NBO, 2025, (("03-20", "awaiting_decision"),), contract="continuing", reviewer="ruth"),
    Row(25, "03-19", NBO, 2024, (("03-20", "awaiting_assignment"), ("03-31", "decided")),
        reviewer="ruth"),  # +1, last day
    Row(26, "03-20", NYC, 2024, (("03-23", "awaiting_assignment"), ("04-01", "decided")),
        contract="ica"),  # +1, the day after
    Row(27, "03-23", GVA, 2025, (("03-31", "not_receivable"),), late=True),
    Row(28, "03-24", GVA, 2025, (("04-01", "not_receivable"),), late=True),
    Row(29, "03-25", VIE, 2025, (("03-26", "awaiting_assignment"),)),
    Row(30, "03-31T23:30", NYC, 2025),  # the last day, late in the evening
    # Filed after the period.
    Row(31, "04-01T00:30", NYC, 2025),  # the day after, just past midnight
    Row(32, "04-02", GVA, 2025, (("04-03", "awaiting_assignment"),)),
    Row(33, "04-05", NBO, 2025, (("04-06", "not_receivable"),), contract="temporary"),
    Row(34, "04-10", VIE, 2025, (("04-12", "withdrawn"),)),
    Row(35, "04-15", GVA, 2025, (("04-16", "awaiting_assignment"), ("04-28", "decided")),
        final="partially_meets"),  # maintained
    Row(36, "03-10", GVA, 2025, draft=True),  # never submitted
    # Filed long before.
    Row(37, "01-10", GVA, 2024, (("01-12", "awaiting_assignment"),)),
    Row(38, "01-20", NBO, 2024, (("01-21", "screening"),)),
    Row(39, "01-25", NYC, 2024,
        (("01-27", "awaiting_assignment"), ("02-20", "decided"), ("02-21", "closed"))),  # +1
    # Filed in March (added to fill the cycles).
    Row(40, "03-26", VIE, 2025, (("03-27", "awaiting_assignment"), ("03-30", "decided")),
        reviewer="ruth"),  # +1
    Row(41, "03-27", GVA, 2024, (("03-28", "reviewer_invited"),), contract="continuing", reviewer="ruth"),
    Row(42, "03-28", NBO, 2025, (("03-30", "not_receivable"),), contract="ica", late=True),
    # The whole path to closure, with document requests (pauses) and the Geneva closure on
    # Friday 6 March. Columns of ``full``: accepted, invited, review accepted, recommendation;
    # the tail (forwarded, endorsed, decided, closed) is recommendation + 1, 3, 5, 6 days.
    # Days per stage (calendar days between the local dates, less the paused days):
    #   n   filed  rec  asg  acc  review (less pauses)     decided closed  end to end
    #   43  03-02   8    1    1    8                       03-25   03-26   24
    #   44  03-02   8    1    1   10                       03-27   03-28   26
    #   45  03-02   1    1    1   14 - 5 = 9               03-24   03-25   23 - 5 = 18
    #   46  03-03   1    1    1   14 - (2 + 3) = 9         03-25   03-26   23 - 5 = 18
    #   47  02-02   2    1    1   32 - 6 = 26              03-15   03-16   42 - 6 = 36
    #   48  02-09   1    1    1   33 (late)                03-22   03-23   42
    #   49  03-01   1    1    1    5                       03-14   03-15   14
    #   50  03-03   2    4    1    8 - 2 = 6               03-23   03-24   21 - 2 = 19
    #   51  03-04   2    1    1    5                       03-18   03-19   15
    #   52  03-05   4    1    1   13 - 7 = 6               03-29   03-30   25 - 7 = 18
    #   53  03-05   1   10    1    6                       03-28   03-29   24
    #   54  03-06   3    1    1    5                       03-21   03-22   16
    #   55  03-09   1    1    2   12 - 2 = 10              03-30   03-31   22 - 2 = 20
    #   56  03-09   2    1    1    6                       03-24   03-25   16
    #   57  03-10   1    1    1   11 - 4 = 7               03-29   03-30   20 - 4 = 16
    #   58  03-10   2    1    1    7                       03-26   03-27   17
    #   59  03-11   1    1    1    3                       03-22   03-23   12
    #   60  03-12   4    1    1    5                       03-28   03-29   17
    #   61  03-16   1    1    1    5                       03-29   03-30   14
    #   62  03-16   2    1    1    5 - 2 = 3               03-30   03-31   15 - 2 = 13
    # (end to end = rec + asg + acc + review + 6, the tail's 1 + 2 + 2 + 1.)
    Row(43, "03-02", GVA, 2025, full("03-10", "03-11", "03-12", "03-20")),  # +1; due 10 Mar (closure)
    Row(44, "03-02", NBO, 2025, full("03-10", "03-11", "03-12", "03-22"),
        reviewer="ruth", final="partially_meets"),  # maintained; due 9 Mar: one day late
    Row(45, "03-02", VIE, 2025, full("03-03", "03-04", "03-05", "03-19"),
        contract="continuing", rating="does_not_meet", pauses=(("03-07", "03-12"),)),  # +2
    Row(46, "03-03", GVA, 2024, full("03-04", "03-05", "03-06", "03-20"),
        contract="fixed_term", reviewer="ruth", pauses=(("03-08", "03-10"), ("03-12", "03-15"))),  # +1
    Row(47, "02-02", NYC, 2025, full("02-04", "02-05", "02-06", "03-10"),
        pauses=(("02-10", "02-16"),)),  # +1; review due 8 Mar, pushed 6 days to 14 Mar: within
    Row(48, "02-09", GVA, 2025, full("02-10", "02-11", "02-12", "03-17"),
        rating="does_not_meet", reviewer="ruth", final="partially_meets"),  # +1; review due 14 Mar
    Row(49, "03-01", NBO, 2024, full("03-02", "03-03", "03-04", "03-09"),
        contract="ica", final="exceeds"),  # +2
    Row(50, "03-03", VIE, 2025, full("03-05", "03-09", "03-10", "03-18"),
        rating="does_not_meet", reviewer="ruth", final="exceeds", pauses=(("03-11", "03-13"),)),  # +3
    Row(51, "03-04", NYC, 2024, full("03-06", "03-07", "03-08", "03-13"),
        contract="continuing", final="does_not_meet"),  # -1
    Row(52, "03-05", GVA, 2025, full("03-09", "03-10", "03-11", "03-24"),
        contract="ica", pauses=(("03-12", "03-19"),)),  # +1
    Row(53, "03-05", NBO, 2025, full("03-06", "03-16", "03-17", "03-23"),
        contract="fixed_term", reviewer="ruth", final="partially_meets"),  # maintained
    Row(54, "03-06", VIE, 2024, full("03-09", "03-10", "03-11", "03-16")),  # +1
    Row(55, "03-09", GVA, 2025, full("03-10", "03-11", "03-13", "03-25"),
        rating="does_not_meet", reviewer="ruth", pauses=(("03-14", "03-16"),)),  # +2
    Row(56, "03-09", NYC, 2025, full("03-11", "03-12", "03-13", "03-19"),
        contract="fixed_term", reviewer="ruth"),  # +1
    Row(57, "03-10", NBO, 2025, full("03-11", "03-12", "03-13", "03-24"),
        contract="continuing", pauses=(("03-16", "03-20"),)),  # +1
    Row(58, "03-10", GVA, 2024, full("03-12", "03-13", "03-14", "03-21"),
        final="partially_meets"),  # maintained
    Row(59, "03-11", VIE, 2025, full("03-12", "03-13", "03-14", "03-17"),
        contract="ica", rating="does_not_meet", reviewer="ruth", final="partially_meets"),  # +1
    Row(60, "03-12", NYC, 2025, full("03-16", "03-17", "03-18", "03-23")),  # +1
    Row(61, "03-16", GVA, 2025, full("03-17", "03-18", "03-19", "03-24"),
        contract="continuing", reviewer="ruth"),  # +1
    Row(62, "03-16", NBO, 2024, full("03-18", "03-19", "03-20", "03-25"),
        rating="does_not_meet", final="partially_meets", pauses=(("03-21", "03-23"),)),  # +1
]
# fmt: on


def _file(row: Row, people: dict[str, Any]) -> Any:
    requester = UserFactory(username=f"requester{row.n}")
    filed = when(row.filed)
    with time_machine.travel(filed, tick=False):
        signed = timezone.localdate() - dt.timedelta(days=30 if row.late else 1)
        case = make_case(
            requester,
            office=row.office[0],
            region=row.office[1],
            appraisal_cycle=row.cycle,
            contract_type=row.contract,
            appointment_months=row.months if row.contract == "fixed_term" else None,
            original_rating=row.rating,
            appraisal_signed_on=signed,
        )
        if row.draft:
            return case
        case = advance(case, to="submitted", requester=requester)
    cast = {
        "requester": requester,
        "hr": people["hr"],
        "reviewer": people[row.reviewer],
        "endorser": people["endorser"],
        "decision_maker": people["decision_maker"],
    }
    # Document requests are asked and answered between the steps, on their own days.
    events = [(when(day), 1, ("step", state)) for day, state in row.steps]
    for asked, answered in row.pauses:
        events += [(when(asked), 0, ("ask", asked)), (when(answered), 0, ("answer", asked))]
    requests: dict[str, Any] = {}
    for moment, _, (kind, state) in sorted(events, key=lambda event: event[:2]):
        with time_machine.travel(moment, tick=False):
            if kind == "ask":
                requests[state] = consultation.document_request_create(
                    case_id=case.pk, actor=people[row.reviewer], addressee="requester", what="The workplan."
                )
                case.refresh_from_db()
            elif kind == "answer":
                consultation.document_request_answer(
                    request_id=requests[state].pk, actor=requester, answer="Attached."
                )
                case.refresh_from_db()
            elif state == "decided":
                case = advance(case, to="awaiting_decision", **cast)
                data = {
                    "final_rating": row.final,
                    "follows_recommendation": row.final == "successfully_meets",
                    "reasons": "Decided in test.",
                }
                case = case_act(
                    case_id=case.pk,
                    name="decide",
                    actor=people["decision_maker"],
                    version=case.version,
                    data=data,
                )
            else:
                case = advance(case, to=state, **cast)
    case.refresh_from_db()
    return case


def _person(groups: dict[str, Any], username: str, *names: str) -> Any:
    user = UserFactory(username=username, email=f"{username}@example.org")
    for name in names:
        user.groups.add(groups[name])
    return user


def _people() -> dict[str, Any]:
    """HR, an endorser, a decision-maker and two reviewers on retainer: rita paid 1,500.00 USD a
    review, ruth 900.00 EUR."""
    ensure_default_policy()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}
    people = {
        "hr": _person(groups, "hana", "hr_specialist"),
        "rita": _person(groups, "rita", "reviewer"),
        "ruth": _person(groups, "ruth", "reviewer"),
        "endorser": _person(groups, "ethan", "endorser"),
        "decision_maker": _person(groups, "dora", "decision_maker"),
    }
    # The Geneva Office is closed on Friday 6 March: its business-day clocks skip that day.
    geneva = Office.objects.create(name=GVA[0], region=GVA[1])
    Holiday.objects.create(date=dt.date(2026, 3, 6), name="Office closure", office=geneva)
    with time_machine.travel(when("01-02"), tick=False):
        reviewer_profile(people["rita"])
        ruth = reviewer_profile(people["ruth"])
    RetainerContract.objects.filter(reviewer=ruth).update(currency="EUR", fee_per_review=Decimal("900"))
    return people


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """The 62 requests, filed once for the module in a transaction rolled back at its end.

    Each test's own transaction is a savepoint inside it, so what a test writes is
    undone as usual; filing the table costs seconds, so it is not redone per test.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        people = _people()
        built = {row.n: _file(row, people) for row in ROWS}
        yield {"people": people, "cases": built}
        transaction.set_rollback(True)


@pytest.fixture
def people(world, db) -> dict[str, Any]:  # noqa: ANN001
    return world["people"]


@pytest.fixture
def cases(world, db) -> dict[int, Any]:  # noqa: ANN001
    built = world["cases"]
    # The table does what it says (a wrong step would make every count below meaningless).
    assert built[1].status == "closed"
    assert built[17].status == "withdrawn"
    assert built[20].receivability_result is not None
    assert built[20].status == "awaiting_assignment"
    assert built[36].status == "draft"
    assert all(built[n].status == "closed" and built[n].paused_at is None for n in range(43, 63))
    # Each document request paused the clock once and was answered before the case moved on.
    paused = dict(
        ClockPause.objects.filter(case__in=[built[n] for n in range(43, 63)])
        .values("case_id")
        .annotate(days=Sum("days_added"), pauses=Count("pk"))
        .values_list("case_id", "days")
    )
    assert {n: paused[built[n].pk] for n in range(43, 63) if built[n].pk in paused} == {
        45: 5,  # 7 -> 12 Mar
        46: 5,  # 8 -> 10 Mar (2) and 12 -> 15 Mar (3)
        47: 6,  # 10 -> 16 Feb
        50: 2,
        52: 7,
        55: 2,
        57: 4,
        62: 2,
    }
    return built


# --- intake -------------------------------------------------------------------------
#
# The 20 cases of the full path (43-62) all pass screening; 47 and 48 were filed and
# screened in February, the other 18 in March (Row 43-62 in the table above).


def test_received_counts_cases_submitted_in_the_period(cases) -> None:  # noqa: ANN001
    # 7-30 (24 cases) and 40, 41, 42: 27; not 6 (28 Feb, 23:00), 31 (1 Apr, 00:30) or the draft 36.
    # New: 43-46 and 49-62 (18; 47 and 48 were filed in February). 27 + 18 = 45.
    assert figures.received(scope=MARCH) == 45


def test_received_period_edges(cases) -> None:  # noqa: ANN001
    # A case filed on the last day counts (30); one filed the day after does not (31).
    assert figures.received(scope=Scope(start=dt.date(2026, 3, 31), end=dt.date(2026, 3, 31))) == 1  # 30
    assert figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 1))) == 1  # 31
    # 7 (00:30) and 49 (10:00).
    assert figures.received(scope=Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))) == 2
    assert figures.received(scope=Scope(start=dt.date(2026, 2, 28), end=dt.date(2026, 2, 28))) == 1  # 6
    # April: 31, 32, 33, 34, 35.
    assert figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))) == 5
    # February: 1, 2, 3, 4, 5, 6 and the new 47 (2 Feb) and 48 (9 Feb).
    assert figures.received(scope=Scope(start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))) == 8


def test_received_counts_local_days(cases) -> None:  # noqa: ANN001
    # In Auckland (UTC+13 in March) 6 was filed on 1 March at noon, and 30 on 1 April;
    # 49 (1 March, 10:00 UTC) is 23:00 there, still 1 March.
    with timezone.override("Pacific/Auckland"):
        assert (
            figures.received(scope=Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))) == 3
        )  # 6, 7, 49
        assert (
            figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 1))) == 2
        )  # 30, 31
        assert figures.received(scope=MARCH) == 45  # 6 comes in, 30 goes out: 45 + 1 - 1


def test_received_filters(cases) -> None:  # noqa: ANN001
    # Geneva: 7, 8, 9, 17, 21, 22, 27, 28, 41 (9) + 43, 46, 52, 55, 58, 61 (6; not 48, February) = 15.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office")) == 15
    # Europe: Geneva's 15, Vienna's 10, 11, 18, 23, 29, 40 (6) and 45, 50, 54, 59 (4) = 25.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, region="Europe")) == 25
    # Cycle 2024: 9, 14, 18, 25, 26, 41 (6) + 46, 49, 51, 54, 58, 62 (6) = 12.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == 12
    # Fixed-term: 9, 19, 20 + 46, 53, 56 = 6.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, contract_type="fixed_term")) == 6
    # Geneva in cycle 2024: 9, 41 + 46, 58 = 4.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office", cycle=2024)) == 4


def test_receivability_counts_decisions_taken_in_the_period(cases) -> None:  # noqa: ANN001
    # Receivable in March: 6 (1 Mar), 7, 8, 9, 10, 11, 17, 18, 19, 20, 21, 24, 25, 26, 29, 40, 41 (17)
    # and the 18 new ones filed in March (43-46, 49-62; 47 and 48 were accepted in February): 35.
    # Not receivable in March: 5 (filed in Feb), 12, 13, 14, 15, 27 (31 Mar), 42; not 28 (1 Apr): 7.
    assert figures.receivability(scope=MARCH) == {
        "screened": 42,  # 35 + 7
        "receivable": 35,
        "not_receivable": 7,
        "rate": 0.8333,  # 35 / 42 = 0.83333...
    }
    # Geneva: 7, 8, 9, 17, 21, 41 + 43, 46, 52, 55, 58, 61 receivable (12); 27 not.
    assert figures.receivability(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office")) == {
        "screened": 13,
        "receivable": 12,
        "not_receivable": 1,
        "rate": 0.9231,  # 12 / 13 = 0.923076...
    }
    # Temporary appointments: 12 and 13, both not receivable (no new case is temporary).
    assert figures.receivability(scope=Scope(MARCH.start, MARCH.end, contract_type="temporary")) == {
        "screened": 2,
        "receivable": 0,
        "not_receivable": 2,
        "rate": 0.0,
    }
    # The last day: 27 only; the day after: 28 (not receivable) only.
    last = figures.receivability(scope=Scope(MARCH.end, MARCH.end))
    assert (last["receivable"], last["not_receivable"]) == (0, 1)
    after = figures.receivability(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 1)))
    assert (after["receivable"], after["not_receivable"]) == (0, 1)


def test_receivability_rate_is_none_when_nothing_was_screened(cases) -> None:  # noqa: ANN001
    # Nobody was screened on Sunday 1 February (47 was accepted on 4 Feb, 48 on 10 Feb).
    assert figures.receivability(scope=Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 1))) == {
        "screened": 0,
        "receivable": 0,
        "not_receivable": 0,
        "rate": None,
    }


def test_withdrawn_counts_withdrawals_in_the_period(cases) -> None:  # noqa: ANN001
    # 16 (11 Mar) and 17 (20 Mar); 18 (3 Apr) and 34 (12 Apr) are April's. No new case withdrew.
    assert figures.withdrawn(scope=MARCH) == 2
    assert figures.withdrawn(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 30))) == 2
    assert figures.withdrawn(scope=Scope(MARCH.start, MARCH.end, office="New York Office")) == 1  # 16
    assert figures.withdrawn(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == 0


# --- outcomes -----------------------------------------------------------------------


def test_outcomes_maintained_and_revised_by_steps(cases) -> None:  # noqa: ANN001
    # Decided in March: 1, 2, 3, 7, 8, 9, 10, 25 (31 Mar), 40 (9); not 26 (1 Apr), 11, 35 or 39.
    # Maintained: 3, 9. One step up: 1, 7, 8 (does not meet -> partially), 25, 40. Two: 2, 10.
    # New, all 20 decided in March (scale: exceeds 0, successfully 1, partially 2, does not meet 3):
    #   maintained: 44, 53, 58 (3)
    #   +1: 43, 46, 47, 48, 52, 54, 56, 57, 59, 60, 61, 62 (12)
    #   +2: 45 (3 -> 1), 49 (2 -> 0), 55 (3 -> 1) (3); +3: 50 (3 -> 0); -1: 51 (2 -> 3)
    assert figures.outcomes(scope=MARCH) == {
        "decided": 29,  # 9 + 20
        "maintained": 5,  # 2 + 3
        "revised": 24,  # 7 + 17
        "revised_by_steps": {"-1": 1, "1": 17, "2": 5, "3": 1},  # 1: 5 + 12; 2: 2 + 3
    }


def test_outcomes_filters_and_edges(cases) -> None:  # noqa: ANN001
    # Europe: Geneva's 1 (+1), 7 (+1), 8 (+1), 9 (maintained); Vienna's 10 (+2), 40 (+1);
    # new Geneva 43 (+1), 46 (+1), 48 (+1), 52 (+1), 55 (+2), 58 (maintained), 61 (+1);
    # new Vienna 45 (+2), 50 (+3), 54 (+1), 59 (+1). 6 + 7 + 4 = 17.
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, region="Europe")) == {
        "decided": 17,
        "maintained": 2,  # 9, 58
        "revised": 15,
        "revised_by_steps": {"1": 11, "2": 3, "3": 1},  # 1: 4 + 7; 2: 10, 55, 45; 3: 50
    }
    # Cycle 2024: 9 (maintained), 25 (+1); new 46 (+1), 49 (+2), 51 (-1), 54 (+1), 58 (maintained),
    # 62 (+1).
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == {
        "decided": 8,
        "maintained": 2,  # 9, 58
        "revised": 6,
        "revised_by_steps": {"-1": 1, "1": 4, "2": 1},  # -1: 51; 1: 25, 46, 54, 62; 2: 49
    }
    # Decided on the last day: 25 (55 and 62 were decided on 30 March); the day after: 26.
    assert figures.outcomes(scope=Scope(MARCH.end, MARCH.end))["decided"] == 1
    assert figures.outcomes(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 1)))["revised_by_steps"] == {
        "1": 1
    }
    # Continuing appointments: 2 (+2), 10 (+2); new 45 (+2), 51 (-1), 57 (+1), 61 (+1).
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, contract_type="continuing")) == {
        "decided": 6,
        "maintained": 0,
        "revised": 6,
        "revised_by_steps": {"-1": 1, "1": 2, "2": 3},
    }


# --- open cases ---------------------------------------------------------------------
#
# The 20 new cases are all closed, so the open cases are the first table's alone.


def test_open_cases_by_state_and_age(cases) -> None:  # noqa: ANN001
    result = figures.open_cases(scope=MARCH, today=TODAY)
    # Open: everything filed but not closed (1, 39, 43-62), not receivable or withdrawn; not the
    # draft 36.
    assert result["by_state"] == {
        "awaiting_assignment": 5,  # 6, 20, 29, 32, 37
        "awaiting_decision": 1,  # 24
        "decided": 11,  # 2, 3, 7, 8, 9, 10, 11, 25, 26, 35, 40 (no outcome letter yet)
        "recommendation_submitted": 1,  # 21
        "reviewer_invited": 1,  # 41
        "screening": 2,  # 22, 38
        "submitted": 3,  # 23, 30, 31
        "under_review": 2,  # 4, 19
    }
    assert result["total"] == 26
    assert result["by_age"] == {
        "0-30": 4,  # 30 (31 Mar, 30 days), 31, 32, 35
        "31-60": 16,  # 7 (1 Mar, 60 days) to 29, and 40, 41: 7-11, 19-26, 29, 40, 41
        "61-90": 4,  # 2, 3, 4, 6 (28 Feb, 61 days)
        "over_90": 2,  # 37, 38
    }
    assert result["by_state_and_age"]["screening"] == {"0-30": 0, "31-60": 1, "61-90": 0, "over_90": 1}


def test_open_cases_filters(cases) -> None:  # noqa: ANN001
    # Geneva: 4, 7, 8, 9, 21, 22, 32, 35, 37, 41 (1 and 43, 46, 48, 52, 55, 58, 61 are closed,
    # 17 withdrawn, 27 and 28 not receivable).
    geneva = figures.open_cases(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office"), today=TODAY)
    assert geneva["total"] == 10
    # 32, 35 | 7, 8, 9, 21, 22, 41 | 4 | 37
    assert geneva["by_age"] == {"0-30": 2, "31-60": 6, "61-90": 1, "over_90": 1}
    # Cycle 2024: 9, 25, 26, 37, 38, 41.
    assert figures.open_cases(scope=Scope(MARCH.start, MARCH.end, cycle=2024), today=TODAY)["total"] == 6


# --- reviewers ----------------------------------------------------------------------
#
# Reviewers of the new cases: rita 43, 45, 47, 49, 51, 52, 54, 57, 58, 60, 62 (11);
# ruth 44, 46, 48, 50, 53, 55, 56, 59, 61 (9). All 20 were decided (completed) in March.


def test_reviewer_workload(cases, people) -> None:  # noqa: ANN001
    rita = people["rita"].reviewer_profile.pk
    ruth = people["ruth"].reviewer_profile.pk
    assert figures.reviewer_workload(scope=MARCH) == [
        # Open: 4, 19 (accepted), 21 (report in). Completed in March: 1, 2, 7, 9 (11, 26 in April)
        # and her 11 new ones: 4 + 11 = 15.
        {"reviewer_id": rita, "reviewer": "rita", "open": 3, "completed": 15},
        # Open: 24 (report in), 41 (invited). Completed in March: 3, 8, 10, 25, 40 and her 9 new
        # ones: 5 + 9 = 14.
        {"reviewer_id": ruth, "reviewer": "ruth", "open": 2, "completed": 14},
    ]
    assert figures.reviewer_workload(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == [
        {"reviewer_id": rita, "reviewer": "rita", "open": 0, "completed": 6},  # 9, 49, 51, 54, 58, 62
        {"reviewer_id": ruth, "reviewer": "ruth", "open": 1, "completed": 2},  # 41 | 25, 46
    ]
    # April: rita completed 11, 26, 35; ruth none (her April withdrawal, 18, is no completion).
    april = figures.reviewer_workload(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 30)))
    assert [(row["reviewer"], row["open"], row["completed"]) for row in april] == [
        ("rita", 3, 3),
        ("ruth", 2, 0),
    ]


def test_fees_per_reviewer_and_currency(cases, people) -> None:  # noqa: ANN001
    rita = people["rita"].reviewer_profile.pk
    ruth = people["ruth"].reviewer_profile.pk
    assert figures.fees(scope=MARCH) == [
        # 1, 2, 7, 9 and 11 new: 15 at 1,500.00 USD = 22,500.00.
        {
            "reviewer_id": rita,
            "reviewer": "rita",
            "currency": "USD",
            "amount": Decimal("22500.00"),
            "lines": 15,
        },
        # 3, 8, 10, 25, 40 and 9 new: 14 at 900.00 EUR = 12,600.00.
        {
            "reviewer_id": ruth,
            "reviewer": "ruth",
            "currency": "EUR",
            "amount": Decimal("12600.00"),
            "lines": 14,
        },
    ]
    # Nairobi: rita 2, 49, 57, 62 (4 x 1,500); ruth 25 (on the last day), 44, 53 (3 x 900).
    nairobi = figures.fees(scope=Scope(MARCH.start, MARCH.end, office="Nairobi Office"))
    assert [(row["reviewer"], row["amount"], row["lines"]) for row in nairobi] == [
        ("rita", Decimal("6000.00"), 4),
        ("ruth", Decimal("2700.00"), 3),
    ]
    # February: 39 (rita); 47 and 48, filed in February, were decided in March.
    february = figures.fees(scope=Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    assert [(row["reviewer"], row["currency"], row["amount"], row["lines"]) for row in february] == [
        ("rita", "USD", Decimal("1500.00"), 1)
    ]


# --- trends -------------------------------------------------------------------------


def test_trends_across_cycles(cases) -> None:  # noqa: ANN001
    # New cases received in March by cycle and office (all pass every rule):
    #   2024: Geneva 46, 58; Nairobi 49, 62; New York 51; Vienna 54 (6)
    #   2025: Geneva 43, 52, 55, 61; Nairobi 44, 53, 57; Vienna 45, 50, 59; New York 56, 60 (12)
    assert figures.trends(scope=MARCH) == [
        {
            "cycle": 2024,
            "cases": 12,  # 9, 14, 18, 25, 26, 41 + 6
            "not_receivable": 1,  # 14
            "recurring_offices": [
                {"office": "Geneva Office", "cases": 4},  # 9, 41, 46, 58
                {"office": "Nairobi Office", "cases": 4},  # 14, 25, 49, 62
                {"office": "New York Office", "cases": 2},  # 26, 51
                {"office": "Vienna Office", "cases": 2},  # 18, 54
            ],
            "failed_rules": [{"rule": "filing_window", "cases": 1}],  # 14
        },
        {
            "cycle": 2025,
            "cases": 33,  # 21 + 12
            "not_receivable": 6,  # 12, 13, 15, 27, 28, 42
            "recurring_offices": [
                {"office": "Geneva Office", "cases": 11},  # 7, 8, 17, 21, 22, 27, 28 + 43, 52, 55, 61
                {"office": "Vienna Office", "cases": 8},  # 10, 11, 23, 29, 40 + 45, 50, 59
                # A tie at 7, in name order: Nairobi 12, 13, 24, 42 + 44, 53, 57;
                # New York 15, 16, 19, 20, 30 + 56, 60.
                {"office": "Nairobi Office", "cases": 7},
                {"office": "New York Office", "cases": 7},
            ],
            "failed_rules": [
                {"rule": "filing_window", "cases": 5},  # 13, 15, 27, 28, 42
                # 12, 13 (temporary) and 20 (6-month fixed term, accepted with an override).
                {"rule": "eligible_contract", "cases": 3},
            ],
        },
    ]


def test_trends_filtered_to_one_office(cases) -> None:  # noqa: ANN001
    # Nairobi in March: 2024: 14, 25, 49, 62; 2025: 12, 13, 24, 42, 44, 53, 57.
    assert figures.trends(scope=Scope(MARCH.start, MARCH.end, office="Nairobi Office")) == [
        {
            "cycle": 2024,
            "cases": 4,
            "not_receivable": 1,
            "recurring_offices": [{"office": "Nairobi Office", "cases": 4}],
            "failed_rules": [{"rule": "filing_window", "cases": 1}],  # 14
        },
        {
            "cycle": 2025,
            "cases": 7,
            "not_receivable": 3,  # 12, 13, 42
            "recurring_offices": [{"office": "Nairobi Office", "cases": 7}],
            # filing_window: 13, 42; eligible_contract: 12, 13 (a tie keeps the rulebook's order).
            "failed_rules": [
                {"rule": "filing_window", "cases": 2},
                {"rule": "eligible_contract", "cases": 2},
            ],
        },
    ]


# --- days per stage and end to end ---------------------------------------------------
#
# Every transition closes a stage visit (``reports.stage_visits``); a visit counts in the
# period when it left on one of its days. Steps taken on one day (the first table's jumps
# from assignment to a decision) leave visits of 0 days. Targets (policy v1): receivability,
# assignment, quality check and outcome 5 business days, endorsement and decision 10, acceptance
# 5 calendar days, review 30. Weekends are off; the Geneva Office is also closed on Friday
# 6 March. Nearest-rank percentiles: median at rank ceil(n/2), p90 at rank ceil(0.9 n).


def by_stage(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        row["stage"]: (
            row["count"],
            row["median_days"],
            row["p90_days"],
            row["within_target"],
            row["with_target"],
            row["share"],
        )
        for row in rows
    }


def test_stage_durations_over_the_period(cases) -> None:  # noqa: ANN001
    rows = stage_durations(start=MARCH.start, end=MARCH.end)
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
    got = by_stage(rows)
    # Receivability (filed -> accepted, rejected or withdrawn), visits that left in March:
    #   first table (25): 1 day: 6, 11, 16, 17, 18, 25, 29, 40, 41 (9); 2: 7, 8, 9, 10, 20, 21,
    #     24, 42 (8); 3: 12, 13, 14, 15, 19, 26 (6); 4: 5 (26 Feb -> 2 Mar); 8: 27 (23 -> 31 Mar)
    #   new (18; 47 and 48 left in February): 1 day: 45, 46, 49, 53, 55, 57, 59, 61 (8);
    #     2: 50, 51, 56, 58, 62 (5); 3: 54; 4: 52, 60; 8: 43, 44
    #   1 x17 (ranks 1-17), 2 x13 (18-30), 3 x7 (31-37), 4 x3 (38-40), 8 x3 (41-43)
    #   n = 43: median rank 22 -> 2; p90 rank ceil(38.7) = 39 -> 4.
    # Late: 27 (due Mon 30 Mar) and 44 (Nairobi, filed Mon 2 Mar, due Mon 9 Mar, accepted Tue 10).
    # 43 (Geneva, the same days) is within: the closure on 6 March moves its due date to 10 March.
    assert got["receivability"] == (43, 2, 4, 41, 43, 41 / 43)
    # Assignment (accepted -> invited): first table (15): 0 days: 17, 18, 19, 21, 24, 41 (6);
    #   3: 40 (27 -> 30 Mar, due 3 Apr); late: 25 (11), 1 (21), 7, 8, 9 (22), 3, 10 (24), 2 (25)
    #   new (18): 1 day x16, 4: 50 (Thu 5 -> Mon 9 Mar, due 12 Mar), 10: 53 (Fri 6 -> Mon 16, due 13,
    #   late)
    #   0 x6 (1-6), 1 x16 (7-22), 3 (23), 4 (24), 10 (25), 11 (26), 21 (27), 22 x3 (28-30),
    #   24 x2 (31-32), 25 (33). n = 33: median rank 17 -> 1; p90 rank ceil(29.7) = 30 -> 22.
    #   Within: 6 + 40 + 17 (all new but 53) = 24.
    assert got["assignment"] == (33, 1, 22, 24, 33, 24 / 33)
    # Acceptance (invited -> review accepted): first table (14): 0 days x13 (1, 2, 3, 7, 8, 9, 10,
    #   18, 19, 21, 24, 25, 40), 8: 17 (12 -> 20 Mar, due 17 Mar: late); new (18): 1 x17, 2: 55.
    #   0 x13 (1-13), 1 x17 (14-30), 2 (31), 8 (32). n = 32: median rank 16 -> 1, p90 rank
    #   ceil(28.8) = 29 -> 1. Within: 31.
    assert got["acceptance"] == (32, 1, 1, 31, 32, 31 / 32)
    # Review (less pauses): first table 0 x11 (1, 2, 3, 7, 8, 9, 10, 21, 24, 25, 40); new (20):
    #   3: 59, 62; 5: 49, 51, 54, 60, 61; 6: 50, 52, 53, 56; 7: 57, 58; 8: 43; 9: 45, 46;
    #   10: 44, 55; 26: 47; 33: 48
    #   0 x11 (1-11), 3 x2 (12-13), 5 x5 (14-18), 6 x4 (19-22), 7 x2 (23-24), 8 (25), 9 x2 (26-27),
    #   10 x2 (28-29), 26 (30), 33 (31). n = 31: median rank 16 -> 5; p90 rank ceil(27.9) = 28 -> 10.
    # Late: 48 only (12 Feb -> 17 Mar, due 14 Mar). 47 took 32 days but its 6 paused days pushed
    # the due date from 8 to 14 March, and it left on 10 March.
    assert got["review"] == (31, 5, 10, 30, 31, 30 / 31)
    # Quality check: first table 0 x10 (1, 2, 3, 7, 8, 9, 10, 24, 25, 40; 21 is still there),
    #   new 1 x20. n = 30: median rank 15 -> 1; p90 rank 27 -> 1.
    assert got["quality_check"] == (30, 1, 1, 30, 30, 1.0)
    # Endorsement: the same 10 at 0 days, new 2 x20. n = 30: ranks 15 and 27 -> 2.
    assert got["endorsement"] == (30, 2, 2, 30, 30, 1.0)
    # Decision: 0 x9 (1, 2, 3, 7, 8, 9, 10, 25, 40; 24 is still there), new 2 x20. n = 29:
    #   median rank 15 -> 2; p90 rank ceil(26.1) = 27 -> 2.
    assert got["decision"] == (29, 2, 2, 29, 29, 1.0)
    # Outcome letter: 1 (5 -> 6 Mar) and the 20 new, 1 day each.
    assert got["outcome"] == (21, 1, 1, 21, 21, 1.0)


def test_the_closure_and_the_pauses_move_the_due_dates(cases) -> None:  # noqa: ANN001
    def visit(n: int, stage: str) -> tuple[Any, ...]:
        row = StageVisit.objects.get(case=cases[n], stage=stage)
        return (row.due_on, row.paused_days, row.elapsed_days, row.within_target)

    # Filed Monday 2 March: 5 business days is Monday 9 March, or Tuesday 10 March in Geneva,
    # closed on Friday 6 March. Both accepted on Tuesday 10 March, 8 days later.
    assert visit(43, "receivability") == (dt.date(2026, 3, 10), 0, 8, True)
    assert visit(44, "receivability") == (dt.date(2026, 3, 9), 0, 8, False)
    # Review from 6 February: due 30 days later, 8 March; left on 10 March after 32 days, 6 of
    # them paused (10 -> 16 Feb), so 26, within (the due date as pushed by the pause is 14 March).
    assert visit(47, "review") == (dt.date(2026, 3, 8), 6, 26, True)
    # Review from 12 February, no pause: due 14 March, left 17 March after 33 days.
    assert visit(48, "review") == (dt.date(2026, 3, 14), 0, 33, False)
    # Two pauses in one review: 2 + 3 days; 6 -> 20 March is 14 days, less 5.
    assert visit(46, "review") == (dt.date(2026, 4, 5), 5, 9, True)


def test_stage_durations_filter_on_the_office(cases) -> None:  # noqa: ANN001
    geneva = by_stage(stage_durations(start=MARCH.start, end=MARCH.end, office="Geneva Office"))
    # Geneva's receivability in March: 1 day: 17, 41, 46, 55, 61; 2: 7, 8, 9, 21, 58; 4: 52;
    # 8: 27, 43. n = 13: median rank 7 -> 2; p90 rank ceil(11.7) = 12 -> 8. Late: 27 only.
    assert geneva["receivability"] == (13, 2, 8, 12, 13, 12 / 13)
    nairobi = by_stage(stage_durations(start=MARCH.start, end=MARCH.end, office="Nairobi Office"))
    # Nairobi's: 1 day: 6, 25, 49, 53, 57; 2: 24, 42, 62; 3: 12, 13, 14; 8: 44. n = 12: median
    # rank 6 -> 2; p90 rank ceil(10.8) = 11 -> 3. Late: 44 (no closure in Nairobi).
    assert nairobi["receivability"] == (12, 2, 3, 11, 12, 11 / 12)


def test_end_to_end_over_the_period(cases) -> None:  # noqa: ANN001
    result = end_to_end(start=MARCH.start, end=MARCH.end)
    # Closed in March: 1 (10 Feb -> 6 Mar, 24 days) and the 20 new (the table's last column):
    #   24 24 26 18 18 36 42 14 19 15 18 24 16 20 16 16 17 12 17 14 13
    # sorted: 12 13 14 14 15 16 16 16 17 17 | 18 18 18 19 20 24 24 24 26 | 36 42
    # n = 21: median rank 11 -> 18; p90 rank ceil(18.9) = 19 -> 26; all within 90 days.
    assert result == {
        "count": 21,
        "median_days": 18,
        "p90_days": 26,
        "within_target": 21,
        "with_target": 21,
        "share": 1.0,
    }
    # Geneva: 1 (24), 43 (24), 46 (18), 48 (42), 52 (18), 55 (20), 58 (17), 61 (14):
    # 14 17 18 18 20 24 24 42: median rank 4 -> 18; p90 rank ceil(7.2) = 8 -> 42.
    geneva = end_to_end(start=MARCH.start, end=MARCH.end, office="Geneva Office")
    assert (geneva["count"], geneva["median_days"], geneva["p90_days"], geneva["within_target"]) == (
        8,
        18,
        42,
        8,
    )
    # Closed on the last day: 55 (20) and 62 (13): median rank 1 -> 13, p90 rank 2 -> 20.
    last = end_to_end(start=MARCH.end, end=MARCH.end)
    assert (last["count"], last["median_days"], last["p90_days"]) == (2, 13, 20)
    # February: 39 closed on 21 February (25 Jan -> 21 Feb, 27 days).
    february = end_to_end(start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))
    assert (february["count"], february["median_days"], february["p90_days"]) == (1, 27, 27)


# --- all of it ----------------------------------------------------------------------


def test_summary_bundles_every_figure_as_json(cases) -> None:  # noqa: ANN001
    import json

    result = figures.summary(scope=MARCH, today=TODAY)
    assert json.loads(json.dumps(result)) == result
    assert result["scope"] == {
        "start": "2026-03-01",
        "end": "2026-03-31",
        "office": None,
        "region": None,
        "cycle": None,
        "contract_type": None,
    }
    assert result["today"] == "2026-04-30"
    assert result["received"] == 45
    assert result["withdrawn"] == 2
    assert result["receivability"]["rate"] == 0.8333
    assert result["outcomes"]["revised_by_steps"] == {"-1": 1, "1": 17, "2": 5, "3": 1}
    assert result["open_cases"]["total"] == 26
    assert [(line["currency"], line["amount"]) for line in result["fees"]] == [
        ("USD", "22500.00"),
        ("EUR", "12600.00"),
    ]
    assert [item["cycle"] for item in result["trends"]] == [2024, 2025]
    # The HR summary adds days per stage and end to end, the numbers worked out above.
    full_summary = exports.summary_figures(scope=MARCH, today=TODAY)
    stages = by_stage(full_summary["stage_durations"])
    assert stages["receivability"] == (43, 2, 4, 41, 43, 41 / 43)
    assert stages["review"] == (31, 5, 10, 30, 31, 30 / 31)
    assert (full_summary["end_to_end"]["count"], full_summary["end_to_end"]["median_days"]) == (21, 18)
    assert full_summary["received"] == 45


def test_scope_refuses_a_period_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="after it ends"):
        Scope(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 1))


# --- query counts -------------------------------------------------------------------


# The query-count test files its own cases, in an office of their own, apart from the table's.
BENCH = Scope(start=MARCH.start, end=MARCH.end, office="Bench Office")


def _file_mixed(count: int, start: int, people: dict[str, Any]) -> None:
    """``count`` requests in March from an office of their own, cycling through the main outcomes."""
    paths = ["not_receivable", "withdrawn", "under_review", "decided", "submitted"]
    for i in range(start, start + count):
        state = paths[i % len(paths)]
        row = Row(
            1000 + i,
            f"03-{1 + i % 20:02d}",
            ("Bench Office", "Europe"),
            2024 + i % 2,
            (("03-25", state),) if state != "submitted" else (),
            reviewer="rita" if i % 2 else "ruth",
        )
        _file(row, people)


def _query_counts() -> dict[str, int]:
    calls = {
        "received": lambda: figures.received(scope=BENCH),
        "receivability": lambda: figures.receivability(scope=BENCH),
        "withdrawn": lambda: figures.withdrawn(scope=BENCH),
        "outcomes": lambda: figures.outcomes(scope=BENCH),
        "open_cases": lambda: figures.open_cases(scope=BENCH, today=TODAY),
        "reviewer_workload": lambda: figures.reviewer_workload(scope=BENCH),
        "fees": lambda: figures.fees(scope=BENCH),
        "trends": lambda: figures.trends(scope=BENCH),
        "summary": lambda: figures.summary(scope=BENCH, today=TODAY),
    }
    counts = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as queries:
            call()
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_the_number_of_cases(people) -> None:  # noqa: ANN001
    _file_mixed(5, 0, people)
    few = _query_counts()
    assert figures.received(scope=BENCH) == 5
    _file_mixed(35, 5, people)
    many = _query_counts()
    assert figures.received(scope=BENCH) == 40
    assert many == few
    # One query each; outcomes also reads the rating scale; trends has two (counts per cycle and
    # office, failed rules per cycle from ``reports.FailedRule``); summary their sum,
    # 1 + 1 + 1 + 2 + 1 + 1 + 1 + 2 = 10.
    assert few == {
        "received": 1,
        "receivability": 1,
        "withdrawn": 1,
        "outcomes": 2,
        "open_cases": 1,
        "reviewer_workload": 1,
        "fees": 1,
        "trends": 2,
        "summary": 10,
    }


def test_outcomes_by_month(cases) -> None:  # noqa: ANN001
    # Decided outside March: 39 on 20 Feb (+1); 26 on 1 Apr (+1), 11 on 2 Apr (+1), 35 on 28 Apr
    # (maintained). March as in test_outcomes_maintained_and_revised_by_steps: 5 maintained, 24 revised.
    spring = Scope(start=dt.date(2026, 2, 1), end=dt.date(2026, 4, 30))
    assert figures.outcomes_by_month(scope=spring) == [
        {"month": "2026-02", "maintained": 0, "revised": 1},
        {"month": "2026-03", "maintained": 5, "revised": 24},
        {"month": "2026-04", "maintained": 1, "revised": 2},
    ]
    # Months cut by the period: 39 (20 Feb) falls before it, 11 and 35 after it; a month
    # without a decision (January) is left out.
    cut = Scope(start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 1))
    assert figures.outcomes_by_month(scope=Scope(start=dt.date(2026, 2, 21), end=dt.date(2026, 4, 1))) == [
        {"month": "2026-03", "maintained": 5, "revised": 24},
        {"month": "2026-04", "maintained": 0, "revised": 1},
    ]
    assert [row["month"] for row in figures.outcomes_by_month(scope=cut)] == ["2026-02", "2026-03", "2026-04"]
    # Each month's counts add up to the period's outcomes.
    total = figures.outcomes(scope=spring)
    by_month = figures.outcomes_by_month(scope=spring)
    assert sum(row["maintained"] for row in by_month) == total["maintained"] == 6
    assert sum(row["revised"] for row in by_month) == total["revised"] == 27


def test_outcomes_by_month_in_local_months(cases) -> None:  # noqa: ANN001
    # In Pago Pago (UTC-11) the decisions taken at 10:00 UTC fall the day before: 26 (1 Apr) moves
    # to 31 March and 35 (28 Apr) to the 27th; none of the others changes month.
    spring = Scope(start=dt.date(2026, 2, 1), end=dt.date(2026, 4, 30))
    with timezone.override("Pacific/Pago_Pago"):
        assert figures.outcomes_by_month(scope=spring) == [
            {"month": "2026-02", "maintained": 0, "revised": 1},
            {"month": "2026-03", "maintained": 5, "revised": 25},
            {"month": "2026-04", "maintained": 1, "revised": 1},
        ]


def test_the_backfill_keeps_the_durations_and_failed_rules_the_hook_wrote(cases) -> None:  # noqa: ANN001
    durations = list(CaseDuration.objects.order_by("case_id").values_list())
    failed = list(FailedRule.objects.order_by("case_id", "rule").values_list("case_id", "rule"))
    # Every case closed with an outcome has its duration.
    closed = RebuttalCase.objects.filter(status="closed").count()
    assert len(durations) == closed > 20
    # Filed late: 5, 13, 14, 15, 27, 28, 42; not an eligible contract: 12, 13, 20 (see the trends)
    # and 33 (temporary, filed in April).
    number = {case.pk: n for n, case in cases.items()}
    assert sorted((number[case_id], rule) for case_id, rule in failed) == sorted(
        [(n, "filing_window") for n in (5, 13, 14, 15, 27, 28, 42)]
        + [(n, "eligible_contract") for n in (12, 13, 20, 33)]
    )
    CaseDuration.objects.all().delete()
    FailedRule.objects.all().delete()
    migration = importlib.import_module("reports.migrations.0006_backfill_case_durations_and_failed_rules")
    migration.forwards(apps, None)
    assert list(CaseDuration.objects.order_by("case_id").values_list()) == durations
    assert list(FailedRule.objects.order_by("case_id", "rule").values_list("case_id", "rule")) == failed


# --- the running totals (``reports.tally``) ---------------------------------------------------

# Periods with whole months, edge days on either side, single days, one inside a month, a leap
# year's February, and ones reaching past the fixture on both sides.
PERIODS = [
    (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
    (dt.date(2026, 2, 1), dt.date(2026, 4, 30)),
    (dt.date(2026, 2, 15), dt.date(2026, 3, 10)),
    (dt.date(2026, 3, 9), dt.date(2026, 4, 2)),
    (dt.date(2026, 3, 5), dt.date(2026, 3, 5)),
    (dt.date(2026, 3, 31), dt.date(2026, 4, 1)),
    (dt.date(2025, 5, 1), dt.date(2026, 4, 30)),
    (dt.date(2025, 4, 30), dt.date(2026, 5, 1)),
    (dt.date(2024, 2, 29), dt.date(2026, 12, 31)),
]
FILTERS = [
    {},
    {"office": GVA[0]},
    {"office": NBO[0]},
    {"region": "Europe"},
    {"cycle": 2024},
    {"cycle": 2025},
    {"contract_type": "fixed_term"},
    {"office": GVA[0], "cycle": 2024},
    {"region": "Africa", "contract_type": "temporary"},
    {"office": "No Such Office"},
]


def _every_figure(scope: Scope) -> dict[str, Any]:
    filters = {
        "office": scope.office,
        "region": scope.region,
        "cycle": scope.cycle,
        "contract_type": scope.contract_type,
    }
    return {
        "summary": figures.summary(scope=scope, today=TODAY),
        "by_month": figures.outcomes_by_month(scope=scope),
        "stages": stage_durations(start=scope.start, end=scope.end, **filters),
        "end_to_end": end_to_end(start=scope.start, end=scope.end, **filters),
    }


def test_the_running_totals_equal_what_the_cases_add_up_to(cases) -> None:  # noqa: ANN001
    # Every transition of the 62 cases added its facts; worked out again from the cases, they agree.
    assert Tally.objects.exclude(n=0).count() > 300
    assert tally.differences() == []


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_every_figure_is_the_same_from_the_running_totals_and_from_the_cases(
    cases,  # noqa: ANN001
    monkeypatch,  # noqa: ANN001
    start: dt.date,
    end: dt.date,
) -> None:
    scopes = [Scope(start=start, end=end, **filters) for filters in FILTERS]
    from_totals = [_every_figure(scope) for scope in scopes]
    monkeypatch.setattr(tally, "usable", lambda: False)
    from_cases = [_every_figure(scope) for scope in scopes]
    for scope, kept, counted in zip(scopes, from_totals, from_cases, strict=True):
        assert kept == counted, scope
    # Not every comparison is of empty figures.
    assert any(figure["summary"]["received"] for figure in from_totals)
