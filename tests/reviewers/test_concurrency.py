"""Concurrent assignment on PostgreSQL: the row locks documented at the top of
``reviewers/services.py`` keep capacity, the one-reviewer-per-case rule and the
case/assignment agreement under racing writers.

Losers fail only with domain errors (never IntegrityError or a deadlock). Every
thread uses its own database connection, opened once and closed at the end.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from rebuttal.audit_chain import verify_case_chain
from rebuttal.exceptions import ActionForbidden, StaleVersion, TransitionRefused
from rebuttal.models import RebuttalCase
from reviewers import services as reviewer_services
from reviewers.models import OPEN_ASSIGNMENT_STATUSES, Assignment, RetainerContract
from tests.factories import UserFactory, advance, make_case, reviewer_profile
from workflow.services import case_act

pytestmark = pytest.mark.postgres

TIMEOUT = 30  # seconds a barrier waits before the test fails instead of hanging
DOMAIN_ERRORS = (ValidationError, StaleVersion, TransitionRefused, ActionForbidden)
REPORT = {
    "findings": "Evidence thin.",
    "recommendation": "maintain",
    "recommended_rating": "",
    "reasons": "The rating is supported.",
}


def _outcome(job: Callable[[], Any]) -> tuple[str, str]:
    """("won", "") or (error class name, message); anything unexpected is ("error", ...)."""
    try:
        job()
    except DOMAIN_ERRORS as exc:
        return type(exc).__name__, str(exc)
    except Exception as exc:  # an IntegrityError or a deadlock is the failure we look for
        return "error", f"{type(exc).__name__}: {exc}"
    return "won", ""


class Racers:
    """``size`` threads, one connection each, that run one job apiece per round, all at once.

    Reusing the threads (and their connections) across rounds keeps the rounds cheap.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.start = threading.Barrier(size + 1, timeout=TIMEOUT)
        self.done = threading.Barrier(size + 1, timeout=TIMEOUT)
        self.jobs: list[Callable[[], Any]] = []
        self.delays: list[float] = []
        self.results: list[tuple[str, str] | None] = []
        self.stopping = False
        self.threads = [threading.Thread(target=self._work, args=(i,)) for i in range(size)]

    def _work(self, index: int) -> None:
        try:
            while True:
                self.start.wait()
                if self.stopping:
                    return
                time.sleep(self.delays[index])
                self.results[index] = _outcome(self.jobs[index])
                self.done.wait()
        except threading.BrokenBarrierError:
            return
        finally:
            connection.close()

    def __enter__(self) -> Racers:
        for thread in self.threads:
            thread.start()
        return self

    def race(self, jobs: list[Callable[[], Any]], delays: list[float] | None = None) -> list[tuple[str, str]]:
        """Start every job at once (or after its delay, in seconds) and collect the outcomes."""
        assert len(jobs) == self.size
        self.jobs = jobs
        self.delays = delays or [0.0] * self.size
        self.results = [None] * self.size
        self.start.wait()
        self.done.wait()
        return list(self.results)  # type: ignore[arg-type]

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.stopping = True
            self.start.wait()
        else:  # release any thread still waiting
            self.start.abort()
            self.done.abort()
        for thread in self.threads:
            thread.join(TIMEOUT)
        assert not any(thread.is_alive() for thread in self.threads)


def _reviewer(groups: dict[str, Any], username: str, capacity: int = 1000) -> Any:
    """A reviewer account with a pool profile and a contract in force for ``capacity`` cases."""
    user = UserFactory(username=username)
    user.groups.add(groups["reviewer"])
    profile = reviewer_profile(user)
    RetainerContract.objects.filter(reviewer=profile).update(max_concurrent_cases=capacity)
    return user


def _awaiting(requester: Any, hr: Any) -> RebuttalCase:
    return advance(make_case(requester), to="awaiting_assignment", requester=requester, hr=hr)


_filers = itertools.count()


def _awaiting_from_new_requester(hr: Any) -> RebuttalCase:
    """A case of a requester of its own: one reviewer may hold only one case per requester."""
    requester = UserFactory(username=f"racer-filer-{next(_filers)}")
    return _awaiting(requester, hr)


def _invite_job(case_id: int, hr: Any, reviewer_id: int, version: int | None) -> Callable[[], Any]:
    return lambda: case_act(
        case_id=case_id, name="invite_reviewer", actor=hr, version=version, data={"reviewer": reviewer_id}
    )


def _act_job(case: RebuttalCase, name: str, actor: Any, data: dict[str, Any]) -> Callable[[], Any]:
    """``name`` on ``case`` by ``actor``, sending the version the actor saw."""
    return lambda: case_act(case_id=case.pk, name=name, actor=actor, version=case.version, data=data)


def _release_all_job(reviewer_id: int, hr: Any, reason: str, into: list[Any]) -> Callable[[], Any]:
    """HR releases all the reviewer's cases; the released cases are added to ``into``."""
    return lambda: into.extend(
        reviewer_services.reviewer_release_all(reviewer_id=reviewer_id, actor=hr, reason=reason)
    )


