"""Issuing letters: ask for one (a row), render it (no locks held), store it (one transaction).

``letter_store`` can run any number of times for one request and stores at most
one letter: it locks the case, then the request, and does nothing if the
request was already issued (lock order case → request, like every other write
to a case). Rendering happens before, outside any transaction, so a slow render
holds no lock and a worker killed mid-render leaves only a pending request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rebuttal import permissions
from rebuttal.exceptions import ActionForbidden, CaseNotFound, TransitionRefused
from rebuttal.models import EventKind, Language, RebuttalCase
from rebuttal.selectors import case_get_visible
from rebuttal.services import case_append_event, case_lock, require_text
from reports import letters, rendering
from reports.models import Letter, LetterKind, LetterRequest, RequestStatus
from reports.selectors import letter_get_visible, may_see_letters

# A request that failed this often is marked failed for HR to look at (and retry).
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Rendered:
    title: str
    html: str
    pdf: bytes
    sha256: str
    template_version: str
    issued_at: Any


def letter_request_create(
    *,
    case: RebuttalCase,
    kind: str,
    actor: Any = None,
    language: str | None = None,
    supersedes: Letter | None = None,
    reason: str = "",
) -> LetterRequest:
    """Ask for a letter (inside the caller's transaction); an original of a kind is asked for once.

    Asking again for an original that exists returns the existing request, so a
    transition hook or task that runs twice still leads to one letter.
    """
    language = language or case.language
    if supersedes is None:
        existing = LetterRequest.objects.filter(case=case, kind=kind, supersedes__isnull=True).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            return LetterRequest.objects.create(
                case=case,
                kind=kind,
                language=language,
                supersedes=supersedes,
                reason=reason,
                requested_by=actor,
            )
    except IntegrityError:
        if supersedes is not None:
            raise TransitionRefused(
                "This letter has already been corrected; correct the newer one."
            ) from None
        return LetterRequest.objects.get(case=case, kind=kind, supersedes__isnull=True)


def letter_render(request: LetterRequest, *, fetcher: rendering.AssetFetcher | None = None) -> Rendered:
    """Render the letter a request asks for; reads only, writes nothing."""
    case = RebuttalCase.objects.select_related("requester", "policy").get(pk=request.case_id)
    issued_at = timezone.now()
    title, html = letters.letter_html(case, request.kind, language=request.language, issued_at=issued_at)
    pdf = rendering.render_pdf(html, fetcher=fetcher)
    return Rendered(
        title=title,
        html=html,
        pdf=pdf,
        sha256=rendering.sha256(pdf),
        template_version=letters.template_version(request.kind, request.language),
        issued_at=issued_at,
    )


@transaction.atomic
def letter_store(*, request_id: int, rendered: Rendered, actor: Any = None) -> tuple[Letter, bool]:
    """Archive the rendered letter unless this request already has one; ``(letter, created)``.

    The letter, its hash, the request's new status and the case's timeline entry
    are written together, or not at all.
    """
    request = LetterRequest.objects.get(pk=request_id)
    case = case_lock(request.case_id)
    request = LetterRequest.objects.select_for_update().get(pk=request_id)
    if request.status == RequestStatus.ISSUED:
        return Letter.objects.get(request=request), False
    letter = Letter.objects.create(
        request=request,
        case=case,
        kind=request.kind,
        language=request.language,
        supersedes=request.supersedes,
        issued_at=rendered.issued_at,
        # A correction is issued by whoever asked for it, even when a worker renders it.
        issued_by=actor if actor is not None else request.requested_by,
        template_version=rendered.template_version,
        title=rendered.title,
        html=rendered.html,
        pdf=rendered.pdf,
        size=len(rendered.pdf),
        sha256=rendered.sha256,
    )
    request.status = RequestStatus.ISSUED
    request.attempts += 1
    request.last_error = ""
    request.save(update_fields=["status", "attempts", "last_error"])
    changes: dict[str, Any] = {
        "letter": letter.pk,
        "letter_kind": letter.kind,
        "language": letter.language,
        "sha256": letter.sha256,
        "template_version": letter.template_version,
    }
    if letter.supersedes_id:
        changes["supersedes"] = letter.supersedes_id
    case_append_event(
        case=case,
        actor=letter.issued_by,
        kind=EventKind.LETTER_ISSUED,
        reason=request.reason,
        changes=changes,
    )
    return letter, True


def letter_request_failed(*, request_id: int, error: str) -> LetterRequest:
    """Count a failed attempt; after ``MAX_ATTEMPTS`` the request waits for HR."""
    with transaction.atomic():
        request = LetterRequest.objects.select_for_update().get(pk=request_id)
        if request.status == RequestStatus.ISSUED:
            return request
        request.attempts += 1
        request.last_error = error[:2000]
        if request.attempts >= MAX_ATTEMPTS:
            request.status = RequestStatus.FAILED
        request.save(update_fields=["attempts", "last_error", "status"])
    return request


@transaction.atomic
def letter_retry(*, request_id: int, actor: Any) -> LetterRequest:
    """HR puts a failed request back in line."""
    request = LetterRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise CaseNotFound("No such letter.")
    case = case_get_visible(user=actor, pk=request.case_id)
    if not may_see_letters(case, actor):
        raise CaseNotFound("No such letter.")
    if "hr" not in permissions.relations(case, actor):
        raise ActionForbidden("Only Human Resources retries letters.")
    if request.status != RequestStatus.FAILED:
        raise TransitionRefused("Only a letter that failed can be retried.")
    request.status = RequestStatus.PENDING
    request.attempts = 0
    request.save(update_fields=["status", "attempts"])
    return request


@transaction.atomic
def letter_correct(*, letter_id: int, actor: Any, reason: str, language: str | None = None) -> LetterRequest:
    """Ask for a corrected letter that supersedes ``letter_id``; the old letter stays as it was.

    Only HR corrects, only the newest letter of its line, and only with a reason.
    """
    reason = require_text(reason, "reason", "Say what the correction changes.")
    letter = letter_get_visible(user=actor, pk=letter_id)
    case = letter.case
    if "hr" not in permissions.relations(case, actor):
        raise ActionForbidden("Only Human Resources corrects letters.")
    if language is not None and language not in Language.values:
        raise TransitionRefused(f"Choose a language among {', '.join(Language.values)}.")
    case_lock(case.pk)
    if LetterRequest.objects.filter(supersedes=letter).exists():
        raise TransitionRefused("This letter has already been corrected; correct the newer one.")
    return letter_request_create(
        case=case,
        kind=letter.kind,
        actor=actor,
        language=language or letter.language,
        supersedes=letter,
        reason=reason,
    )


LETTER_OF_TRANSITION: dict[str, str] = {
    "submit": LetterKind.ACKNOWLEDGEMENT,
    "reject_not_receivable": LetterKind.NOT_RECEIVABLE,
    "withdraw": LetterKind.WITHDRAWN,
    "decide": LetterKind.OUTCOME,
}
