"""(c) Reviewer suggestions for one case as an HR specialist: a pool of 10 reviewers, then 1,000.

Requests go through the whole Django stack (``django.test.Client``: middleware,
token authentication, case visibility, the nine eligibility rules for every
reviewer in the pool, ranking, serialisation of every verdict with its reasons).

The pool is written with ``bulk_create`` (no history rows, which the endpoint
never reads). Reviewers follow a cycle of ten so that any ten consecutive ones,
the small pool included, exercise every rule: three are eligible (fresh; holding
open cases and an unrelated conflict; assigned before on another requester's
case), seven fail a rule each (language, contract, capacity, declared conflict,
office or inactive, earlier case of the requester, declined or released this
case), and the fourth reviewer is also a reporting officer of the case.
The 1,000 are the first 10 plus 990 more in the same database, measured in the
same run; every open assignment holds its own case under review.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from bench import data
from bench.timing import Sample, latency_figures, median_wall, time_once
from rebuttal import permissions
from rebuttal.models import Language, RebuttalCase, Status
from rebuttal.selectors import policy_current
from reviewers.eligibility import RULES
from reviewers.models import (
    Assignment,
    AssignmentStatus,
    Conflict,
    ContractStatus,
    RetainerContract,
    Reviewer,
)
from reviewers.selectors import review_end

URL = "/api/v1/cases/{id}/reviewer-suggestions/"
REQUESTS = 30
WARMUP = 5
SMALL = 10
LARGE = 1_000
CYCLE = 10
# Positions in the cycle whose reviewers are eligible for the case.
ELIGIBLE_POSITIONS = frozenset({0, 1, 2})
CASE_LANGUAGE = Language.EN
CASE_OFFICE = "Geneva Office"
OTHER_OFFICES = ["Nairobi Office", "Bangkok Office", "Santiago Office", "Independent consultant", ""]
EARLIER_CASES = 3
USER_PREFIX = "bench-pool"
# The reviewer who is also a reporting officer of the case (one of those who do not read its language).
OFFICER = 3

# Assignment states reached without accepting (no signed declaration).
UNSIGNED = (AssignmentStatus.INVITED, AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED)


@dataclass(frozen=True)
class PoolFigures:
    """Latencies of ``REQUESTS`` suggestion requests against one pool size."""

    reviewers: int
    eligible: int
    queries: int
    samples: list[Sample]

    @property
    def median_ms(self) -> float:
        return median_wall(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviewers": self.reviewers,
            "eligible": self.eligible,
            "queries_per_request": self.queries,
            **latency_figures(self.samples),
        }


def ratio(small: PoolFigures, large: PoolFigures) -> float:
    return large.median_ms / small.median_ms


def ms_per_extra_reviewer(small: PoolFigures, large: PoolFigures) -> float:
    """The slope: what each reviewer beyond the small pool adds to the median latency."""
    return (large.median_ms - small.median_ms) / (large.reviewers - small.reviewers)


def run(people: data.People) -> tuple[int, PoolFigures, PoolFigures]:
    """Measure one case's suggestions with ``SMALL`` reviewers, grow the pool to ``LARGE``, measure again.

    Returns the case id and both figures.
    """
    client = Client(headers={"authorization": f"Token {people.hr_token}"})
    pool = Pool(people)
    pool.grow(SMALL)
    data.analyze()
    small = measure(client, pool)
    pool.grow(LARGE - SMALL)
    data.analyze()
    large = measure(client, pool)
    return pool.case.pk, small, large


def measure(client: Client, pool: Pool) -> PoolFigures:
    """Median latency after a warm-up; the first answer (whose queries are counted) is checked."""
    url = URL.format(id=pool.case.pk)
    queries: list[str] = []
    with connection.execute_wrapper(_QueryCounter(queries)):
        answer = _request(client, url).json()
    pool.check(answer)
    for _ in range(WARMUP - 1):
        _request(client, url)
    samples = [time_once(lambda: _request(client, url)) for _ in range(REQUESTS)]
    return PoolFigures(
        reviewers=pool.size, eligible=len(answer["eligible"]), queries=len(queries), samples=samples
    )


class _QueryCounter:
    """An execute wrapper noting each statement (``connection.queries`` is reset per request)."""

    def __init__(self, statements: list[str]) -> None:
        self.statements = statements

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements.append(sql)
        return execute(sql, params, many, context)


def _request(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:200]!r}")
    return response


class Pool:
    """The case awaiting assignment, and a reviewer pool built around it in steps."""

    def __init__(self, people: data.People) -> None:
        self.people = people
        self.rng = random.Random(data.SEED + 3)
        self.today = timezone.localdate()
        self.review_end = review_end(policy_current(), self.today)
        self.requester_id = people.requester_ids[0]
        self.others = [pk for pk in people.requester_ids if pk != self.requester_id]
        self.group = Group.objects.get_or_create(name=permissions.REVIEWER)[0]
        (case_id,) = data.create_cases(
            people,
            1,
            status=Status.AWAITING_ASSIGNMENT,
            overrides=[{"requester_id": self.requester_id, "language": CASE_LANGUAGE, "office": CASE_OFFICE}],
        )
        self.case = RebuttalCase.objects.select_related("requester").get(pk=case_id)
        # Earlier, closed cases of the same requester (for "no earlier case of the requester").
        self.earlier_case_ids = data.create_cases(
            people,
            EARLIER_CASES,
            status=Status.CLOSED,
            overrides=[{"requester_id": self.requester_id}] * EARLIER_CASES,
        )
        self.size = 0
        self.expected_eligible: set[int] = set()

    def grow(self, count: int) -> None:
        """Add ``count`` reviewers (users, profiles, contracts, conflicts, assignments)."""
        start = self.size
        user_ids = data.bulk_users(USER_PREFIX, count, start=start)
        self.group.user_set.add(*user_ids)
        reviewers = Reviewer.objects.bulk_create(
            [self._reviewer(start + i, user_id) for i, user_id in enumerate(user_ids)],
            batch_size=data.BATCH_SIZE,
        )
        # Re-read the ids: bulk_create does not return them on every backend.
        by_email = dict(
            Reviewer.objects.filter(email__in=[r.email for r in reviewers]).values_list("email", "pk")
        )
        for reviewer in reviewers:
            reviewer.pk = by_email[reviewer.email]
        if start <= OFFICER < start + count:
            # One reviewer (who also fails the language rule) is a reporting officer of the case.
            officer = reviewers[OFFICER - start]
            get_user_model().objects.filter(pk=officer.user_id).update(email=officer.email)
        contracts = self._contracts(reviewers, start)
        Conflict.objects.bulk_create(self._conflicts(reviewers, start), batch_size=data.BATCH_SIZE)
        Assignment.objects.bulk_create(
            self._assignments(reviewers, contracts, start), batch_size=data.BATCH_SIZE
        )
        self.expected_eligible |= {
            reviewer.pk for n, reviewer in enumerate(reviewers, start) if n % CYCLE in ELIGIBLE_POSITIONS
        }
        self.size += count

    def _reviewer(self, n: int, user_id: int) -> Reviewer:
        position, turn = n % CYCLE, n // CYCLE
        languages = [
            [CASE_LANGUAGE],
            [CASE_LANGUAGE, "fr"],
            [CASE_LANGUAGE, "es"],
            ["fr", CASE_LANGUAGE, "es"],
        ]
        if position == 3:
            languages = [["fr"], ["es"], ["fr", "es"]]
        affiliation = OTHER_OFFICES[turn % len(OTHER_OFFICES)]
        if position == 7:
            affiliation = CASE_OFFICE if turn % 2 else CASE_OFFICE.upper()
        email = f"{USER_PREFIX}-{n:04d}@example.org"
        if n == OFFICER:
            email = self.case.first_reporting_officer_email
        return Reviewer(
            user_id=user_id,
            name=f"{self.rng.choice(['Ana', 'Bo', 'Chidi', 'Dara', 'Emeka', 'Fen'])} Reviewer{n:04d}",
            email=email,
            languages=languages[turn % len(languages)],
            regions=self.rng.sample(["Europe", "Africa", "Asia and the Pacific", "Western Asia"], 2),
            affiliation=affiliation,
            # Every other "same office" reviewer is also inactive.
            active=not (position == 7 and turn % 2 == 0),
            created_at=timezone.now() - dt.timedelta(days=self.rng.randint(30, 900)),
        )

    def _contracts(self, reviewers: list[Reviewer], start: int) -> dict[int, RetainerContract]:
        """One current contract per reviewer (some not in force), plus an ended one for some."""
        current: list[RetainerContract] = []
        ended: list[RetainerContract] = []
        for n, reviewer in enumerate(reviewers, start):
            position, turn = n % CYCLE, n // CYCLE
            contract = RetainerContract(
                reviewer_id=reviewer.pk,
                number=f"BENCH-{n:05d}",
                starts_on=self.today - dt.timedelta(days=200),
                ends_on=self.today + dt.timedelta(days=365 + 30 * (turn % 5)),
                max_concurrent_cases=1 if position == 5 else 4 + turn % 4,
                fee_per_review=Decimal("1500.00"),
                currency="USD",
            )
            if position == 4:
                failure = turn % 3
                if failure == 0:
                    contract.ends_on = self.review_end - dt.timedelta(days=1)
                elif failure == 1:
                    contract.status = ContractStatus.SUSPENDED
                else:
                    contract.starts_on = self.today + dt.timedelta(days=10)
            current.append(contract)
            if position in (0, 4):
                ended.append(
                    RetainerContract(
                        reviewer_id=reviewer.pk,
                        number=f"BENCH-{n:05d}-OLD",
                        starts_on=self.today - dt.timedelta(days=900),
                        ends_on=self.today - dt.timedelta(days=201),
                        max_concurrent_cases=3,
                        fee_per_review=Decimal("1200.00"),
                        currency="USD",
                        status=ContractStatus.ENDED,
                    )
                )
        RetainerContract.objects.bulk_create(current + ended, batch_size=data.BATCH_SIZE)
        by_number = dict(
            RetainerContract.objects.filter(number__in=[c.number for c in current]).values_list(
                "number", "pk"
            )
        )
        for contract in current:
            contract.pk = by_number[contract.number]
        return {contract.reviewer_id: contract for contract in current}

    def _conflicts(self, reviewers: list[Reviewer], start: int) -> list[Conflict]:
        conflicts = []
        for n, reviewer in enumerate(reviewers, start):
            position, turn = n % CYCLE, n // CYCLE
            if position == 1:  # a conflict that does not touch this case
                conflicts.append(
                    Conflict(reviewer_id=reviewer.pk, office="Nairobi Office", reason="Former post.")
                )
            elif position == 6 and turn % 2 == 0:
                conflicts.append(
                    Conflict(
                        reviewer_id=reviewer.pk,
                        requester_email=self.case.requester.email.upper(),
                        reason="Former colleague.",
                    )
                )
            elif position == 6:
                conflicts.append(Conflict(reviewer_id=reviewer.pk, office=CASE_OFFICE, reason="Former post."))
        return conflicts

    def _assignments(
        self, reviewers: list[Reviewer], contracts: dict[int, RetainerContract], start: int
    ) -> list[Assignment]:
        """Open assignments (each on its own case under review) and ended ones."""
        open_holders: list[Reviewer] = []
        past_holders: list[Reviewer] = []
        ended: list[Assignment] = []
        for n, reviewer in enumerate(reviewers, start):
            position, turn = n % CYCLE, n // CYCLE
            if position == 1:
                open_holders += [reviewer] * (1 + turn % 3)
            elif position == 5:
                open_holders.append(reviewer)
            elif position == 2:
                past_holders.append(reviewer)
            elif position == 8:
                case_id = self.earlier_case_ids[turn % EARLIER_CASES]
                status = AssignmentStatus.COMPLETED if turn % 2 == 0 else AssignmentStatus.RELEASED
                ended.append(self._assignment(reviewer, contracts, case_id, status, days_ago=60 + turn))
            elif position == 9:
                status = AssignmentStatus.DECLINED if turn % 2 == 0 else AssignmentStatus.RELEASED
                ended.append(self._assignment(reviewer, contracts, self.case.pk, status, days_ago=3))
        open_cases = self._cases(Status.UNDER_REVIEW, open_holders)
        past_cases = self._cases(Status.CLOSED, past_holders)
        return [
            *(
                self._assignment(
                    r, contracts, case_id, AssignmentStatus.ACCEPTED, days_ago=self.rng.randint(1, 40)
                )
                for r, case_id in zip(open_holders, open_cases, strict=True)
            ),
            *(
                self._assignment(
                    r, contracts, case_id, AssignmentStatus.COMPLETED, days_ago=self.rng.randint(50, 400)
                )
                for r, case_id in zip(past_holders, past_cases, strict=True)
            ),
            *ended,
        ]

    def _cases(self, status: str, holders: list[Reviewer]) -> list[int]:
        """One case per holder, of another requester, held (or last held) by that reviewer."""
        overrides = [
            {"requester_id": self.rng.choice(self.others), "reviewer_user_id": reviewer.user_id}
            for reviewer in holders
        ]
        return data.create_cases(self.people, len(holders), status=status, overrides=overrides)

    def _assignment(
        self,
        reviewer: Reviewer,
        contracts: dict[int, RetainerContract],
        case_id: int,
        status: str,
        *,
        days_ago: int,
    ) -> Assignment:
        invited_at = timezone.now() - dt.timedelta(days=days_ago, hours=self.rng.uniform(0, 23))
        ended = status not in (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED)
        return Assignment(
            case_id=case_id,
            reviewer_id=reviewer.pk,
            contract_id=contracts[reviewer.pk].pk,
            status=status,
            invited_at=invited_at,
            invited_by=self.people.hr,
            expected_end_on=(invited_at + dt.timedelta(days=30)).date(),
            responded_at=invited_at + dt.timedelta(days=1),
            # As the services leave it: whoever accepted signed the declaration.
            declaration_signed_at=None if status in UNSIGNED else invited_at + dt.timedelta(days=1),
            decline_reason="Unavailable." if status == AssignmentStatus.DECLINED else "",
            ended_at=invited_at + dt.timedelta(days=20) if ended else None,
            end_reason="Bench history." if status == AssignmentStatus.RELEASED else "",
        )

    def check(self, answer: dict[str, Any]) -> None:
        """The answer lists the whole pool, the expected reviewers as eligible, and every rule failing."""
        eligible = {row["reviewer"] for row in answer["eligible"]}
        listed = len(answer["eligible"]) + len(answer["ineligible"])
        if listed != self.size or eligible != self.expected_eligible:
            why = [
                (row["name"], [reason["detail"] for reason in row["reasons"] if not reason["passed"]])
                for row in answer["ineligible"]
                if row["reviewer"] in self.expected_eligible
            ]
            raise RuntimeError(
                f"suggestions listed {listed} reviewers, {len(eligible)} eligible; the pool has "
                f"{self.size}, {len(self.expected_eligible)} eligible; unexpectedly ineligible: {why[:3]}"
            )
        failed = {
            reason["rule"]
            for row in answer["ineligible"]
            for reason in row["reasons"]
            if not reason["passed"]
        }
        missing = {rule.__name__ for rule in RULES} - failed
        if missing:
            raise RuntimeError(f"no reviewer of the pool fails {sorted(missing)}")
        ranks = [row["rank"] for row in answer["eligible"]]
        if ranks != list(range(1, len(ranks) + 1)):
            raise RuntimeError(f"eligible reviewers are not ranked 1..{len(ranks)}: {ranks[:5]}...")
        open_counts = [row["open_cases"] for row in answer["eligible"]]
        if open_counts != sorted(open_counts):
            raise RuntimeError("eligible reviewers are not ranked by open cases first")
