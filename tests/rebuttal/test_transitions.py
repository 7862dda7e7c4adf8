"""Every (state, transition) pair of the lifecycle, and every role that may not act.

The tables below are the rulebook's lifecycle (``/work/shared/domain.md``), written
out independently of the state machine in ``rebuttal/models.py``: allowed pairs
must succeed and land in the table's target state; every other pair is refused
with a message naming the transition and the state, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rebuttal.audit_chain import verify_case_chain
from rebuttal.exceptions import ActionForbidden, StaleVersion, TransitionRefused
from rebuttal.models import CaseEvent, EventKind, RebuttalCase
from rebuttal.selectors import policy_current
from tests.factories import UserFactory, advance, archive_outcome_letter, make_case, reviewer_profile
from workflow.services import case_act

# state -> {transition: target state}, as in the rulebook's lifecycle table.
LIFECYCLE: dict[str, dict[str, str]] = {
    "draft": {"submit": "submitted"},
    "submitted": {"start_screening": "screening", "withdraw": "withdrawn"},
    "screening": {
        "accept_receivable": "awaiting_assignment",
        "reject_not_receivable": "not_receivable",
        "withdraw": "withdrawn",
    },
    "not_receivable": {},
    "awaiting_assignment": {"invite_reviewer": "reviewer_invited", "withdraw": "withdrawn"},
    "reviewer_invited": {
        "reviewer_accept": "under_review",
        "reviewer_decline": "awaiting_assignment",
        "invitation_expire": "awaiting_assignment",
        "withdraw": "withdrawn",
    },
    "under_review": {
        "submit_recommendation": "recommendation_submitted",
        "release_reviewer": "awaiting_assignment",
        "withdraw": "withdrawn",
    },
    "recommendation_submitted": {
        "forward_for_endorsement": "awaiting_endorsement",
        "return_to_reviewer": "under_review",
    },
    "awaiting_endorsement": {"endorse": "awaiting_decision", "return_to_reviewer": "under_review"},
    "awaiting_decision": {"decide": "decided"},
    "decided": {"issue_outcome": "closed"},
    "closed": {},
    "withdrawn": {},
}
STATES = list(LIFECYCLE)
TRANSITIONS = [
    "submit",
    "start_screening",
    "accept_receivable",
    "reject_not_receivable",
    "invite_reviewer",
    "reviewer_accept",
    "reviewer_decline",
    "invitation_expire",
    "release_reviewer",
    "submit_recommendation",
    "forward_for_endorsement",
    "return_to_reviewer",
    "endorse",
    "decide",
    "issue_outcome",
    "withdraw",
]

# Who performs each transition ("reviewer" is the reviewer holding the case,
# "system" the scheduler, i.e. ``actor=None``).
PERFORMERS: dict[str, frozenset[str]] = {
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
# HR returns a report from its quality check; the endorser from endorsement.
STATE_PERFORMERS: dict[tuple[str, str], frozenset[str]] = {
    ("return_to_reviewer", "recommendation_submitted"): frozenset({"hr"}),
    ("return_to_reviewer", "awaiting_endorsement"): frozenset({"endorser"}),
}


def performers(transition: str, state: str) -> frozenset[str]:
    return STATE_PERFORMERS.get((transition, state), PERFORMERS[transition])


# Along the factories' path no reviewer holds the case in these states (before an
# invitation, and once the decision ends the review), so the reviewer is no party
# to it there: a reviewer action is forbidden, not refused.
NO_REVIEWER_HOLDS = frozenset(
    {
        "draft",
        "submitted",
        "screening",
        "not_receivable",
        "awaiting_assignment",
        "withdrawn",
        "decided",
        "closed",
    }
)

# Everyone who might try; "hr_requester" is an HR specialist acting on their own request.
ROLES = (
    "requester",
    "other_requester",
    "hr",
    "hr_admin",
    "reviewer",
    "other_reviewer",
    "endorser",
    "decision_maker",
    "outsider",
    "hr_requester",
    "system",
)


@dataclass(frozen=True)
class People:
    requester: Any
    other_requester: Any
    hr: Any
    hr_admin: Any
    reviewer: Any
    other_reviewer: Any
    endorser: Any
    decision_maker: Any
    outsider: Any
    hr_requester: Any

    def get(self, role: str) -> Any:
        return None if role == "system" else getattr(self, role)

    def build(self, state: str, *, requester: Any = None) -> RebuttalCase:
        """A case of ``requester`` (Alice by default) driven along the main path into ``state``."""
        requester = requester or self.requester
        case = advance(
            make_case(requester),
            to=state,
            requester=requester,
            hr=self.hr,
            reviewer=self.reviewer,
            endorser=self.endorser,
            decision_maker=self.decision_maker,
        )
        if state == "decided":
            # Its outcome letter is archived, so that issue_outcome may close it.
            archive_outcome_letter(case)
        return case


@pytest.fixture
def people(
    groups, requester, other_requester, hr, hr_admin, reviewer, endorser, decision_maker, outsider
) -> People:
    other_reviewer = UserFactory(username="rex", email="rex@example.org")
    other_reviewer.groups.add(groups["reviewer"])
    hr_requester = UserFactory(username="hugo", email="hugo@example.org")
    hr_requester.groups.add(groups["hr_specialist"])
    return People(
        requester=requester,
        other_requester=other_requester,
        hr=hr,
        hr_admin=hr_admin,
        reviewer=reviewer,
        other_reviewer=other_reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
        outsider=outsider,
        hr_requester=hr_requester,
    )


def valid_data(transition: str, *, reviewer_user: Any = None) -> dict[str, Any]:
    """Input that passes each service's own validation (so only state and role decide)."""
    return {
        "accept_receivable": {"override_justification": "Accepted in test."},
        "reject_not_receivable": {"reason": "Filed after the window closed."},
        "withdraw": {"reason": "Resolved informally."},
        "invite_reviewer": {"reviewer": reviewer_user and reviewer_profile(reviewer_user)},
        "reviewer_accept": {"no_conflict_declaration": True},
        "reviewer_decline": {"reason": "No availability this month."},
        "release_reviewer": {"reason": "Contract ended early."},
        "submit_recommendation": {
            "findings": "The rating is not supported by the documented results.",
            "recommendation": "revise",
            "recommended_rating": "successfully_meets",
            "reasons": "Objectives were met.",
        },
        "forward_for_endorsement": {"comment": "Quality check passed."},
        "return_to_reviewer": {"reason": "Please address the second objective."},
        "endorse": {"comment": "Agreed."},
        "decide": {
            "final_rating": "successfully_meets",
            "follows_recommendation": True,
            "reasons": "The review is convincing.",
        },
    }.get(transition, {})


