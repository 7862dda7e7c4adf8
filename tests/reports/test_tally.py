"""The reports' running totals (``reports.tally``): periods cut into months and edge days, the
totals kept by transitions equal to those worked out from the cases (also when transitions race
on PostgreSQL), the check/rebuild command and the migration's backfill.

The figures read from the totals are checked against hand-counted values and against the
same figures counted from the cases in ``tests/reports/test_figures.py``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from reports import figures, tally
from reports.figures import Scope
from reports.models import Tally
from tests.factories import UserFactory, advance, make_case
from workflow import scheduler
from workflow.services import case_act

THREADS = 8
TIMEOUT = 30


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _covered(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day ``spans`` covers, with repeats if two parts overlapped."""
    months, edges = tally.spans(start, end)
    days = [day for first, last in edges for day in _days(first, last)]
    if months is not None:
        month = months[0]
        while month <= months[1]:
            days += _days(month, tally._next_month(month) - dt.timedelta(days=1))
            month = tally._next_month(month)
    return sorted(days)


def test_a_period_of_whole_months_reads_month_rows_only() -> None:
    assert tally.spans(dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == (
        (dt.date(2026, 1, 1), dt.date(2026, 3, 1)),
        [],
    )


def test_the_default_period_reads_eleven_months_and_its_edge_days() -> None:
    # 26 Nov 2025 - 25 Nov 2026: December to October whole, 26-30 Nov 2025 and 1-25 Nov 2026 by day.
    assert tally.spans(dt.date(2025, 11, 26), dt.date(2026, 11, 25)) == (
        (dt.date(2025, 12, 1), dt.date(2026, 10, 1)),
        [(dt.date(2025, 11, 26), dt.date(2025, 11, 30)), (dt.date(2026, 11, 1), dt.date(2026, 11, 25))],
    )


def test_a_period_inside_one_month_reads_its_days() -> None:
    assert tally.spans(dt.date(2026, 2, 3), dt.date(2026, 2, 27)) == (
        None,
        [(dt.date(2026, 2, 3), dt.date(2026, 2, 27))],
    )
    assert tally.spans(dt.date(2024, 2, 29), dt.date(2024, 2, 29)) == (
        None,
        [(dt.date(2024, 2, 29), dt.date(2024, 2, 29))],
    )


@given(
    start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
    length=st.integers(min_value=0, max_value=800),
)
def test_months_and_edges_cover_each_day_of_the_period_exactly_once(start: dt.date, length: int) -> None:
    end = start + dt.timedelta(days=length)
    assert _covered(start, end) == _days(start, end)


@pytest.fixture
def people(groups, requester, hr) -> dict[str, Any]:  # noqa: ANN001
    return {"requester": requester, "hr": hr}


def test_transitions_keep_the_totals_the_cases_add_up_to(people) -> None:  # noqa: ANN001
    cases = [make_case(people["requester"], office=f"Office {n % 3}") for n in range(6)]
    for case in cases[:5]:
        advance(case, to="screening", requester=people["requester"], hr=people["hr"])
    case_act(
        case_id=cases[0].pk,
        name="reject_not_receivable",
        actor=people["hr"],
        version=None,
        data={"reason": "Filed after the window."},
    )
    case_act(
        case_id=cases[1].pk,
        name="accept_receivable",
        actor=people["hr"],
        version=None,
        data={"override_justification": "Accepted."},
    )
    case_act(
        case_id=cases[2].pk, name="withdraw", actor=people["requester"], version=None, data={"reason": "No."}
    )
    assert Tally.objects.exclude(n=0).exists()
    assert tally.differences() == []
    today = Scope(
        start=timezone.localdate() - dt.timedelta(days=1), end=timezone.localdate() + dt.timedelta(days=1)
    )
    # Five filed (the sixth is a draft), one found not receivable, one withdrawn.
    assert figures.received(scope=today) == 5
    assert figures.withdrawn(scope=today) == 1
    assert figures.receivability(scope=today)["screened"] == 2


def test_the_check_command_finds_a_wrong_total_and_rebuild_mends_it(people, capsys) -> None:  # noqa: ANN001
    case = make_case(people["requester"])
    advance(case, to="screening", requester=people["requester"], hr=people["hr"])
    call_command("report_tally")
    assert "match the cases" in capsys.readouterr().out
    Tally.objects.filter(measure="received").update(n=7)
    with pytest.raises(CommandError, match="differ from the cases"):
        call_command("report_tally", "--check")
    assert "kept 7, should be 1" in capsys.readouterr().err
    call_command("report_tally", "--rebuild")
    assert "Rebuilt" in capsys.readouterr().out
    assert tally.differences() == []
    call_command("report_tally")
    advance(make_case(people["requester"]), to="screening", requester=people["requester"], hr=people["hr"])
    call_command("report_tally", "--compact")
    assert "rows fewer" in capsys.readouterr().out
    call_command("report_tally")


def test_the_migration_fills_the_totals_the_transitions_would_have_kept(people) -> None:  # noqa: ANN001
    for n in range(3):
        case = make_case(people["requester"], office=f"Office {n}")
        advance(case, to="awaiting_assignment", requester=people["requester"], hr=people["hr"])
    kept = _sums()
    Tally.objects.all().delete()
    migration = importlib.import_module("reports.migrations.0008_backfill_tally")
    migration.forwards(apps, None)
    assert _sums() == kept
    assert len(kept) > 10


def _sums() -> dict[tuple[Any, ...], int]:
    """Each fact's total over its rows (zeros left out)."""
    rows = Tally.objects.values_list(*tally.KEY_FIELDS).annotate(total=Sum("n")).order_by()
    return {tuple(row[:-1]): row[-1] for row in rows if row[-1]}


def test_compacting_merges_each_facts_rows_and_keeps_every_total(people) -> None:  # noqa: ANN001
    cases = [make_case(people["requester"], office=f"Office {n % 2}") for n in range(4)]
    for case in cases:
        advance(case, to="screening", requester=people["requester"], hr=people["hr"])
    # Each transition appended its own +1/-1 rows: submitted cases went up four times and down four.
    before = _sums()
    rows = Tally.objects.count()
    removed = tally.compact()
    assert removed > 0
    assert Tally.objects.count() == rows - removed
    assert _sums() == before
    # One row per fact now, and no row whose total is zero (the cases no longer submitted).
    assert Tally.objects.values(*tally.KEY_FIELDS).distinct().count() == Tally.objects.count()
    assert not Tally.objects.filter(n=0).exists()
    assert not Tally.objects.filter(measure="open", key="submitted").exists()
    assert tally.differences() == []
    assert tally.compact() == 0


def test_the_scheduler_compacts_the_totals(people) -> None:  # noqa: ANN001
    case = make_case(people["requester"])
    advance(case, to="screening", requester=people["requester"], hr=people["hr"])
    assert Tally.objects.filter(n=-1).exists()
    scheduler.run()
    assert not Tally.objects.filter(n__lte=0).exists()
    assert tally.differences() == []


@pytest.mark.postgres
def test_racing_transitions_on_postgresql_lose_no_count(transactional_db, policy, groups) -> None:  # noqa: ANN001
    """Eight threads move seven cases of one office at once (every transition counts the same
    day's and month's facts), two of them racing for the same case (one loses and adds nothing),
    while another thread compacts the totals over and over: no deadlock, no count lost or counted
    twice, and the totals equal the cases afterwards."""
    requester = UserFactory(username="tally-requester")  # a requester needs no group
    hr_users = []
    for n in range(THREADS):
        user = UserFactory(username=f"tally-hr-{n}")
        user.groups.add(groups["hr_specialist"])
        hr_users.append(user)
    cases = [make_case(requester, office="Geneva Office") for _ in range(THREADS - 1)]
    for case in cases:
        advance(case, to="screening", requester=requester, hr=hr_users[0])
    # The last thread races the first for case 0; one more compacts the totals all along.
    targets = [case.pk for case in cases] + [cases[0].pk]
    start = threading.Barrier(THREADS + 1, timeout=TIMEOUT)
    results: list[Any] = []
    merged: list[int] = []

    def compacting() -> None:
        try:
            start.wait()
            for _ in range(20):
                merged.append(tally.compact())
        finally:
            connection.close()

    def work(n: int) -> None:
        try:
            start.wait()
            name, data = (
                ("accept_receivable", {"override_justification": "Race."})
                if n % 2
                else ("reject_not_receivable", {"reason": "Race."})
            )
            case_act(case_id=targets[n], name=name, actor=hr_users[n], version=None, data=data)
            results.append("done")
        except Exception as error:  # noqa: BLE001 (the loser's refusal is counted below)
            results.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=compacting))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(results) == ["TransitionRefused"] + ["done"] * (THREADS - 1)
    assert len(merged) == 20
    assert tally.differences() == []
    tally.compact()
    assert tally.differences() == []
    screened = figures.receivability(scope=Scope(start=timezone.localdate(), end=timezone.localdate()))
    assert screened["screened"] == THREADS - 1
