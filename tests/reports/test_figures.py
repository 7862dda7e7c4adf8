"""The counting figures (``reports.figures``) against values counted by hand.

The fixture files 42 requests through the services, each step on a known day
(10:00 UTC unless a time is given), in four offices, two regions, two appraisal
cycles and five contract types. The main period is March 2026; "today" for open
cases is 30 April 2026. Every expected number below is counted from the table
``ROWS`` by hand, with the case numbers that make it up in a comment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rebuttal.permissions import ROLE_GROUPS
from reports import figures
from reports.figures import Scope
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
    for day, state in row.steps:
        with time_machine.travel(when(day), tick=False):
            if state == "decided":
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
    with time_machine.travel(when("01-02"), tick=False):
        reviewer_profile(people["rita"])
        ruth = reviewer_profile(people["ruth"])
    RetainerContract.objects.filter(reviewer=ruth).update(currency="EUR", fee_per_review=Decimal("900"))
    return people


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """The 42 requests, filed once for the module in a transaction rolled back at its end.

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
    return built


# --- intake -------------------------------------------------------------------------


def test_received_counts_cases_submitted_in_the_period(cases) -> None:  # noqa: ANN001
    # 7-30 (24 cases) and 40, 41, 42; not 6 (28 Feb, 23:00), 31 (1 Apr, 00:30) or the draft 36.
    assert figures.received(scope=MARCH) == 27


def test_received_period_edges(cases) -> None:  # noqa: ANN001
    # A case filed on the last day counts (30); one filed the day after does not (31).
    assert figures.received(scope=Scope(start=dt.date(2026, 3, 31), end=dt.date(2026, 3, 31))) == 1  # 30
    assert figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 1))) == 1  # 31
    assert figures.received(scope=Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))) == 1  # 7
    assert figures.received(scope=Scope(start=dt.date(2026, 2, 28), end=dt.date(2026, 2, 28))) == 1  # 6
    # April: 31, 32, 33, 34, 35.
    assert figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))) == 5


def test_received_counts_local_days(cases) -> None:  # noqa: ANN001
    # In Auckland (UTC+13 in March) 6 was filed on 1 March at noon, and 30 on 1 April.
    with timezone.override("Pacific/Auckland"):
        assert figures.received(scope=Scope(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 1))) == 2  # 6, 7
        assert (
            figures.received(scope=Scope(start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 1))) == 2
        )  # 30, 31
        assert figures.received(scope=MARCH) == 27  # 6 comes in, 30 goes out


def test_received_filters(cases) -> None:  # noqa: ANN001
    # Geneva: 7, 8, 9, 17, 21, 22, 27, 28, 41.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office")) == 9
    # Europe: Geneva's 9 and Vienna's 10, 11, 18, 23, 29, 40.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, region="Europe")) == 15
    # Cycle 2024: 9, 14, 18, 25, 26, 41.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == 6
    # Fixed-term: 9, 19, 20.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, contract_type="fixed_term")) == 3
    # Geneva in cycle 2024: 9, 41.
    assert figures.received(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office", cycle=2024)) == 2


def test_receivability_counts_decisions_taken_in_the_period(cases) -> None:  # noqa: ANN001
    # Receivable in March: 6 (1 Mar), 7, 8, 9, 10, 11, 17, 18, 19, 20, 21, 24, 25, 26, 29, 40, 41.
    # Not receivable in March: 5 (filed in Feb), 12, 13, 14, 15, 27 (31 Mar), 42; not 28 (1 Apr).
    assert figures.receivability(scope=MARCH) == {
        "screened": 24,
        "receivable": 17,
        "not_receivable": 7,
        "rate": 0.7083,  # 17 / 24
    }
    # Geneva: 7, 8, 9, 17, 21, 41 receivable; 27 not.
    assert figures.receivability(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office")) == {
        "screened": 7,
        "receivable": 6,
        "not_receivable": 1,
        "rate": 0.8571,
    }
    # Temporary appointments: 12 and 13, both not receivable.
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
    # Nobody was screened on Sunday 1 February.
    assert figures.receivability(scope=Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 1))) == {
        "screened": 0,
        "receivable": 0,
        "not_receivable": 0,
        "rate": None,
    }