def acting_role(transition: str, state: str) -> str:
    """The role that performs ``transition`` (from ``state`` where that matters); system first."""
    roles = performers(transition, state)
    for role in ("system", "requester", "hr", "reviewer", "endorser", "decision_maker"):
        if role in roles:
            return role
    raise AssertionError(f"nobody performs {transition}")  # pragma: no cover


def snapshot(case_id: int) -> tuple[dict[str, Any], int, int]:
    """The whole case row, its event count and its history count."""
    row = RebuttalCase.objects.filter(pk=case_id).values().get()
    events = CaseEvent.objects.filter(case_id=case_id).count()
    history = RebuttalCase.history.filter(id=case_id).count()
    return row, events, history


def act(case: RebuttalCase, transition: str, actor: Any, people: People, **kwargs: Any) -> RebuttalCase:
    return case_act(
        case_id=case.pk,
        name=transition,
        actor=actor,
        version=kwargs.pop("version", case.version),
        data=kwargs.pop("data", valid_data(transition, reviewer_user=people.reviewer)),
    )


def assert_one_transition_recorded(
    case: RebuttalCase, before: tuple[dict[str, Any], int, int], *, transition: str, actor: Any
) -> None:
    """Exactly one event and one history row, both saying who moved the case from where to where."""
    row, events, history = before
    case.refresh_from_db()
    assert case.version == row["version"] + 1
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert case.history.count() == history + 1
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.kind == EventKind.TRANSITION
    assert event.transition == transition
    assert event.from_status == row["status"]
    assert event.to_status == case.status
    assert event.actor_id == (actor.pk if actor else None)
    assert event.policy_version == policy_current().version
    latest = case.history.order_by("-history_id").first()
    assert latest.status == case.status
    assert latest.history_user_id == (actor.pk if actor else None)
    assert latest.history_change_reason == transition
    assert verify_case_chain(case) == []


# --- the full state x transition matrix --------------------------------------

MATRIX = [
    pytest.param(
        state, transition, id=f"{state}-{transition}-{'allowed' if transition in targets else 'refused'}"
    )
    for state, targets in LIFECYCLE.items()
    for transition in TRANSITIONS
]


@pytest.mark.parametrize(("state", "transition"), MATRIX)
def test_transition_succeeds_only_where_the_lifecycle_allows_it(people, state, transition):
    case = people.build(state)
    assert case.status == state
    role = acting_role(transition, state)
    actor = people.get(role)
    before = snapshot(case.pk)

    if transition in LIFECYCLE[state]:
        moved = act(case, transition, actor, people)
        assert moved.status == LIFECYCLE[state][transition]
        assert_one_transition_recorded(moved, before, transition=transition, actor=actor)
        return

    if role == "reviewer" and state in NO_REVIEWER_HOLDS:
        # Nobody holds the review yet (or any more): the reviewer is no party to the case.
        assert case.reviewer_user_id is None
        with pytest.raises(ActionForbidden):
            act(case, transition, actor, people)
    else:
        with pytest.raises(TransitionRefused) as refused:
            act(case, transition, actor, people)
        message = str(refused.value)
        assert f"'{transition}'" in message
        assert f"({state})" in message
    assert snapshot(case.pk) == before


