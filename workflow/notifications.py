"""E-mail notifications: who hears of each transition, written as rows, sent after commit.

``notify_transition`` is registered with ``rebuttal.services.on_transition``: inside
the transition's transaction it writes one ``Notification`` per person concerned
and schedules their sending with ``transaction.on_commit``, so a transition that
rolls back leaves no row and sends nothing. ``deliver`` (run by the Celery task
``workflow.tasks.send_notification``) locks a row, sends it and marks it sent in one
transaction, so a row is sent once however often the task runs and a worker killed
mid-send leaves it pending; a failed send goes back to pending and the scheduler
retries it.

A notification's context holds the case reference, a link path and names, never
the statement or any other content of the case: e-mail leaves the organisation's
systems, the case stays behind the login.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from rebuttal.models import RebuttalCase
from rebuttal.permissions import DECISION_MAKER, ENDORSER, HR_ADMIN, HR_SPECIALIST
from reviewers.models import Assignment
from workflow.models import Notification, NotificationStatus

# A failed send is retried (by the scheduler) until it has been attempted this often.
MAX_ATTEMPTS = 5
# States in which the case had a reviewer before a withdrawal.
_HELD_BY_REVIEWER = frozenset({"reviewer_invited", "under_review"})


def case_path(case: RebuttalCase) -> str:
    """The case's page, relative to ``SITE_URL``."""
    return f"/cases/{case.pk}/"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    user: Any = None
    language: str = "en"


def _person(user: Any, language: str = "") -> Recipient | None:
    if user is None or not user.email or not user.is_active:
        return None
    name = user.get_full_name() or user.username
    return Recipient(email=user.email, name=name, user=user, language=language or settings.LANGUAGE_CODE)


