"""Letters the workflow calls for: asked for inside a transition, issued by a task after commit.

``request_letter`` is registered with ``rebuttal.services.on_transition``: a
transition that calls for a letter (submit, reject_not_receivable, withdraw,
decide) writes its ``LetterRequest`` in the same transaction and queues the
``issue_letter`` task on commit, so a transition that rolls back asks for
nothing. ``letter_issue`` renders outside any transaction and then, in one
transaction, stores the letter and, for the outcome letter, performs
``issue_outcome``: a case is closed exactly when its outcome letter is archived.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from rebuttal.models import RebuttalCase, Status
from reports import services as letter_services
from reports.models import Letter, LetterKind, LetterRequest, RequestStatus

logger = logging.getLogger(__name__)

# A pending request older than this lost its task (or its worker): queue it again.
RETRY_AFTER = dt.timedelta(minutes=10)


def request_letter(case: RebuttalCase, name: str, actor: Any) -> None:
    kind = letter_services.LETTER_OF_TRANSITION.get(name)
    if kind is None:
        return
    request = letter_services.letter_request_create(case=case, kind=kind)
    queue(request.pk)


_held: ContextVar[list[int] | None] = ContextVar("letters_held", default=None)


@contextmanager
def letters_held() -> Iterator[list[int]]:
    """Collect the letters asked for inside the block instead of queueing them.

    For bulk jobs (the demo data) that issue the letters afterwards, or choose
    to leave some pending.
    """
    held: list[int] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def queue(request_id: int) -> None:
    """Send the request to a worker once the current transaction commits."""
    from workflow.tasks import issue_letter

    held = _held.get()
    if held is not None:
        held.append(request_id)
        return
    # robust: with the broker down the request stays pending and the scheduler queues it again;
    # the action that was committed must not fail for it.
    transaction.on_commit(lambda: issue_letter.delay(request_id), robust=True)


def outcome_issue(case_id: int, *, actor: Any = None) -> Letter | None:
    """Issue a decided case's outcome letter now (and so close the case), wherever its task is."""
    request = LetterRequest.objects.filter(
        case_id=case_id, kind=LetterKind.OUTCOME, supersedes__isnull=True
    ).first()
    return letter_issue(request.pk, actor=actor) if request else None


@transaction.atomic
def letter_correction_request(
    *, letter_id: int, actor: Any, reason: str, language: str | None = None
) -> LetterRequest:
    """HR asks for a corrected letter; it is issued by the task like any other."""
    request = letter_services.letter_correct(
        letter_id=letter_id, actor=actor, reason=reason, language=language
    )
    queue(request.pk)
    return request


@transaction.atomic
def letter_retry_request(*, request_id: int, actor: Any) -> LetterRequest:
    """HR puts a failed letter back in line."""
    request = letter_services.letter_retry(request_id=request_id, actor=actor)
    queue(request.pk)
    return request


def letter_issue(request_id: int, *, actor: Any = None) -> Letter | None:
    """Issue one requested letter if it is not issued yet; safe to run any number of times.

    Returns the request's letter (new or already there), or None when there is
    no such request or it waits for HR after repeated failures.
    """
    request = LetterRequest.objects.filter(pk=request_id).first()
    if request is None or request.status == RequestStatus.FAILED:
        return None
    if request.status == RequestStatus.ISSUED:
        return Letter.objects.get(request=request)
    rendered = letter_services.letter_render(request)
    with transaction.atomic():
        letter, created = letter_services.letter_store(request_id=request_id, rendered=rendered, actor=actor)
        if created and letter.kind == LetterKind.OUTCOME and letter.supersedes_id is None:
            _close_with_outcome(letter)
    return letter


def _close_with_outcome(letter: Letter) -> None:
    from workflow.services import case_act

    status = RebuttalCase.objects.values_list("status", flat=True).get(pk=letter.case_id)
    if status == Status.DECIDED:
        case_act(case_id=letter.case_id, name="issue_outcome", actor=None, version=None)


def retry_pending(now: dt.datetime | None = None) -> int:
    """Queue again the letters left pending (a lost task, a killed worker, a failed render)."""
    now = now or timezone.now()
    ids = list(
        LetterRequest.objects.filter(
            status=RequestStatus.PENDING, requested_at__lt=now - RETRY_AFTER
        ).values_list("pk", flat=True)
    )
    from workflow.tasks import issue_letter

    for request_id in ids:
        issue_letter.delay(request_id)
    return len(ids)