def test_the_matrix_covers_every_state_and_transition_of_the_state_machine():
    from rebuttal.models import Status
    from workflow.services import ACTIONS

    assert set(STATES) == set(Status.values)
    assert set(TRANSITIONS) == set(ACTIONS)
    assert set(PERFORMERS) == set(ACTIONS)


# --- roles that may not act ------------------------------------------------------

# One source state per transition (both for return_to_reviewer, whose actor depends on it).
SOURCES = [
    ("submit", "draft"),
    ("start_screening", "submitted"),
    ("accept_receivable", "screening"),
    ("reject_not_receivable", "screening"),
    ("invite_reviewer", "awaiting_assignment"),
    ("reviewer_accept", "reviewer_invited"),
    ("reviewer_decline", "reviewer_invited"),
    ("invitation_expire", "reviewer_invited"),
    ("release_reviewer", "under_review"),
    ("submit_recommendation", "under_review"),
    ("forward_for_endorsement", "recommendation_submitted"),
    ("return_to_reviewer", "recommendation_submitted"),
    ("return_to_reviewer", "awaiting_endorsement"),
    ("endorse", "awaiting_endorsement"),
    ("decide", "awaiting_decision"),
    ("issue_outcome", "decided"),
    ("withdraw", "under_review"),
]


def may_act(role: str, transition: str, state: str) -> bool:
    allowed = performers(transition, state)
    if role == "hr_requester":
        # An HR specialist is only the requester on their own case, never its case manager.
        return "requester" in allowed
    if role == "reviewer" and state in NO_REVIEWER_HOLDS:
        return False
    return role in allowed


FORBIDDEN = [
    pytest.param(transition, state, role, id=f"{transition}-from-{state}-by-{role}")
    for transition, state in SOURCES
    for role in ROLES
    if not may_act(role, transition, state)
]


@pytest.mark.parametrize(("transition", "state", "role"), FORBIDDEN)
def test_role_that_may_not_act_is_forbidden_and_nothing_changes(people, transition, state, role):
    # The HR specialist's own request is managed by another HR specialist.
    case = people.build(state, requester=people.hr_requester if role == "hr_requester" else None)
    assert case.status == state
    before = snapshot(case.pk)

    with pytest.raises(ActionForbidden) as forbidden:
        act(case, transition, people.get(role), people)

    assert transition.replace("_", " ") in str(forbidden.value)
    assert snapshot(case.pk) == before


def test_every_source_state_in_the_role_table_allows_its_transition():
    assert all(transition in LIFECYCLE[state] for transition, state in SOURCES)
    assert {transition for transition, _ in SOURCES} == set(TRANSITIONS)


@pytest.mark.parametrize(("transition", "state"), SOURCES, ids=[f"{t}-from-{s}" for t, s in SOURCES])
def test_every_role_that_may_act_succeeds(people, transition, state):
    for role in ROLES:
        if not may_act(role, transition, state):
            continue
        # Each role gets a case of its own requester: one reviewer may not review two
        # cases of the same requester.
        owner = {"requester": people.requester, "hr_requester": people.hr_requester}.get(
            role, UserFactory(username=f"owner-{role}")
        )
        case = people.build(state, requester=owner)
        before = snapshot(case.pk)
        moved = act(case, transition, people.get(role), people)
        assert moved.status == LIFECYCLE[state][transition]
        assert_one_transition_recorded(moved, before, transition=transition, actor=people.get(role))


def test_hr_specialist_cannot_screen_their_own_request(people):
    case = people.build("submitted", requester=people.hr_requester)
    before = snapshot(case.pk)

    with pytest.raises(ActionForbidden):
        act(case, "start_screening", people.hr_requester, people)

    assert snapshot(case.pk) == before
    # Another HR specialist can.
    assert act(case, "start_screening", people.hr, people).status == "screening"


# --- stale versions -------------------------------------------------------------

ALLOWED = [(state, transition) for state, targets in LIFECYCLE.items() for transition in targets]


@pytest.mark.parametrize(("state", "transition"), ALLOWED, ids=[f"{s}-{t}" for s, t in ALLOWED])
def test_stale_version_is_refused_and_nothing_changes(people, state, transition):
    case = people.build(state)
    before = snapshot(case.pk)

    with pytest.raises(StaleVersion) as stale:
        act(case, transition, people.get(acting_role(transition, state)), people, version=case.version - 1)

    assert f"version {case.version - 1}" in str(stale.value)
    assert snapshot(case.pk) == before