def test_withdrawn_counts_withdrawals_in_the_period(cases) -> None:  # noqa: ANN001
    # 16 (11 Mar) and 17 (20 Mar); 18 (3 Apr) and 34 (12 Apr) are April's.
    assert figures.withdrawn(scope=MARCH) == 2
    assert figures.withdrawn(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 30))) == 2
    assert figures.withdrawn(scope=Scope(MARCH.start, MARCH.end, office="New York Office")) == 1  # 16
    assert figures.withdrawn(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == 0


# --- outcomes -----------------------------------------------------------------------


def test_outcomes_maintained_and_revised_by_steps(cases) -> None:  # noqa: ANN001
    # Decided in March: 1, 2, 3, 7, 8, 9, 10, 25 (31 Mar), 40; not 26 (1 Apr), 11, 35 or 39.
    # Maintained: 3, 9. One step up: 1, 7, 8 (does not meet -> partially), 25, 40. Two: 2, 10.
    assert figures.outcomes(scope=MARCH) == {
        "decided": 9,
        "maintained": 2,
        "revised": 7,
        "revised_by_steps": {"1": 5, "2": 2},
    }


def test_outcomes_filters_and_edges(cases) -> None:  # noqa: ANN001
    # Europe: Geneva's 1 (+1), 7 (+1), 8 (+1), 9 (maintained); Vienna's 10 (+2), 40 (+1).
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, region="Europe")) == {
        "decided": 6,
        "maintained": 1,
        "revised": 5,
        "revised_by_steps": {"1": 4, "2": 1},
    }
    # Cycle 2024: 9 (maintained), 25 (+1).
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == {
        "decided": 2,
        "maintained": 1,
        "revised": 1,
        "revised_by_steps": {"1": 1},
    }
    # Decided on the last day: 25; the day after: 26.
    assert figures.outcomes(scope=Scope(MARCH.end, MARCH.end))["decided"] == 1
    assert figures.outcomes(scope=Scope(dt.date(2026, 4, 1), dt.date(2026, 4, 1)))["revised_by_steps"] == {
        "1": 1
    }
    # Continuing appointments: 2 (+2), 10 (+2).
    assert figures.outcomes(scope=Scope(MARCH.start, MARCH.end, contract_type="continuing")) == {
        "decided": 2,
        "maintained": 0,
        "revised": 2,
        "revised_by_steps": {"2": 2},
    }


# --- open cases ---------------------------------------------------------------------


def test_open_cases_by_state_and_age(cases) -> None:  # noqa: ANN001
    result = figures.open_cases(scope=MARCH, today=TODAY)
    # Open: everything filed but not closed (1, 39), not receivable or withdrawn; not the draft 36.
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
    # Geneva: 4, 7, 8, 9, 21, 22, 32, 35, 37, 41 (1 is closed, 17 withdrawn, 27 and 28 not receivable).
    geneva = figures.open_cases(scope=Scope(MARCH.start, MARCH.end, office="Geneva Office"), today=TODAY)
    assert geneva["total"] == 10
    # 32, 35 | 7, 8, 9, 21, 22, 41 | 4 | 37
    assert geneva["by_age"] == {"0-30": 2, "31-60": 6, "61-90": 1, "over_90": 1}
    # Cycle 2024: 9, 25, 26, 37, 38, 41.
    assert figures.open_cases(scope=Scope(MARCH.start, MARCH.end, cycle=2024), today=TODAY)["total"] == 6


# --- reviewers ----------------------------------------------------------------------


