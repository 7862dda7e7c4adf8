"""Pages of the rebuttal app: downloading a case document (the case page lives in ``workflow.pages``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from rebuttal import documents, services
from rebuttal.downloads import attachment
from rebuttal.exceptions import CaseNotFound


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A document as an attachment; the download is written to the case's access log."""
    try:
        document = documents.document_get_visible(user=request.user, pk=pk)
    except CaseNotFound as exc:
        raise Http404(str(exc)) from None
    services.case_record_access(
        case=document.case,
        actor=request.user,
        what=f"document:{document.pk}",
        client_ip=request.META.get("REMOTE_ADDR") or None,
    )
    return attachment(
        document.file.open("rb"), filename=document.display_name, content_type=document.content_type
    )
