"""Concurrent writers on PostgreSQL: row locks and versions give exactly one
winner, a consistent history and distinct references.

Every thread uses its own database connection and closes it when done.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from rebuttal import services
from rebuttal.audit_chain import verify_case_chain
from rebuttal.exceptions import StaleVersion, TransitionRefused
from rebuttal.models import RebuttalCase
from tests.factories import UserFactory, intake, make_case
from workflow.services import case_act

pytestmark = pytest.mark.postgres

ROUNDS = 200
THREADS = 8
TIMEOUT = 30  # seconds a barrier waits before the test fails instead of hanging

# What each winning transition leaves the case in.
TARGET = {
    "start_screening": "screening",
    "accept_receivable": "awaiting_assignment",
    "reject_not_receivable": "not_receivable",
    "withdraw": "withdrawn",
}
DATA = {
    "start_screening": {},
    "accept_receivable": {"override_justification": "Accepted in a race."},
    "reject_not_receivable": {"reason": "Rejected in a race."},
    "withdraw": {"reason": "Withdrawn in a race."},
}


def _in_own_connection(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` in this thread's own connection, closed at the end."""

    def run() -> Any:
        try:
            return work()
        finally:
            connection.close()

    return run


@dataclass
class Round:
    """One race: the case, the version everyone saw, and who tries what."""

    case_id: int
    version: int
    # (transition, actor pk, sends the version it saw?) for each thread
    attempts: list[tuple[str, int, bool]]
    outcomes: list[tuple[str, Any]] = field(default_factory=list)


def _attempts(state: str, requester: Any, hr_users: list[Any]) -> list[tuple[str, int, bool]]:
    """Eight conflicting exits from ``state``: (transition, actor pk, sends the version?).

    The requester's withdrawal always sends the version it saw; half of HR's
    attempts send none, so that the state check (not only the version) must
    stop them once another transition has won. Each HR transition here leaves a
    state from which no other attempt of the round is possible.
    """
    if state == "screening":
        hr_names = ["accept_receivable", "reject_not_receivable"] * 3
    else:
        hr_names = ["start_screening"] * 6
    attempts = [(name, hr_users[i % len(hr_users)].pk, i % 2 == 0) for i, name in enumerate(hr_names)]
    attempts += [("withdraw", requester.pk, True)] * 2
    return attempts


def test_racing_transitions_have_exactly_one_winner_per_round(
    transactional_db, policy, groups, requester, hr
):
    hr_users = [hr]
    for i in range(2):
        user = UserFactory(username=f"hr-racer-{i}")
        user.groups.add(groups["hr_specialist"])
        hr_users.append(user)

    start = threading.Barrier(THREADS + 1, timeout=TIMEOUT)
    done = threading.Barrier(THREADS + 1, timeout=TIMEOUT)
    current: list[Round] = []
    outcome_lock = threading.Lock()

    actor_pks = [requester.pk, *(user.pk for user in hr_users)]

    def worker(index: int) -> None:
        # The same eight threads race every round (one connection each, opened once):
        # a fresh thread and connection per attempt would be most of the run time.
        users = {user.pk: user for user in get_user_model().objects.filter(pk__in=actor_pks)}
        for _ in range(ROUNDS):
            start.wait()
            race = current[-1]
            name, actor_pk, sends_version = race.attempts[index]
            try:
                case = case_act(
                    case_id=race.case_id,
                    name=name,
                    actor=users[actor_pk],
                    version=race.version if sends_version else None,
                    data=DATA[name],
                )
                outcome: tuple[str, Any] = ("won", (name, actor_pk, case.status, case.version))
            except (StaleVersion, TransitionRefused) as exc:
                outcome = (type(exc).__name__, name)
            except Exception as exc:  # anything else is the failure we look for
                outcome = ("error", f"{name}: {type(exc).__name__}: {exc}")
            with outcome_lock:
                race.outcomes.append(outcome)
            done.wait()

    threads = [threading.Thread(target=_in_own_connection(lambda i=i: worker(i))) for i in range(THREADS)]
    for thread in threads:
        thread.start()

    problems: list[str] = []
    losses: Counter[str] = Counter()
    try:
        for number in range(ROUNDS):
            state = "screening" if number % 2 == 0 else "submitted"
            case = make_case(requester)
            case = case_act(case_id=case.pk, name="submit", actor=requester, version=case.version)
            if state == "screening":
                case = case_act(case_id=case.pk, name="start_screening", actor=hr, version=case.version)
            race = Round(case.pk, case.version, _attempts(state, requester, hr_users))
            # Transition events only: a withdrawal or refusal also files its letter (on commit).
            transitions = case.events.filter(kind="transition")
            events_before, history_before = transitions.count(), case.history.count()
            current.append(race)

            start.wait()
            done.wait()

            winners = [detail for kind, detail in race.outcomes if kind == "won"]
            errors = [detail for kind, detail in race.outcomes if kind == "error"]
            losses.update(kind for kind, _ in race.outcomes if kind != "won")
            after = RebuttalCase.objects.get(pk=case.pk)
            last = after.events.filter(kind="transition").order_by("-seq").first()
            found = {
                "outcomes": len(race.outcomes),
                "winners": len(winners),
                "errors": errors,
                "events": after.events.filter(kind="transition").count() - events_before,
                "history": after.history.count() - history_before,
                "version": after.version - race.version,
                "chain": [str(p) for p in verify_case_chain(after)],
            }
            expected = {
                "outcomes": THREADS,
                "winners": 1,
                "errors": [],
                "events": 1,
                "history": 1,
                "version": 1,
                "chain": [],
            }
            if len(winners) == 1:
                name, actor_pk, status, version = winners[0]
                found["winner"] = (status, version, last.transition, last.actor_id, after.status)
                expected["winner"] = (TARGET[name], race.version + 1, name, actor_pk, TARGET[name])
            if found != expected:
                problems.append(f"round {number} ({state}): {found} != {expected}")
    finally:
        # Release any worker still waiting if a round failed in the main thread.
        start.abort()
        done.abort()
        for thread in threads:
            thread.join(TIMEOUT)

    assert problems == []
    assert not any(thread.is_alive() for thread in threads)
    # Both kinds of loser occurred: the version check and the state check each did their part.
    assert losses["StaleVersion"] > 0
    assert losses["TransitionRefused"] > 0
    assert sum(losses.values()) == ROUNDS * (THREADS - 1)


