"""Small helpers shared by the pages of every app (this app is the lowest layer, so all may use them)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

# Service field names that a form calls otherwise.
FIELD_ALIASES = {"original_rating": "overall_rating"}


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def apply_errors(form: Any, exc: ValidationError) -> None:
    """Show a service's validation errors on the form's fields (the rest at the top)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, field_messages in errors.items():
        name = FIELD_ALIASES.get(field, field)
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