def _open_assignments(case: RebuttalCase) -> list[Assignment]:
    return list(Assignment.objects.filter(case=case, status__in=OPEN_ASSIGNMENT_STATUSES))


def test_twenty_invitations_of_one_reviewer_stop_at_the_contract_capacity(
    transactional_db, policy, groups, requester, hr
):
    threads, capacity, rounds = 20, 3, 4
    problems: list[str] = []
    with Racers(threads) as racers:
        for number in range(rounds):
            user = _reviewer(groups, f"busy-{number}", capacity=capacity)
            profile = reviewer_profile(user)
            cases = [_awaiting_from_new_requester(hr) for _ in range(threads)]

            outcomes = racers.race([_invite_job(c.pk, hr, profile.pk, c.version) for c in cases])

            kinds = Counter(kind for kind, _ in outcomes)
            refused = [message for kind, message in outcomes if kind == "ValidationError"]
            winners = {c.pk for c, (kind, _) in zip(cases, outcomes, strict=True) if kind == "won"}
            open_cases = set(
                Assignment.objects.filter(reviewer=profile, status__in=OPEN_ASSIGNMENT_STATUSES).values_list(
                    "case_id", flat=True
                )
            )
            found = {
                "kinds": dict(kinds),
                "refusals name the capacity": all("spare_capacity" in m for m in refused),
                "open assignments are the winners'": open_cases == winners,
            }
            expected = {
                "kinds": {"won": capacity, "ValidationError": threads - capacity},
                "refusals name the capacity": True,
                "open assignments are the winners'": True,
            }
            for case in cases:
                after = RebuttalCase.objects.get(pk=case.pk)
                state = (after.status, after.reviewer_user_id, after.version - case.version)
                if case.pk in winners:
                    ok = state == ("reviewer_invited", user.pk, 1)
                else:
                    ok = state == ("awaiting_assignment", None, 0) and not after.assignments.exists()
                if not ok or verify_case_chain(after):
                    problems.append(f"round {number}: case {case.pk} is {state}")
            if found != expected:
                problems.append(f"round {number}: {found} != {expected} ({outcomes})")
    assert problems == []


def test_eight_invitations_to_one_case_leave_exactly_one(transactional_db, policy, groups, requester, hr):
    threads, rounds = 8, 25
    users = [_reviewer(groups, f"candidate-{i}") for i in range(threads)]
    profiles = [reviewer_profile(user) for user in users]
    problems: list[str] = []
    losses: Counter[str] = Counter()
    with Racers(threads) as racers:
        for number in range(rounds):
            case = _awaiting_from_new_requester(hr)
            # Half send the version they saw, half none: the state check must stop those.
            jobs = [
                _invite_job(case.pk, hr, profile.pk, case.version if i % 2 == 0 else None)
                for i, profile in enumerate(profiles)
            ]

            outcomes = racers.race(jobs)

            winners = [users[i] for i, (kind, _) in enumerate(outcomes) if kind == "won"]
            losers = [kind for kind, _ in outcomes if kind != "won"]
            losses.update(losers)
            after = RebuttalCase.objects.get(pk=case.pk)
            assignments = list(after.assignments.all())
            found = {
                "winners": len(winners),
                "losers": sorted(set(losers) - {"StaleVersion", "TransitionRefused"}),
                "case": (after.status, after.version - case.version),
                "assignments": [(a.status, a.reviewer.user_id) for a in assignments],
                "chain": [str(p) for p in verify_case_chain(after)],
            }
            expected = {
                "winners": 1,
                "losers": [],
                "case": ("reviewer_invited", 1),
                "assignments": [("invited", winners[0].pk if winners else None)],
                "chain": [],
            }
            if found != expected or (winners and after.reviewer_user_id != winners[0].pk):
                problems.append(f"round {number}: {found} != {expected} ({outcomes})")
    assert problems == []
    # Both guards did their part: the version check and the state check.
    assert losses["StaleVersion"] > 0
    assert losses["TransitionRefused"] > 0


# What each case status says of the case's assignments and reviewer.
OPEN_STATUS_OF_CASE = {
    "reviewer_invited": "invited",
    "under_review": "accepted",
    "recommendation_submitted": "reported",
}


def _agreement_problems(case: RebuttalCase) -> list[str]:
    """Where the case and its assignments disagree (or its audit chain is broken)."""
    problems = [str(p) for p in verify_case_chain(case)]
    open_ = _open_assignments(case)
    latest = case.assignments.order_by("-invited_at", "-pk").first()
    if len(open_) > 1:
        problems.append(f"{len(open_)} open assignments")
    if case.status in OPEN_STATUS_OF_CASE:
        if len(open_) != 1 or open_[0].status != OPEN_STATUS_OF_CASE[case.status]:
            problems.append(f"{case.status} but open assignments {[a.status for a in open_]}")
        elif case.reviewer_user_id != open_[0].reviewer.user_id:
            problems.append(f"{case.status} but reviewer_user {case.reviewer_user_id}")
    elif case.status == "awaiting_assignment":
        if open_ or latest is None or latest.status not in ("released", "expired", "declined"):
            problems.append(f"awaiting assignment but latest assignment {latest and latest.status}")
        if case.reviewer_user_id is not None:
            problems.append("awaiting assignment with a reviewer_user")
    else:
        problems.append(f"unexpected status {case.status}")
    return problems