def test_reviewer_workload(cases, people) -> None:  # noqa: ANN001
    rita = people["rita"].reviewer_profile.pk
    ruth = people["ruth"].reviewer_profile.pk
    assert figures.reviewer_workload(scope=MARCH) == [
        # Open: 4, 19 (accepted), 21 (report in). Completed in March: 1, 2, 7, 9 (11, 26 in April).
        {"reviewer_id": rita, "reviewer": "rita", "open": 3, "completed": 4},
        # Open: 24 (report in), 41 (invited). Completed in March: 3, 8, 10, 25, 40.
        {"reviewer_id": ruth, "reviewer": "ruth", "open": 2, "completed": 5},
    ]
    assert figures.reviewer_workload(scope=Scope(MARCH.start, MARCH.end, cycle=2024)) == [
        {"reviewer_id": rita, "reviewer": "rita", "open": 0, "completed": 1},  # 9
        {"reviewer_id": ruth, "reviewer": "ruth", "open": 1, "completed": 1},  # 41 | 25
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
        # 1, 2, 7, 9 at 1,500.00 USD.
        {
            "reviewer_id": rita,
            "reviewer": "rita",
            "currency": "USD",
            "amount": Decimal("6000.00"),
            "lines": 4,
        },
        # 3, 8, 10, 25, 40 at 900.00 EUR.
        {
            "reviewer_id": ruth,
            "reviewer": "ruth",
            "currency": "EUR",
            "amount": Decimal("4500.00"),
            "lines": 5,
        },
    ]
    # Nairobi: 2 (rita) and 25 (ruth, on the last day).
    nairobi = figures.fees(scope=Scope(MARCH.start, MARCH.end, office="Nairobi Office"))
    assert [(row["reviewer"], row["amount"], row["lines"]) for row in nairobi] == [
        ("rita", Decimal("1500.00"), 1),
        ("ruth", Decimal("900.00"), 1),
    ]
    # February: 39 (rita).
    february = figures.fees(scope=Scope(dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    assert [(row["reviewer"], row["currency"], row["amount"], row["lines"]) for row in february] == [
        ("rita", "USD", Decimal("1500.00"), 1)
    ]


# --- trends -------------------------------------------------------------------------


def test_trends_across_cycles(cases) -> None:  # noqa: ANN001
    assert figures.trends(scope=MARCH) == [
        {
            "cycle": 2024,
            "cases": 6,  # 9, 14, 18, 25, 26, 41
            "not_receivable": 1,  # 14
            "recurring_offices": [
                {"office": "Geneva Office", "cases": 2},  # 9, 41
                {"office": "Nairobi Office", "cases": 2},  # 14, 25
            ],
            "failed_rules": [{"rule": "filing_window", "cases": 1}],  # 14
        },
        {
            "cycle": 2025,
            "cases": 21,
            "not_receivable": 6,  # 12, 13, 15, 27, 28, 42
            "recurring_offices": [
                {"office": "Geneva Office", "cases": 7},  # 7, 8, 17, 21, 22, 27, 28
                {"office": "New York Office", "cases": 5},  # 15, 16, 19, 20, 30
                {"office": "Vienna Office", "cases": 5},  # 10, 11, 23, 29, 40
                {"office": "Nairobi Office", "cases": 4},  # 12, 13, 24, 42
            ],
            "failed_rules": [
                {"rule": "filing_window", "cases": 5},  # 13, 15, 27, 28, 42
                # 12, 13 (temporary) and 20 (6-month fixed term, accepted with an override).
                {"rule": "eligible_contract", "cases": 3},
            ],
        },
    ]


def test_trends_filtered_to_one_office(cases) -> None:  # noqa: ANN001
    # Nairobi in March: 2024: 14, 25; 2025: 12, 13, 24, 42.
    assert figures.trends(scope=Scope(MARCH.start, MARCH.end, office="Nairobi Office")) == [
        {
            "cycle": 2024,
            "cases": 2,
            "not_receivable": 1,
            "recurring_offices": [{"office": "Nairobi Office", "cases": 2}],
            "failed_rules": [{"rule": "filing_window", "cases": 1}],  # 14
        },
        {
            "cycle": 2025,
            "cases": 4,
            "not_receivable": 3,  # 12, 13, 42
            "recurring_offices": [{"office": "Nairobi Office", "cases": 4}],
            # filing_window: 13, 42; eligible_contract: 12, 13 (a tie keeps the rulebook's order).
            "failed_rules": [
                {"rule": "filing_window", "cases": 2},
                {"rule": "eligible_contract", "cases": 2},
            ],
        },
    ]


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
    assert result["received"] == 27
    assert result["withdrawn"] == 2
    assert result["receivability"]["rate"] == 0.7083
    assert result["outcomes"]["revised_by_steps"] == {"1": 5, "2": 2}
    assert result["open_cases"]["total"] == 26
    assert [(line["currency"], line["amount"]) for line in result["fees"]] == [
        ("USD", "6000.00"),
        ("EUR", "4500.00"),
    ]
    assert [item["cycle"] for item in result["trends"]] == [2024, 2025]


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
    # One query each; outcomes also reads the rating scale; trends has three; summary their sum.
    assert few == {
        "received": 1,
        "receivability": 1,
        "withdrawn": 1,
        "outcomes": 2,
        "open_cases": 1,
        "reviewer_workload": 1,
        "fees": 1,
        "trends": 3,
        "summary": 11,
    }