# --- transitions with more than one actor, or none -------------------------------


def test_hr_returns_a_report_from_quality_check(people):
    case = people.build("recommendation_submitted")
    before = snapshot(case.pk)

    moved = act(case, "return_to_reviewer", people.hr, people)

    assert moved.status == "under_review"
    assert moved.reviewer_user_id == people.reviewer.pk
    assert_one_transition_recorded(moved, before, transition="return_to_reviewer", actor=people.hr)


def test_endorser_cannot_return_a_report_still_in_hr_quality_check(people):
    case = people.build("recommendation_submitted")
    before = snapshot(case.pk)

    with pytest.raises(ActionForbidden):
        act(case, "return_to_reviewer", people.endorser, people)

    assert snapshot(case.pk) == before


def test_endorser_returns_a_report_from_endorsement(people):
    case = people.build("awaiting_endorsement")
    before = snapshot(case.pk)

    moved = act(case, "return_to_reviewer", people.endorser, people)

    assert moved.status == "under_review"
    assert_one_transition_recorded(moved, before, transition="return_to_reviewer", actor=people.endorser)


def test_hr_cannot_return_a_report_waiting_for_the_endorser(people):
    case = people.build("awaiting_endorsement")
    before = snapshot(case.pk)

    with pytest.raises(ActionForbidden):
        act(case, "return_to_reviewer", people.hr, people)

    assert snapshot(case.pk) == before


def test_scheduler_expires_an_unanswered_invitation(people):
    case = people.build("reviewer_invited")
    before = snapshot(case.pk)

    moved = case_act(case_id=case.pk, name="invitation_expire", actor=None, version=case.version)

    assert moved.status == "awaiting_assignment"
    assert moved.reviewer_user_id is None
    assert_one_transition_recorded(moved, before, transition="invitation_expire", actor=None)
    assert moved.events.order_by("-seq").first().reason == "The invitation expired without an answer."


def test_scheduler_closes_a_decided_case_when_the_outcome_is_issued(people):
    case = people.build("decided")
    before = snapshot(case.pk)

    moved = case_act(case_id=case.pk, name="issue_outcome", actor=None, version=case.version)

    assert moved.status == "closed"
    assert moved.closed_at is not None
    assert moved.stage_due_on is None
    assert_one_transition_recorded(moved, before, transition="issue_outcome", actor=None)


# --- what particular transitions record ------------------------------------------

WITHDRAWABLE = [state for state, targets in LIFECYCLE.items() if "withdraw" in targets]


@pytest.mark.parametrize("state", WITHDRAWABLE)
def test_withdrawal_records_the_state_it_was_withdrawn_from(people, state):
    case = people.build(state)
    before = snapshot(case.pk)

    moved = act(case, "withdraw", people.requester, people, data={"reason": "  Resolved informally.  "})

    assert moved.status == "withdrawn"
    assert moved.withdrawn_from == state
    assert moved.withdrawal_reason == "Resolved informally."
    assert moved.reviewer_user_id is None
    assert moved.closed_at is not None
    assert_one_transition_recorded(moved, before, transition="withdraw", actor=people.requester)
    assert moved.events.order_by("-seq").first().reason == "Resolved informally."


def test_withdrawal_is_refused_once_a_recommendation_is_in(people):
    assert "withdraw" not in LIFECYCLE["recommendation_submitted"]
    case = people.build("recommendation_submitted")
    before = snapshot(case.pk)

    with pytest.raises(TransitionRefused):
        act(case, "withdraw", people.requester, people)

    assert snapshot(case.pk) == before


def test_decision_records_the_final_rating_and_keeps_the_original(people):
    case = people.build("awaiting_decision")
    assert case.original_rating == "partially_meets"
    before = snapshot(case.pk)

    moved = act(
        case,
        "decide",
        people.decision_maker,
        people,
        data={
            "final_rating": "successfully_meets",
            "follows_recommendation": False,
            "reasons": "The supervisor's evidence was incomplete.",
        },
    )

    moved.refresh_from_db()
    assert moved.status == "decided"
    assert moved.final_rating == "successfully_meets"
    assert moved.original_rating == "partially_meets"
    assert moved.follows_recommendation is False
    assert moved.decision_reasons == "The supervisor's evidence was incomplete."
    assert moved.decided_at is not None
    assert_one_transition_recorded(moved, before, transition="decide", actor=people.decision_maker)
    event = moved.events.order_by("-seq").first()
    assert event.changes == {"final_rating": [None, "successfully_meets"]}
    assert event.reason == "The supervisor's evidence was incomplete."
