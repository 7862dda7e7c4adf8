"""Every non-trivial read of cases, with the rulebook's visibility rules applied."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from rebuttal import permissions, receivability
from rebuttal.exceptions import CaseNotFound
from rebuttal.models import CaseAccess, CaseEvent, EventKind, Policy, RebuttalCase, Status


def policy_current() -> Policy:
    """The policy version in force: the newest one published."""
    policy = Policy.objects.order_by("-version").first()
    if policy is None:  # only before migrations ran
        raise RuntimeError("No policy has been published; run migrations.")
    return policy


def case_visible_qs(user: Any) -> QuerySet[RebuttalCase]:
    """The cases ``user`` may know exist.

    HR specialists and administrators see every filed case; the requester sees
    their own (drafts included); a reviewer sees the case they hold now; an
    endorser or decision-maker sees cases waiting for them and cases they acted
    on. Nobody else learns that a case exists. Drafts are the requester's alone.
    """
    qs = RebuttalCase.objects.filter(deleted_at__isnull=True)
    if user is None or not user.is_authenticated:
        return qs.none()
    own = Q(requester_id=user.pk)
    if user.is_superuser:
        return qs.filter(own | ~Q(status=Status.DRAFT))
    groups = permissions.group_names(user)
    visible = own | Q(reviewer_user_id=user.pk)
    if groups & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}:
        visible |= ~Q(status=Status.DRAFT)
    acted_on = Exists(
        CaseEvent.objects.filter(case_id=OuterRef("pk"), actor_id=user.pk, kind=EventKind.TRANSITION)
    )
    if permissions.ENDORSER in groups:
        visible |= Q(status=Status.AWAITING_ENDORSEMENT) | Q(
            acted_on, status__in=_after(Status.AWAITING_ENDORSEMENT)
        )
    if permissions.DECISION_MAKER in groups:
        visible |= Q(status=Status.AWAITING_DECISION) | Q(
            acted_on, status__in=_after(Status.AWAITING_DECISION)
        )
    return qs.filter(visible)


def _after(status: str) -> list[str]:
    """States a case can be in once it has passed ``status`` (for 'acted on')."""
    order = [
        Status.UNDER_REVIEW,
        Status.RECOMMENDATION_SUBMITTED,
        Status.AWAITING_ENDORSEMENT,
        Status.AWAITING_DECISION,
        Status.DECIDED,
        Status.CLOSED,
    ]
    return [s.value for s in order if s != status]


def case_get_visible(*, user: Any, pk: Any) -> RebuttalCase:
    """The case if ``user`` may see it; otherwise ``CaseNotFound`` (never 'forbidden')."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise CaseNotFound("No such case.") from None
    case = case_visible_qs(user).select_related("requester", "policy").filter(pk=pk).first()
    if case is None:
        raise CaseNotFound("No such case.")
    return case


def case_earlier_requests_for_cycle(*, case: RebuttalCase) -> list[str]:
    """References of requests for the same requester and cycle filed before this one.

    Drafts, deleted drafts and requests withdrawn before screening do not count.
    """
    earlier = (
        RebuttalCase.objects.filter(
            requester_id=case.requester_id,
            appraisal_cycle=case.appraisal_cycle,
            deleted_at__isnull=True,
            submitted_at__isnull=False,
        )
        .exclude(pk=case.pk)
        .exclude(status=Status.WITHDRAWN, withdrawn_from=Status.SUBMITTED)
    )
    if case.submitted_at is not None:
        earlier = earlier.filter(
            Q(submitted_at__lt=case.submitted_at) | Q(submitted_at=case.submitted_at, pk__lt=case.pk)
        )
    return list(earlier.order_by("submitted_at").values_list("reference", flat=True))


def case_receivability(*, case: RebuttalCase) -> list[receivability.RuleResult]:
    """The checklist under the policy the case is screened under (or the current one)."""
    policy = case.policy if case.policy_id else policy_current()
    return receivability.evaluate(case, policy)


# Transitions whose reason the requester reads on their timeline (the rest are the
# working notes of HR, reviewers, the endorser and the decision-maker).
REASONS_FOR_REQUESTER = frozenset({"reject_not_receivable", "withdraw", "decide"})


def case_timeline(*, case: RebuttalCase, user: Any) -> list[dict[str, Any]]:
    """Every event of the case, oldest first.

    HR (on someone else's case) also sees who opened the case. The requester's
    timeline is plain: what happened and when, the reasons given to them, their
    own edits, and no names of the people handling the case.
    """
    plain = case.requester_id == user.pk
    events = []
    for event in case.events.select_related("actor").order_by("seq"):
        entry = {
            "at": event.at,
            "actor": _actor_label(event.actor),
            "kind": event.kind,
            "transition": event.transition,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "changes": event.changes,
            "reason": event.reason,
        }
        if plain and event.actor_id != user.pk:
            entry["actor"] = ""
            if event.transition not in REASONS_FOR_REQUESTER:
                entry["reason"] = ""
            # Which letter was issued, yes; which document someone else added, no.
            if event.kind != EventKind.LETTER_ISSUED:
                entry["changes"] = {}
        events.append(entry)
    if plain:
        return events
    groups = permissions.group_names(user)
    if user.is_superuser or groups & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}:
        events.extend(
            {
                "at": access.at,
                "actor": _actor_label(access.actor),
                "kind": EventKind.VIEWED.value,
                "transition": "",
                "from_status": "",
                "to_status": "",
                "changes": {"what": access.what},
                "reason": "",
            }
            for access in CaseAccess.objects.filter(case=case).select_related("actor")
        )
        events.sort(key=lambda item: item["at"])
    return events


def _actor_label(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()
