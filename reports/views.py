"""Pages of the reports app: downloading an issued letter."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from rebuttal.downloads import attachment
from rebuttal.exceptions import CaseNotFound
from rebuttal.services import case_record_access
from reports import selectors


@login_required
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter's PDF exactly as archived; the download is written to the case's access log."""
    try:
        letter = selectors.letter_get_visible(user=request.user, pk=pk)
    except CaseNotFound as exc:
        raise Http404(str(exc)) from None
    case_record_access(
        case=letter.case,
        actor=request.user,
        what=f"letter:{letter.pk}",
        client_ip=request.META.get("REMOTE_ADDR") or None,
    )
    response = attachment(bytes(letter.pdf), filename=letter.filename, content_type="application/pdf")
    response["X-Content-SHA256"] = letter.sha256
    return response