def _patch_in_thread(
    user_pk: int, case_id: int, version: int, statement: str, barrier: threading.Barrier, results: list
) -> Callable[[], None]:
    def work() -> None:
        client = APIClient()
        client.force_authenticate(user=get_user_model().objects.get(pk=user_pk))
        barrier.wait()
        try:
            response = client.patch(
                f"/api/v1/cases/{case_id}/", {"version": version, "statement": statement}, format="json"
            )
        except Exception as exc:  # a crash (say a deadlock) is a result to report, not a lost thread
            results.append((500, {"detail": f"{type(exc).__name__}: {exc}"}, statement))
        else:
            results.append((response.status_code, response.json(), statement))

    return _in_own_connection(work)


def test_two_concurrent_edits_with_the_same_version_give_one_success_and_one_conflict(
    transactional_db, policy, requester
):
    for attempt in range(10):
        case = make_case(requester)
        version = case.version
        barrier = threading.Barrier(2, timeout=TIMEOUT)
        results: list[tuple[int, dict, str]] = []
        threads = [
            threading.Thread(
                target=_patch_in_thread(
                    requester.pk, case.pk, version, f"Edit {attempt}{side}.", barrier, results
                )
            )
            for side in "ab"
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)

        assert sorted(status for status, _, _ in results) == [200, 409], results
        (ok, ok_body, ok_statement), (conflict, conflict_body, _) = sorted(results, key=lambda r: r[0])
        assert ok_body["version"] == version + 1
        assert conflict_body["code"] == "stale_version"
        assert f"you saw version {version}, it is now version {version + 1}" in conflict_body["detail"]
        case.refresh_from_db()
        assert case.statement == ok_statement
        assert case.version == version + 1
        assert list(case.events.order_by("seq").values_list("kind", flat=True)) == ["created", "updated"]
        assert verify_case_chain(case) == []


def test_cases_created_at_once_get_distinct_references(transactional_db, policy, groups):
    requesters = [UserFactory(username=f"filer-{i}") for i in range(THREADS)]
    year = timezone.localtime().year
    references: list[str] = []
    errors: list[str] = []

    for _ in range(5):
        barrier = threading.Barrier(THREADS, timeout=TIMEOUT)

        def create(user: Any, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                references.append(services.case_create(requester=user, data=intake()).reference)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=_in_own_connection(lambda u=u: create(u))) for u in requesters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)

    assert errors == []
    assert all(re.fullmatch(rf"RB-{year}-\d{{4}}", ref) for ref in references)
    # Forty distinct references, numbered without a gap.
    assert sorted(int(ref.rsplit("-", 1)[1]) for ref in references) == list(range(1, 5 * THREADS + 1))
    assert RebuttalCase.objects.filter(reference__in=references).count() == 5 * THREADS
