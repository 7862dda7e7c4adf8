"""The main navigation, by the roles of the person signed in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from rebuttal import permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    groups = permissions.group_names(user)
    items: list[tuple[str, str]] = []
    if user.is_superuser or groups & {permissions.HR_SPECIALIST, permissions.HR_ADMIN}:
        items += [
            (reverse("queue"), _("Case queue")),
            (reverse("reviewer-pool"), _("Reviewer pool")),
            (reverse("contracts"), _("Contracts")),
            (reverse("fees"), _("Fees")),
        ]
    if permissions.REVIEWER in groups:
        items.append((reverse("assignments"), _("My assignments")))
    if groups & {permissions.ENDORSER, permissions.DECISION_MAKER}:
        items.append((reverse("inbox"), _("My inbox")))
    items += [
        (reverse("invitations"), _("Invitations to comment")),
        (reverse("my-cases"), _("My cases")),
        (reverse("case-new"), _("File a rebuttal")),
    ]
    path = request.path
    return {"nav_items": [{"url": url, "label": label, "current": path == url} for url, label in items]}
