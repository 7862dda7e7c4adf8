"""Who may perform which transition on a case.

A user relates to a case through roles: the requester, an HR specialist (never
on their own case), the reviewer holding the case, an endorser, a
decision-maker. ``system`` is the scheduler (no user).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rebuttal.models import RebuttalCase

HR_SPECIALIST = "hr_specialist"
HR_ADMIN = "hr_admin"
REVIEWER = "reviewer"
ENDORSER = "endorser"
DECISION_MAKER = "decision_maker"
ROLE_GROUPS = (HR_SPECIALIST, HR_ADMIN, REVIEWER, ENDORSER, DECISION_MAKER)

# The relations to a case that may attempt each transition at all (403 otherwise).
TRANSITION_ACTORS: dict[str, frozenset[str]] = {
    "submit": frozenset({"requester"}),
    "withdraw": frozenset({"requester"}),
    "start_screening": frozenset({"hr"}),
    "accept_receivable": frozenset({"hr"}),
    "reject_not_receivable": frozenset({"hr"}),
    "invite_reviewer": frozenset({"hr"}),
    "reviewer_accept": frozenset({"reviewer"}),
    "reviewer_decline": frozenset({"reviewer"}),
    "invitation_expire": frozenset({"hr", "system"}),
    "release_reviewer": frozenset({"hr"}),
    "submit_recommendation": frozenset({"reviewer"}),
    "forward_for_endorsement": frozenset({"hr"}),
    "return_to_reviewer": frozenset({"hr", "endorser"}),
    "endorse": frozenset({"endorser"}),
    "decide": frozenset({"decision_maker"}),
    "issue_outcome": frozenset({"hr", "system"}),
}

# Where one transition leaves several states, who acts depends on the state:
# HR returns a report from its quality check, the endorser from endorsement.
STATE_ACTORS: dict[tuple[str, str], frozenset[str]] = {
    ("return_to_reviewer", "recommendation_submitted"): frozenset({"hr"}),
    ("return_to_reviewer", "awaiting_endorsement"): frozenset({"endorser"}),
}


def group_names(user: Any) -> frozenset[str]:
    """The user's role groups, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_groups = cached
    return cached


def relations(case: RebuttalCase, user: Any) -> frozenset[str]:
    """Every way ``user`` relates to ``case`` (``None`` is the system)."""
    if user is None:
        return frozenset({"system"})
    found: set[str] = set()
    is_requester = case.requester_id == user.pk
    if is_requester:
        found.add("requester")
    if case.reviewer_user_id is not None and case.reviewer_user_id == user.pk:
        found.add("reviewer")
    # Nobody acts in an official role on their own case.
    if not is_requester:
        groups = group_names(user)
        if HR_SPECIALIST in groups:
            found.add("hr")
        if ENDORSER in groups:
            found.add("endorser")
        if DECISION_MAKER in groups:
            found.add("decision_maker")
    return frozenset(found)


def may_attempt(case: RebuttalCase, user: Any, name: str) -> bool:
    """Whether the user holds a role that performs ``name`` on this case at all."""
    return bool(relations(case, user) & TRANSITION_ACTORS.get(name, frozenset()))


def may_perform(case: RebuttalCase, user: Any, name: str) -> bool:
    """Whether the user may perform ``name`` on this case in its current state."""
    actors = STATE_ACTORS.get((name, case.status), TRANSITION_ACTORS.get(name, frozenset()))
    return bool(relations(case, user) & actors)


def is_hr(user: Any) -> bool:
    """An HR specialist or administrator (or a superuser): sees every filed case."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or group_names(user) & {HR_SPECIALIST, HR_ADMIN})
