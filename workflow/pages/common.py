"""Helpers shared by the pages: turning service refusals into messages and form errors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest

from rebuttal import permissions, web
from rebuttal.exceptions import CaseNotFound

client_ip = web.client_ip
apply_errors = web.apply_errors
is_hr = permissions.is_hr


def in_group(user: Any, *groups: str) -> bool:
    return bool(permissions.group_names(user) & set(groups))


def not_found(exc: CaseNotFound) -> Http404:
    return Http404(str(exc))


def refused(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, str(exc))