def test_release_all_racing_the_reviewers_own_actions_leaves_cases_and_assignments_agreeing(
    transactional_db, policy, groups, hr
):
    """Each round: the reviewer accepts one case and reports on another while HR
    releases all their cases and invites them to one more."""
    rounds = 30
    requesters = [UserFactory(username=f"filer-{i}") for i in range(4)]
    problems: list[str] = []
    seen: Counter[tuple[str, str]] = Counter()
    with Racers(4) as racers:
        for number in range(rounds):
            user = _reviewer(groups, f"leaving-{number}")
            profile = reviewer_profile(user)
            # Release-all takes the cases in id order: alternate which of the two comes first.
            states = {0: "reviewer_invited", 1: "under_review"}
            order = (0, 1) if number % 2 == 0 else (1, 0)
            built = {
                i: advance(
                    make_case(requesters[i]), to=states[i], requester=requesters[i], hr=hr, reviewer=user
                )
                for i in order
            }
            invited, reviewing = built[0], built[1]
            bystander = advance(
                make_case(requesters[2]), to="reviewer_invited", requester=requesters[2], hr=hr, reviewer=user
            )
            extra = _awaiting(requesters[3], hr)
            release: list[Any] = []
            reason = f"Left the pool ({number})."
            jobs = [
                _act_job(invited, "reviewer_accept", user, {"no_conflict_declaration": True}),
                _act_job(reviewing, "submit_recommendation", user, REPORT),
                _release_all_job(profile.pk, hr, reason, release),
                _invite_job(extra.pk, hr, profile.pk, extra.version),
            ]

            # Each starts after a random (reproducible) delay of about an action's time,
            # so that over the rounds each action comes both before and after the release.
            jitter = random.Random(number)
            delays = [jitter.uniform(0, 0.015), jitter.uniform(0, 0.015), jitter.uniform(0, 0.03), 0.0]
            outcomes = racers.race(jobs, delays=delays)

            names = ["accept", "report", "release_all", "invite"]
            seen.update((name, kind) for name, (kind, _) in zip(names, outcomes, strict=True))
            bad = [
                f"{name}: {kind} {message}"
                for name, (kind, message) in zip(names, outcomes, strict=True)
                if kind == "error" or (name in ("release_all", "invite") and kind != "won")
            ]
            after = {
                name: RebuttalCase.objects.get(pk=case.pk)
                for name, case in (
                    ("invited", invited),
                    ("reviewing", reviewing),
                    ("bystander", bystander),
                    ("extra", extra),
                )
            }
            for name, case in after.items():
                bad += [f"{name}: {p}" for p in _agreement_problems(case)]
            # Released, whichever came first: the accepted case and the pending invitation.
            for name in ("invited", "bystander"):
                if after[name].status != "awaiting_assignment":
                    bad.append(f"{name} is {after[name].status} after release-all")
            # The trail says which came first: an accepted case is released, a pending
            # invitation withdrawn with the reason.
            trail = list(
                after["invited"]
                .events.filter(kind="transition")
                .order_by("-seq")
                .values_list("transition", "reason")[:2]
            )
            if outcomes[0][0] == "won":
                expected_trail = [("release_reviewer", reason), ("reviewer_accept", "")]
            else:
                expected_trail = [
                    ("invitation_expire", f"Reviewer released: {reason}"),
                    ("invite_reviewer", ""),
                ]
            if trail != expected_trail:
                bad.append(f"invited case's trail {trail}, accept {outcomes[0][0]}")
            # The report either came first (and stays) or was refused after the release.
            reported = outcomes[1][0] == "won"
            expected_reviewing = "recommendation_submitted" if reported else "awaiting_assignment"
            if after["reviewing"].status != expected_reviewing:
                bad.append(f"reviewing is {after['reviewing'].status}, report {outcomes[1][0]}")
            released_ids = {case.pk for case in release}
            expected_released = {invited.pk, bystander.pk} | (set() if reported else {reviewing.pk})
            if released_ids - {extra.pk} != expected_released:
                bad.append(f"released {sorted(released_ids)}, expected {sorted(expected_released)}")
            if (extra.pk in released_ids) != (after["extra"].status == "awaiting_assignment"):
                bad.append(f"extra is {after['extra'].status}, released: {extra.pk in released_ids}")
            if bad:
                problems.append(f"round {number}: {bad}")
    assert problems == []
    # The race went both ways for the reviewer's own actions at least once over the rounds.
    assert seen[("accept", "won")] + seen[("report", "won")] > 0
    assert sum(n for (name, kind), n in seen.items() if name in ("accept", "report") and kind != "won") > 0
