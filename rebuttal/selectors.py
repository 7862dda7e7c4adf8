"""Every non-trivial read of cases, with the rulebook's visibility rules applied."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

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


def case_timeline(*, case: RebuttalCase, user: Any, views_by_day: bool = False) -> list[dict[str, Any]]:
    """Every event of the case, oldest first.

    HR (on someone else's case) also sees who opened the case: each opening, or with
    ``views_by_day`` one entry per person, day and what they opened (at the first
    opening that day; ``changes`` has ``views``, how many, and ``last``, the last time),
    so that a page that records every look at the case does not grow with them.
    The requester's timeline is plain: what happened and when, the reasons given to
    them, their own edits, and no names of the people handling the case.
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
        events.extend(_views_by_day(case) if views_by_day else _views(case))
        events.sort(key=lambda item: item["at"])
    return events


def _view_entry(at: Any, actor: Any, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": at,
        "actor": _actor_label(actor),
        "kind": EventKind.VIEWED.value,
        "transition": "",
        "from_status": "",
        "to_status": "",
        "changes": changes,
        "reason": "",
    }


def _views(case: RebuttalCase) -> list[dict[str, Any]]:
    accesses = CaseAccess.objects.filter(case=case).select_related("actor")
    return [_view_entry(access.at, access.actor, {"what": access.what}) for access in accesses]


def _views_by_day(case: RebuttalCase) -> list[dict[str, Any]]:
    """One entry per person, local day and what was opened, counted in the database."""
    rows = (
        CaseAccess.objects.filter(case=case)
        .annotate(day=TruncDate("at"))
        .values("actor", "what", "day")
        .annotate(views=Count("pk"), first=Min("at"), last=Max("at"))
        .order_by("first")
    )
    rows = list(rows)
    actors = get_user_model().objects.in_bulk({row["actor"] for row in rows if row["actor"] is not None})
    return [
        _view_entry(
            row["first"],
            actors.get(row["actor"]),
            {"what": row["what"], "views": row["views"], "last": row["last"]},
        )
        for row in rows
    ]


def _actor_label(user: Any) -> str:
    if user is None:
        return "system"
    return user.get_full_name() or user.get_username()
