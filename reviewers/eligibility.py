"""Whether a reviewer may be assigned to a case: each hard rule of the rulebook
is a small named check returning pass or fail with the reason.

The checks read a ``PoolFacts`` snapshot built by ``selectors`` in a fixed
number of queries, so ranking 12 or 1,000 reviewers costs the same number of
round trips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rebuttal.models import RebuttalCase
    from reviewers.models import Conflict, RetainerContract, Reviewer


@dataclass(frozen=True)
class Check:
    rule: str
    passed: bool
    detail: str


@dataclass
class PoolFacts:
    """What the checks need to know about the case and the pool, read once."""

    case: RebuttalCase
    requester_email: str
    today: dt.date
    review_end: dt.date
    # reviewer id -> number of open assignments (invited, accepted, reported)
    open_cases: dict[int, int] = field(default_factory=dict)
    # reviewers associated with another case of the same requester
    earlier_reviewers: set[int] = field(default_factory=set)
    # reviewers who declined or were released from this case
    excluded_reviewers: set[int] = field(default_factory=set)


@dataclass
class Candidate:
    """A reviewer with their contracts and conflicts loaded, and the contract (if
    any) that covers today through the end of the review, found once."""

    reviewer: Reviewer
    contracts: list[RetainerContract]
    conflicts: list[Conflict]
    contract: RetainerContract | None

    @classmethod
    def of(cls, reviewer: Reviewer, facts: PoolFacts) -> Candidate:
        # Lists prefetched by ``selectors`` (``to_attr``) when present: building a
        # related manager per reviewer was most of the cost for a large pool.
        contracts = getattr(reviewer, "contract_list", None)
        if contracts is None:
            contracts = list(reviewer.contracts.all())
        conflicts = getattr(reviewer, "conflict_list", None)
        if conflicts is None:
            conflicts = list(reviewer.conflicts.all())
        covering = [c for c in contracts if c.covers(facts.today, facts.review_end)]
        contract = max(covering, key=lambda c: c.ends_on) if covering else None
        return cls(reviewer=reviewer, contracts=contracts, conflicts=conflicts, contract=contract)


@dataclass
class Verdict:
    reviewer: Reviewer
    checks: list[Check]
    contract: RetainerContract | None
    open_cases: int

    @property
    def eligible(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def active_reviewer(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    if reviewer.active:
        return Check("active_reviewer", True, "In the active pool.")
    return Check("active_reviewer", False, "Marked inactive in the pool.")


def contract_in_force(candidate: Candidate, facts: PoolFacts) -> Check:
    contract = candidate.contract
    if contract is not None:
        return Check(
            "contract_in_force",
            True,
            f"Contract {contract.number} is active through {contract.ends_on:%d %b %Y}, "
            f"past the review's expected end ({facts.review_end:%d %b %Y}).",
        )
    contracts = candidate.contracts
    if not contracts:
        return Check("contract_in_force", False, "Has no retainer contract.")
    latest = max(contracts, key=lambda c: c.ends_on)
    if latest.status != "active":
        why = f"Contract {latest.number} is {latest.get_status_display().lower()}."
    elif latest.starts_on > facts.today:
        why = f"Contract {latest.number} only starts on {latest.starts_on:%d %b %Y}."
    else:
        why = (
            f"Contract {latest.number} ends on {latest.ends_on:%d %b %Y}, before the review's "
            f"expected end ({facts.review_end:%d %b %Y})."
        )
    return Check("contract_in_force", False, why)


def spare_capacity(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    contract = candidate.contract
    held = facts.open_cases.get(reviewer.pk, 0)
    if contract is None:
        return Check("spare_capacity", False, f"Holds {held} open case(s); no contract in force to add one.")
    limit = contract.max_concurrent_cases
    if held < limit:
        return Check("spare_capacity", True, f"Holds {held} of at most {limit} open cases.")
    return Check("spare_capacity", False, f"Already holds {held} of at most {limit} open cases.")


def reads_language(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    language = facts.case.language
    if language in reviewer.languages:
        return Check("reads_language", True, f"Reads the case language ({language}).")
    return Check("reads_language", False, f"Does not read the case language ({language}).")


def not_a_party(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    email = reviewer.email.strip().lower()
    case = facts.case
    if reviewer.user_id == case.requester_id or email == facts.requester_email:
        return Check("not_a_party", False, "Is the requester.")
    officers = {
        case.first_reporting_officer_email.strip().lower(),
        case.second_reporting_officer_email.strip().lower(),
    }
    if email in officers:
        return Check("not_a_party", False, "Is a reporting officer of the case.")
    return Check("not_a_party", True, "Neither the requester nor a reporting officer.")


def not_same_office(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    office = facts.case.office.strip().lower()
    if reviewer.affiliation and reviewer.affiliation.strip().lower() == office:
        return Check("not_same_office", False, f"Belongs to the requester's office ({facts.case.office}).")
    return Check("not_same_office", True, "Not from the requester's office.")


def no_earlier_case_of_requester(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    if reviewer.pk in facts.earlier_reviewers:
        return Check(
            "no_earlier_case_of_requester", False, "Holds or reviewed another case of the same requester."
        )
    return Check("no_earlier_case_of_requester", True, "No earlier case of this requester.")


def no_declared_conflict(candidate: Candidate, facts: PoolFacts) -> Check:
    office = facts.case.office.strip().lower()
    for conflict in candidate.conflicts:
        if conflict.requester_email and conflict.requester_email.strip().lower() == facts.requester_email:
            return Check("no_declared_conflict", False, "Declared a conflict with this requester.")
        if conflict.office and conflict.office.strip().lower() == office:
            return Check("no_declared_conflict", False, f"Declared a conflict with {facts.case.office}.")
    return Check("no_declared_conflict", True, "No declared conflict.")


def not_excluded_from_case(candidate: Candidate, facts: PoolFacts) -> Check:
    reviewer = candidate.reviewer
    if reviewer.pk in facts.excluded_reviewers:
        return Check("not_excluded_from_case", False, "Declined or was released from this case before.")
    return Check("not_excluded_from_case", True, "Never declined or released from this case.")


RULES: tuple[Callable[[Candidate, PoolFacts], Check], ...] = (
    active_reviewer,
    contract_in_force,
    spare_capacity,
    reads_language,
    not_a_party,
    not_same_office,
    no_earlier_case_of_requester,
    no_declared_conflict,
    not_excluded_from_case,
)


def judge(reviewer: Reviewer, facts: PoolFacts) -> Verdict:
    candidate = Candidate.of(reviewer, facts)
    return Verdict(
        reviewer=reviewer,
        checks=[rule(candidate, facts) for rule in RULES],
        contract=candidate.contract,
        open_cases=facts.open_cases.get(reviewer.pk, 0),
    )
