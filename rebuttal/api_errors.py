"""One error format for the whole API: JSON with a human-readable ``detail``.

Domain errors map to the contract's statuses: not visible -> 404, visible but
not yours to do -> 403, wrong state or stale version -> 409, bad input -> 400
with the bad fields named under ``errors``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rebuttal.audit import AppendOnlyError
from rebuttal.exceptions import ActionForbidden, CaseNotFound, StaleVersion, TransitionRefused, UploadTooLarge


def _bad_input(errors: Any) -> Response:
    if isinstance(errors, dict):
        fields = ", ".join(sorted(str(name) for name in errors))
        detail = f"Invalid input: {fields}."
    else:
        errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        detail = "Invalid input: " + " ".join(str(e) for e in errors["non_field_errors"])
    return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, CaseNotFound):
        return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, UploadTooLarge):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, ActionForbidden):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, StaleVersion):
        return Response({"detail": str(exc), "code": "stale_version"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, TransitionRefused):
        return Response(
            {"detail": str(exc), "code": "transition_not_allowed"},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, AppendOnlyError):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return _bad_input(errors)
    if isinstance(exc, exceptions.ValidationError):
        return _bad_input(exc.detail)
    # Django answers these with an HTML 400; the API answers in its own format.
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return Response(
            {"detail": f"The request could not be read: {exc}"}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and not (isinstance(response.data, dict) and "detail" in response.data):
        response.data = {"detail": str(response.data)}
    return response
