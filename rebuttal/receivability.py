"""The receivability rules of the rulebook, each a small named check.

A check reads the case and the policy it is screened under and returns pass or
fail with a sentence an HR specialist can act on. The specialist decides; a
failed rule can be overridden only with a written justification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from rebuttal.models import Policy, RebuttalCase


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def rebuttable_rating(case: RebuttalCase, policy: Policy) -> RuleResult:
    label = policy.rating_label(case.original_rating)
    if case.original_rating not in policy.rating_keys:
        return RuleResult("rebuttable_rating", False, f"'{case.original_rating}' is not on the rating scale.")
    if case.original_rating in policy.rebuttable_ratings:
        return RuleResult("rebuttable_rating", True, f"'{label}' can be rebutted.")
    allowed = ", ".join(policy.rating_label(key) for key in policy.rebuttable_ratings)
    return RuleResult("rebuttable_rating", False, f"'{label}' cannot be rebutted; only: {allowed}.")


def filing_window(case: RebuttalCase, policy: Policy) -> RuleResult:
    filed = timezone.localtime(case.submitted_at).date() if case.submitted_at else timezone.localdate()
    days = (filed - case.appraisal_signed_on).days
    window = policy.filing_window_days
    if days < 0:
        return RuleResult("filing_window", False, "The appraisal sign-off date is after the filing date.")
    if days <= window:
        return RuleResult(
            "filing_window",
            True,
            f"Filed {days} calendar day(s) after sign-off; the window is {window} days.",
        )
    return RuleResult(
        "filing_window",
        False,
        f"Filed {days} calendar days after sign-off; the window is {window} days.",
    )


def eligible_contract(case: RebuttalCase, policy: Policy) -> RuleResult:
    kind = case.get_contract_type_display()
    if case.contract_type not in policy.eligible_contract_types:
        return RuleResult("eligible_contract", False, f"{kind}s are not eligible for a rebuttal.")
    if case.contract_type == "fixed_term":
        minimum = policy.fixed_term_min_months
        months = case.appointment_months
        if months is None or months < minimum:
            shown = "unknown" if months is None else f"{months} months"
            return RuleResult(
                "eligible_contract",
                False,
                f"Fixed-term appointment of {shown}; at least {minimum} months is required.",
            )
    return RuleResult("eligible_contract", True, f"{kind} is eligible.")


def one_per_appraisal(case: RebuttalCase, policy: Policy) -> RuleResult:
    from rebuttal.selectors import case_earlier_requests_for_cycle

    earlier = case_earlier_requests_for_cycle(case=case)
    if earlier:
        refs = ", ".join(earlier)
        return RuleResult(
            "one_per_appraisal",
            False,
            f"A rebuttal of the {case.appraisal_cycle} appraisal was already filed ({refs}).",
        )
    return RuleResult("one_per_appraisal", True, f"First rebuttal of the {case.appraisal_cycle} appraisal.")


def distinct_reporting_officers(case: RebuttalCase, policy: Policy) -> RuleResult:
    first = case.first_reporting_officer_email.strip().lower()
    second = case.second_reporting_officer_email.strip().lower()
    if first and first == second:
        return RuleResult(
            "distinct_reporting_officers",
            False,
            "The first and second reporting officers are the same person.",
        )
    return RuleResult("distinct_reporting_officers", True, "First and second reporting officers differ.")


def statement_present(case: RebuttalCase, policy: Policy) -> RuleResult:
    if case.statement.strip():
        return RuleResult("statement_present", True, "A statement of reasons is present.")
    return RuleResult("statement_present", False, "The statement of reasons is empty.")


RULES: tuple[Callable[[RebuttalCase, Policy], RuleResult], ...] = (
    rebuttable_rating,
    filing_window,
    eligible_contract,
    one_per_appraisal,
    distinct_reporting_officers,
    statement_present,
)


def evaluate(case: RebuttalCase, policy: Policy) -> list[RuleResult]:
    return [rule(case, policy) for rule in RULES]