def role_members(case: RebuttalCase | None, *groups: str) -> list[Recipient]:
    """Active members of ``groups``; never the requester (nobody acts on their own case)."""
    users = (
        get_user_model()
        .objects.filter(groups__name__in=groups, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    if case is not None:
        users = users.exclude(pk=case.requester_id)
    return [r for r in (_person(u) for u in users) if r is not None]


def hr_leads() -> list[Recipient]:
    """``HR_LEAD_EMAILS`` when set, otherwise the HR administrators."""
    if settings.HR_LEAD_EMAILS:
        User = get_user_model()
        known = {u.email.lower(): u for u in User.objects.filter(email__in=settings.HR_LEAD_EMAILS)}
        found = []
        for email in settings.HR_LEAD_EMAILS:
            user = known.get(email.lower())
            person = _person(user) if user is not None else None
            found.append(person or Recipient(email=email, name=email))
        return found
    return role_members(None, HR_ADMIN)


def _requester(case: RebuttalCase) -> list[Recipient]:
    person = _person(case.requester, language=case.language)
    return [person] if person else []


def _current_reviewer(case: RebuttalCase) -> list[Recipient]:
    # A reviewer reads the case's language (an eligibility rule): write in it.
    person = _person(case.reviewer_user, language=case.language)
    return [person] if person else []


def _last_reviewer(case: RebuttalCase) -> list[Recipient]:
    """Who held the review just before this transition (``case.reviewer_user`` is cleared by now)."""
    assignment = (
        Assignment.objects.filter(case_id=case.pk).select_related("reviewer__user").order_by("-id").first()
    )
    person = _person(assignment.reviewer.user, language=case.language) if assignment is not None else None
    return [person] if person else []


def _withdrawn_reviewer(case: RebuttalCase) -> list[Recipient]:
    return _last_reviewer(case) if case.withdrawn_from in _HELD_BY_REVIEWER else []


def _hr(case: RebuttalCase) -> list[Recipient]:
    return role_members(case, HR_SPECIALIST)


Finder = Callable[[RebuttalCase], list[Recipient]]

# Transition -> (template kind, who receives it). Transitions missing here notify
# nobody (and cost no query): the next task's holders see it in their inbox.
TRANSITION_NOTICES: dict[str, tuple[tuple[str, Finder], ...]] = {
    "submit": (("case_submitted", _requester), ("case_filed", _hr)),
    "reject_not_receivable": (("case_not_receivable", _requester),),
    "withdraw": (("case_withdrawn", _requester), ("review_cancelled", _withdrawn_reviewer)),
    "invite_reviewer": (("reviewer_invited", _current_reviewer),),
    "reviewer_decline": (("invitation_declined", _hr),),
    "invitation_expire": (("invitation_expired", _hr), ("invitation_lapsed", _last_reviewer)),
    "release_reviewer": (("reviewer_released", _last_reviewer),),
    "submit_recommendation": (("recommendation_submitted", _hr),),
    "forward_for_endorsement": (("endorsement_requested", lambda case: role_members(case, ENDORSER)),),
    "return_to_reviewer": (("report_returned", _current_reviewer),),
    "endorse": (("decision_requested", lambda case: role_members(case, DECISION_MAKER)),),
    "decide": (("case_decided", _requester),),
}


def notify_transition(case: RebuttalCase, name: str, actor: Any) -> None:
    """Hook after every transition: a notice to each person concerned (sent once committed)."""
    notices = TRANSITION_NOTICES.get(name)
    if not notices:
        return
    rows = []
    for kind, finder in notices:
        for person in finder(case):
            # The transition's event number makes the key unique per transition.
            key = f"{kind}:{case.pk}:{case.event_count}:{person.email.lower()}"
            rows.append(build(case=case, kind=kind, person=person, dedupe_key=key))
    enqueue(rows)


def build(
    *, case: RebuttalCase | None, kind: str, person: Recipient, dedupe_key: str, **extra: Any
) -> Notification:
    """An unsaved notification; ``extra`` context must be names or figures, never case content."""
    context = {"recipient_name": person.name, **extra}
    if case is not None:
        context.update(reference=case.reference, path=case_path(case))
    return Notification(
        recipient=person.user,
        email=person.email,
        kind=kind,
        case=case,
        language=person.language,
        context=context,
        dedupe_key=dedupe_key,
    )


def enqueue(rows: Iterable[Notification]) -> list[str]:
    """Insert the rows (a key already present is skipped) and send the pending ones after commit.

    Returns the keys of the rows inserted now.
    """
    rows = list(rows)
    if not rows:
        return []
    keys = [row.dedupe_key for row in rows]
    existing = set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    fresh = [row for row in rows if row.dedupe_key not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    new_keys = [row.dedupe_key for row in fresh]
    if new_keys:
        # The ids are read here, in the transaction (``ignore_conflicts`` leaves them unset), so that
        # after the commit nothing but the queueing is left: a query there fails when the database
        # goes down just after the commit, and the rows would wait for the scheduler (ten minutes).
        ids = list(
            Notification.objects.filter(dedupe_key__in=new_keys, status=NotificationStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # robust: a broker or mail failure after commit must not fail the action that was committed.
        transaction.on_commit(lambda: queue_sending(ids), robust=True)
    return new_keys


def queue_sending(ids: list[int]) -> None:
    """Queue the sending task for each notification id (no query: run after the commit)."""
    from workflow.tasks import send_notification

    for pk in ids:
        send_notification.delay(pk)


def send_pending(*, keys: list[str] | None = None, ids: list[int] | None = None) -> None:
    """Queue the sending task for pending rows (by key or id)."""
    from workflow.tasks import send_notification

    rows = Notification.objects.filter(status=NotificationStatus.PENDING)
    if keys is not None:
        rows = rows.filter(dedupe_key__in=keys)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    for pk in rows.order_by("pk").values_list("pk", flat=True):
        send_notification.delay(pk)


def render(notification: Notification) -> tuple[str, str, str]:
    """Subject, text and HTML of a notification, in its language, from the templates of its kind."""
    base = settings.SITE_URL.rstrip("/")
    context = {
        **notification.context,
        "language": notification.language,
        "site_url": base,
        "link": base + notification.context.get("path", "/"),
    }
    with translation.override(notification.language):
        subject = render_to_string(f"emails/{notification.kind}-subject.txt", context)
        text = render_to_string(f"emails/{notification.kind}-body.txt", context)
        html = render_to_string(f"emails/{notification.kind}-body.html", context)
    return " ".join(subject.split()), text, html


def deliver(notification_id: int) -> bool:
    """Send one notification if it is still pending; True if this call sent it.

    Kept here for callers of this module; the work (and why it survives a killed
    worker) is ``workflow.tasks.deliver``.
    """
    from workflow.tasks import deliver as deliver_locked

    return deliver_locked(notification_id)
