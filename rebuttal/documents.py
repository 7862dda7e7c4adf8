"""Documents of a case: uploads checked before anything is stored, and who may see each one.

A file is inspected (``rebuttal.uploads``: type by magic bytes, active content,
archives, names) before any lock is taken or byte written; only an accepted file
is stored, under a name the server makes up, with its record and its timeline
entry in one transaction. The per-case total is checked under the case's row
lock, so two uploads at once cannot both squeeze under the limit.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Sum

from rebuttal import permissions, uploads
from rebuttal.exceptions import ActionForbidden, CaseNotFound, TransitionRefused, UploadTooLarge
from rebuttal.models import Document, DocumentKind, EventKind, RebuttalCase, Status
from rebuttal.selectors import case_get_visible, policy_current
from rebuttal.services import case_append_event, case_lock

MB = 1024 * 1024
# Who may add documents to a case they can see.
UPLOADERS = frozenset({"requester", "hr", "reviewer"})
# Once decided, the file of a case is complete.
CLOSED_FOR_DOCUMENTS = frozenset({Status.DECIDED, Status.CLOSED, Status.NOT_RECEIVABLE, Status.WITHDRAWN})
# Roles that see every document of a case they may see; a requester sees the ones they added.
SEES_ALL = frozenset({"hr", "reviewer", "endorser", "decision_maker"})


def max_document_bytes() -> int:
    return policy_current().max_document_mb * MB


def document_add(
    *, case_id: int, actor: Any, kind: str, name: str, fileobj: IO[bytes], client_ip: str | None = None
) -> Document:
    """Check and store one uploaded file on a case; refused files leave nothing behind."""
    case = case_get_visible(user=actor, pk=case_id)
    if not permissions.relations(case, actor) & UPLOADERS:
        raise ActionForbidden("Only the requester, HR and the case's reviewer add documents.")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": [f"Choose one of: {', '.join(DocumentKind.values)}."]})
    policy = policy_current()
    try:
        inspected = uploads.inspect_upload(name=name, fileobj=fileobj, max_bytes=policy.max_document_mb * MB)
    except uploads.UploadRefused as exc:
        if exc.code == "too_large":
            raise UploadTooLarge(str(exc)) from None
        raise ValidationError({"file": [str(exc)]}) from None

    stored_name = None
    try:
        with transaction.atomic():
            case = case_lock(case.pk)
            if case.status in CLOSED_FOR_DOCUMENTS:
                raise TransitionRefused("This case is decided or closed; documents can no longer be added.")
            used = case.documents.aggregate(total=Sum("size"))["total"] or 0
            limit = policy.max_case_documents_mb * MB
            if used + inspected.size > limit:
                raise UploadTooLarge(
                    f"This case already holds {used / MB:.1f} MB of documents; with this file it would "
                    f"exceed the limit of {policy.max_case_documents_mb} MB per case."
                )
            document = Document(
                case=case,
                kind=kind,
                display_name=inspected.display_name,
                content_type=inspected.content_type,
                extension=inspected.extension,
                size=inspected.size,
                sha256=inspected.sha256,
                uploaded_by=actor,
            )
            fileobj.seek(0)
            document.file.save(inspected.extension, fileobj, save=False)
            stored_name = document.file.name
            document.save()
            case_append_event(
                case=case,
                actor=actor,
                kind=EventKind.DOCUMENT_ADDED,
                changes={
                    "document": document.pk,
                    "name": document.display_name,
                    "document_kind": kind,
                    "size": document.size,
                    "sha256": document.sha256,
                },
                client_ip=client_ip,
            )
    except BaseException:
        # The record was not committed: the bytes must not stay behind either.
        if stored_name:
            Document.file.field.storage.delete(stored_name)
        raise
    return document


def documents_visible(*, case: RebuttalCase, user: Any) -> QuerySet[Document]:
    """The documents of a case (which the caller may see) that ``user`` may see."""
    documents = case.documents.select_related("uploaded_by").order_by("uploaded_at", "id")
    if user.is_superuser or permissions.relations(case, user) & SEES_ALL:
        return documents
    if permissions.group_names(user) & {permissions.HR_ADMIN}:
        return documents
    return documents.filter(uploaded_by=user)


def document_get_visible(*, user: Any, pk: Any) -> Document:
    """The document if ``user`` may see it; otherwise ``CaseNotFound`` (never 'forbidden')."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise CaseNotFound("No such document.") from None
    case_id = Document.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseNotFound("No such document.")
    case = case_get_visible(user=user, pk=case_id)
    document = documents_visible(case=case, user=user).filter(pk=pk).first()
    if document is None:
        raise CaseNotFound("No such document.")
    return document
