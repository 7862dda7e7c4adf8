"""Reads of the letter archive, with who may see what.

Letters are written to the requester: the requester sees the letters of their
own case, HR sees every case's letters. Nobody else does, even someone who may
see the case (a reviewer, an endorser): for them a letter does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from rebuttal import permissions
from rebuttal.exceptions import CaseNotFound
from rebuttal.models import RebuttalCase
from rebuttal.selectors import case_get_visible
from reports.models import Letter, LetterRequest

# Every field but the PDF bytes and the HTML, for lists.
LIST_FIELDS = (
    "id",
    "case_id",
    "kind",
    "language",
    "issued_at",
    "sha256",
    "size",
    "supersedes_id",
    "template_version",
    "title",
)


def may_see_letters(case: RebuttalCase, user: Any) -> bool:
    if user.is_superuser or permissions.relations(case, user) & {"requester", "hr"}:
        return True
    return permissions.HR_ADMIN in permissions.group_names(user) and case.requester_id != user.pk


def letters_of_case(*, case: RebuttalCase, user: Any) -> QuerySet[Letter]:
    """The case's issued letters, oldest first, without their bytes (none if ``user`` may not see them)."""
    if not may_see_letters(case, user):
        return Letter.objects.none()
    newer = Letter.objects.filter(supersedes=OuterRef("pk")).values("pk")[:1]
    return (
        Letter.objects.filter(case=case)
        .only(*LIST_FIELDS)
        .annotate(superseded_by_id=Subquery(newer))
        .order_by("issued_at", "id")
    )


def letter_requests_pending(*, case: RebuttalCase, user: Any) -> QuerySet[LetterRequest]:
    if not may_see_letters(case, user):
        return LetterRequest.objects.none()
    return LetterRequest.objects.filter(case=case).exclude(status="issued").order_by("requested_at", "id")


def letter_get_visible(*, user: Any, pk: Any) -> Letter:
    """The letter (with its PDF) if ``user`` may see it; otherwise ``CaseNotFound``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise CaseNotFound("No such letter.") from None
    letter = Letter.objects.select_related("case").filter(pk=pk).first()
    if letter is None:
        raise CaseNotFound("No such letter.")
    case = case_get_visible(user=user, pk=letter.case_id)
    if not may_see_letters(case, user):
        raise CaseNotFound("No such letter.")
    return letter
