"""Random sequences of actions on one case, checked against a reference model of the lifecycle.

Hypothesis tries transitions in any order, by anyone (the right person, the
wrong one, the scheduler), sometimes with a stale ``version``. A plain-dict model
of the rulebook predicts each outcome; after every step the stored case must
match the model, the audit trail must have grown by exactly one event and one
history row per successful transition (and by nothing per refusal), and the
case's hash chain must verify.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from rebuttal.audit_chain import verify_case_chain
from rebuttal.exceptions import ActionForbidden, CaseError, StaleVersion, TransitionRefused
from rebuttal.models import CaseEvent, RebuttalCase
from tests.factories import UserFactory, make_case
from tests.rebuttal.test_transitions import LIFECYCLE, PERFORMERS, TRANSITIONS, performers, valid_data
from workflow.letters import outcome_issue
from workflow.services import case_act

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
    "system",
)
REVIEWERS = ("reviewer", "other_reviewer")
# The main path, in order; an example may start anywhere along it.
MAIN_PATH = [
    ("submit", "requester"),
    ("start_screening", "hr"),
    ("accept_receivable", "hr"),
    ("invite_reviewer", "hr"),
    ("reviewer_accept", "reviewer"),
    ("submit_recommendation", "reviewer"),
    ("forward_for_endorsement", "hr"),
    ("endorse", "endorser"),
    ("decide", "decision_maker"),
    ("issue_outcome", "system"),
]
# A reviewer's hold on the case ends with these transitions.
ENDS_HOLD = frozenset({"reviewer_decline", "invitation_expire", "release_reviewer", "withdraw", "decide"})

SETTINGS = settings(
    max_examples=200,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class People:
    """The users of one run, by role name (``system`` is the scheduler: no user)."""

    def __init__(self, **users: Any) -> None:
        self.users = users

    def get(self, role: str) -> Any:
        return None if role == "system" else self.users[role]


class LifecycleMachine(RuleBasedStateMachine):
    """One case per example; every example runs in a savepoint that is rolled back."""

    people: ClassVar[People]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        case = make_case(self.people.get("requester"))
        self.case_id = case.pk
        # The model: state, the reviewer role holding the case, and the expected counts.
        self.state = "draft"
        self.holder: str | None = None
        # Reviewers who declined or were released: never eligible for this case again.
        self.excluded: set[str] = set()
        self.version = case.version
        self.events = 1  # the "created" event
        self.history = 1

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the reference model --------------------------------------------------

    def relations(self, role: str) -> frozenset[str]:
        """How ``role`` relates to the case in the model (mirrors the rulebook's roles)."""
        if role == "system":
            return frozenset({"system"})
        if role in REVIEWERS:
            return frozenset({"reviewer"}) if self.holder == role else frozenset()
        if role in ("requester", "hr", "endorser", "decision_maker"):
            return frozenset({role})
        return frozenset()  # other requester, HR administrator, outsider

    def expected(self, transition: str, role: str, *, stale: bool) -> type[CaseError] | str:
        """The target state on success, or the refusal the service must give."""
        related = self.relations(role)
        if not related & PERFORMERS[transition]:
            return ActionForbidden  # no party to this kind of action at all
        if stale:
            return StaleVersion
        if transition not in LIFECYCLE[self.state]:
            return TransitionRefused
        if not related & performers(transition, self.state):
            return ActionForbidden  # a party, but not the one who acts in this state
        return LIFECYCLE[self.state][transition]

    def attempt(self, transition: str, role: str, *, invitee: str = "reviewer", stale: bool = False) -> None:
        outcome = self.expected(transition, role, stale=stale)
        if outcome == "reviewer_invited" and invitee in self.excluded:
            outcome = ValidationError  # an ineligible reviewer: refused with the failing rule
        data = valid_data(transition, reviewer_user=self.people.get(invitee))
        call = {
            "case_id": self.case_id,
            "name": transition,
            "actor": self.people.get(role),
            "version": self.version - 1 if stale else self.version,
            "data": data,
        }
        if isinstance(outcome, str) and transition == "issue_outcome":
            # The case closes when its outcome letter is archived: one event for the letter.
            outcome_issue(self.case_id)
            case = RebuttalCase.objects.get(pk=self.case_id)
            self.events += 1
        if isinstance(outcome, str):
            case = case if transition == "issue_outcome" else case_act(**call)
            assert case.status == outcome
            self.state = outcome
            self.version += 1
            self.events += 1
            self.history += 1
            if transition == "invite_reviewer":
                self.holder = invitee
            elif transition in ENDS_HOLD:
                if transition in ("reviewer_decline", "release_reviewer"):
                    self.excluded.add(self.holder)
                self.holder = None
        else:
            refusal: Exception | None = None
            try:
                case_act(**call)
            except (CaseError, ValidationError) as exc:
                refusal = exc
            where = f"{transition} by {role} in {self.state}"
            assert refusal is not None, f"{where} went through; expected {outcome.__name__}"
            assert type(refusal) is outcome, (
                f"{where}: expected {outcome.__name__}, got {type(refusal).__name__}: {refusal}"
            )

    # --- rules -------------------------------------------------------------------

    @initialize(steps=st.integers(min_value=0, max_value=len(MAIN_PATH)))
    def start_along_the_main_path(self, steps: int) -> None:
        """Start from any state of the main path, so short runs still reach the late stages."""
        for transition, role in MAIN_PATH[:steps]:
            self.attempt(transition, role)

    @rule(
        transition=st.sampled_from(TRANSITIONS),
        role=st.sampled_from(ROLES),
        invitee=st.sampled_from(REVIEWERS),
    )
    def anyone_tries_anything(self, transition: str, role: str, invitee: str) -> None:
        self.attempt(transition, role, invitee=invitee)

    @precondition(lambda self: bool(LIFECYCLE[self.state]))
    @rule(data=st.data(), invitee=st.sampled_from(REVIEWERS))
    def a_party_tries_a_step_this_state_allows(self, data: st.DataObject, invitee: str) -> None:
        """Someone who performs one of this state's steps tries one of them, often not theirs.

        This is where the rules on who acts in which state bite (HR returns a report
        from quality check, the endorser from endorsement; only the holding reviewer).
        """
        allowed = sorted(LIFECYCLE[self.state])
        relations = set().union(*(PERFORMERS[transition] for transition in allowed))
        roles = sorted(role for role in ROLES if relations & ({"reviewer"} if role in REVIEWERS else {role}))
        transition = data.draw(st.sampled_from(allowed), label="transition")
        role = data.draw(st.sampled_from(roles), label="role")
        self.attempt(transition, role, invitee=invitee)

    @rule(transition=st.sampled_from(TRANSITIONS), role=st.sampled_from(ROLES))
    def someone_acts_on_an_old_version(self, transition: str, role: str) -> None:
        self.attempt(transition, role, stale=True)

    @precondition(lambda self: bool(LIFECYCLE[self.state]))
    @rule(data=st.data())
    def the_right_person_takes_an_allowed_step(self, data: st.DataObject) -> None:
        options = [
            (transition, role)
            for transition in sorted(LIFECYCLE[self.state])
            for role in ROLES
            if isinstance(self.expected(transition, role, stale=False), str)
        ]
        transition, role = data.draw(st.sampled_from(options), label="step")
        invitee = data.draw(st.sampled_from(REVIEWERS), label="invitee")
        self.attempt(transition, role, invitee=invitee)

    # --- invariants ----------------------------------------------------------------

    @invariant()
    def stored_case_matches_the_model(self) -> None:
        case = RebuttalCase.objects.get(pk=self.case_id)
        assert case.status == self.state
        assert case.version == self.version
        holder = self.people.get(self.holder) if self.holder else None
        assert case.reviewer_user_id == (holder.pk if holder else None)

    @invariant()
    def audit_trail_grows_by_one_per_successful_transition(self) -> None:
        case = RebuttalCase.objects.get(pk=self.case_id)
        assert CaseEvent.objects.filter(case_id=self.case_id).count() == self.events
        assert case.event_count == self.events
        assert RebuttalCase.history.filter(id=self.case_id).count() == self.history

    @invariant()
    def audit_hash_chain_verifies(self) -> None:
        assert verify_case_chain(RebuttalCase.objects.get(pk=self.case_id)) == []


def test_lifecycle_matches_the_reference_model_under_any_sequence_of_actions(
    groups, requester, other_requester, hr, hr_admin, reviewer, endorser, decision_maker, outsider
):
    other_reviewer = UserFactory(username="rex", email="rex@example.org")
    other_reviewer.groups.add(groups["reviewer"])
    people = People(
        requester=requester,
        other_requester=other_requester,
        hr=hr,
        hr_admin=hr_admin,
        reviewer=reviewer,
        other_reviewer=other_reviewer,
        endorser=endorser,
        decision_maker=decision_maker,
        outsider=outsider,
    )
    machine = type("LifecycleRun", (LifecycleMachine,), {"people": people})

    run_state_machine_as_test(machine, settings=SETTINGS)
