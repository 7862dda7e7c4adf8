"""Helpers shared by the pages: turning service refusals into messages and form errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from rebuttal import permissions
from rebuttal.exceptions import CaseNotFound


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def is_hr(user: Any) -> bool:
    return user.is_superuser or bool(
        permissions.group_names(user) & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}
    )


def in_group(user: Any, *groups: str) -> bool:
    return bool(permissions.group_names(user) & set(groups))


def not_found(exc: CaseNotFound) -> Http404:
    return Http404(str(exc))


def apply_errors(form: Any, exc: ValidationError) -> None:
    """Show a service's validation errors on the form's fields (the rest at the top)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    aliases = {"original_rating": "overall_rating"}
    for field, field_messages in errors.items():
        name = aliases.get(field, field)
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


def refused(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, str(exc))
